"""Alert records and the alerts.json artifact that other channels (dashboard, report, chat bots) consume.

One schema for every kind of alert. The shop-health monitor writes kind "shop_health"; the KPI-pace
code adds kind "kpi_pace" through `make_alert` and `write_alerts`. Each writer replaces only its
own kinds in alerts.json, so the two can run in either order.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import math
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

from shopkpi import artifacts
from shopkpi.errors import ShopkpiError

SCHEMA = "shopkpi.alerts/1"
ALERTS_FILE = "alerts.json"
KINDS = ("shop_health", "kpi_pace")
SEVERITIES = ("critical", "warning", "info")
STATUSES = ("breach", "at_risk", "off_pace")
SOURCES = ("computed", "export")
DIRECTIONS = ("worsening", "improving", "stable")
UNITS = ("rate", "money", "count", "number")
LANGUAGES = ("en", "zh")
MAX_EVIDENCE_ORDERS = 20


class AlertError(ShopkpiError):
    """An alert record does not follow the alerts schema, or alerts.json cannot be merged."""


@cache
def _actions() -> dict:
    text = resources.files("shopkpi.data").joinpath("health_actions.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def corrective_action(key: str) -> dict[str, str]:
    """The suggested action for a metric (data/health_actions.yaml) in every report language."""
    entry = _actions().get(key)
    if entry is None:
        raise AlertError(f"no corrective action for {key!r} in data/health_actions.yaml")
    missing = [lang for lang in LANGUAGES if not entry.get(lang)]
    if missing:
        raise AlertError(f"data/health_actions.yaml: {key!r} has no {', '.join(missing)} text")
    return {lang: entry[lang] for lang in LANGUAGES}


def trend_direction(values: list[float], higher_is_better: bool, tolerance: float) -> str | None:
    """Latest value against the median of the earlier ones: worsening, improving or stable (None without history)."""
    history = [v for v in values[:-1] if v is not None and not math.isnan(v)]
    if not values or not history or values[-1] is None or math.isnan(values[-1]):
        return None
    history.sort()
    mid = len(history) // 2
    median = history[mid] if len(history) % 2 else (history[mid - 1] + history[mid]) / 2
    change = values[-1] - median
    if abs(change) <= tolerance:
        return "stable"
    return "improving" if (change > 0) == higher_is_better else "worsening"


def _number(value, name: str) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise AlertError(f"alert {name} must be a number, got {value!r}") from None
    return None if math.isnan(number) else number


def make_alert(kind: str, market: str, metric: str, period: str, severity: str, value: float | None,
               threshold: float | None, *, subject: str = "", unit: str = "rate", status: str = "breach", comparator: str | None = None,
               period_start: dt.date | str | None = None, period_end: dt.date | str | None = None,
               trend: list[tuple[str, float | None]] | None = None, trend_direction: str | None = None,
               evidence: dict | None = None, action: dict[str, str] | None = None, source: str = "computed",
               details: dict | None = None) -> dict:
    """One alert record in the alerts.json schema.

    kind: "shop_health" or "kpi_pace"; market: a market code, or "" for the whole company;
    subject: what below the market the alert is about (a shop, team, role or person), "" for the market itself;
    metric: a metric or KPI key with a label in data/metrics or data/i18n; period: the period the value
    is about (e.g. "2026-W46"); severity: critical / warning / info; status: breach / at_risk / off_pace;
    value and threshold in the metric's `unit` (rate: a fraction shown as %, money, count or number),
    compared with `comparator` ("<", "<=", ">", ">=": the side the value must stay on);
    trend: (period, value) pairs oldest first, ending with this period; evidence: numerator, denominator,
    order_ids (only the first 20 are kept; order_ids_total keeps the count) and anything else that
    supports the alert; action: {"en": ..., "zh": ...}, by default data/health_actions.yaml's entry for
    the metric (or "kpi_pace" for KPI alerts); source: "computed" (from our data) or "export" (read from
    a platform export); details: free extra fields for the consumer (e.g. target, projection, interval).
    """
    if kind not in KINDS:
        raise AlertError(f"alert kind must be one of {KINDS}, got {kind!r}")
    if severity not in SEVERITIES:
        raise AlertError(f"alert severity must be one of {SEVERITIES}, got {severity!r}")
    if status not in STATUSES:
        raise AlertError(f"alert status must be one of {STATUSES}, got {status!r}")
    if source not in SOURCES:
        raise AlertError(f"alert source must be one of {SOURCES}, got {source!r}")
    if unit not in UNITS:
        raise AlertError(f"alert unit must be one of {UNITS}, got {unit!r}")
    if comparator is not None and comparator not in ("<", "<=", ">", ">="):
        raise AlertError(f"alert comparator must be one of <, <=, >, >= or None, got {comparator!r}")
    if trend_direction is not None and trend_direction not in DIRECTIONS:
        raise AlertError(f"alert trend_direction must be one of {DIRECTIONS} or None, got {trend_direction!r}")
    if not metric or not isinstance(metric, str):
        raise AlertError(f"alert metric must be a non-empty key, got {metric!r}")
    if not period or not isinstance(period, str):
        raise AlertError(f"alert period must be a period name like 2026-W46, got {period!r}")
    if action is None:
        action = corrective_action(metric if kind == "shop_health" else "kpi_pace")
    missing = [lang for lang in LANGUAGES if not (action or {}).get(lang)]
    if missing:
        raise AlertError(f"alert action for {metric!r} has no {', '.join(missing)} text")
    evidence = dict(evidence or {})
    if "order_ids" in evidence:
        ids = [str(i) for i in evidence["order_ids"]]
        evidence["order_ids"] = ids[:MAX_EVIDENCE_ORDERS]
        evidence.setdefault("order_ids_total", len(ids))
    points = [{"period": p, "value": _number(v, "trend value")} for p, v in (trend or [])]
    return {
        "id": ":".join([kind, market or "all", *([subject] if subject else []), metric, period]),
        "kind": kind, "market": market, "subject": subject, "metric": metric, "period": period,
        "period_start": str(period_start) if period_start else None,
        "period_end": str(period_end) if period_end else None,
        "severity": severity, "status": status,
        "value": _number(value, "value"), "threshold": _number(threshold, "threshold"), "comparator": comparator,
        "unit": unit,
        "trend": {"direction": trend_direction, "points": points},
        "evidence": evidence, "action": {lang: action[lang] for lang in LANGUAGES}, "source": source,
        **({"details": details} if details else {}),
    }


_REQUIRED = {"id", "kind", "market", "metric", "period", "severity", "status", "value", "threshold", "trend",
             "evidence", "action", "source"}


def validate_alert(alert: dict) -> None:
    """Raise AlertError if a record does not follow the schema (e.g. a hand-built dict)."""
    missing = sorted(_REQUIRED - set(alert))
    if missing:
        raise AlertError(f"alert {alert.get('id', '?')}: missing field(s) {missing}; build alerts with make_alert")
    if alert["kind"] not in KINDS or alert["severity"] not in SEVERITIES or alert["status"] not in STATUSES:
        raise AlertError(f"alert {alert['id']}: kind, severity or status outside the schema")


_SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}


def sort_alerts(alerts: list[dict]) -> list[dict]:
    return sorted(alerts, key=lambda a: (_SEVERITY_ORDER[a["severity"]], a["kind"], a["market"], a.get("subject", ""),
                                         a["metric"], a["period"]))


def alerts_path(ctx) -> Path:
    return ctx.artifacts_dir / ALERTS_FILE


def write_alerts(ctx, alerts: list[dict], *, kinds: list[str] | tuple[str, ...] | None = None,
                 details: dict[str, dict] | None = None) -> Path:
    """Write (or merge into) ctx.artifacts_dir / alerts.json.

    The kinds in `kinds` (default: the kinds of the given alerts) are replaced by these alerts;
    every other kind already in the file is kept as it was. Pass `kinds` explicitly to record
    that a check ran and found nothing. `details` adds per-kind sections (e.g. a status table).
    """
    kinds = tuple(kinds) if kinds is not None else tuple(sorted({a["kind"] for a in alerts}))
    if not kinds:
        raise AlertError("write_alerts: no alerts and no kinds given; pass kinds=[...] to record an empty check")
    for kind in kinds:
        if kind not in KINDS:
            raise AlertError(f"write_alerts: unknown kind {kind!r}; use {KINDS}")
    for alert in alerts:
        validate_alert(alert)
        if alert["kind"] not in kinds:
            raise AlertError(f"write_alerts: alert {alert['id']} is of kind {alert['kind']!r}, not one of {kinds}")
    ids = [a["id"] for a in alerts]
    if len(set(ids)) != len(ids):
        raise AlertError(f"write_alerts: duplicate alert ids {sorted({i for i in ids if ids.count(i) > 1})}")
    from shopkpi.owners import owner_labels

    # Each alert names who acts on it (from params' people), in both report languages.
    alerts = [{**a, "owner": owner_labels(ctx.params, a.get("market"), a.get("subject"))} for a in alerts]
    path = alerts_path(ctx)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Health and targets may run concurrently (run --workers): read-merge-write under one lock.
    with open(path.with_name("." + path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _merge_write(ctx, path, alerts, kinds, details)


def _merge_write(ctx, path: Path, alerts: list[dict], kinds: tuple, details: dict | None) -> Path:
    sections: dict = {}
    if path.exists():
        existing = artifacts.read_json(path)
        if existing.get("schema") != SCHEMA:
            raise AlertError(f"{path}: schema {existing.get('schema')!r} is not {SCHEMA!r}; delete the file to start over")
        if existing.get("period") != ctx.period.name:
            raise AlertError(f"{path}: holds period {existing.get('period')!r}, not {ctx.period.name!r}")
        sections = existing.get("kinds", {})
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    for kind in kinds:
        sections[kind] = {"generated_at": now, **((details or {}).get(kind) or {}),
                          "alerts": sort_alerts([a for a in alerts if a["kind"] == kind])}
    every = sort_alerts([a for section in sections.values() for a in section["alerts"]])
    p = ctx.period
    payload = {
        "schema": SCHEMA, "client": ctx.client, "display_name": ctx.params.display_name, "language": ctx.language,
        "period": p.name, "period_kind": p.kind, "period_start": p.start, "period_end": p.end, "generated_at": now,
        "reporting_currency": ctx.params.reporting_currency,
        "counts": {s: sum(a["severity"] == s for a in every) for s in SEVERITIES},
        "alerts": every, "kinds": sections,
    }
    return artifacts.write_json(path, payload)


def read_alerts(path: Path) -> dict:
    payload = artifacts.read_json(path)
    if payload.get("schema") != SCHEMA:
        raise AlertError(f"{path}: not an alerts file of schema {SCHEMA!r}")
    return payload
