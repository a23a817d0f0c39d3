"""The KPI catalogue (what may be targeted, at which levels and teams) and how KPI values are shown.

Import-light (no pandas): the dashboard and the review page use it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shopkpi.dictionary import t
from shopkpi.errors import ParamsError


@dataclass(frozen=True)
class Kpi:
    key: str
    ratio: bool = False
    money: bool = False
    levels: tuple[str, ...] = ("company", "market")
    teams: tuple[str, ...] = ()


KPIS = {k.key: k for k in [
    Kpi("gmv_net", money=True),
    Kpi("gmv_gross", money=True),
    Kpi("orders"),
    Kpi("units"),
    Kpi("aov", ratio=True, money=True),
    Kpi("content_gmv_share", ratio=True),
    Kpi("creator_gmv", money=True, levels=("company", "market", "team", "person"), teams=("creators",)),
    Kpi("videos_posted", levels=("company", "market", "team", "person"), teams=("creators",)),
    Kpi("new_creators", levels=("company", "market", "team"), teams=("creators",)),
    Kpi("live_hours", levels=("company", "market", "team", "person"), teams=("live",)),
    Kpi("live_gmv", money=True, levels=("company", "market", "team", "person"), teams=("live",)),
    Kpi("ad_spend", money=True, levels=("company", "market", "team"), teams=("ads",)),
    Kpi("roas", ratio=True, levels=("company", "market", "team"), teams=("ads",)),
]}


def check_kpi(key: str, level: str, team: str | None) -> Kpi:
    kpi = KPIS.get(key)
    if kpi is None:
        raise ParamsError(f"targets: unknown KPI {key!r}; known: {', '.join(KPIS)}")
    if level not in kpi.levels:
        raise ParamsError(f"targets: {key} cannot be set at {level} level (only {', '.join(kpi.levels)})")
    if team and team not in kpi.teams:
        raise ParamsError(f"targets: {key} is not a KPI of team {team!r} (teams: {', '.join(kpi.teams) or 'none'})")
    return kpi


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def node_label(node: str, language: str) -> str:
    return t("company", language) if node == "company" else node


def format_value(kpi: str, value) -> str:
    if _missing(value):
        return "–"
    if kpi == "content_gmv_share":
        return f"{value:.1%}"
    if KPIS[kpi].ratio or kpi == "live_hours":
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def projection_text(r) -> str:
    """Projection to the period end with its interval; "–" for ratios and ended periods."""
    if KPIS[r.kpi].ratio or r.remaining_days <= 0 or _missing(r.projection):
        return "–"
    return f"{format_value(r.kpi, r.projection)} ({format_value(r.kpi, r.projection_low)}–{format_value(r.kpi, r.projection_high)})"
