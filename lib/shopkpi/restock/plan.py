"""Purchase plan per SKU x warehouse: safety stock, reorder point, order quantity, cover and stock-out risk.

Periodic review: every `review_period_days` the buyer orders up to the demand expected over lead time +
review period plus safety stock. Safety stock is the service-level quantile of that demand (a gamma
distribution with the backtest's error variance plus the lead-time variability) minus its mean.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
from scipy import stats

from shopkpi.errors import NoDataError
from shopkpi.restock.backtest import error_variance
from shopkpi.restock.demand import assign_markets


def round_order(needed: float, moq: int | None, case_pack: int | None) -> int:
    """0 when nothing is needed; else at least the MOQ, rounded up to whole cases."""
    if needed <= 0:
        return 0
    pack = max(int(case_pack or 1), 1)
    qty = max(needed, float(moq or 0))
    return int(math.ceil(qty / pack - 1e-9) * pack)


def projected_stock(on_hand: float, daily: np.ndarray, inbound: list[tuple[int, float]] = ()) -> np.ndarray:
    """End-of-day stock per day: on hand plus arrivals (day index, qty) minus expected demand."""
    arrivals = np.zeros(len(daily))
    for day, qty in inbound:
        if 0 <= day < len(daily):
            arrivals[day] += qty
    return on_hand + np.cumsum(arrivals - np.asarray(daily, float))


def first_negative(projection: np.ndarray) -> int | None:
    below = np.flatnonzero(projection < 0)
    return int(below[0]) if len(below) else None


def days_of_cover(on_hand: float, daily: np.ndarray) -> float | None:
    """Days the stock lasts at the forecast (fractional); None when it outlasts the horizon."""
    daily = np.asarray(daily, float)
    cum = np.cumsum(daily)
    if on_hand <= 0:
        return 0.0
    if cum[-1] <= on_hand:
        return None
    k = int(np.argmax(cum > on_hand))
    before = cum[k - 1] if k > 0 else 0.0
    return k + (on_hand - before) / daily[k]


def demand_quantile(mean: float, variance: float, level: float) -> float:
    """Quantile of demand over a period: gamma with the given mean and variance (normal limit for large means)."""
    return float(demand_quantiles(np.array([mean], float), np.array([variance], float), level)[0])


def demand_quantiles(mean: np.ndarray, variance: np.ndarray, level: float) -> np.ndarray:
    """`demand_quantile` for arrays at once (one scipy call instead of one per series and day)."""
    mean, variance = (np.array(a, float) for a in np.broadcast_arrays(np.asarray(mean, float), np.asarray(variance, float)))
    out = np.where(mean <= 0, 0.0, mean)
    gamma = (mean > 0) & (variance > 0)
    if gamma.any():
        shape, scale = mean[gamma] ** 2 / variance[gamma], variance[gamma] / mean[gamma]
        out[gamma] = stats.gamma.ppf(level, shape, scale=scale)
    return out


def abc_xyz(revenue: pd.Series, weekly_cv: pd.Series, shares=(0.8, 0.95), cvs=(0.5, 1.0)) -> pd.DataFrame:
    """ABC: A while the revenue share of larger SKUs is under shares[0], B under shares[1]; XYZ by weekly-demand CV."""
    order = revenue.fillna(0).sort_values(ascending=False, kind="stable")
    total = order.sum()
    cum = order.cumsum() / total if total > 0 else pd.Series(1.0, index=order.index)
    prev = cum.shift(fill_value=0.0)
    abc = pd.Series(np.where(prev < shares[0], "A", np.where(prev < shares[1], "B", "C")), index=order.index)
    cv = weekly_cv.reindex(revenue.index)
    xyz = pd.Series(np.where(cv <= cvs[0], "X", np.where(cv <= cvs[1], "Y", "Z")), index=revenue.index)
    out = pd.DataFrame({"abc": abc.reindex(revenue.index), "xyz": xyz})
    out["sku_class"] = out["abc"] + out["xyz"]
    return out


def weekly_cv(y: np.ndarray, weeks: int = 13) -> np.ndarray:
    """CV of weekly demand over the last full weeks without censored days."""
    T = y.shape[1]
    n = min(weeks, T // 7)
    block = y[:, T - 7 * n:].reshape(len(y), n, 7)
    sums = np.where(np.isnan(block).any(axis=2), np.nan, np.nansum(block, axis=2))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nanmean(sums, axis=1)
        return np.where(mean > 0, np.nanstd(sums, axis=1) / mean, np.inf)


def load_stock_plan(con, options, origin: dt.date) -> pd.DataFrame:
    """Latest stock-plan snapshot per SKU x warehouse, on or before a week after the origin (else the oldest after)."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "inventory_plan" not in tables:
        raise NoDataError("no inventory_plan table: ingest the stock plan sheet (on hand, inbound, lead time, MOQ) first")
    plan = con.execute("SELECT * FROM inventory_plan").df()
    if plan.empty:
        raise NoDataError("the inventory_plan table is empty")
    plan["as_of"] = pd.to_datetime(plan["as_of"]).dt.date
    plan["inbound_eta"] = pd.to_datetime(plan["inbound_eta"]).dt.date
    limit = origin + dt.timedelta(days=7)
    plan["_late"] = plan["as_of"] > limit
    plan = plan.sort_values(["seller_sku", "warehouse", "_late", "as_of"], ascending=[True, True, True, False])
    # Prefer the newest snapshot not after the limit; if a SKU has only later ones, its oldest.
    early = plan[~plan["_late"]].drop_duplicates(["seller_sku", "warehouse"])
    late = plan[plan["_late"]].sort_values("as_of").drop_duplicates(["seller_sku", "warehouse"])
    plan = pd.concat([early, late]).drop_duplicates(["seller_sku", "warehouse"]).drop(columns="_late")
    return assign_markets(plan, con, options, "inventory_plan").reset_index(drop=True)


