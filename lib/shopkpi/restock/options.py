"""Restock parameters a client can set in params/<client>.yaml under `restock:` (all have defaults)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

CLASSES = [a + x for a in "ABC" for x in "XYZ"]
DEFAULT_SERVICE_LEVELS = {"AX": 0.98, "AY": 0.97, "AZ": 0.95, "BX": 0.96, "BY": 0.95, "BZ": 0.93,
                          "CX": 0.93, "CY": 0.92, "CZ": 0.90}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExtraEvent(_Strict):
    """A client's own event (brand day, LIVE marathon) added to the market's calendar."""

    market: str = Field(pattern=r"^[A-Z]{2}$")
    key: str = Field(pattern=r"^[a-z0-9_]+$", description="groups occurrences whose uplift is estimated together")
    name: str
    kind: Literal["mega_sale", "sale", "holiday", "season", "closed"] = Field(
        default="sale", description="closed: the shop takes no orders on these dates (bank holidays, a shutdown)")
    dates: list[dt.date] = Field(min_length=1)
    uncertain: bool = False


class RestockOptions(_Strict):
    review_period_days: int = Field(default=7, ge=1, le=90, description="days between two purchase decisions")
    service_levels: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_SERVICE_LEVELS),
                                             description="target cycle service level per ABC/XYZ class")
    abc_shares: tuple[float, float] = Field(default=(0.8, 0.95), description="cumulative revenue share closing A and B")
    xyz_cv: tuple[float, float] = Field(default=(0.5, 1.0), description="weekly-demand CV closing X and Y")
    horizon_days: int = Field(default=91, ge=28, le=182, description="forecast and projection horizon")
    backtest_origins: int = Field(default=3, ge=2, le=12)
    backtest_spacing_days: int = Field(default=28, ge=7, le=91)
    local_model_sample: int = Field(default=40, ge=0, description="series (the largest by recent units) on which the "
                                    "per-series Holt-Winters is backtested; it can be chosen only for them (each costs ~4 fits)")
    min_history_days: int = Field(default=56, ge=14, description="shorter series are flagged new and forecast from pooled estimates")
    default_lead_time_days: float = Field(default=30, gt=0, description="used where the stock plan gives none")
    warehouse_markets: dict[str, str] = Field(default_factory=dict, description="warehouse -> market where the SKU ID cannot tell")
    extra_events: list[ExtraEvent] = Field(default_factory=list)

    @field_validator("service_levels")
    @classmethod
    def _levels(cls, value: dict[str, float]) -> dict[str, float]:
        merged = {**DEFAULT_SERVICE_LEVELS, **value}
        unknown = sorted(set(merged) - set(CLASSES))
        if unknown:
            raise ValueError(f"unknown class(es) {unknown}; use {CLASSES}")
        bad = {k: v for k, v in merged.items() if not 0.5 <= v < 1}
        if bad:
            raise ValueError(f"service levels must be in [0.5, 1): {bad}")
        return merged


def restock_options(params) -> RestockOptions:
    """The client's restock options, or the defaults when params have no `restock:` section."""
    return getattr(params, "restock", None) or RestockOptions()
