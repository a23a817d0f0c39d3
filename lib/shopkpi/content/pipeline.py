"""The content analysis for one run: every section the store has data for, as plain tables and dicts.

Shop videos (Video Data export) give the funnel, the GMV decomposition, the effect models, A/B
tests and traffic mix; scraped public videos (`video_stats`) give the engagement model and the
lifecycle from re-scrapes. A section without data is listed in `missing` with the reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shopkpi.clean import connect_clean
from shopkpi.content import crosscheck, experiments, features, funnel, lifecycle, traffic
from shopkpi.content.effects import CATEGORICAL_FEATURES, MATURE_DAYS, METRICS, EffectsResult, best_combination, feature_effects, model_frame, recommendations
from shopkpi.errors import NoDataError, ParamsError
from shopkpi.params import RunContext, resolve_run
from shopkpi.store import Store

GBM_EXTRA = ["duration_s", "post_hour", "hashtag_count", "has_cta", "has_question", "has_emoji",
             "log_followers", "market", "category", "age_days", "log_rel_price"]
PUBLIC_FEATURES = ["log_followers", "duration_s", "hashtag_count", "has_cta", "has_question", "has_emoji",
                   "caption_chars", "caption_language", "post_hour", "weekday", "sound_original"]
PUBLIC_TOP = 4
PD_FEATURES = ["hook_type", "sound", "format", "script_structure"]
FUNNEL_GROUPS = ["hook_type", "script_structure", "sound", "format", "presenter", "tier", "market"]


@dataclass
class ContentAnalysis:
    client: str
    period: object
    language: str
    reporting_currency: str
    filters: dict
    window: dict = field(default_factory=dict)
    videos: pd.DataFrame | None = None
    lives: pd.DataFrame | None = None
    funnels: dict[str, pd.DataFrame] = field(default_factory=dict)
    decomposition: pd.DataFrame | None = None
    decomposition_periods: dict = field(default_factory=dict)
    effects: EffectsResult | None = None
    holdout: list[dict] = field(default_factory=list)
    importance: list[dict] = field(default_factory=list)
    tests: list[dict] = field(default_factory=list)
    lifecycle: dict = field(default_factory=dict)  # views (re-scrapes) and orders (affiliate order times)
    traffic: pd.DataFrame | None = None
    public: dict = field(default_factory=dict)
    recommendations: list[dict] = field(default_factory=list)
    combination: dict | None = None
    missing: dict[str, str] = field(default_factory=dict)


def _to_reporting(videos: pd.DataFrame, params) -> pd.Series:
    """Video GMV in the reporting currency at the rate in force on the post date."""
    rates = [params.fx_rate(c, d)[0] for c, d in zip(videos["currency"], pd.to_datetime(videos["posted_local_date"]).dt.date)]
    return videos["gmv"].astype(float) * np.array(rates, dtype=float)


def _in_period(videos: pd.DataFrame, period) -> pd.Series:
    days = pd.to_datetime(videos["posted_local_date"]).dt.date
    return (days >= period.start) & (days <= period.end)


def _shop(result: ContentAnalysis, con, ctx: RunContext, markets, tiers) -> None:
    period = ctx.period
    videos = features.shop_videos(con, period.end)
    videos["gmv_reporting"] = _to_reporting(videos, ctx.params)
    if markets:
        videos = videos[videos["market"].isin(markets)]
    if tiers:
        videos = videos[videos["tier"].isin(tiers)]
    result.videos = videos.reset_index(drop=True)
    mature_before = period.end - dt.timedelta(days=MATURE_DAYS)
    result.window = {"posted_until": period.end, "mature_before": mature_before, "videos": int(len(videos)),
                     "first_post": pd.to_datetime(videos["posted_local_date"]).min().date() if len(videos) else None,
                     "export_as_of": pd.to_datetime(videos["export_as_of"], utc=True).max()}
    in_period = videos[_in_period(videos, period)]
    result.funnels = {"total": funnel.funnel(in_period.assign(all="all"), "all"),
                      **{g: funnel.funnel(in_period, g) for g in FUNNEL_GROUPS},
                      "all_time_total": funnel.funnel(videos.assign(all="all"), "all")}
    lives = features.live_sessions(con, period.end)
    if markets and not lives.empty:
        lives = lives[lives["market"].isin(markets)]
    result.lives = lives
    if not lives.empty:
        lives = lives.copy()
        lives["gmv_reporting"] = _to_reporting(lives.rename(columns={"started_local_date": "posted_local_date"}), ctx.params)
        days = pd.to_datetime(lives["started_local_date"]).dt.date
        current = lives[(days >= period.start) & (days <= period.end)]
        if not current.empty:
            result.funnels["live"] = funnel.funnel(current, "unit")
    previous = period.previous()
    before = videos[_in_period(videos, previous)]
    sums = lambda d: {k: float(d[k].sum()) for k in ("views", "product_clicks", "orders", "gmv_reporting")}
    result.decomposition = funnel.decompose(sums(in_period), sums(before))
    result.decomposition_periods = {"current": period.name, "previous": previous.name,
                                    "current_gmv": sums(in_period)["gmv_reporting"], "previous_gmv": sums(before)["gmv_reporting"],
                                    "current_videos": int(len(in_period)), "previous_videos": int(len(before))}
    try:
        result.effects = feature_effects(videos, mature_before)
        result.recommendations = recommendations(result.effects.lifts)
        result.combination = best_combination(result.effects.lifts)
    except NoDataError as exc:
        result.missing["effects"] = str(exc)
    else:
        frame = model_frame(videos, mature_before).frame
        gbm_features = CATEGORICAL_FEATURES + GBM_EXTRA
        if frame["creator"].nunique() < crosscheck.FOLDS:
            result.missing["crosscheck"] = f"videos of {frame['creator'].nunique()} creators: too few to hold creators out"
        else:
            for metric, (count, exposure) in METRICS.items():
                held = crosscheck.holdout_comparison(frame, count, exposure, gbm_features)
                result.holdout.append({"metric": metric} | held)
                result.importance.append({"metric": metric, "target": held["target"], "permutation": held["permutation"],
                                          "partial_dependence": crosscheck.partial_dependences(
                                              frame, count, exposure, gbm_features, levels_of=PD_FEATURES)})
    if videos["experiment_id"].notna().any():
        result.tests = experiments.experiments(videos)
    else:
        result.missing["experiments"] = "no video is tagged with an experiment"
    # Views: each shop video is observed once and the Video Data export carries no as-of time (ingest dates a
    # file by its latest post), so view accumulation needs re-scrapes (video_stats, below). Orders carry their
    # own creation time, so how fast a video's attributed orders arrive is measured directly, on organic videos
    # (Spark Ads keep a boosted video selling for as long as the ad runs).
    organic = videos[~videos["boosted"].fillna(False).astype(bool)]
    result.lifecycle["orders"] = lifecycle.accumulation_from_orders(lifecycle.order_ages(con, organic, period.end))
    if {"affiliate_orders", "order_lines"} <= _tables(con):
        start = period.end - dt.timedelta(weeks=12) - dt.timedelta(days=period.end.weekday())
        mix = traffic.weekly_traffic_mix(con, ctx.params, max(start, dt.date(2000, 1, 1)), period.end)
        result.traffic = mix[mix["market"].isin(markets)] if markets else mix
    else:
        result.missing["traffic"] = "needs the Orders and Affiliate orders exports"


def _tables(con) -> set[str]:
    return {name for (name,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def _public(result: ContentAnalysis, con, tiers) -> None:
    videos = features.public_videos(con)
    if tiers:
        videos = videos[videos["tier"].isin(tiers)]
    result.public["videos"] = int(len(videos))
    sets = []
    # One set per source folder: a re-scrape file belongs to the data set it re-scraped.
    dataset = videos["source_file"].astype(str).str.split("/").str[0]
    for source, part in videos.groupby(dataset):
        # Engagement is a rate of views and creator size is the baseline: both must be known.
        part = part[(part["views"].fillna(0) > 0) & part["followers"].notna()].copy()
        part["log_followers"] = np.log(part["followers"].clip(lower=1))
        usable = [f for f in PUBLIC_FEATURES if f in part and part[f].notna().any() and part[f].nunique() > 1]
        if len(part) < 200:
            continue
        # Engagement rate of a typical video: every video weighs the same (views-weighted, a few viral videos decide).
        held = crosscheck.holdout_comparison(part, "engagements", "views", usable, per_video=True)
        total = funnel.funnel(part.assign(all="all"), "all").iloc[0]
        by_tier = funnel.funnel(part, "tier")
        # Which way the most useful features push engagement (the model's partial dependence, not a controlled effect).
        top = [r["feature"] for r in held["permutation"][:PUBLIC_TOP] if r["importance"] > 0]
        dependence = crosscheck.partial_dependences(part, "engagements", "views", usable, levels_of=top, per_video=True)
        sets.append({"source": source, "videos": int(len(part)), "holdout": held, "importance": held["permutation"],
                     "partial_dependence": dependence,
                     "engagement_rate": float(total["engagement_rate"]),
                     "by_tier": by_tier[["tier", "units", "views", "engagements", "engagement_rate"]].to_dict("records")})
    result.public["sets"] = sets
    result.lifecycle["views"] = lifecycle.accumulation_from_snapshots(lifecycle.snapshot_pairs(con, videos["video_id"]))


def subset_list(value, name: str) -> list[str]:
    """A subset parameter as a list: "UK,TH", ["UK", "TH"], "" or None (everything)."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",")]
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        items = [v.strip() for v in value]
    else:
        raise ParamsError(f"{name} must be a comma-separated string like \"UK,TH\" or a list of strings, got {value!r}")
    if any(not v for v in items):
        raise ParamsError(f"{name} has an empty item: {value!r}")
    return list(dict.fromkeys(items))


