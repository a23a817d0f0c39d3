"""LIVE sessions hosted by the shop's own accounts and by creators, with the orders they drive."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shopkpi.demo.clock import DAY, HOUR, day_start
from shopkpi.demo.content import Variants, posting_weights
from shopkpi.demo.ids import increasing_ids
from shopkpi.demo.markets import MARKET_CODES, MARKETS

POST_LIVE_SHARE = 0.15  # orders placed within 24 h after the session, relative to in-session orders


@dataclass
class LiveSet:
    sessions: pd.DataFrame
    products: pd.DataFrame  # one row per session x featured product with its share of orders
    viewer_scale: dict[str, float] = field(default_factory=dict)


def build_sessions(rng: np.random.Generator, n: int, creators: pd.DataFrame, prod_lam: np.ndarray,
                   mega_days: dict[str, np.ndarray], start_date: dt.date, n_hist: int) -> LiveSet:
    seller_host = rng.random(n) < 0.4
    big = creators[(creators["followers_real"] >= 30_000) & (creators["activity"] > 0)]
    if big.empty:
        big = creators[creators["activity"] > 0]
    reach = (big["followers_real"] ** 0.5).to_numpy()
    host_creator = np.where(seller_host, -1, rng.choice(big["creator_idx"].to_numpy(), size=n, p=reach / reach.sum()))
    by_idx = creators.set_index("creator_idx")
    market = np.where(seller_host, np.where(rng.random(n) < 0.55, "UK", "TH"),
                      by_idx["market"].reindex(host_creator).fillna("UK").to_numpy()).astype(object)
    m_idx = np.array([MARKET_CODES.index(m) for m in market])
    day = np.zeros(n, dtype=np.int64)
    for m, code in enumerate(MARKET_CODES):
        sel = m_idx == m
        w = posting_weights(mega_days[code], n_hist)[: n_hist - 1]
        day[sel] = rng.choice(n_hist - 1, size=int(sel.sum()), p=w / w.sum())
    start_hour = rng.choice([12, 14, 19, 20, 21], size=n, p=[0.1, 0.15, 0.3, 0.3, 0.15])
    start_ts = day_start(start_date, day) + start_hour * HOUR + rng.integers(0, 4, size=n) * 15 * 60
    duration = (rng.uniform(60, 240, size=n) * 60).round().astype(np.int64) + rng.integers(0, 60, size=n)
    duration = np.minimum(duration, day_start(start_date, day) + DAY - 60 - start_ts)
    followers = by_idx["followers_real"].reindex(host_creator).fillna(0).to_numpy()
    conv = np.where(seller_host, 1.0, by_idx["conv_mult"].reindex(host_creator).fillna(1.0).to_numpy())
    base_viewers = np.where(seller_host, 3000.0, np.maximum(followers, 1000) ** 0.6 * 15) * rng.lognormal(0, 0.5, size=n)
    sessions = pd.DataFrame({
        "live_idx": np.arange(n), "seller_host": seller_host, "creator_idx": host_creator, "market": market,
        "m_idx": m_idx, "day": day, "start_ts": start_ts, "duration_s": duration,
        "viewers_unscaled": base_viewers,
        "views_per_viewer": rng.uniform(1.3, 2.3, size=n),
        "avg_view_s": rng.uniform(35, 160, size=n),
        "impr_per_view": rng.uniform(0.6, 1.4, size=n),
        "ctr": rng.uniform(0.03, 0.09, size=n),
        "ctor": np.clip(rng.uniform(0.05, 0.14, size=n) * conv, 0.005, 0.6),
        "likes_per_viewer": rng.uniform(3, 25, size=n),
        "comments_per_viewer": rng.uniform(0.05, 0.4, size=n),
        "shares_per_viewer": rng.uniform(0.005, 0.03, size=n),
        "follows_per_viewer": rng.uniform(0.005, 0.04, size=n),
    })
    sessions = sessions.sort_values(["start_ts", "live_idx"], kind="stable").reset_index(drop=True)
    sessions["live_idx"] = np.arange(n)
    sessions["live_id"] = increasing_ids(rng, n, "75", 19)
    sessions["host"] = np.where(sessions["seller_host"],
                                sessions["market"].map({m: MARKETS[m]["official_account"] for m in MARKET_CODES}),
                                by_idx["handle"].reindex(sessions["creator_idx"]).to_numpy())
    rows = []
    for s in sessions.itertuples():
        # Sessions feature current sellers; bigger sellers take more of the session's orders.
        w = prod_lam[:, s.m_idx, s.day]
        k = int(min(rng.integers(3, 7), (w > 0).sum()))
        chosen = rng.choice(len(w), size=k, replace=False, p=w / w.sum())
        share = w[chosen] / w[chosen].sum()
        rows.append(pd.DataFrame({"live_idx": s.live_idx, "product_idx": chosen, "share": share}))
    products = pd.concat(rows, ignore_index=True)
    return LiveSet(sessions=sessions, products=products)


def _expected_orders(ls: LiveSet) -> np.ndarray:
    s = ls.sessions
    return (s["viewers"] * s["views_per_viewer"] * s["impr_per_view"] * s["ctr"] * s["ctor"]).to_numpy()


def scale_viewers(ls: LiveSet, count: np.ndarray, target_lines: dict[str, float]) -> None:
    s = ls.sessions
    s["viewers"] = s["viewers_unscaled"]
    per_session = _expected_orders(ls) * (1 + POST_LIVE_SHARE)
    prod = ls.products.merge(s[["live_idx", "market"]], on="live_idx")
    lines_per_order = 1 + 0.12 * (count[prod["product_idx"].to_numpy()] >= 2)
    lines = per_session[prod["live_idx"].to_numpy()] * prod["share"].to_numpy() * lines_per_order
    for market in MARKET_CODES:
        total = lines[prod["market"].to_numpy() == market].sum()
        ls.viewer_scale[market] = float(target_lines[market] / total) if total > 0 else 1.0
    s["viewers"] = s["viewers_unscaled"] * s["market"].map(ls.viewer_scale)


def expected_lines(ls: LiveSet, variants: Variants, shape: tuple) -> np.ndarray:
    """Expected LIVE-driven lines: in-session on the day, post-LIVE orders split over that day and the next."""
    out = np.zeros(shape)
    s = ls.sessions
    per_session = _expected_orders(ls)
    prod = ls.products
    li = prod["live_idx"].to_numpy()
    p = prod["product_idx"].to_numpy()
    m = s["m_idx"].to_numpy()[li]
    d = s["day"].to_numpy()[li]
    base = per_session[li] * prod["share"].to_numpy()
    variants.add_expected(out, p, m, d, base * (1 + POST_LIVE_SHARE / 2))
    variants.add_expected(out, p, m, d + 1, base * POST_LIVE_SHARE / 2)
    return out


def draw_metrics_and_orders(rng: np.random.Generator, ls: LiveSet, variants: Variants, start_date: dt.date,
                            n_hist: int) -> pd.DataFrame:
    """Draw session metrics and one row per LIVE-driven order (in-session and within 24 h after)."""
    s = ls.sessions
    viewers = rng.poisson(s["viewers"].to_numpy())
    s["viewers_n"] = np.maximum(viewers, 20)
    s["views_n"] = (s["viewers_n"] * s["views_per_viewer"]).round().astype(np.int64)
    s["impressions_n"] = (s["views_n"] * s["impr_per_view"]).round().astype(np.int64)
    s["clicks_n"] = rng.binomial(s["impressions_n"].to_numpy(), s["ctr"].to_numpy())
    in_session = rng.binomial(s["clicks_n"].to_numpy(), s["ctor"].to_numpy())
    post = rng.poisson(in_session * POST_LIVE_SHARE)
    for col, per in (("likes_n", "likes_per_viewer"), ("comments_n", "comments_per_viewer"),
                     ("shares_n", "shares_per_viewer"), ("new_followers_n", "follows_per_viewer")):
        s[col] = rng.poisson(s["viewers_n"].to_numpy() * s[per].to_numpy())
    s["acu_n"] = np.maximum(1, (s["viewers_n"] * s["avg_view_s"] / s["duration_s"]).round()).astype(np.int64)
    s["pcu_n"] = (s["acu_n"] * rng.uniform(1.8, 3.5, size=len(s))).round().astype(np.int64)

    orders = []
    for kind, counts in (("in", in_session), ("post", post)):
        rep = np.repeat(np.arange(len(s)), counts)
        n = len(rep)
        if n == 0:
            continue
        if kind == "in":
            created = s["start_ts"].to_numpy()[rep] + (rng.random(n) * s["duration_s"].to_numpy()[rep]).astype(np.int64)
        else:
            end = s["start_ts"].to_numpy()[rep] + s["duration_s"].to_numpy()[rep]
            created = end + 60 + rng.integers(0, 24 * HOUR - 120, size=n)
        # Featured product chosen by its share within the session.
        prod = ls.products
        product = np.empty(n, dtype=np.int64)
        for li in np.unique(rep):
            sel = np.flatnonzero(rep == li)
            rows = prod[prod["live_idx"] == li]
            product[sel] = rng.choice(rows["product_idx"].to_numpy(), size=len(sel), p=rows["share"].to_numpy())
        m = s["m_idx"].to_numpy()[rep]
        day = created // DAY - (start_date - dt.date(1970, 1, 1)).days
        main, extra = variants.pick(rng, product, m, day)
        orders.append(pd.DataFrame({
            "m_idx": m, "created_ts": created, "day": day,
            "sku_main": main, "sku_extra": extra, "live_idx": s["live_idx"].to_numpy()[rep],
            "product_idx": product, "post_live": kind == "post",
        }))
    out = pd.concat(orders, ignore_index=True) if orders else pd.DataFrame(
        columns=["m_idx", "created_ts", "day", "sku_main", "sku_extra", "live_idx", "product_idx", "post_live"])
    return out[out["day"] < n_hist].reset_index(drop=True)


__all__ = ["LiveSet", "build_sessions", "scale_viewers", "expected_lines", "draw_metrics_and_orders"]
