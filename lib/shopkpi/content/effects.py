"""Feature effects on views, CTR and CTOR: controlled count models with lifts, CIs and FDR, plus a nonparametric cross-check.

The main model per metric is a negative-binomial regression (statsmodels) with the funnel step's
exposure as offset (views for clicks, clicks for orders), controls for creator size, video age at
export, market, product category and relative price, and creator-clustered standard errors (videos
of one creator are not independent). Lifts are exp(coefficient) against each feature's most common
level. The naive lift (pooled ratio, no controls) is reported beside it to show what confounding does.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.optimize import minimize_scalar
from scipy.special import gammaln
from statsmodels.stats.multitest import multipletests
from threadpoolctl import threadpool_limits

from shopkpi.content.features import TAG_FEATURES, WEEKDAYS
from shopkpi.errors import NoDataError

# metric -> (count column, exposure column or None)
METRICS = {"views": ("views", None), "ctr": ("product_clicks", "views"), "ctor": ("orders", "product_clicks")}
CATEGORICAL_FEATURES = TAG_FEATURES + ["weekday"]
NUMERIC_FEATURES = {"log2_duration": "duration_s"}  # lift per doubling of length
# experiment_arm: A/B test arms are interventions on the metric (a test's variant B moves CTR by design).
CONTROLS = ["log_followers", "market", "category", "age_bin", "log_rel_price", "experiment_arm"]
# Creator fixed effects absorb what follower counts miss (audience quality, bought followers, own conversion).
CREATOR_CONTROL = "creator"
NOT_TAGGED = "not_tagged"
# Mature videos are the reference age, so age terms read as "share of the views a mature video has".
CONTROL_REFERENCES = {"age_bin": "14d+", "experiment_arm": "none"}
MIN_LEVEL_VIDEOS = 20  # rarer levels are pooled into "other" so no lift rests on a handful of videos
FDR_ALPHA = 0.05
MATURE_DAYS = 14


@dataclass
class ModelData:
    """The rows a model used and why the others were left out (nothing is dropped silently)."""

    frame: pd.DataFrame
    dropped: dict[str, int]
    references: dict[str, str]


@dataclass
class EffectsResult:
    lifts: pd.DataFrame  # metric, feature, level, reference, lift, ci_low, ci_high, p_value, q_value, significant, naive_lift
    fits: dict[str, dict] = field(default_factory=dict)  # per metric: n, dropped, alpha, converged
    controls: pd.DataFrame = field(default_factory=pd.DataFrame)  # metric, term, ratio, ci_low, ci_high (no creator terms)
    mature_before: object = None


def model_frame(videos: pd.DataFrame, mature_before, references: dict[str, str] | None = None,
                features: list[str] | None = None) -> ModelData:
    """Videos usable for the effect models: mature, organic (no paid views), with creator size known."""
    features = features or CATEGORICAL_FEATURES
    df = videos.copy()
    dropped = {}
    steps = [
        ("posted_within_mature_days", pd.to_datetime(df["posted_local_date"]) > pd.Timestamp(mature_before)),
        ("boosted_with_paid_views", df["boosted"].fillna(False).astype(bool)),
        ("no_follower_snapshot", df["followers"].isna()),
        ("no_duration", df["duration_s"].isna()),
    ]
    keep = pd.Series(True, index=df.index)
    for reason, mask in steps:
        mask = mask.fillna(False).astype(bool) & keep
        dropped[reason] = int(mask.sum())
        keep &= ~mask
    df = df[keep].copy()
    # A blank tag cell is its own level, not a reason to lose the video's other tags.
    for feature in features:
        if feature in TAG_FEATURES:
            df[feature] = df[feature].astype("string").fillna(NOT_TAGGED)
    if len(df) < 50:
        raise NoDataError(f"only {len(df)} mature, organic, tagged videos posted on or before {mature_before}: too few for effect models")
    df["log_followers"] = np.log(df["followers"].clip(lower=1))
    df["log2_duration"] = np.log2(df["duration_s"].clip(lower=1))
    price = df["price"].astype(float)
    # Relative to the market's median: prices in THB and GBP are not comparable as they stand.
    df["log_rel_price"] = np.log(price / price.groupby(df["market"]).transform("median")).fillna(0.0)
    arm = df["experiment_id"].astype("string") + ":" + df["experiment_variant"].astype("string").fillna("")
    df["experiment_arm"] = arm.fillna("none")
    chosen = dict(references or {})
    for feature in features:
        counts = df[feature].astype(str).value_counts()
        rare = counts[counts < MIN_LEVEL_VIDEOS].index
        df[feature] = df[feature].astype(str).where(~df[feature].astype(str).isin(rare), "other")
        if feature not in chosen or chosen[feature] not in set(df[feature]):
            chosen[feature] = df[feature][df[feature] != NOT_TAGGED].value_counts().idxmax()
    return ModelData(df.reset_index(drop=True), dropped, {f: chosen[f] for f in features})


def design(df: pd.DataFrame, references: dict[str, str], features: list[str], controls: list[str]) -> pd.DataFrame:
    """Treatment-coded design matrix; column names `feature=level` for features, `ctl:...` for controls."""
    parts = [pd.Series(1.0, index=df.index, name="const")]
    for feature in features:
        levels = sorted(set(df[feature]) - {references[feature]})
        for level in levels:
            parts.append((df[feature] == level).astype(float).rename(f"{feature}={level}"))
    for name, column in NUMERIC_FEATURES.items():
        if name in df:
            parts.append(df[column].pipe(lambda s: np.log2(s.clip(lower=1))).rename(f"{name}=per_doubling"))
    for control in controls:
        if df[control].dtype.kind in "fi":
            parts.append(df[control].astype(float).rename(f"ctl:{control}"))
        else:
            values = df[control].astype(str)
            top = CONTROL_REFERENCES.get(control)
            top = top if top in set(values) else values.value_counts().idxmax()
            for level in sorted(set(values) - {top}):
                parts.append((values == level).astype(float).rename(f"ctl:{control}={level}"))
    X = pd.concat(parts, axis=1)
    return X.loc[:, X.std(ddof=0).gt(0) | (X.columns == "const")]


def _nb_alpha(y: np.ndarray, mu: np.ndarray) -> float:
    """Maximum-likelihood NB2 dispersion for fixed means (Var = mu + alpha mu^2)."""

    def negative_loglik(log_alpha):
        r = np.exp(-log_alpha)  # size = 1 / alpha
        return -float(np.sum(gammaln(y + r) - gammaln(r) + r * np.log(r / (r + mu)) + y * np.log(mu / (r + mu))))

    found = minimize_scalar(negative_loglik, bounds=(np.log(1e-6), np.log(50.0)), method="bounded")
    return float(np.exp(found.x))


def fit_count_model(y: pd.Series, X: pd.DataFrame, exposure: pd.Series | None, groups: pd.Series):
    """Negative binomial GLM (alpha by profile maximum likelihood, as R's glm.nb) with creator-clustered errors.

    IRLS for the coefficients given alpha and a one-dimensional ML step for alpha given the means, alternated
    to the joint maximum; the clustered (sandwich) covariance keeps the intervals valid if the NB variance is off.
    Returns the statsmodels result; `result.nb_alpha` and `result.nb_converged` say how the alternation ended.
    """
    offset = None if exposure is None else np.log(exposure.astype(float).to_numpy())
    y = y.astype(float)
    cluster = {"cov_type": "cluster", "cov_kwds": {"groups": pd.factorize(groups)[0]}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit()
        alpha, converged = _nb_alpha(y.to_numpy(), fit.mu), False
        for _ in range(25):
            fit = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=alpha), offset=offset).fit(start_params=fit.params)
            new_alpha = _nb_alpha(y.to_numpy(), fit.mu)
            converged = abs(np.log(new_alpha / alpha)) < 1e-4
            alpha = new_alpha
            if converged:
                break
        result = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=alpha), offset=offset).fit(
            start_params=fit.params, **cluster)
    result.nb_alpha, result.nb_converged = alpha, bool(converged and result.converged)
    return result


def naive_lift(df: pd.DataFrame, metric: str, feature: str, level: str, reference: str) -> float:
    """Pooled ratio without any control: sum(count)/sum(exposure) in the level over the same in the reference."""
    count, exposure = METRICS[metric]
    def rate(mask):
        sub = df[mask]
        denominator = sub[exposure].sum() if exposure else len(sub)
        return sub[count].sum() / denominator if denominator else np.nan
    base, here = rate(df[feature] == reference), rate(df[feature] == level)
    return float(here / base) if base and np.isfinite(base) else np.nan


def _identified_controls(df: pd.DataFrame, controls: list[str]) -> tuple[list[str], list[str]]:
    """Controls the model can estimate: with creator fixed effects, a label that never varies within a creator
    (each creator sells in one market) is absorbed by them and left out rather than left unidentified."""
    present = [c for c in controls if c in df]
    if CREATOR_CONTROL not in present:
        return present, []
    absorbed = [c for c in present if c != CREATOR_CONTROL and df[c].dtype.kind not in "fi"
                and df.groupby("creator")[c].nunique(dropna=False).max() <= 1]
    return [c for c in present if c not in absorbed], absorbed


@threadpool_limits.wrap(limits=1)  # small dense solves: extra BLAS threads only contend with other notebooks
def feature_effects(videos: pd.DataFrame, mature_before, controls: list[str] | None = None,
                    references: dict[str, str] | None = None, features: list[str] | None = None) -> EffectsResult:
    """Lifts with 95% CIs for every feature level on views, CTR and CTOR; BH-FDR across all of them.

    `controls=None` means the full set including creator fixed effects; pass `[]` for the naive model.
    """
    features = features or CATEGORICAL_FEATURES
    controls = CONTROLS + [CREATOR_CONTROL] if controls is None else controls
    data = model_frame(videos, mature_before, references, features)
    rows, fits, control_rows = [], {}, []
    for metric, (count, exposure) in METRICS.items():
        df = data.frame
        dropped = dict(data.dropped)
        if exposure:
            no_exposure = df[exposure].fillna(0) <= 0
            dropped[f"no_{exposure}"] = int(no_exposure.sum())
            df = df[~no_exposure]
        missing = df[count].isna()
        dropped[f"no_{count}"] = int(missing.sum())
        df = df[~missing]
        if CREATOR_CONTROL in controls:
            # With creator fixed effects a creator whose videos all have zero carries no information (the MLE is -inf).
            silent = df.groupby("creator")[count].transform("sum") <= 0
            dropped[f"creator_without_{count}"] = int(silent.sum())
            df = df[~silent]
        df = df.reset_index(drop=True)
        used, absorbed = _identified_controls(df, controls)
        X = design(df, data.references, features, used)
        result = fit_count_model(df[count], X, df[exposure] if exposure else None, df["creator"])
        fits[metric] = {"n": int(len(df)), "creators": int(df["creator"].nunique()), "dropped": dropped,
                        "alpha": result.nb_alpha, "converged": result.nb_converged,
                        "controls": used, "absorbed_by_creator": absorbed}
        ci = result.conf_int()
        for name in X.columns:
            if name.startswith("ctl:") and not name.startswith(f"ctl:{CREATOR_CONTROL}="):
                control_rows.append({"metric": metric, "term": name[4:], "ratio": float(np.exp(result.params[name])),
                                     "ci_low": float(np.exp(ci.loc[name, 0])), "ci_high": float(np.exp(ci.loc[name, 1]))})
            if name == "const" or name.startswith("ctl:"):
                continue
            feature, level = name.split("=", 1)
            reference = data.references.get(feature, "")
            rows.append({"metric": metric, "feature": feature, "level": level, "reference": reference,
                         "lift": float(np.exp(result.params[name])), "ci_low": float(np.exp(ci.loc[name, 0])),
                         "ci_high": float(np.exp(ci.loc[name, 1])), "p_value": float(result.pvalues[name]),
                         "videos": int((df[feature] == level).sum()) if feature in df else int(len(df)),
                         "naive_lift": naive_lift(df, metric, feature, level, reference) if feature in df else np.nan})
    lifts = pd.DataFrame(rows)
    lifts["q_value"] = multipletests(lifts["p_value"], alpha=FDR_ALPHA, method="fdr_bh")[1]
    lifts["significant"] = lifts["q_value"] < FDR_ALPHA
    return EffectsResult(lifts, fits, pd.DataFrame(control_rows), mature_before)


def recommendations(lifts: pd.DataFrame, top: int = 5) -> list[dict]:
    """Significant positive effects, largest first: what to repeat, with the lift, interval and evidence."""
    # Tag levels only: a blank tag or the pooled rare levels are nothing to repeat, and a per-doubling length
    # effect has no level to use "instead of".
    levels = ~lifts["level"].isin([NOT_TAGGED, "other", "per_doubling"])
    good = lifts[lifts["significant"] & (lifts["ci_low"] > 1) & levels].sort_values("lift", ascending=False).head(top)
    return good[["metric", "feature", "level", "reference", "lift", "ci_low", "ci_high", "q_value", "videos"]].to_dict("records")


def weekday_order(levels) -> list[str]:
    return [d for d in WEEKDAYS if d in set(levels)]


# What a content team chooses per video; the caption language follows the market's audience, so it is not one.
COMBINATION_FEATURES = [f for f in CATEGORICAL_FEATURES if f != "language"]


def best_combination(lifts: pd.DataFrame, features: list[str] | None = None) -> dict | None:
    """The tag combination with the most orders per video (views x CTR x CTOR), from the controlled lifts.

    Under the multiplicative models a level's lift on orders per video is the product of its lifts on views,
    CTR and CTOR. Per feature, a level is a candidate when one of its lifts is positive and significant after
    FDR (the same evidence as the single recommendations; picking the best of many levels on unadjusted
    intervals would pick noise), and the candidate with the largest product is kept when its 95% interval is
    above 1; otherwise the most common level stays. The combination's lift is the product
    over features; its interval adds the log-scale variances, treating the estimates as independent (they
    come from three models of different outcomes; within a model, levels of different features are nearly
    uncorrelated when tags are assigned independently), so it is approximate.
    """
    features = features or COMBINATION_FEATURES
    z = 1.959964
    rows = lifts[lifts["feature"].isin(features) & ~lifts["level"].isin([NOT_TAGGED, "other"])].copy()
    if rows.empty:
        return None
    rows["log_lift"] = np.log(rows["lift"])
    rows["var"] = ((np.log(rows["ci_high"]) - np.log(rows["ci_low"])) / (2 * z)) ** 2
    rows["evidence"] = rows["significant"].astype(bool) & (rows["ci_low"] > 1)
    per_level = rows.groupby(["feature", "level", "reference"], as_index=False).agg(
        log_lift=("log_lift", "sum"), var=("var", "sum"), metrics=("metric", "nunique"), evidence=("evidence", "any"))
    per_level = per_level[per_level["metrics"] == len(METRICS)]
    chosen, weak = [], []
    for feature, part in per_level.groupby("feature", sort=False):
        best = part.loc[part["log_lift"].idxmax()]
        candidates = part[part["evidence"]]
        if not candidates.empty:
            best = candidates.loc[candidates["log_lift"].idxmax()]
        low = best["log_lift"] - z * np.sqrt(best["var"])
        entry = {"feature": feature, "level": best["level"], "reference": best["reference"],
                 "lift": float(np.exp(best["log_lift"])), "ci_low": float(np.exp(low)),
                 "ci_high": float(np.exp(best["log_lift"] + z * np.sqrt(best["var"])))}
        (chosen if best["evidence"] and low > 0 else weak if best["log_lift"] > 0 else []).append(entry)
    if not chosen:
        return {"levels": [], "weak": weak}
    total = sum(np.log(c["lift"]) for c in chosen)
    se = np.sqrt(sum(((np.log(c["ci_high"]) - np.log(c["ci_low"])) / (2 * z)) ** 2 for c in chosen))
    return {"levels": chosen, "weak": weak, "target": "orders_per_video", "lift": float(np.exp(total)),
            "ci_low": float(np.exp(total - z * se)), "ci_high": float(np.exp(total + z * se))}