def check_subset(params, markets, tiers) -> tuple[list[str], list[str]]:
    """Validated `markets` (the client's market codes) and `tiers` (creator tiers by followers)."""
    markets, tiers = subset_list(markets, "markets"), subset_list(tiers, "tiers")
    known = [m.code for m in params.markets]
    unknown = [m for m in markets if m not in known]
    if unknown:
        raise ParamsError(f"markets {unknown} are not markets of client {params.client!r}; its markets are {known}")
    tier_names = [name for _, name in features.TIERS]
    unknown = [t for t in tiers if t not in tier_names]
    if unknown:
        raise ParamsError(f"tiers {unknown} are not creator tiers; use any of {tier_names} (by followers: "
                          + ", ".join(f"{name} from {low:,}" for low, name in features.TIERS) + ")")
    return markets, tiers


def resolve_content_run(client, period="", language="", markets="", tiers="", **unknown) -> tuple[RunContext, list[str], list[str]]:
    """The 03_content notebook's parameters, validated: the run context and the market and tier subset."""
    ctx = resolve_run(client, period, language, **unknown)
    return (ctx, *check_subset(ctx.params, markets, tiers))


def build_content(ctx: RunContext, markets: list[str] | str | None = None, tiers: list[str] | str | None = None) -> ContentAnalysis:
    """Run every content section the client's store supports; `markets`/`tiers` restrict to a subset."""
    markets, tiers = check_subset(ctx.params, markets, tiers)
    result = ContentAnalysis(ctx.client, ctx.period, ctx.language, ctx.params.reporting_currency,
                             {"markets": markets, "tiers": tiers})
    con = Store(ctx.client).connect()
    tables = _tables(con)
    if "order_lines" in tables:
        con = connect_clean(ctx.client)  # adds clean_lines for the traffic mix
    if "video_products" in tables:
        _shop(result, con, ctx, markets, tiers)
    else:
        result.missing["shop_videos"] = "no Video Data export (video_products) in the store"
    if "video_stats" in tables:
        _public(result, con, tiers)
    if "video_products" not in tables and "video_stats" not in tables:
        raise NoDataError(f"client {ctx.client!r} has neither Video Data exports nor scraped video stats in its store")
    if not any(result.lifecycle.values()):
        result.missing["lifecycle"] = "no_lifecycle_data"
    return result
