"""Daily actuals for every KPI a target can name, at the finest node (market, team, person).

One long table (day, market, team, person, kpi, num, den): additive KPIs sum `num`; ratio KPIs
are sum(num) / sum(den) over any set of days and nodes, never an average of daily ratios.
Money is in the reporting currency at the rate in force on the day.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd



def _queries(con) -> list[str]:
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    net = "exclusion_reason IS NULL"
    queries = [f"""
        SELECT paid_local_date AS day, market, '' AS team, '' AS person, kpi, num, den FROM (
            SELECT o.paid_local_date, o.market,
                   sum((o.order_amount - coalesce(o.order_refund_amount, 0)) * fx.rate) FILTER (WHERE {net}) AS gmv_net,
                   sum(o.order_amount * fx.rate) AS gmv_gross,
                   count(*) FILTER (WHERE {net}) AS orders, sum(o.units) FILTER (WHERE {net}) AS units
            FROM clean_orders o ASOF JOIN fx ON o.currency = fx.currency AND o.paid_local_date >= fx.valid_from
            WHERE o.paid_local_date IS NOT NULL GROUP BY ALL
        ) UNPIVOT (num FOR kpi IN (gmv_net, gmv_gross, orders, units)) CROSS JOIN (SELECT NULL::DOUBLE AS den)
        UNION ALL
        SELECT o.paid_local_date, o.market, '', '', 'aov',
               sum((o.order_amount - coalesce(o.order_refund_amount, 0)) * fx.rate), count(*)
        FROM clean_orders o ASOF JOIN fx ON o.currency = fx.currency AND o.paid_local_date >= fx.valid_from
        WHERE {net} GROUP BY ALL
        UNION ALL
        SELECT l.paid_local_date, l.market, '', '', 'content_gmv_share', NULL, sum(l.subtotal_after_discount * fx.rate)
        FROM clean_lines l ASOF JOIN fx ON l.currency = fx.currency AND l.paid_local_date >= fx.valid_from
        WHERE l.{net} GROUP BY ALL
    """]
    if "affiliate_orders" in tables:
        live_ok = "lower(a.order_status) NOT IN ('canceled', 'cancelled') AND NOT coalesce(a.fully_returned, false)"
        queries.append(f"""
            SELECT a.paid_local_date, a.market, '', '', 'content_gmv_share', sum(a.payment_amount * fx.rate), NULL
            FROM affiliate_orders a ASOF JOIN fx ON a.currency = fx.currency AND a.paid_local_date >= fx.valid_from
            WHERE {live_ok} AND a.content_type IN ('Video', 'LIVE') AND a.paid_local_date IS NOT NULL GROUP BY ALL
            UNION ALL
            SELECT a.paid_local_date, a.market, 'creators', a.creator_username, 'creator_gmv', sum(a.payment_amount * fx.rate), NULL
            FROM affiliate_orders a ASOF JOIN fx ON a.currency = fx.currency AND a.paid_local_date >= fx.valid_from
            WHERE {live_ok} AND a.paid_local_date IS NOT NULL GROUP BY ALL
            UNION ALL
            SELECT first_day, market, 'creators', creator_username, 'new_creators', 1, NULL FROM (
                SELECT market, creator_username, min(created_local_date) AS first_day FROM affiliate_orders
                WHERE creator_username IS NOT NULL GROUP BY ALL)
        """)
    if "video_products" in tables:
        queries.append("""
            SELECT posted_local_date, market, 'creators', creator, 'videos_posted', count(DISTINCT video_id), NULL
            FROM video_products GROUP BY ALL
        """)
    if "live_sessions" in tables:
        queries.append("""
            SELECT s.started_local_date, s.market, 'live', s.creator, 'live_hours', sum(s.duration_s) / 3600.0, NULL
            FROM live_sessions s GROUP BY ALL
            UNION ALL
            SELECT s.started_local_date, s.market, 'live', s.creator, 'live_gmv', sum(s.gmv * fx.rate), NULL
            FROM live_sessions s ASOF JOIN fx ON s.currency = fx.currency AND s.started_local_date >= fx.valid_from GROUP BY ALL
        """)
    if "ad_stats" in tables:
        queries.append("""
            SELECT a.report_date, a.market, 'ads', '', 'ad_spend', sum(a.cost * fx.rate), NULL
            FROM ad_stats a ASOF JOIN fx ON a.currency = fx.currency AND a.report_date >= fx.valid_from GROUP BY ALL
            UNION ALL
            SELECT a.report_date, a.market, 'ads', '', 'roas', sum(a.complete_payment_value * fx.rate), sum(a.cost * fx.rate)
            FROM ad_stats a ASOF JOIN fx ON a.currency = fx.currency AND a.report_date >= fx.valid_from GROUP BY ALL
        """)
    return queries


def daily_actuals(con, end: dt.date) -> pd.DataFrame:
    """Every KPI's daily (num, den) per node up to `end`; needs `clean_*` views and the `fx` table."""
    union = "\nUNION ALL\n".join(f"({q})" for q in _queries(con))
    df = con.execute(f"""
        SELECT day, market, coalesce(team, '') AS team, coalesce(person, '') AS person, kpi,
               sum(CAST(num AS DOUBLE)) AS num, sum(CAST(den AS DOUBLE)) AS den
        FROM ({union}) AS u (day, market, team, person, kpi, num, den)
        WHERE day IS NOT NULL AND day <= ?
        GROUP BY ALL
    """, [end]).df()
    df["day"] = pd.to_datetime(df["day"]).dt.date
    return df


def node_mask(actuals: pd.DataFrame, market: str | None, team: str | None, person: str | None) -> pd.Series:
    """Rows under a node: a node's actual is the sum of everything below it."""
    mask = pd.Series(True, index=actuals.index)
    for column, value in (("market", market), ("team", team), ("person", person)):
        if value:
            mask &= actuals[column] == value
    return mask
