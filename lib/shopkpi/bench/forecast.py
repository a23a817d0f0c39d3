"""`shopkpi bench forecast`: our forecasting pipeline against per-series statsmodels ETS, side by side in one run.

Synthetic daily series (negative-binomial demand with level, trend, weekly pattern and mega-sale days) so the
benchmark needs no client data. Both sides do the same job: a rolling-origin backtest at `origins` origins plus
the final forecast, `horizon` days each. Ours runs on every series (baselines, Croston/SBA/TSB and one global
gradient-boosting model per origin; the per-series Holt-Winters is left out, as in a client run beyond its
`local_model_sample`). statsmodels ETS (damped additive trend, weekly seasonality, default estimated fit) runs on
a sample and is extrapolated to all series. Accuracy is compared on that sample: lead-time-total WAPE in the
backtest and against the expected demand the series were drawn from.
"""

from __future__ import annotations

import statistics
import time
import warnings

import numpy as np
import pandas as pd

from shopkpi.restock.backtest import backtest_origins, run_backtest, wape
from shopkpi.restock.demand import Panel, describe_series
from shopkpi.restock.events import fit_events, load_calendar
from shopkpi.restock import models as forecast_models
from shopkpi.restock.models import Context, forecast_all
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


PIPELINE_MODELS = ["seasonal_naive", "moving_average", "croston", "sba", "tsb", "gbm", "median"]


def _median_seconds(fn, repeats: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds of this process over the runs (CPU shows what a busy machine took away)."""
    times, cpu, out = [], [], None
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(times), statistics.median(cpu), out


def _statsmodels_ets(y: np.ndarray, rows: np.ndarray, ends: list[int], horizon: int) -> dict[int, np.ndarray]:
    """Per origin index: [len(rows), horizon] forecasts of statsmodels ETS fitted on each series up to that day."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for end in ends:
            f = np.zeros((len(rows), horizon))
            for k, s in enumerate(rows):
                fit = ExponentialSmoothing(y[s, :end + 1], trend="add", damped_trend=True, seasonal="add",
                                           seasonal_periods=7, initialization_method="estimated").fit()
                f[k] = np.maximum(fit.forecast(horizon), 0.0)
            out[end] = f
    return out


def bench_forecast(n_series: int = 10_000, days: int = 730, horizon: int = 91, origins: int = 3, ets_sample: int = 40,
                   repeats: int = 3, threads: int = 1, print_=print) -> dict:
    """Median seconds of `repeats` runs of each side, the extrapolated ETS time, the ratio, and accuracy on the sample."""
    panel, expected = synthetic_panel(n_series, days)
    calendar = load_calendar(["UK"])
    options = RestockOptions(backtest_origins=origins, horizon_days=horizon, local_model_sample=0)
    lead = np.full(n_series, horizon)  # lead time + review period = the whole horizon
    sample = np.sort(np.random.default_rng(1).choice(n_series, min(ets_sample, n_series), replace=False))
    ends = backtest_origins(panel, horizon, origins, options.backtest_spacing_days) + [days - 1]

    def ours():
        bt = run_backtest(panel, calendar, lead, options, PIPELINE_MODELS)
        final = forecast_all(Context(panel, fit_events(panel, calendar), horizon), sorted(set(bt.choice)))
        return bt, np.vstack([final[m][i] for i, m in enumerate(bt.choice.reindex(range(n_series)).fillna("gbm"))])

    with forecast_models.gbm_threads(threads):
        ours_s, ours_cpu, (bt, chosen) = _median_seconds(ours, repeats)
    ets_s, ets_cpu, ets_f = _median_seconds(lambda: _statsmodels_ets(panel.y, sample, ends, horizon), repeats)
    fits_per_s = len(sample) * len(ends) / ets_s
    ets_all_s = n_series * len(ends) / fits_per_s

    # Accuracy on the sample: backtest lead-time totals (same origins), and the final forecast against the truth.
    rows = bt.rows[bt.rows["series"].isin(sample) & bt.rows["total_ok"]]
    by_origin = {d: i for i, d in enumerate(panel.dates.date)}
    ets_bt_f, ets_bt_a = [], []
    for origin, g in rows[rows["model"] == "selected"].groupby("origin"):
        o = by_origin[origin]
        pos = np.searchsorted(sample, g["series"].to_numpy())
        ets_bt_f.append(ets_f[o][pos].sum(axis=1))
        ets_bt_a.append(g["actual_total"].to_numpy())
    sel = rows[rows["model"] == "selected"]
    naive = rows[rows["model"] == "seasonal_naive"]
    truth = expected[sample].sum(axis=1)
    result = {
        "n_series": n_series, "days": days, "horizon": horizon, "origins": origins, "repeats": repeats, "threads": threads,
        "ets_sample": len(sample), "ours_s": ours_s, "ours_cpu_s": ours_cpu, "ours_series_per_s": n_series / ours_s,
        "ets_sample_s": ets_s, "ets_sample_cpu_s": ets_cpu, "ets_fits_per_s": fits_per_s, "ets_extrapolated_s": ets_all_s, "speedup": ets_all_s / ours_s,
        "target_s": 60.0, "target_met": ours_s <= 60.0,
        "backtest_wape_total": {"ours": wape(sel["actual_total"], sel["forecast_total"]),
                                "ets": wape(np.concatenate(ets_bt_a), np.concatenate(ets_bt_f)),
                                "seasonal_naive": wape(naive["actual_total"], naive["forecast_total"])},
        "wape_total_vs_expected": {"ours": wape(truth, chosen[sample].sum(axis=1)),
                                   "ets": wape(truth, ets_f[days - 1].sum(axis=1))},
        "models_chosen": bt.choice.value_counts().to_dict(),
    }
    bt_w, tr_w = result["backtest_wape_total"], result["wape_total_vs_expected"]
    print_(f"forecast benchmark: {n_series:,} series x {days} days, {horizon}-day horizon, {origins}-origin backtest "
           f"+ final forecast; medians of {repeats} run(s)")
    print_(f"  ours (all series, {threads} thread(s) for the global model): {ours_s:.1f} s (CPU {ours_cpu:.1f} s) "
           f"= {result['ours_series_per_s']:.0f} series/s   [target <= 60 s: {'met' if result['target_met'] else 'NOT met'}]")
    print_(f"  statsmodels ETS per series ({len(sample)}-series sample x {len(ends)} fits): {ets_s:.1f} s (CPU {ets_cpu:.1f} s) "
           f"= {fits_per_s:.1f} fits/s, extrapolated to {n_series:,} series: {ets_all_s:,.0f} s")
    print_(f"  ratio: ours is {result['speedup']:.0f}x faster")
    print_(f"  lead-time-total WAPE on the sample, backtest: ours {bt_w['ours']:.3f}, ETS {bt_w['ets']:.3f}, "
           f"seasonal naive {bt_w['seasonal_naive']:.3f}; final forecast vs the expected demand: ours {tr_w['ours']:.3f}, "
           f"ETS {tr_w['ets']:.3f}")
    print_(f"  models chosen by the backtest: {result['models_chosen']}")
    return result


bench_restock = bench_forecast  # the command's former name
