"""The shop-health monitor: weekly metrics against the thresholds in force, and the alerts they raise.

Severity rules (one place, documented in the notebook):
- breach: the value is on the wrong side of the threshold in force that week.
  critical when the breach is clear (the 95% Wilson interval of a computed rate lies wholly past the
  threshold; export values have no interval) AND it is large (at least the width of the warning band
  past the threshold) or it repeats the previous week's breach; otherwise warning.
- at risk: inside the threshold but past the warning level; an info alert only when it is a sustained
  drift: the previous week was also at risk or in breach, and the value is worsening (it moved past the
  median of the previous weeks by more than half the warning band).
Where we compute a metric, our value decides; the platform's own value (shop performance export) still
raises the alert when ours does not, with source "export", because the platform enforces its number.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from shopkpi.errors import NoDataError
from shopkpi.health import metrics as hm
from shopkpi.health.alerts import (
    corrective_action,
    make_alert,
    trend_direction,
    write_alerts,
)
from shopkpi.health.thresholds import health_rules, resolve
from shopkpi.params import RunContext
from shopkpi.periods import Period, week_of
from shopkpi.store import Store

STATUSES = ("breach", "at_risk", "ok", "no_threshold", "no_data")


def assess(weekly: pd.DataFrame) -> pd.DataFrame:
    """Add the threshold in force for each market-week-metric and the status of ours and the platform's value."""
    rows = []
    for r in weekly.itertuples(index=False):
        th = resolve(r.market, r.metric, r.week_end)
        value = None if pd.isna(r.value) else float(r.value)
        platform = None if pd.isna(r.platform_value) else float(r.platform_value)
        if th is None:
            status, platform_status, shortfall = ("no_threshold" if value is not None else "no_data"), None, None
        elif value is None:
            status, platform_status, shortfall = "no_data", None, None
        else:
            status = "breach" if th.breached(value) else "at_risk" if th.at_risk(value) else "ok"
            shortfall = th.shortfall(value)
        if th is not None and platform is not None:
            platform_status = "breach" if th.breached(platform) else "at_risk" if th.at_risk(platform) else "ok"
        elif th is not None:
            platform_status = None
        rows.append({
            "threshold": th.threshold if th else None, "comparator": th.comparator if th else None,
            "warning_level": th.warning_level if th else None, "threshold_confirmed": th.confirmed if th else None,
            "threshold_source": th.source if th else None, "threshold_tag": th.tag if th else None,
            "status": status, "platform_status": platform_status, "shortfall": shortfall,
        })
    return pd.concat([weekly.reset_index(drop=True), pd.DataFrame(rows, index=range(len(weekly)))], axis=1)


def _clear_breach(row, higher_is_better: bool) -> bool | None:
    """Whether the 95% interval lies wholly past the threshold; None when there is no interval (export values)."""
    if pd.isna(row.ci_low) or pd.isna(row.ci_high):
        return None
    return bool(row.ci_high < row.threshold) if higher_is_better else bool(row.ci_low > row.threshold)


def evaluate(assessed: pd.DataFrame, weeks: dict[str, list[dt.date]] | None = None) -> list[dict]:
    """Shop-health alerts for the given market weeks (all weeks when None), with trend and evidence."""
    rules = health_rules()
    n_trend = int(rules["trend_weeks"])
    alerts = []
    for (market, metric), g in assessed.groupby(["market", "metric"], sort=True):
        g = g.sort_values("week_start").reset_index(drop=True)
        by_week = {w: i for i, w in enumerate(g["week_start"])}
        wanted = g["week_start"] if weeks is None else [w for w in weeks.get(market, []) if w in by_week]
        for week in wanted:
            i = by_week[week]
            row = g.iloc[i]
            # Ours decides where we compute the metric; the platform's own value can still raise the alert,
            # since the platform enforces its number (e.g. orders whose delivery our exports never saw).
            status, value, source = row.status, row.value, row.source
            if status not in ("breach", "at_risk") and row.platform_status in ("breach", "at_risk"):
                status, value, source = row.platform_status, row.platform_value, "export"
            elif status == "at_risk" and row.platform_status == "breach":
                status, value, source = "breach", row.platform_value, "export"
            if status not in ("breach", "at_risk"):
                continue
            higher_is_better = row.comparator in (">", ">=")
            band = abs(row.threshold - row.warning_level)
            history = g.iloc[max(0, i - n_trend + 1): i + 1]
            values = [None if pd.isna(v) else float(v) for v in history["value"]]
            direction = trend_direction(values, higher_is_better, band / 2)
            previous = g.iloc[i - 1] if i > 0 and g.iloc[i - 1].week_start == week - dt.timedelta(days=7) else None
            shortfall = row.threshold - value if higher_is_better else value - row.threshold
            clear = _clear_breach(row, higher_is_better) if source == "computed" else None
            if status == "breach":
                large_or_repeated = shortfall >= band or (previous is not None and "breach" in (previous.status, previous.platform_status))
                severity = "critical" if clear is not False and large_or_repeated else "warning"
            elif direction == "worsening" and previous is not None and previous.status in ("at_risk", "breach"):
                severity = "info"  # a sustained drift toward the threshold, not one noisy week
            else:
                continue
            evidence = {"clear_breach": clear, "ours": None if pd.isna(row.value) else float(row.value),
                        "ours_status": row.status,
                        "platform_value": None if pd.isna(row.platform_value) else float(row.platform_value),
                        "platform_status": row.platform_status, "threshold_confirmed": bool(row.threshold_confirmed),
                        "threshold_source": row.threshold_source, "warning_level": float(row.warning_level)}
            if row.source == "computed":
                evidence |= {"numerator": int(row.numerator), "denominator": int(row.denominator),
                             "ci_low": float(row.ci_low), "ci_high": float(row.ci_high),
                             # Always the failing orders: late, seller-cancelled, untracked, delivered late, returned.
                             "order_ids": list(row.order_ids)}
            period = week_of(week)
            alerts.append(make_alert(
                "shop_health", market, metric, period.name, severity, float(value), float(row.threshold),
                status=status, comparator=row.comparator, period_start=period.start, period_end=period.end,
                trend=[(week_of(w).name, v) for w, v in zip(history["week_start"], values)], trend_direction=direction,
                evidence=evidence, action=corrective_action(metric), source=source))
    return alerts


