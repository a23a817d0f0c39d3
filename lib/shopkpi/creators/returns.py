"""What each creator returned in the window: attributed GMV, orders, units and gross profit.

Two attributions stay apart and are never added: the affiliate export's creator GMV (orders within
14 days of a click on the creator's content, by order creation date) and direct content GMV (orders
placed on the creator's own video or LIVE, the last click; includes refunded orders). ROI uses the
creator-window GMV net of cancellations and refunds, which is what commission is paid on.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from shopkpi.creators.costs import KEY, has_table, landed_costs
from shopkpi.creators.window import Window


def attributed_returns(con: duckdb.DuckDBPyConnection, window: Window) -> tuple[pd.DataFrame, dict]:
    """Per creator: creator-window GMV gross and net, orders, units, COGS and gross profit by landed cost.

    Returns (per creator, notes) where notes count net lines whose SKU has no landed cost (their COGS is unknown).
    """
    lines = con.execute("""
        SELECT creator_username AS creator, market, currency, order_id, sku_id, content_type, quantity,
               CAST(payment_amount AS DOUBLE) AS gmv, coalesce(fully_returned, false) AS returned
        FROM affiliate_orders
        WHERE created_local_date BETWEEN ? AND ? AND creator_username IS NOT NULL
    """, [window.start, window.end]).df()
    lines = lines.merge(landed_costs(con), on=["sku_id", "currency"], how="left")
    kept = ~lines["returned"]
    lines["gmv_net"] = lines["gmv"].where(kept, 0.0)
    lines["units_net"] = lines["quantity"].where(kept, 0)
    lines["cogs"] = (lines["units_net"] * lines["landed_cost"]).where(kept, 0.0)
    lines["order_net"] = lines["order_id"].where(kept)
    for kind in ("Video", "LIVE", "Showcase"):
        lines[f"gmv_net_{kind.lower()}"] = lines["gmv_net"].where(lines["content_type"] == kind, 0.0)
    out = lines.groupby(KEY, as_index=False).agg(
        gmv_gross=("gmv", "sum"), gmv_net=("gmv_net", "sum"), orders_gross=("order_id", "nunique"),
        orders=("order_net", "nunique"), units=("units_net", "sum"), cogs=("cogs", "sum"),
        gmv_net_video=("gmv_net_video", "sum"), gmv_net_live=("gmv_net_live", "sum"),
        gmv_net_showcase=("gmv_net_showcase", "sum"))
    out["gmv_refunded_or_cancelled"] = out["gmv_gross"] - out["gmv_net"]
    out["gross_profit"] = out["gmv_net"] - out["cogs"]
    missing = lines[kept & lines["landed_cost"].isna()]
    return out, {"net_lines_without_landed_cost": int(len(missing))}


def order_values(con: duckdb.DuckDBPyConnection, window: Window) -> pd.DataFrame:
    """Net GMV per creator order (for the sampling error of a creator's GMV)."""
    return con.execute("""
        SELECT creator_username AS creator, market, order_id, sum(CAST(payment_amount AS DOUBLE)) AS value
        FROM affiliate_orders
        WHERE created_local_date BETWEEN ? AND ? AND creator_username IS NOT NULL AND NOT coalesce(fully_returned, false)
        GROUP BY ALL
    """, [window.start, window.end]).df()


def content_activity(con: duckdb.DuckDBPyConnection, window: Window) -> pd.DataFrame:
    """Per creator: videos posted in the window, their views, engagement, product clicks, orders and direct GMV.

    Video-level counts repeat on each product row of a video, so they are taken once per video.
    """
    if not has_table(con, "video_products"):
        return pd.DataFrame(columns=KEY)
    videos = con.execute("""
        SELECT creator, market, count(*) AS videos, sum(views) AS views, sum(likes) AS likes, sum(comments) AS comments,
               sum(shares) AS shares, sum(impressions) AS product_impressions, sum(clicks) AS product_clicks,
               sum(orders) AS video_orders, sum(gmv) AS gmv_direct_video
        FROM (
            SELECT video_id, any_value(creator) AS creator, any_value(market) AS market, any_value(views) AS views,
                   any_value(likes) AS likes, any_value(comments) AS comments, any_value(shares) AS shares,
                   sum(product_impressions) AS impressions, sum(product_clicks) AS clicks, sum(orders) AS orders,
                   sum(CAST(gmv AS DOUBLE)) AS gmv
            FROM video_products
            WHERE posted_local_date BETWEEN ? AND ? AND creator IS NOT NULL
            GROUP BY video_id
        ) GROUP BY ALL
    """, [window.start, window.end]).df()
    if has_table(con, "live_sessions"):
        lives = con.execute("""
            SELECT creator, market, count(*) AS lives, sum(CAST(gmv AS DOUBLE)) AS gmv_direct_live
            FROM live_sessions WHERE started_local_date BETWEEN ? AND ? AND creator IS NOT NULL GROUP BY ALL
        """, [window.start, window.end]).df()
        videos = videos.merge(lives, on=KEY, how="outer")
    return videos
