"""LIVE host and time-slot review: GMV per hour, viewers, ACU/PCU, viewing time, CTR, CTOR, GPM, funnel.

`gmv` is the LIVE's attributed GMV (orders during the session, cancellations and returns out);
`gmv_24h` (24h LIVE GMV, incl. cancelled/refunded, up to 24 h after) is shown apart and never added to it.
Slots are local start times in the market's own time zone.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from shopkpi.creators.costs import require_table
from shopkpi.creators.window import Window

SLOT_HOURS = 2
MIN_SESSIONS_FOR_BEST_SLOT = 2
FUNNEL = ["live_impressions", "views", "viewers", "product_impressions", "product_clicks", "orders"]


def sessions(con: duckdb.DuckDBPyConnection, window: Window) -> pd.DataFrame:
    """One row per LIVE session started in the window, with its local slot and per-session rates."""
    require_table(con, "live_sessions", "LIVE review")
    s = con.execute("""
        SELECT live_id, market, currency, creator AS host, started_local_time, started_local_date, duration_s,
               CAST(gmv AS DOUBLE) AS gmv, CAST(gmv_24h AS DOUBLE) AS gmv_24h, orders, items_sold, viewers, views,
               acu, pcu, avg_view_duration_s, live_impressions, product_impressions, product_clicks, likes, comments
        FROM live_sessions WHERE started_local_date BETWEEN ? AND ?
        ORDER BY started_local_time
    """, [window.start, window.end]).df()
    start = pd.to_datetime(s["started_local_time"])
    block = (start.dt.hour // SLOT_HOURS) * SLOT_HOURS
    s["slot"] = [f"{h:02d}:00–{(h + SLOT_HOURS) % 24:02d}:00" for h in block]
    s["weekday"] = start.dt.day_of_week
    s["hours"] = s["duration_s"] / 3600
    s["gmv_per_hour"] = s["gmv"] / s["hours"].where(s["hours"] > 0)
    s["ctr"] = s["product_clicks"] / s["product_impressions"].where(s["product_impressions"] > 0)
    s["ctor"] = s["orders"] / s["product_clicks"].where(s["product_clicks"] > 0)
    s["gpm"] = 1000 * s["gmv"] / s["views"].where(s["views"] > 0)
    return s


def _pooled(d: pd.DataFrame) -> pd.Series:
    """Rates over a group from summed counts (not means of per-session rates)."""
    hours, views = d["hours"].sum(), d["views"].sum()
    imp, clicks = d["product_impressions"].sum(), d["product_clicks"].sum()
    return pd.Series({
        "sessions": len(d), "hours": hours, "gmv": d["gmv"].sum(), "gmv_24h": d["gmv_24h"].sum(),
        "orders": int(d["orders"].sum()), "gmv_per_hour": d["gmv"].sum() / hours if hours > 0 else np.nan,
        "viewers_per_session": d["viewers"].mean(), "acu": d["acu"].mean(), "pcu": d["pcu"].max(),
        "avg_view_duration_s": np.average(d["avg_view_duration_s"], weights=d["viewers"]) if d["viewers"].sum() > 0 else np.nan,
        "ctr": clicks / imp if imp > 0 else np.nan, "ctor": d["orders"].sum() / clicks if clicks > 0 else np.nan,
        "gpm": 1000 * d["gmv"].sum() / views if views > 0 else np.nan,
    })


def by_host(s: pd.DataFrame) -> pd.DataFrame:
    """Per market and host (amounts in the market currency)."""
    if s.empty:
        return pd.DataFrame()
    out = s.groupby(["market", "currency", "host"]).apply(_pooled, include_groups=False).reset_index()
    return out.sort_values(["market", "gmv_per_hour"], ascending=[True, False]).reset_index(drop=True)


def by_slot(s: pd.DataFrame, keys: tuple[str, ...] = ("market", "currency", "slot")) -> pd.DataFrame:
    if s.empty:
        return pd.DataFrame()
    return s.groupby(list(keys)).apply(_pooled, include_groups=False).reset_index()


def best_slots(s: pd.DataFrame, top: int = 3) -> pd.DataFrame:
    """Per market the local slots with the highest GMV per hour, among slots with enough sessions."""
    slots = by_slot(s)
    if slots.empty:
        return slots
    slots = slots[slots["sessions"] >= MIN_SESSIONS_FOR_BEST_SLOT]
    return (slots.sort_values(["market", "gmv_per_hour"], ascending=[True, False])
            .groupby("market").head(top).reset_index(drop=True))


def funnel(s: pd.DataFrame) -> pd.DataFrame:
    """Per market: LIVE impressions -> views -> viewers -> product impressions -> clicks -> orders.

    A stage the export left empty is skipped rather than shown as zero.
    """
    rows = []
    for market, d in s.groupby("market"):
        previous = None
        for stage in FUNNEL:
            if d[stage].isna().all() or d[stage].fillna(0).sum() == 0:
                continue
            value = float(d[stage].sum())
            rows.append({"market": market, "stage": stage, "value": value,
                         "rate_from_previous": value / previous if previous else None})
            previous = value
    return pd.DataFrame(rows)
