"""Nonparametric cross-check: gradient boosting (scikit-learn) on held-out creators, against a creator-size-only baseline.

Folds are split by creator, so a model is always scored on creators it has not seen. The score is
the share of Poisson deviance explained (D2) on the held-out rows, weighted by exposure for funnel rates.
The baseline knows only creator size (log followers) and gets two chances per fold: the same gradient
boosting, and a smooth spline Poisson regression (boosting on one creator-level number can memorise the
training creators); the better of the two on the held-out fold is the bar, which favours the baseline.
Permutation importance is measured on the held-out folds; partial dependence comes from the full model
refitted on all rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.inspection import permutation_importance
from sklearn.metrics import d2_tweedie_score
from sklearn.linear_model import PoissonRegressor
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import SplineTransformer
from threadpoolctl import threadpool_limits

BASELINE = ["log_followers"]
FOLDS = 5
SEED = 0


def _model() -> HistGradientBoostingRegressor:
    return HistGradientBoostingRegressor(loss="poisson", learning_rate=0.1, max_iter=100, max_leaf_nodes=15,
                                         min_samples_leaf=20, l2_regularization=1.0, categorical_features="from_dtype",
                                         random_state=SEED)


def _smooth_baseline():
    return make_pipeline(SplineTransformer(n_knots=5, degree=3), PoissonRegressor(alpha=1e-4, max_iter=1000))


def _prepare(frame: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    X = frame[features].copy()
    for column in X:
        if X[column].dtype == bool or str(X[column].dtype) == "boolean":
            X[column] = X[column].astype(float)
        elif not pd.api.types.is_numeric_dtype(X[column]):
            X[column] = X[column].astype("string").fillna("missing").astype("category")
    return X


def _d2(y, prediction, weight) -> float:
    return float(d2_tweedie_score(y, np.clip(prediction, 1e-12, None), sample_weight=weight, power=1))


def _target(frame: pd.DataFrame, count: str, exposure: str | None, per_video: bool):
    """Rows with the target known, the target (a count, or a rate of the exposure) and its weights.

    Funnel rates are weighted by their exposure (a group's CTR is clicks over views); `per_video` gives every
    video the same weight instead, for "what rate will a typical video get" (a few viral videos would otherwise
    decide the score).
    """
    data = frame[frame[count].notna() & (frame[exposure].fillna(0) > 0 if exposure else True)].reset_index(drop=True)
    y = data[count].astype(float) / (data[exposure].astype(float) if exposure else 1.0)
    weight = data[exposure].astype(float).to_numpy() if exposure and not per_video else None
    return data, y, weight


@threadpool_limits.wrap(limits=1)  # one OpenMP thread: the batch runs many notebooks side by side
def holdout_comparison(frame: pd.DataFrame, count: str, exposure: str | None, features: list[str],
                       baseline: list[str] = BASELINE, folds: int = FOLDS, per_video: bool = False, repeats: int = 3) -> dict:
    """Held-out D2 of the full model and of the creator-size baseline, fold by fold (grouped by creator),
    and each feature's permutation importance on the held-out folds."""
    data, y, weight = _target(frame, count, exposure, per_video)
    X_full, X_base = _prepare(data, features), _prepare(data, baseline)
    groups = data["creator"].astype(str)
    n_folds = min(folds, groups.nunique())
    scores, shared, permuted = [], 0, []
    for train, test in GroupKFold(n_splits=n_folds).split(X_full, y, groups):
        shared += len(set(groups.iloc[train]) & set(groups.iloc[test]))  # 0: no creator is scored on its own videos
        w_train = None if weight is None else weight[train]
        w_test = None if weight is None else weight[test]
        full = _model().fit(X_full.iloc[train], y.iloc[train], sample_weight=w_train)
        base = _model().fit(X_base.iloc[train], y.iloc[train], sample_weight=w_train)
        smooth = _smooth_baseline().fit(X_base.iloc[train], y.iloc[train], poissonregressor__sample_weight=w_train)
        # On the held-out creators: in sample, a creator-level number (followers) scores by memorising creators.
        permuted.append(permutation_importance(full, X_full.iloc[test], y.iloc[test], sample_weight=w_test, scoring=_scorer,
                                               n_repeats=repeats, random_state=SEED, n_jobs=1).importances_mean)
        scores.append({"model": _d2(y.iloc[test], full.predict(X_full.iloc[test]), w_test),
                       "baseline_gbm": _d2(y.iloc[test], base.predict(X_base.iloc[test]), w_test),
                       "baseline_spline": _d2(y.iloc[test], smooth.predict(X_base.iloc[test]), w_test)})
    per_fold = pd.DataFrame(scores)
    per_fold["baseline"] = per_fold[["baseline_gbm", "baseline_spline"]].max(axis=1)
    gain = per_fold["model"] - per_fold["baseline"]
    return {"target": count if not exposure else f"{count}/{exposure}", "weights": "video" if per_video or not exposure else exposure,
            "rows": int(len(data)), "creators": int(groups.nunique()), "folds": n_folds, "features": features, "baseline_features": baseline,
            "d2_model": float(per_fold["model"].mean()), "d2_baseline": float(per_fold["baseline"].mean()),
            "d2_gain": float(gain.mean()), "d2_gain_se": float(gain.std(ddof=1) / np.sqrt(n_folds)) if n_folds > 1 else None,
            "folds_won": int((gain > 0).sum()), "creators_in_train_and_test": shared, "per_fold": per_fold.to_dict("records"),
            "permutation": _ranking(features, np.array(permuted))}


def _scorer(estimator, X, y, sample_weight=None):
    return _d2(y, estimator.predict(X), sample_weight)


def _ranking(features: list[str], per_fold: np.ndarray) -> list[dict]:
    """Mean drop in held-out D2 when a feature is shuffled, and its spread over folds; largest first."""
    rows = [{"feature": f, "importance": float(per_fold[:, i].mean()), "sd": float(per_fold[:, i].std(ddof=0))}
            for i, f in enumerate(features)]
    return sorted(rows, key=lambda r: -r["importance"])


QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def _grid(column: pd.Series) -> tuple[list, object, list]:
    """Values to set a feature to, the reference value, and the quantile of each (None for labels)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        levels = column.value_counts().index.tolist()
        return levels, levels[0], [None] * len(levels)
    if set(column.dropna().unique()) <= {0.0, 1.0}:  # flags: without vs with
        return [0.0, 1.0], 0.0, [None, None]
    values = column.quantile(list(QUANTILES)).tolist()
    grid = sorted(set(values))
    return grid, column.median(), [QUANTILES[values.index(v)] for v in grid]


@threadpool_limits.wrap(limits=1)
def partial_dependences(frame: pd.DataFrame, count: str, exposure: str | None, features: list[str],
                        levels_of: list[str], per_video: bool = False) -> list[dict]:
    """Partial dependence of the full model (refitted on all rows): the average prediction with every row set to a
    level (labels), to without/with (flags) or to the 10th-90th percentiles (numbers), relative to the most common
    label, to without, or to the median."""
    data, y, weight = _target(frame, count, exposure, per_video)
    X = _prepare(data, features)
    model = _model().fit(X, y, sample_weight=weight)
    dependence = []
    for feature in [f for f in levels_of if f in X]:
        grid, reference, quantiles = _grid(X[feature])

        def average(value):
            moved = X.copy()
            moved[feature] = (pd.Categorical([value] * len(X), categories=X[feature].cat.categories)
                              if isinstance(X[feature].dtype, pd.CategoricalDtype) else value)
            return float(np.mean(model.predict(moved)))

        at_reference = average(reference)
        for level, quantile in zip(grid, quantiles):
            dependence.append({"feature": feature, "level": level if isinstance(level, str) else f"{level:g}",
                               "reference": reference if isinstance(reference, str) else f"{reference:g}",
                               "quantile": quantile, "relative": average(level) / at_reference if at_reference else None})
    return dependence
