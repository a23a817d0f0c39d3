"""Where sales come from, week by week: creator videos, Spark Ads, creator LIVE, showcase, own LIVE and the shop's own surfaces.

Line sales (SKU subtotal after discount) of orders counted in net GMV, by local payment week,
in the reporting currency. A line is attributed through the affiliate orders export (order x SKU):
content type Video / LIVE / Showcase, and Video with a Shop Ads commission is a Spark Ad. The shop's
own LIVE sales come from the LIVE sessions of accounts that never appear as affiliates (the session
export has no order ids) and are taken out of the unattributed remainder, which is the product
card, shop tab and search.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from shopkpi.report import fx_join, register_fx

CHANNELS = ["creator_video", "spark_ads", "creator_live", "creator_showcase", "own_live", "shop_organic"]


def weekly_traffic_mix(con, params, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Rows of (week_start, market, channel, sales in the reporting currency, share of the week's sales)."""
    register_fx(con, params)
    lines = con.sql(f"""
        WITH attributed AS (
            SELECT order_id, sku_id,
                   CASE WHEN content_type = 'Video' AND coalesce(est_shop_ads_commission, 0) > 0 THEN 'spark_ads'
                        WHEN content_type = 'Video' THEN 'creator_video'
                        WHEN content_type = 'LIVE' THEN 'creator_live'
                        WHEN content_type = 'Showcase' THEN 'creator_showcase'
                        ELSE 'creator_video' END AS channel
            FROM affiliate_orders QUALIFY row_number() OVER (PARTITION BY order_id, sku_id ORDER BY export_as_of DESC) = 1
        ), sales AS (
            SELECT l.market, date_trunc('week', l.paid_local_date) AS week_start,
                   coalesce(a.channel, 'shop_organic') AS channel,
                   CAST(l.subtotal_after_discount AS DOUBLE) * fx.rate AS sales
            FROM clean_lines l {fx_join("l", "paid_local_date")}
            LEFT JOIN attributed a ON a.order_id = l.order_id AND a.sku_id = l.sku_id
            WHERE l.exclusion_reason IS NULL AND l.paid_local_date BETWEEN DATE '{start}' AND DATE '{end}'
        )
        SELECT CAST(week_start AS DATE) AS week_start, market, channel, sum(sales) AS sales FROM sales GROUP BY ALL
    """).df()
    own_live = con.sql(f"""
        SELECT CAST(date_trunc('week', s.started_local_date) AS DATE) AS week_start, s.market, 'own_live' AS channel,
               sum(CAST(s.gmv AS DOUBLE) * fx.rate) AS sales
        FROM live_sessions s {fx_join("s", "started_local_date")}
        WHERE s.creator NOT IN (SELECT DISTINCT creator_username FROM affiliate_orders WHERE creator_username IS NOT NULL)
          AND s.started_local_date BETWEEN DATE '{start}' AND DATE '{end}'
        GROUP BY ALL
    """).df()
    mix = pd.concat([lines, own_live], ignore_index=True)
    wide = mix.pivot_table(index=["week_start", "market"], columns="channel", values="sales", aggfunc="sum", fill_value=0.0)
    wide = wide.reindex(columns=CHANNELS, fill_value=0.0)
    # Own LIVE orders are among the unattributed lines: move them out of the remainder (never below zero).
    moved = wide[["own_live", "shop_organic"]].min(axis=1)
    unmatched = float((wide["own_live"] - moved).sum())
    wide["own_live"] = moved
    wide["shop_organic"] = wide["shop_organic"] - moved
    long = wide[CHANNELS].stack().rename("sales").reset_index()
    long["share"] = long["sales"] / long.groupby(["week_start", "market"])["sales"].transform("sum")
    long = long.sort_values(["week_start", "market", "channel"]).reset_index(drop=True)
    # Own-LIVE sales larger than the week's unattributed line sales (session GMV is gross, lines are net) are reported, not shown.
    long.attrs["own_live_above_remainder"] = unmatched
    return long
