"""Fake-audience screening: transparent rules plus an IsolationForest anomaly score; every flag says why.

Signals per creator (videos posted up to the window end, snapshots, sampled comments): likes per view,
comments per like, views per follower, product CTR, engagement against product clicks (engagement
far above what converts), duplicate comments and follower jumps between snapshots. Rules compare a
creator with the median creator of the same market, so thresholds read as "3x the market median".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest

from shopkpi.creators.costs import KEY, has_table
from shopkpi.creators.window import Window

FEATURES = ["likes_per_view", "comments_per_like", "views_per_follower", "product_ctr", "engagement_per_click",
            "duplicate_comment_share", "follower_jump"]


@dataclass(frozen=True)
class ScreenRules:
    """Thresholds, as multiples of the market median unless said otherwise."""

    likes_per_view_high: float = 2.0
    comments_per_like_off: float = 4.0  # above 4x or below 1/4 of the median
    views_per_follower_high: float = 4.0
    engagement_per_click_high: float = 4.0
    duplicate_comment_share: float = 0.9  # absolute share of comments that copy an earlier comment
    follower_jump: float = 1.8  # followers multiplied between two consecutive snapshots
    min_views: int = 5_000  # below this a creator is not screened
    min_comments: int = 20  # below this comment duplication is not judged
    anomaly_percentile: float = 0.95  # with one rule, an anomaly score this high also flags
    min_rules: int = 2  # rules that must fire to flag on rules alone


def creator_signals(con: duckdb.DuckDBPyConnection, window: Window) -> pd.DataFrame:
    """Per creator: the raw counts and the ratio signals (videos posted in the window)."""
    v = con.execute("""
        SELECT creator, market, count(*) AS videos, sum(views) AS views, sum(likes) AS likes, sum(comments) AS comments,
               sum(shares) AS shares, sum(imp) AS product_impressions, sum(clk) AS product_clicks, sum(ord) AS video_orders
        FROM (SELECT video_id, any_value(creator) AS creator, any_value(market) AS market, any_value(views) AS views,
                     any_value(likes) AS likes, any_value(comments) AS comments, any_value(shares) AS shares,
                     sum(product_impressions) AS imp, sum(product_clicks) AS clk, sum(orders) AS ord
              FROM video_products WHERE posted_local_date BETWEEN ? AND ? AND creator IS NOT NULL GROUP BY video_id)
        GROUP BY ALL
    """, [window.start, window.end]).df()
    if has_table(con, "creator_snapshots"):
        snaps = con.execute("""
            SELECT creator, market, snapshot_date, followers FROM creator_snapshots
            WHERE snapshot_date <= ? ORDER BY creator, market, snapshot_date
        """, [window.end]).df()
        snaps["step"] = snaps["followers"] / snaps.groupby(KEY)["followers"].shift(1)
        per = snaps.groupby(KEY).agg(followers=("followers", "last"), follower_jump=("step", "max"),
                                     snapshots=("followers", "size")).reset_index()
        v = v.merge(per, on=KEY, how="left")
    else:
        v["followers"], v["follower_jump"], v["snapshots"] = np.nan, np.nan, 0
    v = v.merge(comment_duplication(con, window), on=KEY, how="left")
    f = v.astype({c: float for c in ["views", "likes", "comments", "shares", "product_impressions", "product_clicks"]})
    pos = lambda s: s.where(s > 0)  # noqa: E731
    v["likes_per_view"] = f["likes"] / pos(f["views"])
    v["comments_per_like"] = f["comments"] / pos(f["likes"])
    v["views_per_follower"] = f["views"] / pos(f["videos"].astype(float)) / pos(v["followers"].astype(float))
    v["product_ctr"] = f["product_clicks"] / pos(f["product_impressions"])
    v["engagement_per_click"] = (f["likes"] + f["comments"] + f["shares"]) / pos(f["product_clicks"])
    return v


def _normalise(text: pd.Series) -> pd.Series:
    return text.fillna("").str.lower().map(lambda s: re.sub(r"[\W_]+", " ", s).strip())


def comment_duplication(con: duckdb.DuckDBPyConnection, window: Window) -> pd.DataFrame:
    """Per creator: sampled comments and the share of them that repeat another comment of the creator."""
    if not has_table(con, "video_comments") or not has_table(con, "video_products"):
        return pd.DataFrame(columns=KEY + ["comments_sampled", "duplicate_comment_share", "comment_diversity"])
    c = con.execute("""
        SELECT v.creator, v.market, c.comment_text
        FROM video_comments c JOIN (SELECT video_id, any_value(creator) AS creator, any_value(market) AS market,
                                           any_value(posted_local_date) AS posted FROM video_products GROUP BY video_id) v
          USING (video_id)
        WHERE v.posted BETWEEN ? AND ? AND v.creator IS NOT NULL
    """, [window.start, window.end]).df()
    c["text"] = _normalise(c["comment_text"])
    c = c[c["text"] != ""]
    if c.empty:
        return pd.DataFrame(columns=KEY + ["comments_sampled", "duplicate_comment_share", "comment_diversity"])
    c["repeat"] = c.duplicated(KEY + ["text"], keep="first")
    out = c.groupby(KEY).agg(comments_sampled=("text", "size"), duplicate_comment_share=("repeat", "mean"),
                             distinct=("text", "nunique")).reset_index()
    out["comment_diversity"] = out["distinct"] / out["comments_sampled"]
    return out.drop(columns="distinct")


def _relative(s: pd.DataFrame, column: str) -> pd.Series:
    """Value / the market median over screened creators."""
    med = s.groupby("market")[column].transform("median")
    return s[column] / med.where(med > 0)


def screen(signals: pd.DataFrame, rules: ScreenRules = ScreenRules(), seed: int = 0) -> pd.DataFrame:
    """Rules, anomaly score and the flag per screened creator; `reasons` lists (rule key, value, threshold)."""
    s = signals[signals["views"].fillna(0) >= rules.min_views].copy().reset_index(drop=True)
    if s.empty:
        return s.assign(reasons=[], n_rules=[], anomaly_score=[], anomaly_percentile=[], flagged=[])
    rel = {c: _relative(s, c) for c in ["likes_per_view", "comments_per_like", "views_per_follower", "engagement_per_click"]}
    enough_comments = s["comments_sampled"].fillna(0) >= rules.min_comments
    checks = {
        "cr_rule_likes_per_view": (rel["likes_per_view"] >= rules.likes_per_view_high, rel["likes_per_view"], "x"),
        "cr_rule_comments_per_like": ((rel["comments_per_like"] >= rules.comments_per_like_off)
                                   | (rel["comments_per_like"] <= 1 / rules.comments_per_like_off),
                                   rel["comments_per_like"], "x"),
        "cr_rule_views_per_follower": (rel["views_per_follower"] >= rules.views_per_follower_high, rel["views_per_follower"], "x"),
        "cr_rule_engagement_per_click": (rel["engagement_per_click"] >= rules.engagement_per_click_high,
                                      rel["engagement_per_click"], "x"),
        "cr_rule_duplicate_comments": (enough_comments & (s["duplicate_comment_share"] >= rules.duplicate_comment_share),
                                    s["duplicate_comment_share"], "share"),
        "cr_rule_follower_jump": (s["follower_jump"] >= rules.follower_jump, s["follower_jump"], "x"),
    }
    fired = pd.DataFrame({k: v[0].fillna(False).astype(bool) for k, v in checks.items()})
    s["n_rules"] = fired.sum(axis=1)
    s["reasons"] = [[{"rule": k, "value": round(float(checks[k][1].iloc[i]), 3), "unit": checks[k][2]}
                     for k in fired.columns if fired.iloc[i][k]] for i in range(len(s))]
    s["anomaly_score"], s["anomaly_percentile"] = anomaly_scores(s, seed)
    s["flagged"] = (s["n_rules"] >= rules.min_rules) | (
        (s["n_rules"] >= 1) & (s["anomaly_percentile"] >= rules.anomaly_percentile))
    return s


def anomaly_scores(s: pd.DataFrame, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """IsolationForest on log signals relative to the market median (higher = more unusual) and its percentile."""
    x = pd.DataFrame(index=s.index)
    for c in FEATURES:
        col = s[c].astype(float)
        if c == "duplicate_comment_share":
            x[c] = col
        else:
            logged = np.log(col.where(col > 0))
            x[c] = logged - logged.groupby(s["market"]).transform("median")
        x[c] = x[c].fillna(x[c].median() if x[c].notna().any() else 0.0)
    if len(x) < 8:
        return np.full(len(s), np.nan), np.full(len(s), np.nan)
    forest = IsolationForest(n_estimators=300, random_state=seed, n_jobs=1).fit(x.to_numpy())
    score = -forest.score_samples(x.to_numpy())
    return score, pd.Series(score).rank(pct=True).to_numpy()
