"""Affiliate creators: audience size, tier, fake-audience flag, deal terms and follower snapshots."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from shopkpi.demo.markets import MARKET_CODES

TIERS = [("KOC", 0), ("C", 10_000), ("B", 50_000), ("A", 250_000), ("S", 1_000_000)]
_FIXED_FEE_PROB = {"KOC": 0.05, "C": 0.15, "B": 0.35, "A": 0.6, "S": 0.9}
_FIXED_FEE_GBP = {"KOC": 20, "C": 60, "B": 180, "A": 450, "S": 1500}
_COMMISSION = {"UK": [0.08, 0.10, 0.12, 0.15, 0.20], "TH": [0.10, 0.12, 0.15, 0.18, 0.20, 0.25]}

_UK_WORDS = ["home", "clean", "tidy", "cosy", "beauty", "glow", "kitchen", "deals", "finds", "mum", "style", "hacks",
             "decor", "skin", "organised"]
_UK_NAMES = ["hannah", "jess", "amira", "sophie", "chloe", "liam", "priya", "megan", "zara", "ellie", "tom", "grace",
             "aisha", "katie", "lucy", "nina", "olivia", "ruby", "becca", "dan", "sian", "kerry", "jo", "leah"]
_TH_NAMES = ["mint", "fah", "ploy", "nam", "ice", "bam", "fern", "praew", "nook", "pim", "bow", "kaew", "noon", "aom",
             "jane", "beam", "toey", "gift", "may", "earn"]
_TH_WORDS = ["review", "homedecor", "beauty", "deals", "channel", "daily", "shop", "story", "life", "haul", "ootd"]


def tier_of(followers: np.ndarray) -> np.ndarray:
    out = np.full(len(followers), "KOC", dtype=object)
    for name, floor in TIERS:
        out[np.asarray(followers) >= floor] = name
    return out


def _handle(rng: np.random.Generator, market: str) -> str:
    if market == "UK":
        w, n = _UK_WORDS[rng.integers(len(_UK_WORDS))], _UK_NAMES[rng.integers(len(_UK_NAMES))]
        pattern = int(rng.integers(5))
        return [f"{w}with{n}", f"{n}.{w}", f"the{w}{n}", f"{n}{w}uk", f"{n}_{w}{rng.integers(10, 99)}"][pattern]
    w, n = _TH_WORDS[rng.integers(len(_TH_WORDS))], _TH_NAMES[rng.integers(len(_TH_NAMES))]
    pattern = int(rng.integers(4))
    return [f"nong.{n}.{w}", f"{n}{w}", f"{n}_{w}{rng.integers(10, 99)}", f"{w}by{n}"][pattern]


def build_creators(rng: np.random.Generator, n: int) -> pd.DataFrame:
    """One row per creator; followers_real drives reach, followers_final is what the profile shows."""
    market = np.where(rng.random(n) < 0.55, "UK", "TH").astype(object)
    # Make sure both markets have creators even at tiny scales.
    market[0], market[1] = "UK", "TH"
    followers_real = np.clip(rng.lognormal(np.log(20_000), 1.5, size=n), 800, 6_000_000).round().astype(np.int64)
    n_fake = max(2, int(round(0.05 * n)))
    fake_idx = rng.choice(np.arange(2, n), size=n_fake - 2, replace=False).tolist() + [0, 1]
    is_fake = np.zeros(n, dtype=bool)
    is_fake[fake_idx] = True
    # Fake accounts are mid-sized after buying followers.
    followers_real[is_fake] = rng.integers(3_000, 40_000, size=n_fake)
    bought_factor = np.where(is_fake, rng.uniform(2.5, 6.0, size=n), 1.0)
    followers_final = (followers_real * bought_factor).round().astype(np.int64)
    tiers = tier_of(followers_final)
    handles: list[str] = []
    seen: set[str] = set()
    for i in range(n):
        while True:
            h = _handle(rng, market[i])
            if h not in seen:
                seen.add(h)
                handles.append(h)
                break
    conv_mult = np.where(is_fake, 0.4, rng.lognormal(0.0, 0.2, size=n))
    commission = np.array([rng.choice(_COMMISSION[m]) for m in market])
    shop_ads_rate = rng.choice([0.05, 0.08], size=n)
    # Fake accounts sell paid posts priced on their bought follower counts.
    has_fee = (rng.random(n) < np.array([_FIXED_FEE_PROB[t] for t in tiers])) | is_fake
    fee_gbp = np.array([_FIXED_FEE_GBP[t] for t in tiers]) * rng.uniform(0.7, 1.3, size=n)
    fee_local = np.where(market == "UK", np.round(fee_gbp / 5) * 5, np.round(fee_gbp * 40 / 100) * 100)
    fee_cents = np.where(has_fee, fee_local * 100, 0).astype(np.int64)
    contract_videos = np.where(has_fee, rng.integers(2, 9, size=n), 0)
    # Activity drives how many videos a creator posts; some never post after receiving samples.
    activity = rng.lognormal(0.0, 1.0, size=n) * np.where(rng.random(n) < 0.12, 0.0, 1.0)
    activity = np.where(has_fee, np.maximum(activity, 0.3), activity)
    activity[is_fake] = np.maximum(activity[is_fake], 0.5)
    growth = rng.normal(0.3, 0.3, size=n)
    return pd.DataFrame({
        "creator_idx": np.arange(n),
        "handle": handles,
        "market": market,
        "followers_real": followers_real,
        "followers_final": followers_final,
        "tier": tiers,
        "is_fake": is_fake,
        "bought_follower_factor": bought_factor,
        "conv_mult": conv_mult,
        "commission_rate": commission,
        "shop_ads_commission_rate": shop_ads_rate,
        "commission_model": np.where(has_fee, "Targeted collaboration", "Open collaboration"),
        "fixed_fee_cents": fee_cents,
        "contract_videos": contract_videos,
        "activity": activity,
        "yearly_growth": growth,
        "jump_snapshot": np.where(is_fake, rng.integers(1, 4, size=n), -1),
    })


def snapshot_dates(start_date: dt.date, end_date: dt.date) -> list[dt.date]:
    span = (end_date - start_date).days
    return [start_date, start_date + dt.timedelta(days=span // 3), start_date + dt.timedelta(days=2 * span // 3), end_date]


def follower_snapshots(rng: np.random.Generator, creators: pd.DataFrame, dates: list[dt.date]) -> pd.DataFrame:
    """Follower counts per creator per snapshot date; fake accounts jump when followers are bought."""
    rows = []
    end = dates[-1]
    for k, date in enumerate(dates):
        years_before_end = (end - date).days / 365.25
        organic = creators["followers_real"].to_numpy() * np.exp(-creators["yearly_growth"].to_numpy() * years_before_end)
        # Last snapshot must match the profile count shown elsewhere, so no noise there.
        noise = rng.lognormal(0, 0.02, size=len(creators))
        organic = organic * (noise if k < len(dates) - 1 else 1.0)
        bought = np.where(k >= creators["jump_snapshot"].to_numpy(), creators["bought_follower_factor"].to_numpy(), 1.0)
        bought = np.where(creators["is_fake"].to_numpy(), bought, 1.0)
        followers = np.maximum(100, organic * bought).round().astype(np.int64)
        likes_total = (followers * rng.uniform(4, 25, size=len(creators))).round().astype(np.int64)
        rows.append(pd.DataFrame({
            "snapshot_date": date.isoformat(),
            "handle": creators["handle"].to_numpy(),
            "market": creators["market"].to_numpy(),
            "followers": followers,
            "total_likes": likes_total,
        }))
    return pd.concat(rows, ignore_index=True)


def market_creator_counts(creators: pd.DataFrame) -> dict[str, int]:
    return {m: int((creators["market"] == m).sum()) for m in MARKET_CODES}