def report_weeks(assessed: pd.DataFrame, period: Period) -> dict[str, list[dt.date]]:
    """Per market, the weeks a report period is about: those ending inside it, else the latest ending before its end."""
    out = {}
    for market, g in assessed.groupby("market"):
        ends = sorted({w for w in g["week_start"] if w + dt.timedelta(days=6) <= period.end})
        inside = [w for w in ends if w + dt.timedelta(days=6) >= period.start]
        out[market] = inside or ends[-1:]
    return out


@dataclass
class ShopHealth:
    ctx: RunContext
    assessed: pd.DataFrame  # every market-week-metric up to the period end, with thresholds and status
    weeks: dict[str, list[dt.date]]  # the report weeks per market
    alerts: list[dict]
    frozen: pd.DataFrame  # orders whose delivery cannot be known from the stored exports
    has_export: bool = True
    notes: list[str] = field(default_factory=list)

    def latest(self) -> pd.DataFrame:
        """The latest report week of each market, every metric."""
        last = {m: ws[-1] for m, ws in self.weeks.items() if ws}
        a = self.assessed
        mask = [last.get(m) == w for m, w in zip(a["market"], a["week_start"])]
        return a[mask].reset_index(drop=True)

    def comparison(self) -> pd.DataFrame:
        """Ours vs the platform's value per market and metric: latest report week and all weeks to date."""
        a = self.assessed[self.assessed["source"].eq("computed") & self.assessed["platform_value"].notna()]
        if a.empty:
            return pd.DataFrame(columns=["market", "metric", "weeks", "ours", "platform", "difference",
                                         "mean_abs_difference", "max_abs_difference", "status_disagreements"])
        latest = self.latest().set_index(["market", "metric"])
        rows = []
        for (market, metric), g in a.groupby(["market", "metric"]):
            diff = (g["value"] - g["platform_value"]).abs()
            last = latest.loc[(market, metric)] if (market, metric) in latest.index else None
            rows.append({"market": market, "metric": metric, "weeks": len(g),
                         "ours": None if last is None else last["value"], "platform": None if last is None else last["platform_value"],
                         "difference": None if last is None else last["value"] - last["platform_value"],
                         "mean_abs_difference": float(diff.mean()), "max_abs_difference": float(diff.max()),
                         "status_disagreements": int((g["status"] != g["platform_status"]).sum())})
        return pd.DataFrame(rows)

    def thresholds_in_force(self) -> list[dict]:
        """The threshold row behind each market's metric in its latest report week."""
        out = []
        for r in self.latest().itertuples():
            th = resolve(r.market, r.metric, r.week_end)
            if th is not None:
                out.append({**th.to_dict(), "market": r.market})
        return out

    def to_details(self) -> dict:
        """The shop_health section of alerts.json besides the alerts: what the dashboard page shows."""
        cols = ["market", "metric", "week_start", "week_end", "source", "value", "numerator", "denominator", "ci_low",
                "ci_high", "platform_value", "threshold", "comparator", "warning_level", "threshold_confirmed", "status",
                "platform_status"]
        latest = self.latest()[cols].astype(object).where(self.latest()[cols].notna(), None)
        return {
            "weeks": {m: [week_of(w).name for w in ws] for m, ws in self.weeks.items()},
            "status": latest.to_dict(orient="records"),
            "comparison": self.comparison().astype(object).to_dict(orient="records"),
            "frozen_in_transit": self.frozen.astype(object).to_dict(orient="records"),
            "thresholds": self.thresholds_in_force(),
            "figures": [f"figures/health_{m}.png" for m in hm.METRICS if m in set(self.assessed["metric"])],
            "thresholds_file": "lib/shopkpi/data/health_thresholds.csv",
            "has_export": self.has_export,
        }


def build_shop_health(ctx: RunContext) -> ShopHealth:
    """Compute every metric up to the report period's end, assess it, and raise the period's alerts."""
    has_export = Store(ctx.client).has("shop_performance")
    con, facts = hm.load_facts(ctx.client, ctx.params)
    weekly = hm.weekly_from_facts(con, facts, ctx.params, with_export=has_export)
    weekly = weekly[weekly["week_end"] <= ctx.period.end].reset_index(drop=True) if len(weekly) else weekly
    if weekly.empty:
        raise NoDataError(f"client {ctx.client}: no complete local week (Monday to Sunday) of paid orders up to "
                          f"{ctx.period.end} yet; shop health is weekly: ingest Orders exports that cover a whole week, "
                          "or the Shop Performance export")
    assessed = assess(weekly)
    weeks = report_weeks(assessed, ctx.period)
    alerts = evaluate(assessed, weeks)
    until = pd.Timestamp(ctx.period.end + dt.timedelta(days=1))
    return ShopHealth(ctx=ctx, assessed=assessed, weeks=weeks, alerts=alerts,
                      frozen=hm.frozen_in_transit(facts[facts["paid_local"] < until]), has_export=has_export)


def write_shop_health(health: ShopHealth):
    """alerts.json (kind shop_health, merged with any other kinds already written)."""
    return write_alerts(health.ctx, health.alerts, kinds=["shop_health"], details={"shop_health": health.to_details()})
