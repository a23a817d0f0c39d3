"""Benchmark: series fitted per second by per-series statsmodels Holt-Winters and by our pipeline, side by side.

Synthetic daily series (negative-binomial demand with level, trend, weekly pattern and mega-sale days) so
the benchmark needs no client data. Holt-Winters runs on a sample and is extrapolated to all series.
"""

from __future__ import annotations

import statistics
import time
import warnings

import numpy as np
import pandas as pd

from shopkpi.restock.backtest import run_backtest, wape
from shopkpi.restock.demand import Panel, describe_series
from shopkpi.restock.events import fit_events, load_calendar
from shopkpi.restock.models import Context, ets, forecast_all
from shopkpi.restock.options import RestockOptions


def synthetic_panel(n_series: int, days: int, seed: int = 0, end: str = "2026-11-18") -> tuple[Panel, np.ndarray]:
    """History panel and the next 91 days of expected demand."""
    rng = np.random.default_rng(seed)
    total = days + 91
    dates = pd.date_range(end=pd.Timestamp(end) + pd.Timedelta(days=91), periods=total, freq="D")
    level = rng.lognormal(0.0, 1.2, n_series)
    slope = rng.normal(0.3, 0.3, n_series)
    t = (np.arange(total) - days) / 365.25
    weekly = np.array([1.05, 0.98, 0.97, 0.97, 0.92, 0.95, 1.16])[dates.day_of_week.to_numpy()]
    event = np.ones(total)
    for md, mult in (("11-11", 2.0), ("12-12", 1.5)):
        for y in sorted(set(dates.year)):
            day = pd.Timestamp(f"{y}-{md}")
            if day in dates:
                event[dates.get_loc(day)] = mult
    lam = level[:, None] * np.exp(slope[:, None] * t[None, :]) * weekly[None, :] * event[None, :]
    y = rng.negative_binomial(2, 2 / (2 + lam)).astype(float)
    meta = pd.DataFrame({"seller_sku": [f"S{i:05d}" for i in range(n_series)], "market": "UK",
                         "category": rng.choice(list("ABCDEFGH"), n_series), "start_idx": 0})
    panel = Panel(dates[:days], meta, y[:, :days], np.zeros((n_series, days), bool), np.full((n_series, days), 10.0),
                  np.zeros((n_series, days)))
    panel.meta = describe_series(panel, 56)
    return panel, lam[:, days:]


def _median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_restock(n_series: int = 10_000, days: int = 730, horizon: int = 91, origins: int = 3, ets_sample: int = 60,
                  repeats: int = 3, lead_days: int = 35, print_=print) -> dict:
    """Median seconds and series/s: statsmodels Holt-Winters (default and our fast settings) and our pipeline."""
    panel, expected = synthetic_panel(n_series, days)
    calendar = load_calendar(["UK"])
    options = RestockOptions(backtest_origins=origins, horizon_days=horizon)
    sample = np.arange(min(ets_sample, n_series))
    ctx = Context(panel, fit_events(panel, calendar), horizon)

    def statsmodels_default():
        from statsmodels.tsa.holtwinters import ExponentialSmoothing

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for s in sample:
                ExponentialSmoothing(panel.y[s], trend="add", damped_trend=True, seasonal="add", seasonal_periods=7,
                                     initialization_method="estimated").fit().forecast(horizon)

    hw_default = _median_seconds(statsmodels_default, repeats)
    hw_fast = _median_seconds(lambda: ets(ctx, sample), repeats)
    lead = np.full(n_series, lead_days + options.review_period_days)

    def pipeline():
        run_backtest(panel, calendar, lead, options, models=["seasonal_naive", "gbm"])
        forecast_all(Context(panel, fit_events(panel, calendar), horizon), ["gbm"])

    ours = _median_seconds(pipeline, max(1, repeats // 3))
    final = forecast_all(ctx, ["gbm", "seasonal_naive"])
    H = lead_days + options.review_period_days
    truth = expected[sample, :H].sum(axis=1)
    result = {
        "n_series": n_series, "days": days, "horizon": horizon, "origins": origins,
        "statsmodels_hw_series_per_s": len(sample) / hw_default,
        "statsmodels_hw_fast_series_per_s": len(sample) / hw_fast,
        "statsmodels_hw_extrapolated_s": n_series / (len(sample) / hw_default) * (origins + 1),
        "pipeline_s": ours, "pipeline_series_per_s": n_series / ours,
        "lead_time_wape_vs_expected": {
            "gbm": wape(truth, final["gbm"][sample, :H].sum(axis=1)),
            "ets": wape(truth, ets(ctx, sample)[sample, :H].sum(axis=1)),
            "seasonal_naive": wape(truth, final["seasonal_naive"][sample, :H].sum(axis=1)),
        },
    }
    print_(f"{n_series} series x {days} days, horizon {horizon}, {origins}-origin backtest")
    print_(f"  statsmodels Holt-Winters (default fit): {result['statsmodels_hw_series_per_s']:.1f} series/s per process; "
           f"all series with backtest: ~{result['statsmodels_hw_extrapolated_s']:.0f} s")
    print_(f"  statsmodels Holt-Winters (heuristic start, local optimiser): {result['statsmodels_hw_fast_series_per_s']:.1f} series/s")
    print_(f"  our pipeline (global model, backtest + final forecast): {ours:.1f} s = {result['pipeline_series_per_s']:.0f} series/s")
    print_("  lead-time WAPE against the expected demand on the sample: "
           + ", ".join(f"{k} {v:.3f}" for k, v in result["lead_time_wape_vs_expected"].items()))
    return result
