"""Targets as the client states them in params: explicit targets, top-down split rules, stage template, points,
the agency's people and their roles, and the shops of a market.

A target is one row (period, KPI, node); the node is a path company > market > shop, or
company > market > team | role > person, written as optional `market`, `shop`, `team`, `role` and `person`
fields, so a sheet of targets maps 1:1 to rows.

Teams (`creators`, `live`, `ads`) are where the data puts a row: affiliate creators, LIVE hosts, the ad
account. Roles are the agency's own people and what they own (`people:`): an operator runs markets
(or shops), a video editor is credited with the videos the tagging sheet's Editor column gives them, a
LIVE host with their sessions, an ad buyer with the campaigns whose names match their patterns.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shopkpi.errors import ParamsError
from shopkpi.periods import parse_period

Team = Literal["creators", "live", "ads"]
Role = Literal["operator", "video_editor", "live_host", "ad_buyer"]
Stage = Literal["cold_start", "growth", "mature"]
ROLES: tuple[str, ...] = Role.__args__
# The team whose rows a role's people are credited with (the operator's are whole markets or shops).
TEAM_OF_ROLE = {"video_editor": "creators", "live_host": "live", "ad_buyer": "ads"}
# Roles whose people exist only because params declare them (the data does not name them).
DECLARED_ROLES = ("operator", "ad_buyer")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _valid_period(value: str) -> str:
    try:
        parse_period(str(value))
    except ParamsError as exc:  # pydantic reports ValueErrors with the field's location
        raise ValueError(str(exc)) from None
    return str(value)


class Person(_Strict):
    """One of the agency's people: the name the data uses (tagging sheet's Editor, LIVE host handle) and what they own."""

    name: str = Field(min_length=1, description="as written in the data: editor name, host handle; any name otherwise")
    role: Role
    markets: list[str] = Field(default_factory=list, description="operator: the markets they run; others: only these markets")
    shops: list[str] = Field(default_factory=list, description="operator: only these shops (see `shops`) of their markets")
    campaigns: list[str] = Field(default_factory=list, description="ad buyer: campaign-name patterns, * any text, case ignored")

    @model_validator(mode="after")
    def _owns_something(self) -> "Person":
        if self.role == "operator" and not self.markets:
            raise ValueError(f"operator {self.name!r} needs `markets` (the markets or shops they run)")
        if self.role == "ad_buyer" and not self.campaigns:
            raise ValueError(f"ad buyer {self.name!r} needs `campaigns` (campaign-name patterns like 'UK_*')")
        if self.campaigns and self.role != "ad_buyer":
            raise ValueError(f"{self.name!r}: `campaigns` is for role ad_buyer, not {self.role}")
        if self.shops and self.role != "operator":
            raise ValueError(f"{self.name!r}: `shops` is for role operator, not {self.role}")
        return self


class Shop(_Strict):
    """A shop of a market, told apart by the raw files its exports were saved as (the exports do not name the shop)."""

    name: str = Field(min_length=1)
    market: str
    files: list[str] = Field(min_length=1, description="patterns on the file's path under data/<client>/raw, * any text")


class TargetItem(_Strict):
    period: str = Field(description="2026-W47, 2026-11 or 2026-Q4")
    kpi: str
    value: float = Field(ge=0)
    market: str | None = None
    shop: str | None = Field(default=None, description="a shop of `market` declared in `shops`")
    team: Team | None = None
    role: Role | None = None
    person: str | None = Field(default=None, description="creator, LIVE host, or one of `people`")

    _period = field_validator("period", mode="before")(_valid_period)

    @model_validator(mode="after")
    def _path_has_no_gaps(self) -> "TargetItem":
        if self.team and self.role:
            raise ValueError("a target names a team or a role, not both")
        if self.person and not (self.team or self.role):
            raise ValueError("a person target needs its team (creators or live) or its role")
        if self.team and not self.market:
            raise ValueError("a team target needs its market")
        if self.shop and not self.market:
            raise ValueError("a shop target needs its market")
        if self.shop and (self.team or self.role or self.person):
            raise ValueError("a shop target is for the shop as a whole: leave out team, role and person "
                             "(an operator's `shops` narrow their own targets)")
        return self


class SplitRule(_Strict):
    """Top-down: split a parent target into its children by their share of a reference window."""

    period: str
    kpi: str
    to: Literal["market", "shop", "person"]
    market: str | None = Field(default=None, description="parent market, for a split to shops or persons")
    team: Team | None = None
    role: Role | None = None

    _period = field_validator("period", mode="before")(_valid_period)

    @model_validator(mode="after")
    def _parent_is_named(self) -> "SplitRule":
        if self.to == "shop" and not self.market:
            raise ValueError("a split to shops needs the parent `market`")
        if self.to == "person" and not (self.team or self.role):
            raise ValueError("a split to persons needs the parent `team` or `role`")
        if self.team and self.role:
            raise ValueError("a split names a team or a role, not both")
        if self.team and not self.market:
            raise ValueError("a split to a team's persons needs the parent `market`")
        return self


class PointsRules(_Strict):
    video_posted: float = Field(default=0, ge=0, description="per video posted (creators) or edited (video editors)")
    live_hour: float = Field(default=0, ge=0)
    new_creator: float = Field(default=0, ge=0)
    attainment_bonus: float = Field(default=0, ge=0, description="points for each personal target reached (>= 100%)")
    gmv_per_1000: float = Field(default=0, ge=0, description="per 1,000 of the reporting currency of the board's GMV KPI "
                                "(creator, video, LIVE or net GMV): outcome, not only effort")
    roas: float = Field(default=0, ge=0, description="ad buyers: per 1.0 of ROAS above break-even 1.0 (spend itself earns nothing)")


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
    people: list[Person] = Field(default_factory=list)
    shops: list[Shop] = Field(default_factory=list)
    pace_window_days: int = Field(default=28, ge=7, le=120, description="days of history behind the run-rate projection")

    @model_validator(mode="after")
    def _names_resolve(self) -> "TargetsConfig":
        seen_shops = set()
        for s in self.shops:
            if (s.market, s.name) in seen_shops:
                raise ValueError(f"shops: shop {s.name!r} of {s.market} is listed twice")
            seen_shops.add((s.market, s.name))
        seen_people = set()
        for i, p in enumerate(self.people):
            if (p.role, p.name) in seen_people:
                raise ValueError(f"people[{i}]: {p.name!r} is listed twice as {p.role}")
            seen_people.add((p.role, p.name))
            strays = [s for s in p.shops if not any((m, s) in seen_shops for m in p.markets)]
            if strays:
                raise ValueError(f"people[{i}] ({p.name}): shop(s) {strays} are not in `shops` for markets {p.markets}")
        for i, item in enumerate(self.items):
            where = f"items[{i}] ({item.period} {item.kpi})"
            if item.shop and (item.market, item.shop) not in seen_shops:
                known = sorted(s.name for s in self.shops if s.market == item.market)
                raise ValueError(f"{where}: shop {item.shop!r} of {item.market} is not in `shops` (known: {known or 'none'})")
            self._check_role_person(where, item.role, item.person)
        for i, rule in enumerate(self.split):
            if rule.to == "shop" and not any(s.market == rule.market for s in self.shops):
                raise ValueError(f"split[{i}]: market {rule.market} has no `shops` to split into")
            self._check_role_person(f"split[{i}]", rule.role, None)
        return self

    def _check_role_person(self, where: str, role: str | None, person: str | None) -> None:
        if not role:
            return
        declared = [p.name for p in self.people if p.role == role]
        if role in DECLARED_ROLES and not declared:
            raise ValueError(f"{where}: role {role} has nobody in `people` (add e.g. "
                             f"{{name: ..., role: {role}, {'markets: [UK]' if role == 'operator' else 'campaigns: [UK_*]'}}})")
        if person and role in DECLARED_ROLES and person not in declared:
            raise ValueError(f"{where}: {person!r} is not declared as {role} in `people` (known: {declared})")
        other = [p.role for p in self.people if p.name == person and p.role != role]
        if person and other and person not in declared:
            raise ValueError(f"{where}: {person!r} is declared as {other[0]} in `people`, not as {role}")

    def role_people(self, role: str) -> list[Person]:
        return [p for p in self.people if p.role == role]

    def check_markets(self, codes: list[str]) -> None:
        """People's and shops' markets must be the client's; raises ValueError naming the entry."""
        for i, p in enumerate(self.people):
            strays = sorted(set(p.markets) - set(codes))
            if strays:
                raise ValueError(f"targets.people[{i}] ({p.name}): market(s) {strays} are not among the markets {codes}")
        for i, s in enumerate(self.shops):
            if s.market not in codes:
                raise ValueError(f"targets.shops[{i}] ({s.name}): market {s.market!r} is not among the markets {codes}")
