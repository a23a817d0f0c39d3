"""Rolling-origin backtest: accuracy per model and series, per-series model choice, and the error model.

Each origin refits the events and every model on the history known then and forecasts the series'
own horizon (lead time + review period). Daily metrics skip censored days; a lead-time total that
contains a censored day is left out (its actual is not demand); weekly sums skip weeks with one. MASE
scales each series' errors by the in-sample error of the seasonal naive at the same level (daily, or
the lead-time total). The "selected" row is honest: each origin is scored with the models chosen on the
other origins, and choosing per series is kept only if that scores better than one model for all.
Local (per-series) models may run on a sample of series only; they are scored and chosen only there.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from shopkpi.errors import NoDataError
from shopkpi.restock.demand import Panel
from shopkpi.restock.events import fit_events
from shopkpi.restock.models import LOCAL_MODELS, MODELS, Context, forecast_all

MIN_TRAINING_DAYS = 91


def wape(actual, forecast) -> float:
    """Sum of absolute errors over the sum of actuals."""
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    total = actual.sum()
    return float(np.abs(actual - forecast).sum() / total) if total > 0 else float("nan")


def bias(actual, forecast) -> float:
    """Over (+) or under (-) forecasting as a share of actual demand."""
    actual, forecast = np.asarray(actual, float), np.asarray(forecast, float)
    total = actual.sum()
    return float((forecast - actual).sum() / total) if total > 0 else float("nan")


def mase(actual, forecast, scale) -> float:
    """Mean absolute error divided by the in-sample seasonal-naive error (`scale`, per row)."""
    actual, forecast, scale = (np.asarray(v, float) for v in (actual, forecast, scale))
    ok = scale > 0
    return float(np.mean(np.abs(actual - forecast)[ok] / scale[ok])) if ok.any() else float("nan")


def naive_scale_daily(y: np.ndarray, season: int = 7) -> np.ndarray:
    """Per series: in-sample mean |y_t - y_(t-7)| over observed pairs (MASE denominator)."""
    diff = np.abs(y[:, season:] - y[:, :-season])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a series with no observed pair has no scale
        return np.nanmean(diff, axis=1)


def naive_scale_total(y: np.ndarray, horizon: np.ndarray, season: int = 7) -> np.ndarray:
    """Per series: in-sample MAE of the seasonal-naive forecast of H-day totals (MASE denominator on totals).

    At every in-sample day t the seasonal naive repeats the week up to t over the next H days; its error is
    |sum y[t+1..t+H] - naive total|, averaged over the days where both windows are fully observed.
    """
    out = np.full(len(y), np.nan)
    horizon = np.asarray(horizon, int)
    n, T = y.shape
    ok = ~np.isnan(y)
    zero = np.zeros((n, 1))
    cv = np.concatenate([zero, np.cumsum(np.where(ok, y, 0.0), axis=1)], axis=1)
    cm = np.concatenate([zero, np.cumsum(~ok, axis=1)], axis=1)

    def window(lo, hi):  # sums and missing counts over days lo..hi-1 (arrays of starts, same length)
        return cv[:, hi] - cv[:, lo], cm[:, hi] - cm[:, lo]

    for H in np.unique(horizon):
        rows = horizon == H
        t = np.arange(season - 1, T - H)  # the week ending on t is known, t + H is still in the sample
        if not len(t):
            continue
        actual, miss_a = window(t + 1, t + 1 + H)
        week, miss_w = window(t + 1 - season, t + 1)
        part, _ = window(t + 1 - season, t + 1 - season + H % season)
        naive = (H // season) * week + part
        good = (miss_a == 0) & (miss_w == 0)
        err = np.where(good, np.abs(actual - naive), 0.0)
        count = good.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[rows] = np.where(count > 0, err.sum(axis=1) / count, np.nan)[rows]
    return out


def _weekly(actual: np.ndarray, forecast: np.ndarray, horizon: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per series: sums over the whole weeks of its horizon (weeks with a censored day left out) of the actual
    units, the forecast units, and the absolute weekly errors."""
    n, H = actual.shape
    weeks = H // 7
    a = actual[:, :weeks * 7].reshape(n, weeks, 7)
    f = forecast[:, :weeks * 7].reshape(n, weeks, 7)
    good = ~np.isnan(a).any(axis=2) & (np.arange(weeks)[None, :] < (horizon // 7)[:, None])
    aw, fw = np.nansum(a, axis=2), f.sum(axis=2)
    return (np.where(good, aw, 0).sum(axis=1), np.where(good, fw, 0).sum(axis=1),
            np.where(good, np.abs(aw - fw), 0).sum(axis=1))


@dataclass
class Backtest:
    origins: list  # dates
    rows: pd.DataFrame  # origin x series x model: totals and daily error sums
    choice: pd.Series  # model per series (chosen on all origins)
    per_series_choice: bool  # False: one model for all series scored better
    error_total: tuple[float, float]  # var(A - F) = a F + b F^2 over the lead-time total
    error_daily: tuple[float, float]

    def summary(self, models: list[str] | None = None, series=None) -> pd.DataFrame:
        """Overall WAPE, MASE and bias per model, daily, weekly (WAPE and bias) and on the lead-time total;
        `series` limits it to those series (positions), e.g. the sample a local model ran on."""
        r = self.rows if models is None else self.rows[self.rows["model"].isin(models)]
        if series is not None:
            r = r[r["series"].isin(np.asarray(series))]
        out = []
        for model, g in r.groupby("model", sort=False):
            lt = g[g["total_ok"]]
            out.append({
                "model": model,
                "wape_daily": g["abs_err_daily"].sum() / g["actual_daily"].sum(),
                "mase_daily": mase_from_sums(g["abs_err_daily"], g["days"], g["scale_daily"]),
                "bias_daily": (g["forecast_daily"].sum() - g["actual_daily"].sum()) / g["actual_daily"].sum(),
                "wape_weekly": g["abs_err_weekly"].sum() / g["actual_weekly"].sum(),
                "bias_weekly": (g["forecast_weekly"].sum() - g["actual_weekly"].sum()) / g["actual_weekly"].sum(),
                "wape_total": wape(lt["actual_total"], lt["forecast_total"]),
                "mase_total": mase(lt["actual_total"], lt["forecast_total"], lt["scale_total"]),
                "bias_total": bias(lt["actual_total"], lt["forecast_total"]),
                "series_origins": len(g),
            })
        return pd.DataFrame(out)

    def by_origin(self, models: list[str] | None = None) -> pd.DataFrame:
        """Lead-time-total WAPE per origin (rows) and model (columns)."""
        r = self.rows[self.rows["total_ok"]]
        r = r if models is None else r[r["model"].isin(models)]
        grouped = r.assign(err=(r["actual_total"] - r["forecast_total"]).abs()).groupby(["origin", "model"])
        return (grouped["err"].sum() / grouped["actual_total"].sum()).unstack("model")

    def per_series(self, model: str = "selected") -> pd.DataFrame:
        """Per series over the origins: WAPE, MASE and bias, daily and on the lead-time total."""
        g = self.rows[self.rows["model"] == model]
        g = g.assign(scaled_daily=g["abs_err_daily"] / g["scale_daily"].where(g["scale_daily"] > 0),
                     days_scaled=g["days"].where(g["scale_daily"] > 0, 0))
        lt = g[g["total_ok"]]
        daily = g.groupby("series").agg(actual_daily=("actual_daily", "sum"), abs_err_daily=("abs_err_daily", "sum"),
                                        forecast_daily=("forecast_daily", "sum"), scaled_daily=("scaled_daily", "sum"),
                                        days_scaled=("days_scaled", "sum"))
        abs_err = (lt["actual_total"] - lt["forecast_total"]).abs()
        total = lt.assign(abs_err=abs_err, scaled=abs_err / lt["scale_total"].where(lt["scale_total"] > 0)).groupby("series").agg(
            actual_total=("actual_total", "sum"), abs_err_total=("abs_err", "sum"), forecast_total=("forecast_total", "sum"),
            mase_total=("scaled", "mean"))
        out = daily.join(total, how="left")
        with np.errstate(invalid="ignore", divide="ignore"):
            out["wape_daily"] = out["abs_err_daily"] / out["actual_daily"]
            out["mase_daily"] = out["scaled_daily"] / out["days_scaled"]
            out["bias_daily"] = (out["forecast_daily"] - out["actual_daily"]) / out["actual_daily"]
            out["wape_total"] = out["abs_err_total"] / out["actual_total"]
            out["bias_total"] = (out["forecast_total"] - out["actual_total"]) / out["actual_total"]
        return out.drop(columns=["scaled_daily", "days_scaled"]).replace([np.inf, -np.inf], np.nan)


def gain_interval(rows: pd.DataFrame, model: str = "selected", reference: str = "seasonal_naive", n: int = 1000,
                  seed: int = 0, level: float = 0.95) -> dict:
    """WAPE gain of `model` over `reference` on lead-time totals (1 - WAPE ratio), with a bootstrap interval
    over series: series are resampled with all their origins, since one SKU's errors are correlated."""
    ok = rows[rows["total_ok"] & rows["model"].isin([model, reference])]
    ok = ok.assign(err=(ok["actual_total"] - ok["forecast_total"]).abs())
    per = ok.pivot_table(index="series", columns="model", values=["err", "actual_total"], aggfunc="sum").dropna()
    if per.empty:
        return {"gain": float("nan"), "low": float("nan"), "high": float("nan"), "series": 0}
    err_m, err_r = per[("err", model)].to_numpy(), per[("err", reference)].to_numpy()
    point = 1 - err_m.sum() / err_r.sum()
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(per), size=(n, len(per)))
    gains = 1 - err_m[draws].sum(axis=1) / np.maximum(err_r[draws].sum(axis=1), 1e-12)
    tail = (1 - level) / 2
    return {"gain": float(point), "low": float(np.quantile(gains, tail)), "high": float(np.quantile(gains, 1 - tail)),
            "series": int(len(per))}


def mase_from_sums(abs_err_sum, days, scale) -> float:
    abs_err_sum, days, scale = (np.asarray(v, float) for v in (abs_err_sum, days, scale))
    ok = (scale > 0) & (days > 0)
    return float(np.sum(abs_err_sum[ok] / scale[ok]) / np.sum(days[ok])) if ok.any() else float("nan")


def backtest_origins(panel: Panel, max_horizon: int, n: int, spacing: int) -> list[int]:
    """Origin indices, latest first: the last one leaves a full horizon of actuals."""
    last = len(panel.dates) - 1 - max_horizon
    return [o for o in (last - k * spacing for k in range(n)) if o >= MIN_TRAINING_DAYS]


def run_backtest(panel: Panel, calendar: pd.DataFrame, horizon: np.ndarray, options, models: list[str] = MODELS,
                 local_rows: np.ndarray | None = None, fit_horizon: int | None = None) -> Backtest:
    """Backtest every model at several origins; `horizon` is each series' lead time + review period in days.

    Models are fitted for `fit_horizon` days ahead (default: the scored horizon), which run_restock sets to the
    horizon of its own final fit, so the backtest scores the forecast the plan uses; only the first
    `horizon` days are scored. The local (per-series) models run only on `local_rows` when given; a model is
    scored only on the series it forecast, and can be chosen only for them."""
    horizon = np.asarray(horizon, int)
    H = int(horizon.max())
    fit_h = max(H, int(fit_horizon or H))
    origins = backtest_origins(panel, H, options.backtest_origins, options.backtest_spacing_days)
    if len(origins) < 2:
        raise NoDataError(f"history too short for a backtest: need {MIN_TRAINING_DAYS + H + options.backtest_spacing_days} days")
    records = []
    for o in origins:
        known = panel.truncated(o)
        ctx = Context(known, fit_events(known, calendar), fit_h)
        forecasts = {m: f[:, :H] for m, f in forecast_all(ctx, models, local_rows).items()}
        actual = panel.y[:, o + 1:o + 1 + H]
        in_window = np.arange(H)[None, :] < horizon[:, None]
        observed = ~np.isnan(actual) & in_window
        total_ok = (~np.isnan(actual) | ~in_window).all(axis=1) & (known.meta["start_idx"].to_numpy() <= o)
        scale_d = naive_scale_daily(known.y)
        scale_t = naive_scale_total(known.y, horizon)
        for model, f in forecasts.items():
            ran = ~np.isnan(f).all(axis=1) if model in LOCAL_MODELS else np.ones(len(f), dtype=bool)
            f = np.nan_to_num(f)
            err = np.where(observed, np.abs(np.nan_to_num(actual) - f), 0.0)
            actual_w, forecast_w, err_w = _weekly(actual, f, horizon)
            records.append(pd.DataFrame({
                "origin": panel.dates[o].date(), "series": np.arange(len(f)), "model": model, "horizon": horizon,
                "actual_total": np.where(in_window, np.nan_to_num(actual), 0).sum(axis=1),
                "forecast_total": np.where(in_window, f, 0).sum(axis=1),
                "total_ok": total_ok, "actual_daily": np.where(observed, actual, 0).sum(axis=1),
                "forecast_daily": np.where(observed, f, 0).sum(axis=1), "abs_err_daily": err.sum(axis=1),
                "days": observed.sum(axis=1), "scale_daily": scale_d, "scale_total": scale_t,
                "actual_weekly": actual_w, "forecast_weekly": forecast_w, "abs_err_weekly": err_w,
                "active": (known.meta["start_idx"].to_numpy() <= o) & ran,
            }))
    rows = pd.concat(records, ignore_index=True)
    rows = rows[rows["active"]].drop(columns="active")
    # Per-series choice is kept only if it beats one model for all in the leave-one-origin-out score.
    per_series, single = _selected_rows(rows, True), _selected_rows(rows, False)
    use_per_series = _total_wape(per_series) < _total_wape(single)
    choice = choose_models(rows, use_per_series)
    rows = pd.concat([rows, per_series.assign(model="selected_per_series"), single.assign(model="selected_single"),
                      (per_series if use_per_series else single).assign(model="selected")], ignore_index=True)
    sel = rows[(rows["model"] == "selected") & rows["total_ok"]]
    daily_sel = rows[rows["model"] == "selected"]
    return Backtest([panel.dates[o].date() for o in origins], rows, choice, use_per_series,
                    fit_error_model(sel["forecast_total"], sel["actual_total"]),
                    fit_error_model(daily_sel["forecast_daily"] / daily_sel["days"].clip(lower=1),
                                    daily_sel["abs_err_daily"] / daily_sel["days"].clip(lower=1), absolute=True))


def _total_wape(rows: pd.DataFrame) -> float:
    ok = rows[rows["total_ok"]]
    return wape(ok["actual_total"], ok["forecast_total"])


SWITCH_MARGIN = 0.5


def choose_models(rows: pd.DataFrame, per_series: bool = True) -> pd.Series:
    """The overall best model on lead-time totals; with `per_series`, another model where it beats that one
    for the series at every origin and by SWITCH_MARGIN in total (a few origins are weak evidence)."""
    ok = rows[rows["total_ok"]]
    ok = ok.assign(err=(ok["actual_total"] - ok["forecast_total"]).abs())
    # The model for all is the best of those scored on every series (a sampled local model is not comparable).
    coverage = rows.groupby("model")["series"].nunique()
    complete = coverage.index[coverage == coverage.max()]
    totals = ok[ok["model"].isin(complete)].groupby("model")["err"].sum()
    best = totals.idxmin() if len(totals) else complete[0]
    choice = pd.Series(best, index=sorted(rows["series"].unique()))
    if not per_series or ok.empty:
        return choice
    err = ok.pivot_table(index=["series", "origin"], columns="model", values="err")
    always = err.lt(err[best], axis=0).groupby(level="series").all()
    total = err.groupby(level="series").sum()
    strong = always & total.lt((1 - SWITCH_MARGIN) * total[best], axis=0)
    strong[best] = False
    candidates = total.where(strong)
    switch = candidates.notna().any(axis=1)
    choice[switch[switch].index] = candidates[switch].idxmin(axis=1)
    return choice


def _selected_rows(rows: pd.DataFrame, per_series: bool) -> pd.DataFrame:
    """Each origin scored with the models chosen on the other origins (leave one origin out)."""
    out = []
    for origin in rows["origin"].unique():
        choice = choose_models(rows[rows["origin"] != origin], per_series)
        here = rows[rows["origin"] == origin].merge(choice.rename("chosen"), left_on="series", right_index=True, how="left")
        out.append(here[here["model"] == here["chosen"].fillna(choice.iloc[0])].drop(columns="chosen"))
    return pd.concat(out, ignore_index=True)


def fit_error_model(forecast, actual, absolute: bool = False) -> tuple[float, float]:
    """Fit var(actual - forecast) = a*F + b*F^2 (Poisson-like plus proportional) by non-negative least squares.

    With `absolute`, `actual` holds mean absolute errors; E|e|^2 is scaled by pi/2 to a variance (normal errors).
    """
    f, a = np.asarray(forecast, float), np.asarray(actual, float)
    ok = np.isfinite(f) & np.isfinite(a) & (f > 0)
    if ok.sum() < 3:
        return (1.0, 0.0)
    f, a = f[ok], a[ok]
    sq = (a ** 2) * (np.pi / 2) if absolute else (a - f) ** 2
    coef, _ = nnls(np.column_stack([f, f ** 2]), sq)
    return float(coef[0]), float(coef[1])


def error_variance(forecast, model: tuple[float, float]) -> np.ndarray:
    a, b = model
    f = np.asarray(forecast, float)
    return a * f + b * f ** 2
