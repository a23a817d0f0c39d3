"""Targets as the client states them in params: explicit targets, top-down split rules, stage template, points.

A target is one row (period, KPI, node); the node is a path company > market > team > person,
written as optional `market`, `team` and `person` fields, so a sheet of targets maps 1:1 to rows.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shopkpi.errors import ParamsError
from shopkpi.periods import parse_period

Team = Literal["creators", "live", "ads"]
Stage = Literal["cold_start", "growth", "mature"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _valid_period(value: str) -> str:
    try:
        parse_period(str(value))
    except ParamsError as exc:  # pydantic reports ValueErrors with the field's location
        raise ValueError(str(exc)) from None
    return str(value)


class TargetItem(_Strict):
    period: str = Field(description="2026-W47, 2026-11 or 2026-Q4")
    kpi: str
    value: float = Field(ge=0)
    market: str | None = None
    team: Team | None = None
    person: str | None = Field(default=None, description="creator or LIVE host handle")

    _period = field_validator("period", mode="before")(_valid_period)

    @model_validator(mode="after")
    def _path_has_no_gaps(self) -> "TargetItem":
        if self.person and not self.team:
            raise ValueError("a person target needs its team (creators or live)")
        if self.team and not self.market:
            raise ValueError("a team target needs its market")
        return self


class SplitRule(_Strict):
    """Top-down: split a parent target into its children by their share of a reference window."""

    period: str
    kpi: str
    to: Literal["market", "person"]
    market: str | None = Field(default=None, description="parent market, for a split to persons")
    team: Team | None = None

    _period = field_validator("period", mode="before")(_valid_period)


class PointsRules(_Strict):
    video_posted: float = Field(default=0, ge=0)
    live_hour: float = Field(default=0, ge=0)
    new_creator: float = Field(default=0, ge=0)
    attainment_bonus: float = Field(default=0, ge=0, description="points for each personal target reached (>= 100%)")


class Vendor(_Strict):
    """An outsourced team or agency, rated on the same KPIs as in-house people."""

    name: str
    creators: list[str] = Field(default_factory=list)
    hosts: list[str] = Field(default_factory=list)


class TargetsConfig(_Strict):
    stage: Stage | None = Field(default=None, description="fills unset company KPIs from data/target_templates.yaml")
    items: list[TargetItem] = Field(default_factory=list)
    split: list[SplitRule] = Field(default_factory=list)
    points: PointsRules = PointsRules()
    vendors: list[Vendor] = Field(default_factory=list)
    pace_window_days: int = Field(default=28, ge=7, le=120, description="days of history behind the run-rate projection")
