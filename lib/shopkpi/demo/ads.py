"""Spark Ads boosting creator videos: campaign structure, daily delivery and the orders ads drive."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shopkpi.demo.clock import day_start, random_time_of_day
from shopkpi.demo.content import Variants, VideoSet
from shopkpi.demo.ids import increasing_ids
from shopkpi.demo.markets import MARKET_CODES

BUDGET_PER_DAY = {"UK": 40.0, "TH": 1500.0}  # before calibration, local currency
CPM = {"UK": (3.5, 7.0), "TH": (45.0, 110.0)}
AUDIENCES = ["Broad 18-54", "Interest: Home & Living", "Lookalike 1% purchasers", "Retargeting 30d engagers"]
BOOST_SHARE = 0.03  # share of videos boosted
AD_CAPACITY_SHARE = 0.3


@dataclass
class AdSet:
    ads: pd.DataFrame  # one row per ad (= one boosted video)
    daily: pd.DataFrame  # one row per ad x day
    budget_scale: dict[str, float] = field(default_factory=dict)


def plan_ads(rng: np.random.Generator, vs: VideoSet, creators: pd.DataFrame, skus: pd.DataFrame,
             mega_days: dict[str, np.ndarray], start_date: dt.date, n_hist: int) -> AdSet:
    """Boost strong early performers (selection bias is real: boosted videos were already good)."""
    v = vs.videos
    clicks = vs.rows.groupby("video_idx")["clicks_final"].sum().reindex(v["video_idx"]).to_numpy()
    chosen: list[int] = []
    for market in MARKET_CODES:
        cand = v[(v["market"] == market) & (v["post_day"] <= n_hist - 6) & (~v["is_fake_creator"])
                 & (v["experiment"] == "")]
        if cand.empty:
            continue
        n = max(2, int(round(BOOST_SHARE * (v["market"] == market).sum())))
        top = cand.iloc[np.argsort(-clicks[cand["video_idx"].to_numpy()], kind="stable")[: 3 * n]]
        chosen += sorted(rng.choice(top["video_idx"].to_numpy(), size=min(n, len(top)), replace=False).tolist())
    ads = v.set_index("video_idx").loc[chosen, ["market", "m_idx", "post_day", "creator_idx", "video_id",
                                                "main_product", "category_code", "duration_s"]].reset_index()
    n = len(ads)
    start = np.minimum(ads["post_day"].to_numpy() + rng.integers(1, 5, size=n), n_hist - 1)
    ads["start_day"] = start
    ads["end_day"] = np.minimum(start + rng.integers(7, 29, size=n) - 1, n_hist - 1)
    ads = ads.sort_values(["start_day", "video_idx"], kind="stable").reset_index(drop=True)
    ads["ad_idx"] = np.arange(n)
    ads["ad_id"] = increasing_ids(rng, n, "18", 16)
    handles = creators.set_index("creator_idx")["handle"]
    ads["handle"] = handles.reindex(ads["creator_idx"]).to_numpy()
    ads["ad_name"] = "Spark | @" + ads["handle"] + " | " + ads["video_id"]
    start_dates = np.datetime64(start_date.isoformat(), "D") + ads["start_day"].to_numpy()
    quarter = ((start_dates.astype("datetime64[M]").astype(np.int64) % 12) // 3 + 1).astype(str)
    year = (start_dates.astype("datetime64[Y]").astype(np.int64) + 1970).astype(str)
    cat_names = skus.groupby("category_code")["category"].first()
    ads["campaign_name"] = ads["market"] + "_SparkAds_" + year + "Q" + quarter + "_Creators"
    ads["ad_group_name"] = (cat_names.reindex(ads["category_code"]).to_numpy() + " - "
                            + np.array(AUDIENCES, dtype=object)[rng.integers(0, len(AUDIENCES), size=n)])
    ads["budget_unscaled"] = np.array([BUDGET_PER_DAY[m] for m in ads["market"]]) * rng.uniform(0.5, 2.0, size=n)
    lo = np.array([CPM[m][0] for m in ads["market"]])
    hi = np.array([CPM[m][1] for m in ads["market"]])
    ads["cpm"] = rng.uniform(lo, hi)
    ads["ctr"] = rng.uniform(0.006, 0.016, size=n)
    ads["roas_target"] = rng.lognormal(np.log(3.0), 0.4, size=n)
    ads["view_rate"] = rng.uniform(0.25, 0.45, size=n)

    rep = np.repeat(np.arange(n), (ads["end_day"] - ads["start_day"] + 1).to_numpy())
    offset = np.arange(len(rep)) - np.repeat(np.cumsum(np.r_[0, (ads["end_day"] - ads["start_day"] + 1).to_numpy()[:-1]]),
                                             (ads["end_day"] - ads["start_day"] + 1).to_numpy())
    day = ads["start_day"].to_numpy()[rep] + offset
    m_idx = ads["m_idx"].to_numpy()[rep]
    mega = np.array([mega_days[MARKET_CODES[m]][d] for m, d in zip(m_idx.tolist(), day.tolist())], dtype=bool)
    daily = pd.DataFrame({
        "ad_idx": rep, "day": day, "m_idx": m_idx, "mega": mega,
        "spend_noise": rng.gamma(10, 0.1, size=len(rep)) * np.where(mega, 1.5, 1.0),
        "cpm_noise": rng.uniform(0.9, 1.1, size=len(rep)) * np.where(mega, 1.3, 1.0),
    })
    return AdSet(ads=ads, daily=daily)


def _aov_local(ads: pd.DataFrame, skus: pd.DataFrame) -> np.ndarray:
    price = skus.groupby("product_idx")[[f"price_cents_{m}" for m in MARKET_CODES]].first().to_numpy()
    return price[ads["main_product"].to_numpy(), ads["m_idx"].to_numpy()] / 100 * 1.25


def scale_budgets(ad_set: AdSet, skus: pd.DataFrame, prod_lam: np.ndarray, target_lines: dict[str, float]) -> None:
    """Calibrate budgets to the target share; a day's spend is capped so an ad expects at most
    AD_CAPACITY_SHARE of its product's demand that day (advertisers stop scaling saturated ads)."""
    ads, daily = ad_set.ads, ad_set.daily
    aov = _aov_local(ads, skus)
    a = daily["ad_idx"].to_numpy()
    m = daily["m_idx"].to_numpy()
    per_budget = daily["spend_noise"].to_numpy() * ads["roas_target"].to_numpy()[a] / aov[a]  # orders per unit budget
    cap_orders = AD_CAPACITY_SHARE * prod_lam[ads["main_product"].to_numpy()[a], m, daily["day"].to_numpy()]
    scale = {c: 1.0 for c in MARKET_CODES}
    for _ in range(8):
        k = np.array([scale[MARKET_CODES[i]] for i in m])
        exp_orders = np.minimum(ads["budget_unscaled"].to_numpy()[a] * k * per_budget, cap_orders)
        for i, market in enumerate(MARKET_CODES):
            total = exp_orders[m == i].sum() * 1.06
            scale[market] *= float(target_lines[market] / total) if total > 0 else 1.0
    k = np.array([scale[MARKET_CODES[i]] for i in m])
    exp_orders = np.minimum(ads["budget_unscaled"].to_numpy()[a] * k * per_budget, cap_orders)
    ad_set.budget_scale = scale
    ads["budget"] = ads["budget_unscaled"] * ads["market"].map(scale)
    spend = exp_orders / np.maximum(per_budget, 1e-12) * daily["spend_noise"].to_numpy()
    daily["cost_cents"] = np.maximum(100, (spend * 100).round()).astype(np.int64)
    daily["expected_orders"] = (daily["cost_cents"].to_numpy() / 100 * ads["roas_target"].to_numpy()[a] / aov[a])


