"""Rolling-origin backtest: accuracy per model and series, per-series model choice, and the error model.

Each origin refits the events and every model on the history known then and forecasts the series'
own horizon (lead time + review period). Daily metrics skip censored days; a lead-time total that
contains a censored day is left out (its actual is not demand). The "selected" row is honest: each
origin is scored with the models chosen on the other origins.
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
from shopkpi.restock.models import MODELS, Context, forecast_all

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


def naive_scale_total(y: np.ndarray, horizon: np.ndarray) -> np.ndarray:
    """Per series: in-sample mean |S_t - S_(t-H)| of H-day totals, the naive error for lead-time totals."""
    out = np.full(len(y), np.nan)
    filled = np.nan_to_num(y)
    for s, H in enumerate(horizon):
        c = np.concatenate([[0.0], np.cumsum(filled[s])])
        sums = c[H:] - c[:-H]
        if len(sums) > H:
            out[s] = np.mean(np.abs(sums[H:] - sums[:-H]))
    return out


@dataclass
class Backtest:
    origins: list  # dates
    rows: pd.DataFrame  # origin x series x model: totals and daily error sums
    choice: pd.Series  # model per series (chosen on all origins)
    per_series_choice: bool  # False: one model for all series scored better
    error_total: tuple[float, float]  # var(A - F) = a F + b F^2 over the lead-time total
    error_daily: tuple[float, float]

    def summary(self, models: list[str] | None = None) -> pd.DataFrame:
        """Overall WAPE, MASE and bias per model, daily and on the lead-time total."""
        r = self.rows if models is None else self.rows[self.rows["model"].isin(models)]
        out = []
        for model, g in r.groupby("model", sort=False):
            lt = g[g["total_ok"]]
            out.append({
                "model": model,
                "wape_daily": g["abs_err_daily"].sum() / g["actual_daily"].sum(),
                "mase_daily": mase_from_sums(g["abs_err_daily"], g["days"], g["scale_daily"]),
                "bias_daily": (g["forecast_daily"].sum() - g["actual_daily"].sum()) / g["actual_daily"].sum(),
                "wape_total": wape(lt["actual_total"], lt["forecast_total"]),
                "mase_total": mase(lt["actual_total"], lt["forecast_total"], lt["scale_total"]),
                "bias_total": bias(lt["actual_total"], lt["forecast_total"]),
                "series_origins": len(g),
            })
        return pd.DataFrame(out)

    def per_series(self, model: str = "selected") -> pd.DataFrame:
        g = self.rows[self.rows["model"] == model]
        lt = g[g["total_ok"]]
        daily = g.groupby("series").agg(actual_daily=("actual_daily", "sum"), abs_err_daily=("abs_err_daily", "sum"),
                                        forecast_daily=("forecast_daily", "sum"))
        total = lt.assign(abs_err=(lt["actual_total"] - lt["forecast_total"]).abs()).groupby("series").agg(
            actual_total=("actual_total", "sum"), abs_err_total=("abs_err", "sum"), forecast_total=("forecast_total", "sum"))
        out = daily.join(total, how="left")
        with np.errstate(invalid="ignore", divide="ignore"):
            out["wape_daily"] = out["abs_err_daily"] / out["actual_daily"]
            out["bias_daily"] = (out["forecast_daily"] - out["actual_daily"]) / out["actual_daily"]
            out["wape_total"] = out["abs_err_total"] / out["actual_total"]
            out["bias_total"] = (out["forecast_total"] - out["actual_total"]) / out["actual_total"]
        return out.replace([np.inf, -np.inf], np.nan)


def mase_from_sums(abs_err_sum, days, scale) -> float:
    abs_err_sum, days, scale = (np.asarray(v, float) for v in (abs_err_sum, days, scale))
    ok = (scale > 0) & (days > 0)
    return float(np.sum(abs_err_sum[ok] / scale[ok]) / np.sum(days[ok])) if ok.any() else float("nan")


def backtest_origins(panel: Panel, max_horizon: int, n: int, spacing: int) -> list[int]:
    """Origin indices, latest first: the last one leaves a full horizon of actuals."""
    last = len(panel.dates) - 1 - max_horizon
    return [o for o in (last - k * spacing for k in range(n)) if o >= MIN_TRAINING_DAYS]


def run_backtest(panel: Panel, calendar: pd.DataFrame, horizon: np.ndarray, options, models: list[str] = MODELS) -> Backtest:
    """Backtest every model at several origins; `horizon` is each series' lead time + review period in days."""
    horizon = np.asarray(horizon, int)
    H = int(horizon.max())
    origins = backtest_origins(panel, H, options.backtest_origins, options.backtest_spacing_days)
    if len(origins) < 2:
        raise NoDataError(f"history too short for a backtest: need {MIN_TRAINING_DAYS + H + options.backtest_spacing_days} days")
    records = []
    for o in origins:
        known = panel.truncated(o)
        ctx = Context(known, fit_events(known, calendar), H)
        forecasts = forecast_all(ctx, models)
        actual = panel.y[:, o + 1:o + 1 + H]
        in_window = np.arange(H)[None, :] < horizon[:, None]
        observed = ~np.isnan(actual) & in_window
        total_ok = (~np.isnan(actual) | ~in_window).all(axis=1) & (known.meta["start_idx"].to_numpy() <= o)
        scale_d = naive_scale_daily(known.y)
        scale_t = naive_scale_total(known.y, horizon)
        for model, f in forecasts.items():
            f = np.nan_to_num(f)
            err = np.where(observed, np.abs(np.nan_to_num(actual) - f), 0.0)
            records.append(pd.DataFrame({
                "origin": panel.dates[o].date(), "series": np.arange(len(f)), "model": model, "horizon": horizon,
                "actual_total": np.where(in_window, np.nan_to_num(actual), 0).sum(axis=1),
                "forecast_total": np.where(in_window, f, 0).sum(axis=1),
                "total_ok": total_ok, "actual_daily": np.where(observed, actual, 0).sum(axis=1),
                "forecast_daily": np.where(observed, f, 0).sum(axis=1), "abs_err_daily": err.sum(axis=1),
                "days": observed.sum(axis=1), "scale_daily": scale_d, "scale_total": scale_t,
                "active": known.meta["start_idx"].to_numpy() <= o,
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


SWITCH_MARGIN = 0.25


def choose_models(rows: pd.DataFrame, per_series: bool = True) -> pd.Series:
    """The overall best model on lead-time totals; with `per_series`, another model where it beats that one
    for the series at every origin and by SWITCH_MARGIN in total (a few origins are weak evidence)."""
    ok = rows[rows["total_ok"]]
    ok = ok.assign(err=(ok["actual_total"] - ok["forecast_total"]).abs())
    best = ok.groupby("model")["err"].sum().idxmin() if len(ok) else rows["model"].iloc[0]
    choice = pd.Series(best, index=sorted(rows["series"].unique()))
    if not per_series or ok.empty:
        return choice
    err = ok.pivot_table(index=["series", "origin"], columns="model", values="err")
    always = err.lt(err[best], axis=0).groupby(level="series").all()
    total = err.groupby(level="series").sum()
    for series in always.index:
        winners = [m for m in always.columns if m != best and always.at[series, m]
                   and total.at[series, m] < (1 - SWITCH_MARGIN) * total.at[series, best]]
        if winners:
            choice[series] = min(winners, key=lambda m: total.at[series, m])
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
