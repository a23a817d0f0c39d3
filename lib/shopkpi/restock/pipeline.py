"""One restock run: demand panel, events, backtest, final forecasts per chosen model, purchase plan."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from shopkpi.errors import ShopkpiError
from shopkpi.restock.backtest import Backtest, error_variance, run_backtest
from shopkpi.restock.demand import Panel, connect_demand, forecast_origin, load_panel
from shopkpi.restock.events import EventModel, fit_events, load_calendar
from shopkpi.restock.models import CAP_MULTIPLE, DEAD_DAYS, LOCAL_MODELS, MODELS, Context, forecast_all
from shopkpi.restock.options import RestockOptions, restock_options
from shopkpi.restock.plan import (
    abc_xyz,
    build_plan,
    demand_quantiles,
    load_stock_plan,
    weekly_cv,
)


MAX_STOCK_AFTER_ORIGIN_DAYS = 28  # a later snapshot would push the forecast far past what was backtested


@dataclass
class RestockResult:
    params: object
    options: RestockOptions
    origin: dt.date
    panel: Panel
    events: EventModel
    backtest: Backtest
    future_dates: pd.DatetimeIndex
    forecasts: dict  # model -> [series, day]
    chosen: np.ndarray  # [series, day] forecast of each series' chosen model
    lower: np.ndarray  # 10% daily quantile
    upper: np.ndarray  # 90% daily quantile
    plan: pd.DataFrame
    projections: dict
    notes: list[str] = field(default_factory=list)


def series_horizons(panel: Panel, stock: pd.DataFrame, options: RestockOptions) -> np.ndarray:
    """Each series' lead time (mean over its warehouses, rounded up) plus the review period, capped at the horizon."""
    lead = stock.groupby(["seller_sku", "market"])["lead_time_days"].mean()
    keys = pd.MultiIndex.from_frame(panel.meta[["seller_sku", "market"]])
    days = lead.reindex(keys).fillna(options.default_lead_time_days).to_numpy()
    return np.minimum(np.ceil(days).astype(int) + options.review_period_days, options.horizon_days)


def local_sample(panel: Panel, size: int) -> np.ndarray:
    """The series the per-series models are backtested on: the largest by units in the last 91 days, not new."""
    meta = panel.meta
    ranked = meta[~meta["is_new"]].sort_values(["units_91d", "seller_sku", "market"], ascending=[False, True, True], kind="stable")
    return np.sort(ranked.index.to_numpy()[:size])


def classify(panel: Panel, params, options: RestockOptions) -> pd.DataFrame:
    meta = panel.meta.copy()
    fx = np.array([params.fx_rate(c, panel.origin)[0] for c in meta["currency"]])
    classes = abc_xyz(pd.Series(meta["revenue_91d_local"].to_numpy() * fx), pd.Series(weekly_cv(panel.y)),
                      options.abc_shares, options.xyz_cv)
    return meta.join(classes)


def run_restock(params, period_end: dt.date, origin: dt.date | None = None, options: RestockOptions | None = None,
                models: list[str] = MODELS) -> RestockResult:
    options = options or restock_options(params)
    con = connect_demand(params.client)
    origin = origin or forecast_origin(con, params, period_end)
    panel = load_panel(con, params, origin, options)
    calendar = load_calendar([m.code for m in params.markets], options.extra_events)
    stock = load_stock_plan(con, options, origin)
    newest = max(stock["as_of"])
    if (newest - origin).days > MAX_STOCK_AFTER_ORIGIN_DAYS:
        late = stock.loc[stock["as_of"] == newest].iloc[0]
        raise ShopkpiError(f"the stock plan {late['source_file']} is dated {newest} ({late.get('as_of_basis', '')}), "
                           f"{(newest - origin).days} days after the sales data ends ({origin}): write its as-of date above "
                           "the header (e.g. 'Stock as of 2026-11-18') or ingest sales up to that day")
    offset = max(0, max((d - origin).days - 1 for d in stock["as_of"]))
    fit_horizon = options.horizon_days + offset
    # The backtest fits every model exactly as below (same horizon, features and refit rule): it scores what is used.
    backtest = run_backtest(panel, calendar, series_horizons(panel, stock, options), options, models,
                            local_sample(panel, options.local_model_sample), fit_horizon=fit_horizon)

    events = fit_events(panel, calendar)
    ctx = Context(panel, events, fit_horizon)
    meta = classify(panel, params, options)
    fallback = "gbm" if "gbm" in models else models[-1]
    chosen_model = backtest.choice.reindex(range(len(meta))).fillna(fallback)
    # Too little history to have been backtested: the pooled global model.
    chosen_model[meta["is_new"].to_numpy()] = fallback
    meta["model"] = chosen_model.to_numpy()
    # Local models are fitted only where they were chosen.
    forecasts = forecast_all(ctx, models, np.flatnonzero(meta["model"].isin(LOCAL_MODELS).to_numpy()))
    chosen = np.vstack([np.nan_to_num(forecasts[m][i]) for i, m in enumerate(meta["model"])]) if len(meta) else np.zeros((0, 0))
    # The guards' flags of each series' chosen model: capped (beyond CAP_MULTIPLE x its recent level) or dead.
    meta["forecast_capped"] = [bool(ctx.flags[m][0][i]) for i, m in enumerate(meta["model"])]
    meta["forecast_dead"] = [bool(ctx.flags[m][1][i]) for i, m in enumerate(meta["model"])]
    var = error_variance(chosen, backtest.error_daily)
    lower = demand_quantiles(chosen, var, 0.1) if chosen.size else chosen
    upper = demand_quantiles(chosen, var, 0.9) if chosen.size else chosen
    panel.meta = meta
    plan, projections = build_plan(stock, meta, chosen, origin, backtest.error_total, options, params)
    notes = list(panel.notes)
    capped, dead = int(meta["forecast_capped"].sum()), int(meta["forecast_dead"].sum())
    if capped:
        notes.append(f"{capped} series' forecasts were capped at {CAP_MULTIPLE:g}x their recent daily level (flagged in the plan)")
    if dead:
        notes.append(f"{dead} series sold nothing on any observed day of the last {DEAD_DAYS} days: forecast zero")
    late = sorted({d for d in stock["as_of"] if d > origin + dt.timedelta(days=1)})
    if late:
        notes.append(f"stock snapshot dated {late[-1]} is after the forecast origin {origin}: projections start on the snapshot date")
    return RestockResult(params, options, origin, panel, events, backtest, ctx.future_dates, forecasts, chosen, lower, upper,
                         plan, projections, notes)
