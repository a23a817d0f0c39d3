"""Demand model: expected SKU lines per day per market (trend x weekly x yearly x events x launch)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from shopkpi.demo.markets import MARKET_CODES, MARKETS

# Unique order lines per history at scale 1.0, before stock-outs; keeps >= 300k after censoring.
TARGET_LINES_SCALE_1 = 345_000
QTY_VALUES = np.array([1, 2, 3, 4])
QTY_PROBS = np.array([0.76, 0.19, 0.04, 0.01])
EXPECTED_QTY = float((QTY_VALUES * QTY_PROBS).sum())
WEEKLY_PROFILE = {  # Monday..Sunday, mean 1
    "UK": np.array([1.05, 0.98, 0.97, 0.97, 0.92, 0.95, 1.16]),
    "TH": np.array([1.00, 0.98, 1.00, 0.99, 0.97, 1.00, 1.06]),
}
FUTURE_DAYS = 91


@dataclass
class DemandModel:
    """lam[s, m, d]: expected order lines of SKU s in market m on day d (history then future)."""

    lam: np.ndarray
    params: pd.DataFrame  # one row per (sku_idx, market)
    start_date: dt.date
    n_hist: int
    n_future: int

    def history(self) -> np.ndarray:
        return self.lam[:, :, : self.n_hist]

    def future(self) -> np.ndarray:
        return self.lam[:, :, self.n_hist:]


def build_demand(
    rng: np.random.Generator,
    skus: pd.DataFrame,
    event_mult: dict[str, np.ndarray],
    start_date: dt.date,
    n_hist: int,
    scale: float,
) -> DemandModel:
    n_sku = len(skus)
    n_total = n_hist + FUTURE_DAYS
    days = np.arange(n_total)
    dates = np.datetime64(start_date.isoformat(), "D") + days
    dow = ((dates.astype("datetime64[D]").astype(np.int64) + 3) % 7)  # 1970-01-01 was a Thursday
    doy = (dates - dates.astype("datetime64[Y]")).astype(np.int64) + 1
    years_from_end = (days - (n_hist - 1)) / 365.25
    lam = np.zeros((n_sku, len(MARKET_CODES), n_total))
    rows: list[dict[str, Any]] = []
    launch = skus["launch_day"].to_numpy()
    intermittent = skus["is_intermittent"].to_numpy()
    for m, market in enumerate(MARKET_CODES):
        market_pref = rng.lognormal(0.0, 0.4, size=n_sku)
        base = skus["popularity"].to_numpy() * skus["variant_share"].to_numpy() * market_pref
        slope = np.where(intermittent, 0.0, rng.normal(0.35, 0.35, size=n_sku))
        slope = np.where(skus["is_new"].to_numpy(), 0.2, slope)
        cat_amp = skus["category_code"].map({c: a for c, a in _category_amplitudes().items()}).to_numpy()
        amp = cat_amp * rng.uniform(0.7, 1.3, size=n_sku) * (0.5 if market == "TH" else 1.0)
        peak = skus["category_code"].map(_category_peaks()).to_numpy() + rng.integers(-10, 11, size=n_sku)
        sensitivity = np.where(intermittent, 0.5, rng.uniform(0.8, 1.2, size=n_sku))
        weekly = WEEKLY_PROFILE[market]
        shape = (
            np.exp(slope[:, None] * years_from_end[None, :])
            * weekly[dow][None, :]
            * (1 + amp[:, None] * np.cos(2 * np.pi * (doy[None, :] - peak[:, None]) / 365.25))
            * event_mult[market][None, :] ** sensitivity[:, None]
        )
        age = days[None, :] - launch[:, None]
        ramp = np.where(age < 0, 0.0, 1 - np.exp(-(age + 1) / 10.0))
        ramp = np.where(launch[:, None] < 0, 1.0, ramp)
        shape *= ramp
        target = TARGET_LINES_SCALE_1 * scale * MARKETS[market]["line_share"]
        # Slow movers sit at a fixed low rate; the rest share the remaining volume.
        slow_level = rng.uniform(0.04, 0.25, size=n_sku) * scale
        slow_lines = (slow_level[:, None] * shape[:, :n_hist])[intermittent].sum()
        regular_mass = (base[:, None] * shape[:, :n_hist])[~intermittent].sum()
        k = (target - slow_lines) / regular_mass
        level = np.where(intermittent, slow_level, base * k)
        lam[:, m, :] = level[:, None] * shape
        for s in range(n_sku):
            rows.append({
                "sku_idx": s,
                "market": market,
                "base_level_lines_per_day": float(level[s]),
                "trend_log_slope_per_year": float(slope[s]),
                "yearly_amplitude": float(amp[s]),
                "yearly_peak_day_of_year": int(peak[s]),
                "event_sensitivity_exponent": float(sensitivity[s]),
            })
    return DemandModel(lam=lam, params=pd.DataFrame(rows), start_date=start_date, n_hist=n_hist,
                       n_future=FUTURE_DAYS)


def _category_amplitudes() -> dict[str, float]:
    from shopkpi.demo.catalog import CATEGORIES

    return {c["code"]: c["amp"] for c in CATEGORIES}


def _category_peaks() -> dict[str, int]:
    from shopkpi.demo.catalog import CATEGORIES

    return {c["code"]: c["peak_doy"] for c in CATEGORIES}


def demand_formula() -> str:
    return (
        "lines(d) = base_level * exp(trend_log_slope_per_year * (d - end_date)/365.25) * weekly_profile[weekday(d)]"
        " * (1 + yearly_amplitude * cos(2*pi*(day_of_year(d) - yearly_peak_day_of_year)/365.25))"
        " * event_multiplier_market(d) ** event_sensitivity_exponent * launch_ramp(d);"
        " launch_ramp = 0 before launch_date, 1 - exp(-(days_since_launch+1)/10) after; units = lines * E[quantity]"
    )
