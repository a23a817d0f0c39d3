"""Forecast models, each giving daily units for every series over a horizon after the panel's last day.

Baselines (seasonal naive, moving average) see the raw history. The others learn from demand with
event uplifts and the weekday pattern divided out, skip censored days, and multiply the calendar back
in: Holt-Winters (statsmodels, damped additive trend, weekly seasonality), Croston, SBA and TSB for
intermittent series, and one global gradient-boosting model over all series (scikit-learn).
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd

from shopkpi.restock.demand import Panel, local_level
from shopkpi.restock.events import EventModel

BASELINES = ["seasonal_naive", "moving_average"]
# The median of a few different models: robust where any one of them goes wrong (VN1 2024: a median of simple
# models came within 7% of the winner).
ENSEMBLE = ["seasonal_naive", "moving_average", "tsb", "gbm"]
MODELS = BASELINES + ["ets", "croston", "sba", "tsb", "gbm", "median"]
# Guards on every model's forecast (backtest and final alike): a horizon total above CAP_MULTIPLE times the
# series' recent daily level (the highest of its 28-, 91- and 182-day means) times the calendar is scaled
# down to it and flagged; an established series with no sale on any observed day of the last DEAD_DAYS
# (at least DEAD_MIN_OBSERVED of them observed) forecasts zero.
CAP_MULTIPLE = 4.0
DEAD_DAYS = 91
DEAD_MIN_OBSERVED = 56
MA_WINDOW = 28
ETS_HISTORY_DAYS = 365
INTERMITTENT_ALPHA = 0.1
TSB_BETA = 0.1
GBM_ORIGIN_STEP = 7
GBM_HORIZONS_PER_ORIGIN = 12
NEW_SKU_PRIOR_DAYS = 14.0
# Enough samples for a stable fit; a 10,000-series client would otherwise train on millions of rows.
GBM_MAX_TRAINING_ROWS = 300_000
GBM_RATIO_QUANTILE = 0.999
GBM_LEARNING_RATE = 0.1
GBM_ITERATIONS = 100
# Threads for the global model; 1 in client runs, whose analyses may run side by side (see gbm_threads).
GBM_THREADS = 1


@contextmanager
def gbm_threads(n: int):
    """Let the global model use n threads meanwhile (the benchmark uses both cores of a 2-core machine)."""
    global GBM_THREADS
    previous, GBM_THREADS = GBM_THREADS, max(1, int(n))
    try:
        yield
    finally:
        GBM_THREADS = previous


@dataclass
class Context:
    """What every model needs at one origin: the panel, its fitted events, and the future calendar."""

    panel: Panel
    events: EventModel
    horizon: int

    def __post_init__(self):
        p, markets = self.panel, self.panel.meta["market"].to_numpy()
        self.future_dates = pd.date_range(p.dates[-1] + pd.Timedelta(days=1), periods=self.horizon, freq="D")
        self.mult_hist = self._by_market(markets, lambda m: self.events.multipliers(m, p.dates))
        self.week_hist = self._by_market(markets, lambda m: self.events.weekday_of(m, p.dates))
        self.mult_future = self._by_market(markets, lambda m: self.events.multipliers(m, self.future_dates))
        self.week_future = self._by_market(markets, lambda m: self.events.weekday_of(m, self.future_dates))
        with np.errstate(invalid="ignore", divide="ignore"):
            # event- and weekday-free demand, NaN when unobserved or the shop was closed (multiplier 0)
            calendar = self.mult_hist * self.week_hist
            self.base = np.where(calendar > 0, p.y / calendar, np.nan)

    @staticmethod
    def _by_market(markets, row_of) -> np.ndarray:
        cache = {m: row_of(m) for m in np.unique(markets)}
        return np.vstack([cache[m] for m in markets]) if len(markets) else np.zeros((0, 0))

    def filled_base(self) -> np.ndarray:
        """Base demand with unobserved active days filled by the local level (for models that need every day)."""
        ok = ~np.isnan(self.base)
        level = local_level(np.nan_to_num(self.base), ok, 14)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # series never observed: mean of nothing
            fallback = np.nan_to_num(np.nanmean(np.where(ok, self.base, np.nan), axis=1, keepdims=True))
        filled = np.where(ok, self.base, np.where(np.isfinite(level), level, fallback))
        return np.where(self.panel.active(), np.nan_to_num(filled), np.nan)


def seasonal_naive(ctx: Context) -> np.ndarray:
    """Same weekday last week (or the latest observed week before it), from the raw history."""
    y, H = ctx.panel.y, ctx.horizon
    T = y.shape[1]
    last_week = np.full((y.shape[0], 7), np.nan)
    for back in range(4):
        cols = np.arange(T - 7 * (back + 1), T - 7 * back)
        if cols[0] < 0:
            break
        last_week = np.where(np.isnan(last_week), y[:, cols], last_week)
    last_week = np.nan_to_num(last_week)
    return last_week[:, np.arange(H) % 7]


def moving_average(ctx: Context) -> np.ndarray:
    recent = ctx.panel.y[:, -MA_WINDOW:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        level = np.nan_to_num(np.nanmean(recent, axis=1))
    return np.repeat(level[:, None], ctx.horizon, axis=1)


def ets(ctx: Context, rows: np.ndarray | None = None) -> np.ndarray:
    """Holt-Winters per series on de-evented demand; heuristic start values and a local optimiser keep it fast."""
    from statsmodels.tsa.holtwinters import ExponentialSmoothing

    de_evented = ctx.filled_base() * ctx.week_hist
    out = np.full((de_evented.shape[0], ctx.horizon), np.nan)
    rows = np.arange(len(out)) if rows is None else rows
    for s in rows:
        x = de_evented[s][~np.isnan(de_evented[s])][-ETS_HISTORY_DAYS:]
        if len(x) < 28 or not np.any(x > 0):
            out[s] = 0.0 if len(x) else np.nan
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = ExponentialSmoothing(x, trend="add", damped_trend=True, seasonal="add", seasonal_periods=7,
                                       initialization_method="heuristic").fit(use_brute=False)
            out[s] = np.maximum(fit.forecast(ctx.horizon), 0.0)
    # Holt-Winters' additive weekly pattern only approaches zero on a weekday the shop never sells on.
    return out * ctx.mult_future * (ctx.week_future > 0)


def _intermittent(base: np.ndarray, kind: str) -> np.ndarray:
    """Demand rate per series by Croston, SBA or TSB, all series at once (one step per day).

    Censored days (NaN) are skipped, not counted as zero: they neither update the estimates nor lengthen intervals.
    """
    a, b = INTERMITTENT_ALPHA, TSB_BETA
    n = base.shape[0]
    started = np.zeros(n, dtype=bool)
    seen = np.zeros(n)  # observed days so far, before the first demand
    size, interval, since, prob = np.zeros(n), np.ones(n), np.zeros(n), np.zeros(n)
    for v in base.T:
        obs = ~np.isnan(v)
        pos = obs & (v > 0)
        first = pos & ~started
        going = obs & started
        if kind == "tsb":
            prob = np.where(going, prob + b * (pos - prob), prob)
        else:
            since = np.where(going, since + 1, since)
            interval = np.where(going & pos, interval + a * (since - interval), interval)
            since = np.where(going & pos, 0, since)
        size = np.where(going & pos, size + a * (np.nan_to_num(v) - size), size)
        seen = np.where(obs & ~started & ~pos, seen + 1, seen)
        size = np.where(first, v, size)
        interval = np.where(first, seen + 1, interval)
        prob = np.where(first, 1.0 / (seen + 1), prob)
        started |= first
    if kind == "tsb":
        rates = prob * size
    else:
        rates = size / interval * ((1 - a / 2) if kind == "sba" else 1.0)
    return np.where(started, rates, 0.0)


def croston_family(ctx: Context, kind: str) -> np.ndarray:
    if kind == "sba":  # Croston's rate with the Syntetos-Boylan bias correction
        if not hasattr(ctx, "croston_rates"):
            ctx.croston_rates = _intermittent(ctx.base, "croston")
        rates = ctx.croston_rates * (1 - INTERMITTENT_ALPHA / 2)
        return rates[:, None] * ctx.week_future * ctx.mult_future
    rates = _intermittent(ctx.base, kind)
    if kind == "croston":
        ctx.croston_rates = rates
    return rates[:, None] * ctx.week_future * ctx.mult_future


class _Windows:
    """Means of observed values over trailing windows, for any (series, end day) pairs, from cumulative sums."""

    def __init__(self, values: np.ndarray):
        ok = ~np.isnan(values)
        zero = np.zeros((len(values), 1))
        self.cv = np.concatenate([zero, np.cumsum(np.where(ok, values, 0.0), axis=1)], axis=1)
        self.cc = np.concatenate([zero, np.cumsum(ok, axis=1)], axis=1)
        self.T = values.shape[1]

    def mean(self, rows: np.ndarray, ends: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray]:
        hi = np.clip(ends + 1, 0, self.T)
        lo = np.clip(ends + 1 - length, 0, self.T)
        s, c = self.cv[rows, hi] - self.cv[rows, lo], self.cc[rows, hi] - self.cc[rows, lo]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(c > 0, s / c, np.nan), c


class _Bins:
    """Per-feature quantile bins fitted once, so scikit-learn bins the codes directly.

    With sample weights, scikit-learn computes weighted percentiles per feature, which took most of the fit time.
    """

    def __init__(self, X: np.ndarray, n_bins: int = 200, sample: int = 200_000, seed: int = 0):
        rng = np.random.default_rng(seed)
        rows = X[rng.choice(len(X), sample, replace=False)] if len(X) > sample else X
        q = np.linspace(0, 1, n_bins + 1)[1:-1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column
            self.edges = [np.unique(np.nanquantile(col, q)) if np.isfinite(col).any() else np.array([])
                          for col in rows.T]

    def column(self, j: int, values: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(values), np.nan, np.searchsorted(self.edges[j], values, side="left"))

    def __call__(self, X: np.ndarray) -> np.ndarray:
        out = np.empty_like(X)
        for j in range(X.shape[1]):
            out[:, j] = self.column(j, X[:, j])
        return out


class GlobalModel:
    """Direct multi-horizon gradient boosting on scaled base demand: one model for every series.

    Each training sample is (series, origin o, horizon h) with features known at o and the target
    base demand on o + h divided by the series' level at o; censored targets are dropped.
    """

    def __init__(self, ctx: Context, seed: int = 0):
        self.ctx, self.seed = ctx, seed
        meta = ctx.panel.meta
        self.market_code = pd.Categorical(meta["market"]).codes.astype(float)
        self.category_code = pd.Categorical(meta["category"]).codes.astype(float)
        self.start = meta["start_idx"].to_numpy()
        self.min_history = ctx.panel.min_history_days
        y = ctx.panel.y
        self.base = _Windows(ctx.base)
        self.zeros = _Windows(np.where(np.isnan(y), np.nan, (y == 0).astype(float)))
        self.price = _Windows(ctx.panel.price)

    def _scale(self, rows, o, m28, m91, age):
        """The series level at o; a new SKU's is pulled towards its category's established SKUs."""
        scale = np.where(np.isfinite(m28) & (m28 > 0), m28, np.where(np.isfinite(m91) & (m91 > 0), m91, np.nan))
        key = self.market_code[rows] * 10_000 + self.category_code[rows] + o * 1e7
        established = (age >= self.min_history) & np.isfinite(scale)
        prior = pd.Series(scale[established]).groupby(key[established]).median()
        prior_v = pd.Series(key).map(prior).to_numpy(dtype=float)
        young = (age < self.min_history) & np.isfinite(prior_v)
        w_own = np.minimum(age, 28) / (np.minimum(age, 28) + NEW_SKU_PRIOR_DAYS)
        scale = np.where(young, w_own * np.nan_to_num(scale) + (1 - w_own) * prior_v, scale)
        return np.where(np.isfinite(scale) & (scale > 0), scale, 0.01)

    def features(self, rows, o, h, target_dates: pd.DatetimeIndex, event_mult) -> tuple[np.ndarray, np.ndarray]:
        """Features known at origin o for the target o + h; the calendar ones (weekday, day of month, the event
        model's multiplier) let the model correct what the weekday and event factors leave in base demand."""
        m = {w: self.base.mean(rows, o, w)[0] for w in (7, 28, 91, 182)}
        prev28, _ = self.base.mean(rows, o - 28, 28)
        age = np.clip(o - self.start[rows] + 1, 0, None).astype(float)
        scale = self._scale(rows, o, m[28], m[91], age)
        zero_share, observed = self.zeros.mean(rows, o, 28)
        p7, _ = self.price.mean(rows, o, 7)
        p91, _ = self.price.mean(rows, o, 91)
        with np.errstate(invalid="ignore", divide="ignore"):
            columns = [m[7] / scale, m[28] / scale, m[91] / scale, m[182] / scale, m[28] / prev28, np.log(scale),
                       zero_share, observed / 28.0, np.minimum(age, 365), p7 / p91, self.market_code[rows],
                       self.category_code[rows], h, target_dates.day_of_week.to_numpy(), target_dates.day.to_numpy(),
                       np.log(event_mult)]
        X = np.column_stack(columns).astype(float)
        X[~np.isfinite(X)] = np.nan
        return X, scale

    def fit(self, horizon: int) -> GlobalModel:
        from sklearn.ensemble import HistGradientBoostingRegressor
        from threadpoolctl import threadpool_limits

        base, T = self.ctx.base, self.ctx.base.shape[1]
        rng = np.random.default_rng(self.seed)
        origins = np.arange(T - 2, 27, -GBM_ORIGIN_STEP)
        eligible = [np.flatnonzero(self.start <= o - 6) for o in origins]
        per_origin = np.array([len(r) * min(GBM_HORIZONS_PER_ORIGIN, horizon, T - 1 - o) for o, r in zip(origins, eligible)])
        # Sample (series, horizon) pairs per origin so that the whole stays within the row budget.
        share = min(1.0, GBM_MAX_TRAINING_ROWS / max(per_origin.sum(), 1))
        o_list, r_list, h_list = [], [], []
        for o, rows, n_pairs in zip(origins, eligible, per_origin):
            take = int(round(n_pairs * share))
            if not take:
                continue
            o_list.append(np.full(take, o))
            r_list.append(rng.choice(rows, take))
            h_list.append(rng.integers(1, min(horizon, T - 1 - o) + 1, size=take))
        o_idx, rows, h = np.concatenate(o_list), np.concatenate(r_list), np.concatenate(h_list)
        target = base[rows, o_idx + h]
        keep = ~np.isnan(target)  # censored days are not learned as zero demand
        o_idx, rows, h, target = o_idx[keep], rows[keep], h[keep], target[keep]
        X, scale = self.features(rows, o_idx, h, self.ctx.panel.dates[o_idx + h], self.ctx.mult_hist[rows, o_idx + h])
        self.model = HistGradientBoostingRegressor(
            loss="poisson", learning_rate=GBM_LEARNING_RATE, max_iter=GBM_ITERATIONS, max_leaf_nodes=31, min_samples_leaf=50,
            l2_regularization=1.0, early_stopping=False, random_state=self.seed)
        # One wholesale order on a quiet series is hundreds of times its level: winsorised, so that the
        # Poisson model's log-link leaves cannot run away (the prediction is capped the same way).
        ratio = target / scale
        self.max_ratio = float(np.quantile(ratio, GBM_RATIO_QUANTILE)) if len(ratio) else 1.0
        self.bins = _Bins(X, seed=self.seed)
        with threadpool_limits(GBM_THREADS):
            self.model.fit(self.bins(X), np.minimum(ratio, self.max_ratio), sample_weight=scale)
        self.n_training_rows = len(target)
        return self

    def predict(self) -> np.ndarray:
        from threadpoolctl import threadpool_limits

        ctx, H = self.ctx, self.ctx.horizon
        n, T = ctx.base.shape
        # The series' features are the same for every horizon: built once, then one copy per day ahead.
        first = np.repeat(ctx.future_dates[:1], n)
        X0, scale = self.features(np.arange(n), np.full(n, T - 1), np.ones(n), first, np.ones(n))
        X = np.repeat(self.bins(X0), H, axis=0)
        k = X.shape[1]  # the last four columns: h, weekday, day of month, log event multiplier
        dates = ctx.future_dates
        for j, values in zip(range(k - 4, k - 1), (np.arange(1, H + 1), dates.day_of_week.to_numpy(), dates.day.to_numpy())):
            X[:, j] = np.tile(self.bins.column(j, values.astype(float)), n)
        with np.errstate(divide="ignore"):
            log_mult = np.log(ctx.mult_future).ravel()
        X[:, k - 1] = self.bins.column(k - 1, np.where(np.isfinite(log_mult), log_mult, np.nan))
        with threadpool_limits(GBM_THREADS):
            daily = np.minimum(self.model.predict(X), self.max_ratio).reshape(n, H)
        out = daily * scale[:, None] * ctx.week_future * ctx.mult_future
        return np.where(self.start[:, None] < T, out, np.nan)


def gbm(ctx: Context) -> np.ndarray:
    return GlobalModel(ctx).fit(ctx.horizon).predict()


LOCAL_MODELS = ["ets"]  # fitted one series at a time: slow, so run on chosen rows or a sample


def recent_level(y: np.ndarray) -> np.ndarray:
    """Per series: the highest of its mean daily units over the observed days of the last 28, 91 and 182 days."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a window with no observed day
        means = np.stack([np.nanmean(y[:, -w:], axis=1) for w in (28, 91, 182)])
    return np.nan_to_num(np.nanmax(np.where(np.isnan(means), -np.inf, means), axis=0), neginf=0.0)


def guard(ctx: Context, forecast: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(guarded forecast, capped, dead) per series; new series (too little history) are left as they are."""
    y = ctx.panel.y
    n, T = y.shape
    start = ctx.panel.meta["start_idx"].to_numpy() if len(ctx.panel.meta) else np.zeros(0, int)
    established = (T - start) >= ctx.panel.min_history_days
    recent = y[:, -DEAD_DAYS:]
    observed = (~np.isnan(recent)).sum(axis=1)
    dead = established & (observed >= DEAD_MIN_OBSERVED) & (np.nansum(recent, axis=1) == 0)
    calendar = np.maximum(ctx.mult_future, 1.0) * (ctx.week_future > 0)
    # At least one unit per four weeks counts as a level, so a slow series is not capped to nothing.
    cap = CAP_MULTIPLE * np.maximum(recent_level(y), 1 / 28)[:, None] * calendar
    total, cap_total = np.nansum(forecast, axis=1), cap.sum(axis=1)
    capped = established & ~dead & (total > cap_total)
    scale = np.where(capped, cap_total / np.where(total > 0, total, 1), 1.0)
    out = np.where(dead[:, None], np.where(np.isnan(forecast), np.nan, 0.0), forecast * scale[:, None])
    return out, capped, dead


def forecast_all(ctx: Context, models: list[str] = MODELS, local_rows: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Every requested model's guarded daily forecast [series, horizon]; the local models only on `local_rows`
    (all series when None), NaN elsewhere. `ctx.flags[model]` = (capped, dead) per series."""
    run = {"seasonal_naive": seasonal_naive, "moving_average": moving_average, "gbm": gbm,
           "ets": lambda c: ets(c, local_rows),
           "croston": lambda c: croston_family(c, "croston"), "sba": lambda c: croston_family(c, "sba"),
           "tsb": lambda c: croston_family(c, "tsb")}
    out, ctx.flags = {}, {}
    wanted = list(dict.fromkeys([m for m in ENSEMBLE if "median" in models] + [m for m in models if m != "median"]))
    for name in wanted:
        out[name], *flags = guard(ctx, run[name](ctx))
        ctx.flags[name] = tuple(flags)
    if "median" in models:
        out["median"], *flags = guard(ctx, np.median(np.stack([out[m] for m in ENSEMBLE]), axis=0))
        ctx.flags["median"] = tuple(flags)
    return {name: out[name] for name in models}