def build_plan(stock: pd.DataFrame, series: pd.DataFrame, daily: np.ndarray, origin: dt.date, error_total, options,
               params) -> tuple[pd.DataFrame, dict]:
    """One row per SKU x warehouse; `series` is the panel meta with class and model, `daily` the chosen forecast."""
    key = {(r.seller_sku, r.market): i for i, r in enumerate(series.itertuples())}
    per_market_wh = stock.groupby(["seller_sku", "market"])["warehouse"].transform("nunique")
    rows, projections = [], {}
    for i, r in enumerate(stock.itertuples()):
        s = key.get((r.seller_sku, r.market))
        meta = series.iloc[s] if s is not None else None
        offset = max((r.as_of - origin).days - 1, 0)
        f = daily[s, offset:offset + options.horizon_days] if s is not None else np.zeros(options.horizon_days)
        f = np.nan_to_num(f) / per_market_wh.iloc[i]  # several warehouses in one market share its demand equally
        lead = float(r.lead_time_days) if pd.notna(r.lead_time_days) else float(options.default_lead_time_days)
        lead_sd = float(r.lead_time_std_days) if pd.notna(r.lead_time_std_days) else 0.0
        L, R = math.ceil(lead), options.review_period_days
        sku_class = meta["sku_class"] if meta is not None else "CZ"
        level = options.service_levels[sku_class]
        mean_rate = float(f[:max(L, 1)].mean())
        demand_l, demand_lr = float(f[:L].sum()), float(f[:L + R].sum())
        var_l = float(error_variance(demand_l, error_total)) + (mean_rate * lead_sd) ** 2
        var_lr = float(error_variance(demand_lr, error_total)) + (mean_rate * lead_sd) ** 2
        order_up_to = demand_quantile(demand_lr, var_lr, level)
        reorder_point = demand_quantile(demand_l, var_l, level)
        on_hand = float(r.on_hand or 0)
        inbound = float(r.inbound_qty or 0) if pd.notna(r.inbound_qty) else 0.0
        eta = r.inbound_eta if inbound > 0 and pd.notna(r.inbound_eta) else None
        eta_day = max((eta - r.as_of).days, 0) if eta else (L if inbound > 0 else None)
        position = on_hand + inbound
        raw = order_up_to - position
        qty = round_order(raw, r.moq if pd.notna(r.moq) else 0, r.case_pack if pd.notna(r.case_pack) else 1)
        proj = projected_stock(on_hand, f, [(eta_day, inbound)] if inbound > 0 else [])
        out_day = first_negative(proj)
        replenish_day = min(eta_day, L) if eta_day is not None else L
        short = float(max(0.0, f[:replenish_day].sum() - on_hand))
        at_risk = out_day is not None and out_day < replenish_day
        cost = float(r.landed_cost) if pd.notna(r.landed_cost) else float("nan")
        currency = r.currency if isinstance(r.currency, str) else params.market(r.market).currency
        fx, _ = params.fx_rate(currency, r.as_of)
        rows.append({
            "seller_sku": r.seller_sku, "product_name": (meta["product_name"] if meta is not None and isinstance(meta["product_name"], str) else r.product_name),
            "warehouse": r.warehouse, "market": r.market, "currency": currency, "stock_as_of": r.as_of,
            "abc": sku_class[0], "xyz": sku_class[1], "sku_class": sku_class, "service_level": level,
            "model": meta["model"] if meta is not None else "none", "is_new": bool(meta["is_new"]) if meta is not None else True,
            "forecast_capped": bool(meta.get("forecast_capped", False)) if meta is not None else False,
            "forecast_dead": bool(meta.get("forecast_dead", False)) if meta is not None else False,
            "on_hand": on_hand, "inbound_qty": inbound, "inbound_eta": eta, "lead_time_days": lead, "lead_time_std_days": lead_sd,
            "review_period_days": R, "forecast_daily": mean_rate, "demand_lead_time": demand_l, "demand_protection": demand_lr,
            "sigma_protection": math.sqrt(max(var_lr, 0.0)), "safety_stock": order_up_to - demand_lr,
            "reorder_point": reorder_point, "order_up_to": order_up_to, "inventory_position": position,
            "order_qty_needed": max(raw, 0.0), "order_qty": qty, "moq": r.moq, "case_pack": r.case_pack,
            "days_of_cover": days_of_cover(on_hand, f), "days_of_cover_with_inbound": days_of_cover(position, f) if eta_day is None or eta_day == 0 else _cover_with(proj, f),
            "stockout_date": r.as_of + dt.timedelta(days=out_day) if out_day is not None else None,
            "stockout_before_replenishment": at_risk, "units_short_before_replenishment": short if at_risk else 0.0,
            "landed_cost": cost, "cash_tied_up_local": position * cost, "cash_tied_up": position * cost * fx,
            "order_value_local": qty * cost, "order_value": qty * cost * fx,
            "units_91d": float(meta["units_91d"]) if meta is not None else 0.0,
            "returns_91d": float(meta["returns_91d"]) if meta is not None else 0.0,
            "status": "stockout_risk" if at_risk else ("order_now" if qty > 0 else "ok"),
        })
        with_order = projected_stock(on_hand, f, ([(eta_day, inbound)] if inbound > 0 else []) + ([(L, qty)] if qty else []))
        projections[f"{r.seller_sku}|{r.warehouse}"] = {"start": r.as_of, "projected": proj.round(2).tolist(),
                                                         "with_order": with_order.round(2).tolist(),
                                                         "reorder_point": reorder_point, "inbound_day": eta_day,
                                                         "order_arrives_day": L if qty else None}
    plan = pd.DataFrame(rows)
    rank = {"stockout_risk": 0, "order_now": 1, "ok": 2}
    plan = plan.sort_values(["status", "stockout_date", "seller_sku"], key=lambda c: c.map(rank) if c.name == "status" else c,
                            na_position="last").reset_index(drop=True)
    return plan, projections


def _cover_with(projection: np.ndarray, daily: np.ndarray) -> float | None:
    """Days until the projection (arrivals included) first goes below zero, fractional; None beyond the horizon."""
    k = first_negative(projection)
    if k is None:
        return None
    before = projection[k - 1] if k > 0 else projection[k] + daily[k]
    return k + (before / daily[k] if daily[k] > 0 else 0.0)
