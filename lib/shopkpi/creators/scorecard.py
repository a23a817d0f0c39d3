"""The per-creator scorecard: cost, return, ROI, cost per order, GPM, CVR, engagement, delivery and tier."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from shopkpi.creators.costs import KEY, creator_costs, has_table
from shopkpi.creators.returns import attributed_returns, content_activity
from shopkpi.creators.window import Window

# Tier by followers shown on the profile at the window end (lower bounds); the usual agency bands.
TIERS = [("S", 1_000_000), ("A", 250_000), ("B", 50_000), ("C", 10_000), ("KOC", 0)]
TIER_ORDER = [name for name, _ in TIERS]


def tier_of(followers: float | None) -> str | None:
    if followers is None or pd.isna(followers):
        return None
    return next(name for name, floor in TIERS if followers >= floor)


def followers_at(con: duckdb.DuckDBPyConnection, end) -> pd.DataFrame:
    """Each creator's latest follower count on or before `end`."""
    if not has_table(con, "creator_snapshots"):
        return pd.DataFrame(columns=KEY + ["followers"])
    return con.execute("""
        SELECT creator, market, arg_max(followers, snapshot_date) AS followers
        FROM creator_snapshots WHERE snapshot_date <= ? GROUP BY ALL
    """, [end]).df()


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    num, den = num.astype(float), den.astype(float)
    return (num / den.where(den > 0)).astype(float)


def build_scorecard(con: duckdb.DuckDBPyConnection, client: str, window: Window) -> tuple[pd.DataFrame, dict]:
    """One row per creator with any cost or return in the window; amounts in the creator's market currency."""
    costs, notes = creator_costs(con, client, window)
    returns, return_notes = attributed_returns(con, window)
    activity = content_activity(con, window)
    card = costs.merge(returns, on=KEY, how="outer").merge(activity, on=KEY, how="left")
    card = card.merge(followers_at(con, window.end), on=KEY, how="left")
    zero_fill = [c for c in card.columns if c not in KEY + ["followers", "fixed_fee_per_video", "commission_model"]]
    card[zero_fill] = card[zero_fill].apply(pd.to_numeric, errors="coerce").fillna(0)
    card = card[(card["total_cost"] > 0) | (card["gmv_gross"] > 0)].copy()
    currency = {m: c for m, c in con.sql("SELECT DISTINCT market, currency FROM affiliate_orders").fetchall()}
    card["currency"] = card["market"].map(currency)
    card["tier"] = card["followers"].map(tier_of)
    card["roi"] = _ratio(card["gmv_net"], card["total_cost"])
    card["profit_roi"] = _ratio(card["gmv_net"] - card["cogs"] - card["total_cost"], card["total_cost"])
    card["cost_per_order"] = _ratio(card["total_cost"], card["orders"])
    card["gpm"] = 1000 * _ratio(card["gmv_direct_video"], card["views"])
    card["cvr"] = _ratio(card["video_orders"], card["product_clicks"])
    card["ctr"] = _ratio(card["product_clicks"], card["product_impressions"])
    card["engagement_rate"] = _ratio(card["likes"] + card["comments"] + card["shares"], card["views"])
    card["delivery_rate"] = _ratio(np.minimum(card["contract_videos_posted"], card["videos_promised"]),
                                   card["videos_promised"])
    card["under_delivered"] = (card["contract_videos_posted"] < card["videos_promised"]) | (
        card["contract_lives_hosted"] < card["lives_promised"])
    # Break-even ROI: GMV per unit cost at which gross profit (GMV - COGS) pays the creator's cost.
    margin = _ratio(card["gmv_net"] - card["cogs"], card["gmv_net"])
    pooled = card.groupby("market").apply(lambda d: (d["gmv_net"].sum() - d["cogs"].sum()) / d["gmv_net"].sum()
                                          if d["gmv_net"].sum() > 0 else np.nan, include_groups=False)
    margin = margin.fillna(card["market"].map(pooled))
    card["gross_margin"] = margin
    card["break_even_roi"] = 1 / margin.where(margin > 0)
    notes |= return_notes
    return card.sort_values(KEY).reset_index(drop=True), notes


def tier_benchmarks(card: pd.DataFrame) -> pd.DataFrame:
    """Per market and tier: creators, pooled ROI (sum GMV / sum cost), median ROI, CVR, cost per order, engagement."""
    rows = []
    for (market, tier), d in card.dropna(subset=["tier"]).groupby(["market", "tier"]):
        cost = d["total_cost"].sum()
        rows.append({
            "market": market, "tier": tier, "currency": d["currency"].iloc[0], "creators": len(d),
            "total_cost": cost, "gmv_net": d["gmv_net"].sum(), "orders": int(d["orders"].sum()),
            "pooled_roi": d["gmv_net"].sum() / cost if cost > 0 else None,
            "median_roi": d["roi"].median(), "median_cvr": d["cvr"].median(),
            "pooled_cvr": d["video_orders"].sum() / d["product_clicks"].sum() if d["product_clicks"].sum() > 0 else None,
            "median_cost_per_order": d["cost_per_order"].median(),
            "median_engagement_rate": d["engagement_rate"].median(),
            "views": int(d["views"].sum()), "product_clicks": int(d["product_clicks"].sum()),
        })
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["tier_rank"] = out["tier"].map({t: i for i, t in enumerate(TIER_ORDER)})
    return out.sort_values(["market", "tier_rank"]).drop(columns="tier_rank").reset_index(drop=True)
