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
    roles: tuple[str, ...] = ()  # besides the operator, who may carry every market-level KPI of their markets

    @property
    def all_roles(self) -> tuple[str, ...]:
        return self.roles + (("operator",) if "market" in self.levels else ())


PEOPLE = ("company", "market", "team", "person")
KPIS = {k.key: k for k in [
    Kpi("gmv_net", money=True),
    Kpi("gmv_gross", money=True),
    Kpi("orders"),
    Kpi("units"),
    Kpi("aov", ratio=True, money=True),
    Kpi("content_gmv_share", ratio=True),
    Kpi("content_cvr", ratio=True, levels=PEOPLE, teams=("creators", "live"), roles=("video_editor", "live_host")),
    Kpi("watch_hours", levels=PEOPLE, teams=("creators", "live"), roles=("video_editor", "live_host")),
    Kpi("creator_gmv", money=True, levels=PEOPLE, teams=("creators",)),
    Kpi("video_gmv", money=True, levels=PEOPLE, teams=("creators",), roles=("video_editor",)),
    Kpi("videos_posted", levels=PEOPLE, teams=("creators",), roles=("video_editor",)),
    Kpi("new_creators", levels=("company", "market", "team"), teams=("creators",)),
    Kpi("live_hours", levels=PEOPLE, teams=("live",), roles=("live_host",)),
    Kpi("live_gmv", money=True, levels=PEOPLE, teams=("live",), roles=("live_host",)),
    Kpi("ad_spend", money=True, levels=("company", "market", "team"), teams=("ads",), roles=("ad_buyer",)),
    Kpi("roas", ratio=True, levels=("company", "market", "team"), teams=("ads",), roles=("ad_buyer",)),
]}
PERCENT_KPIS = ("content_gmv_share", "content_cvr")
HOURS_KPIS = ("live_hours",)  # shown with two decimals; watch hours run to thousands and are shown whole


def check_kpi(key: str, level: str, team: str | None, role: str | None = None) -> Kpi:
    """A KPI a target may name at its level: a shop carries its market's KPIs, a role (and its people) the role's."""
    kpi = KPIS.get(key)
    if kpi is None:
        raise ParamsError(f"targets: unknown KPI {key!r}; known: {', '.join(KPIS)}")
    if role:
        if role not in kpi.all_roles:
            holders = ", ".join(r for r in ("operator", "video_editor", "live_host", "ad_buyer") if r in kpi.all_roles)
            raise ParamsError(f"targets: {key} is not a KPI of role {role!r} (roles: {holders or 'none'})")
        return kpi
    if level not in kpi.levels and not (level == "shop" and "market" in kpi.levels):
        raise ParamsError(f"targets: {key} cannot be set at {level} level (only {', '.join(kpi.levels)})")
    if team and team not in kpi.teams:
        raise ParamsError(f"targets: {key} is not a KPI of team {team!r} (teams: {', '.join(kpi.teams) or 'none'})")
    return kpi


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


NODE_WORDS = ("creators", "live", "ads", "operator", "video_editor", "live_host", "ad_buyer")


def node_label(node: str, language: str) -> str:
    """A node path in the report language: "UK / video_editor / Mia" -> "UK / 剪辑师 / Mia"."""
    if node == "company":
        return t("company", language)
    return " / ".join(t(f"node_{part}", language) if part in NODE_WORDS else part for part in node.split(" / "))


# The unit a count KPI is read in (label keys), so "目标 400" reads "目标 400 条".
KPI_UNITS = {"orders": "unit_orders", "units": "unit_units", "videos_posted": "unit_videos", "new_creators": "unit_creators",
             "live_hours": "unit_hours", "watch_hours": "unit_hours"}


def format_value(kpi: str, value, currency: str | None = None, lang: str | None = None) -> str:
    """A KPI value as shown; money KPIs carry their currency when it is given, counts their unit when `lang` is given."""
    if _missing(value):
        return "–"
    if KPIS[kpi].money and currency:
        from shopkpi.money import money

        return money(value, currency, whole=not KPIS[kpi].ratio)
    if lang and kpi in KPI_UNITS:
        return f"{format_value(kpi, value)} {t(KPI_UNITS[kpi], lang)}"
    if kpi in PERCENT_KPIS:
        return f"{value:.1%}"
    if KPIS[kpi].ratio or kpi in HOURS_KPIS:
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def projection_text(r, currency: str | None = None) -> str:
    """Projection to the period end with its interval; "–" for ratios and ended periods."""
    if KPIS[r.kpi].ratio or r.remaining_days <= 0 or _missing(r.projection):
        return "–"
    return (f"{format_value(r.kpi, r.projection, currency)} "
            f"({format_value(r.kpi, r.projection_low)}–{format_value(r.kpi, r.projection_high)})")


# Every target status in one of four buckets, so the buckets add up to the number of targets.
TARGET_BUCKETS = {"met": ("met",), "on_track": ("on_track",), "behind": ("at_risk", "off_pace", "behind", "missed", "no_data"),
                  "not_started": ("not_started",)}


def target_counts(rows: list[dict]) -> dict[str, int]:
    """Targets of the company, markets, shops, teams and roles (people have their own boards) by bucket; adds to the total."""
    rows = [r for r in rows if r["level"] != "person"]
    counts = {bucket: sum(r["status"] in statuses for r in rows) for bucket, statuses in TARGET_BUCKETS.items()}
    counts["total"] = len(rows)
    if sum(v for k, v in counts.items() if k != "total") != counts["total"]:
        raise ValueError(f"a target status has no bucket: {sorted({r['status'] for r in rows})}")
    return counts
