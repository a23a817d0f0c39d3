"""A/B tests tagged in the content sheet (experiment_id + variant): effect with CI, power and views needed.

Arms are paired when the same creator posted both variants close together (the usual way a cover
or caption test is run); the model then compares variants within pairs. The rate model is a
quasi-Poisson GLM (Pearson-scaled errors) of the funnel step with its exposure as offset.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from shopkpi.content.effects import METRICS

ALPHA = 0.05
POWER = 0.80
# The smallest lift worth acting on for a creative test (a 20% change); a test whose design cannot detect it
# with 80% power is under-powered, whatever its p-value: a "significant" result from it is likely exaggerated.
TARGET_LIFT = 1.20
PAIR_WINDOW_DAYS = 3


def pair_arms(arms: pd.DataFrame, variants: tuple[str, str]) -> pd.Series:
    """Pair id per video: each first-variant video with the nearest-in-time second-variant video of the same creator."""
    a_name, b_name = variants
    pair = pd.Series(pd.NA, index=arms.index, dtype="string")
    times = pd.to_datetime(arms["posted_at"], utc=True)
    used: set = set()
    for index in arms.index[arms["experiment_variant"] == a_name]:
        candidates = arms[(arms["experiment_variant"] == b_name) & (arms["creator"] == arms.at[index, "creator"])
                          & ~arms.index.isin(used)]
        if candidates.empty:
            continue
        gaps = (times[candidates.index] - times[index]).abs()
        best = gaps.idxmin()
        if gaps[best] <= pd.Timedelta(days=PAIR_WINDOW_DAYS):
            used.add(best)
            pair[index] = pair[best] = f"p{len(used)}"
    return pair


def _estimate(df: pd.DataFrame, metric: str, b_name: str, paired: bool) -> tuple[float, float, int]:
    """log lift of B vs A, its standard error and residual degrees of freedom."""
    count, exposure = METRICS[metric]
    X = pd.DataFrame({"const": 1.0, "variant_b": (df["experiment_variant"] == b_name).astype(float)}, index=df.index)
    if paired:
        X = pd.concat([X, pd.get_dummies(df["pair"], prefix="pair", drop_first=True, dtype=float)], axis=1)
    offset = np.log(df[exposure].astype(float)) if exposure else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.GLM(df[count].astype(float), X, family=sm.families.Poisson(), offset=offset).fit(scale="X2")
    return float(fit.params["variant_b"]), float(fit.bse["variant_b"]), int(fit.df_resid)


def analyse_experiment(videos: pd.DataFrame, experiment_id: str, metric: str,
                       target_lift: float = TARGET_LIFT) -> dict:
    """Lift of variant B over A on one funnel metric, its CI, the detectable lift, and views needed."""
    count, exposure = METRICS[metric]
    arms = videos[videos["experiment_id"] == experiment_id].copy()
    variants = tuple(sorted(arms["experiment_variant"].dropna().unique()))
    base = {"experiment_id": experiment_id, "metric": metric, "variants": list(variants), "videos": int(len(arms))}
    if len(variants) != 2:
        return base | {"status": "not_two_variants"}
    arms["pair"] = pair_arms(arms, variants)
    paired = arms["pair"].notna().sum() >= 4
    usable = arms[arms["pair"].notna()] if paired else arms
    if exposure:
        usable = usable[usable[exposure].fillna(0) > 0]
    usable = usable[usable[count].notna()]
    if usable["experiment_variant"].nunique() < 2 or len(usable) < 4:
        return base | {"status": "too_few_videos"}
    log_lift, se, df_resid = _estimate(usable, metric, variants[1], paired)
    t_crit = stats.t.ppf(1 - ALPHA / 2, max(df_resid, 1))
    z_sum = stats.norm.ppf(1 - ALPHA / 2) + stats.norm.ppf(POWER)
    views = float(usable["views"].sum())
    # SE shrinks with the square root of the sample; views scale the sample at a fixed mix.
    views_needed = views * (z_sum * se / math.log(target_lift)) ** 2
    significant = bool(abs(log_lift) > t_crit * se)
    detectable = math.exp(z_sum * se)
    powered = bool(detectable <= target_lift)
    if significant:
        status = "significant" if powered else "significant_underpowered"
    else:
        status = "no_effect_detected" if powered else "underpowered"
    totals = usable.groupby("experiment_variant")[[count] + ([exposure] if exposure else [])].sum()
    arm_rates = {v: (float(totals.at[v, count] / totals.at[v, exposure]) if exposure else float(totals.at[v, count]))
                 for v in totals.index}
    return base | {
        "status": status, "significant": significant, "powered": powered, "paired": bool(paired), "pairs": int(usable["pair"].nunique()) if paired else 0,
        "videos_used": int(len(usable)), "views": views, "arm_rates": arm_rates,
        "lift": math.exp(log_lift), "ci_low": math.exp(log_lift - t_crit * se), "ci_high": math.exp(log_lift + t_crit * se),
        "p_value": float(2 * stats.t.sf(abs(log_lift / se), max(df_resid, 1))),
        "detectable_lift": detectable, "target_lift": target_lift,
        "views_needed": views_needed, "more_views_needed": max(views_needed - views, 0.0),
    }


def experiments(videos: pd.DataFrame, metrics: tuple[str, ...] = ("ctr", "ctor"),
                target_lift: float = TARGET_LIFT) -> list[dict]:
    """Every tagged experiment on each funnel rate (CTR and CTOR by default)."""
    ids = sorted(videos["experiment_id"].dropna().unique())
    return [analyse_experiment(videos, e, m, target_lift) for e in ids for m in metrics]