def expected_lines(ad_set: AdSet, variants: Variants, shape: tuple) -> np.ndarray:
    out = np.zeros(shape)
    ads, daily = ad_set.ads, ad_set.daily
    p = ads["main_product"].to_numpy()[daily["ad_idx"]]
    variants.add_expected(out, p, daily["m_idx"].to_numpy(), daily["day"].to_numpy(),
                          daily["expected_orders"].to_numpy())
    return out


def draw_delivery_and_orders(rng: np.random.Generator, ad_set: AdSet, variants: Variants,
                             start_date: dt.date) -> pd.DataFrame:
    """Daily impressions/clicks/views per ad, and one row per ads-driven order."""
    ads, daily = ad_set.ads, ad_set.daily
    a = daily["ad_idx"].to_numpy()
    cpm = ads["cpm"].to_numpy()[a] * daily["cpm_noise"].to_numpy()
    daily["impressions"] = np.maximum(1, (daily["cost_cents"] / 100 / cpm * 1000).round()).astype(np.int64)
    daily["clicks"] = rng.binomial(daily["impressions"].to_numpy(), ads["ctr"].to_numpy()[a])
    daily["clicks_all"] = (daily["clicks"] * rng.uniform(1.2, 1.6, size=len(daily))).round().astype(np.int64)
    conv = rng.poisson(daily["expected_orders"].to_numpy())
    daily["clicks"] = np.maximum(daily["clicks"].to_numpy(), conv)
    views = (daily["impressions"] * ads["view_rate"].to_numpy()[a] * rng.uniform(0.9, 1.1, size=len(daily))).round()
    daily["video_views"] = views.astype(np.int64)
    daily["views_2s"] = (views * rng.uniform(0.5, 0.65, size=len(daily))).round().astype(np.int64)
    daily["views_6s"] = (daily["views_2s"] * rng.uniform(0.35, 0.55, size=len(daily))).round().astype(np.int64)
    daily["views_p25"] = (views * rng.uniform(0.35, 0.5, size=len(daily))).round().astype(np.int64)
    daily["views_p50"] = (daily["views_p25"] * rng.uniform(0.5, 0.7, size=len(daily))).round().astype(np.int64)
    daily["views_p75"] = (daily["views_p50"] * rng.uniform(0.6, 0.8, size=len(daily))).round().astype(np.int64)
    daily["views_p100"] = (daily["views_p75"] * rng.uniform(0.6, 0.85, size=len(daily))).round().astype(np.int64)
    daily["avg_play_s"] = ads["duration_s"].to_numpy()[a] * rng.uniform(0.18, 0.35, size=len(daily))
    daily["reach"] = np.maximum(1, (daily["impressions"] / rng.uniform(1.1, 1.6, size=len(daily))).round()).astype(np.int64)
    rep = np.repeat(np.arange(len(daily)), conv)
    n = len(rep)
    day = daily["day"].to_numpy()[rep]
    ad_idx = a[rep]
    product = ads["main_product"].to_numpy()[ad_idx]
    m = daily["m_idx"].to_numpy()[rep]
    main, extra = variants.pick(rng, product, m, day)
    return pd.DataFrame({
        "m_idx": m, "day": day, "created_ts": day_start(start_date, day) + random_time_of_day(rng, n),
        "sku_main": main, "sku_extra": extra, "ad_idx": ad_idx,
        "video_idx": ads["video_idx"].to_numpy()[ad_idx], "creator_idx": ads["creator_idx"].to_numpy()[ad_idx],
        "product_idx": product,
    })


__all__ = ["AdSet", "plan_ads", "scale_budgets", "expected_lines", "draw_delivery_and_orders"]
