"""How fast a video's views and orders accumulate: shares in the first 24 h, 72 h and 7 days.

Views, from repeated snapshots of the same video (a re-scrape) where they exist: a saturating curve
F(age) = 1 - exp(-(age/tau)^k) is fitted to the growth between each video's two observations. Seller
Center's Video Data export holds each video once and has no as-of time, so it cannot give the views curve.
Orders, from the affiliate orders export: every attributed order has its creation time, so the share of
a video's first-30-day orders that arrive within an age is counted directly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

HORIZON_DAYS = 30  # shares are of the views a video has at 30 days
MIN_PAIRS = 30
BOOTSTRAP = 200


def snapshot_pairs(con, video_ids=None) -> pd.DataFrame:
    """First and last observation of every video scraped at least twice (of `video_ids`, default all), with ages in days."""
    tables = {name for (name,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "video_stats" not in tables:
        return pd.DataFrame(columns=["video_id", "age1", "age2", "views1", "views2"])
    pairs = con.sql("""
        WITH obs AS (
            SELECT video_id, views, date_diff('second', posted_local_time, scraped_local_time) / 86400.0 AS age
            FROM video_stats
            WHERE scraped_local_time IS NOT NULL AND posted_local_time IS NOT NULL AND views IS NOT NULL
        )
        SELECT video_id, min(age) AS age1, max(age) AS age2, arg_min(views, age) AS views1, arg_max(views, age) AS views2
        FROM obs GROUP BY video_id HAVING count(*) >= 2 AND max(age) > min(age)
    """).df()
    return pairs if video_ids is None else pairs[pairs["video_id"].isin(set(video_ids))].reset_index(drop=True)


def _share(age, tau, k):
    return 1 - np.exp(-(np.asarray(age, dtype=float) / tau) ** k)


def _fit(a1, a2, v1, v2) -> np.ndarray:
    target = np.log(v1 / v2)

    def residuals(theta):
        tau, k = np.exp(theta)
        return np.log(_share(a1, tau, k)) - np.log(_share(a2, tau, k)) - target

    # soft_l1: a few videos lose views between scrapes (rounded counts, deletions); they must not steer the curve.
    return np.exp(least_squares(residuals, x0=np.log([2.0, 0.7]), loss="soft_l1", f_scale=0.1).x)


def accumulation_from_snapshots(pairs: pd.DataFrame, seed: int = 0) -> dict | None:
    """Shares of 30-day views reached after 24 h, 72 h and 7 days, with 95% bootstrap intervals (by video)."""
    usable = pairs[(pairs["views1"] > 0) & (pairs["views2"] > 0) & (pairs["age1"] > 0)]
    if len(usable) < MIN_PAIRS:
        return None
    a1, a2, v1, v2 = (usable[c].to_numpy(float) for c in ("age1", "age2", "views1", "views2"))
    tau, k = _fit(a1, a2, v1, v2)
    rng = np.random.default_rng(seed)
    boot = []
    for _ in range(BOOTSTRAP):
        i = rng.integers(0, len(usable), len(usable))
        boot.append(_fit(a1[i], a2[i], v1[i], v2[i]))
    boot = np.array(boot)
    hours = {"share_24h": 1.0, "share_72h": 3.0, "share_7d": 7.0}

    def rel(age, t, kk):
        return _share(age, t, kk) / _share(HORIZON_DAYS, t, kk)

    out = {"method": "snapshots", "videos": int(len(usable)), "tau_days": float(tau), "shape": float(k),
           "horizon_days": HORIZON_DAYS, "first_age_days": [float(np.quantile(a1, q)) for q in (0.1, 0.5, 0.9)]}
    for name, days in hours.items():
        values = rel(days, boot[:, 0], boot[:, 1])
        out[name] = {"value": float(rel(days, tau, k)), "ci_low": float(np.quantile(values, 0.025)),
                     "ci_high": float(np.quantile(values, 0.975))}
    grid = np.array([0.25, 0.5, 1, 2, 3, 5, 7, 10, 14, 21, 30])
    out["curve"] = [{"age_days": float(a), "share": float(rel(a, tau, k))} for a in grid]
    return out


ORDER_GRID_DAYS = [0.25, 0.5, 1, 2, 3, 5, 7, 10, 14, 21, 30]
SHARE_POINTS = {"share_24h": 1.0, "share_72h": 3.0, "share_7d": 7.0}


def order_ages(con, videos: pd.DataFrame, period_end) -> pd.DataFrame:
    """Each attributed video order's age in days at order creation, for videos whose 30 days ended by `period_end`.

    Orders come from the affiliate orders export (content type Video, content id = video id), once per order
    (the newest export's row); orders created after the period end are not counted, so a re-run is reproducible.
    """
    tables = {name for (name,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "affiliate_orders" not in tables or videos.empty:
        return pd.DataFrame(columns=["video_id", "age_days"])
    until = pd.Timestamp(period_end) + pd.Timedelta(days=1)
    posted = pd.to_datetime(videos["posted_at"], utc=True)
    eligible = videos.loc[posted + pd.Timedelta(days=HORIZON_DAYS) <= until.tz_localize("UTC"), ["video_id", "posted_at"]]
    con.register("_lifecycle_videos", eligible.drop_duplicates("video_id"))
    try:
        ages = con.sql(f"""
            WITH orders AS (
                SELECT content_id AS video_id, order_id, min(created_at) AS created_at
                FROM affiliate_orders WHERE content_type = 'Video' AND content_id IS NOT NULL GROUP BY ALL
            )
            SELECT v.video_id, date_diff('second', v.posted_at, o.created_at) / 86400.0 AS age_days
            FROM _lifecycle_videos v JOIN orders o USING (video_id)
            WHERE o.created_at < TIMESTAMPTZ '{until.isoformat()}+00:00'
        """).df()
    finally:
        con.unregister("_lifecycle_videos")
    ages.attrs["videos"] = int(len(eligible))
    return ages


def accumulation_from_orders(ages: pd.DataFrame, seed: int = 0) -> dict | None:
    """Share of a video's first-30-day attributed orders that arrive within 24 h, 72 h, 7 days (ratio of sums),
    with 95% bootstrap intervals over videos; measured directly, no curve is fitted."""
    inside = ages[(ages["age_days"] >= 0) & (ages["age_days"] <= HORIZON_DAYS)]
    if inside["video_id"].nunique() < MIN_PAIRS:
        return None
    grid = np.array(ORDER_GRID_DAYS + list(SHARE_POINTS.values()))
    # orders per video within each age: videos x grid
    per_video = inside.groupby("video_id")["age_days"].apply(lambda a: (a.to_numpy()[:, None] <= grid).sum(axis=0))
    counts = np.vstack(per_video.to_numpy())
    totals = counts[:, grid.tolist().index(HORIZON_DAYS)]
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(counts), (BOOTSTRAP, len(counts)))
    boot = counts[draws].sum(axis=1) / totals[draws].sum(axis=1)[:, None]  # BOOTSTRAP x grid
    share = counts.sum(axis=0) / totals.sum()
    out = {"method": "orders", "videos": int(len(counts)), "orders": int(totals.sum()), "horizon_days": HORIZON_DAYS,
           "negative_ages": int((ages["age_days"] < 0).sum()), "eligible_videos": ages.attrs.get("videos")}
    for name, days in SHARE_POINTS.items():
        j = len(ORDER_GRID_DAYS) + list(SHARE_POINTS).index(name)
        out[name] = {"value": float(share[j]), "ci_low": float(np.quantile(boot[:, j], 0.025)),
                     "ci_high": float(np.quantile(boot[:, j], 0.975))}
    out["curve"] = [{"age_days": float(a), "share": float(share[i]), "ci_low": float(np.quantile(boot[:, i], 0.025)),
                     "ci_high": float(np.quantile(boot[:, i], 0.975))} for i, a in enumerate(ORDER_GRID_DAYS)]
    return out
