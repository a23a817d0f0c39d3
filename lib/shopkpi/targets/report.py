"""Everything the KPI notebook shows and leaves behind: evaluated targets, gaps, leaderboards, alerts, targets.json."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from shopkpi import artifacts
from shopkpi.clean import connect_clean
from shopkpi.dictionary import t
from shopkpi.errors import NoDataError
from shopkpi.params import RunContext
from shopkpi.report import register_fx
from shopkpi.targets.actuals import daily_actuals
from shopkpi.targets.catalogue import KPIS, PERCENT_KPIS, format_value, node_label, projection_text, target_counts
from shopkpi.targets.progress import bottom_up_gaps, evaluate, stage_templates
from shopkpi.targets.scorecard import BOARDS, leaderboard, vendor_scorecard

# Severity of a target's status: missed at period end is critical, off pace a warning, at risk for information.
ALERT_STATUSES = {"off_pace": "warning", "missed": "critical", "at_risk": "info"}


@dataclass
class TargetsReport:
    ctx: RunContext
    actuals: pd.DataFrame
    evaluated: pd.DataFrame
    gaps: pd.DataFrame
    leaderboards: dict[str, pd.DataFrame]
    vendors: pd.DataFrame

    def tree(self, include_persons: bool = False) -> pd.DataFrame:
        """The KPI tree for reading: one row per target, indented by level, labels in the report language."""
        lang, ev, cur = self.ctx.language, self.evaluated, self.ctx.params.reporting_currency
        if ev.empty:
            return pd.DataFrame()
        if not include_persons:
            ev = ev[ev["level"] != "person"]
        return pd.DataFrame({
            t("period", lang): ev["period"],
            t("kpi", lang): ev["kpi"].map(lambda k: t(k, lang)),
            t("target_node", lang): ["\u2003" * d + node_label(n, lang) for d, n in zip(ev["depth"], ev["node"])],
            t("target", lang): [format_value(k, v, cur) for k, v in zip(ev["kpi"], ev["target"])],
            t("actual", lang): [format_value(k, v, cur) for k, v in zip(ev["kpi"], ev["actual"])],
            t("attainment", lang): ev["attainment"].map(lambda v: "–" if pd.isna(v) else f"{v:.0%}"),
            t("time_elapsed", lang): ev["elapsed_share"].map(lambda v: f"{v:.0%}"),
            t("projection", lang): [projection_text(r, cur) for r in ev.itertuples()],
            t("needed_per_day", lang): [format_value(k, v, cur) if pd.notna(v) else "–" for k, v in zip(ev["kpi"], ev["needed_per_day"])],
            t("status", lang): ev["status"].map(lambda s: t(f"status_{s}", lang)),
            t("target_source", lang): ev["source"].map(lambda s: t(f"source_{s}", lang)),
        })

    def gap_table(self) -> pd.DataFrame:
        lang = self.ctx.language
        names = {"period": "period", "kpi": "kpi", "node": "target_node", "target": "target", "children": "children",
                 "children_sum": "children_sum", "gap": "gap", "sources": "target_source"}
        if self.gaps.empty:
            return pd.DataFrame(columns=[t(v, lang) for v in names.values()])
        df = self.gaps.assign(kpi=self.gaps["kpi"].map(lambda k: t(k, lang)), node=self.gaps["node"].map(lambda n: node_label(n, lang)),
                              sources=self.gaps["sources"].map(lambda s: ", ".join(t(f"source_{x}", lang) for x in s.split(", "))))
        return df[list(names)].rename(columns={k: t(v, lang) for k, v in names.items()})

    def leaderboard_table(self, board: str, top: int = 15) -> pd.DataFrame:
        """A board for reading: KPI values formatted as the KPI is (money, hours, %), labels in the report language."""
        lang = self.ctx.language
        table = self.leaderboards[board].head(top)
        kpis = [k for k in table.columns if k in KPIS]
        cur = self.ctx.params.reporting_currency
        shown = table.assign(**{k: [format_value(k, v, cur) for v in table[k]] for k in kpis})
        names = {"rank": "rank", "market": "market", "person": "person"} | {k: k for k in kpis} | {
            "points": "points", "targets": "targets_count", "targets_met": "targets_met"}
        return shown[list(names)].rename(columns={k: t(v, lang) for k, v in names.items()})

    def people_table(self) -> pd.DataFrame:
        """Who is credited with what: each declared person, their role and what they own (markets, shops, campaigns)."""
        lang, config = self.ctx.language, self.ctx.params.targets
        rows = [{t("person", lang): p.name, t("role", lang): t(f"node_{p.role}", lang),
                 t("owns", lang): "; ".join(part for part in (", ".join(p.markets), ", ".join(p.shops), ", ".join(p.campaigns))
                                            if part)} for p in config.people]
        rows += [{t("person", lang): "", t("role", lang): t("shop", lang), t("owns", lang): f"{s.market} · {s.name}: "
                  + ", ".join(s.files)} for s in config.shops]
        return pd.DataFrame(rows)

    def vendor_table(self) -> pd.DataFrame:
        lang = self.ctx.language
        if self.vendors.empty:
            return pd.DataFrame()
        names = {"vendor": "vendor", "people": "people", "active_people": "active_people", "gmv": "creator_gmv",
                 "videos_posted": "videos_posted", "live_hours": "live_hours", "gmv_per_video": "gmv_per_video"}
        df = self.vendors.assign(vendor=self.vendors["vendor"].replace("", t("in_house", lang)))
        return df[list(names)].rename(columns={k: t(v, lang) for k, v in names.items()})

    def summary(self) -> list[str]:
        lang, ev, cur = self.ctx.language, self.evaluated, self.ctx.params.reporting_currency
        if ev.empty:
            return [t("no_targets", lang)]
        top = ev[ev["level"] != "person"]
        lines = [t("targets_buckets", lang, **target_counts(records(top)))]
        for r in top[top["status"].isin(["off_pace", "missed"])].itertuples():
            lines.append(t("target_off_pace", lang, kpi=t(r.kpi, lang), node=node_label(r.node, lang), period=r.period,
                           attainment=f"{r.attainment:.0%}" if pd.notna(r.attainment) else "–",
                           projection=projection_text(r, cur), target=format_value(r.kpi, r.target, cur, lang),
                           needed=format_value(r.kpi, r.needed_per_day, cur, lang) if pd.notna(r.needed_per_day) else "–"))
        return lines

    def _action(self, r, lang: str) -> str:
        """The corrective action: the gap and the daily amount still needed against the recent daily pace, then the lever."""
        cur = self.ctx.params.reporting_currency
        gap = None if pd.isna(r.actual) else max(0.0, r.target - r.actual)
        values = {"kpi": t(r.kpi, lang), "node": node_label(r.node, lang), "lever": t("lever_" + r.kpi, lang),
                  "attainment": "–" if pd.isna(r.attainment) else f"{r.attainment:.0%}", "gap": format_value(r.kpi, gap, cur, lang)}
        if pd.notna(r.needed_per_day):
            return t("action_kpi_pace", lang, needed=format_value(r.kpi, r.needed_per_day, cur, lang), end=r.period_end,
                     run_rate=format_value(r.kpi, r.run_rate_per_day, cur, lang), window=self.ctx.params.targets.pace_window_days, **values)
        return t("action_kpi_ratio" if KPIS[r.kpi].ratio else "action_kpi_missed", lang, **values)

    def alerts(self) -> list[dict]:
        """KPI-pace alerts (company, market and team targets) in the alerts.json schema."""
        from shopkpi.health.alerts import make_alert

        out = []
        for r in self.evaluated[self.evaluated["status"].isin(list(ALERT_STATUSES))].itertuples():
            if r.level == "person":
                continue
            kpi = KPIS[r.kpi]
            out.append(make_alert(
                "kpi_pace", _text(r.market), r.kpi, r.period, ALERT_STATUSES[r.status], r.actual, r.target,
                subject=_text(r.team) or _text(r.role), unit="rate" if r.kpi in PERCENT_KPIS else "money" if kpi.money else "number",
                status={"missed": "breach", "off_pace": "off_pace", "at_risk": "at_risk"}[r.status], comparator=">=",
                period_start=r.period_start, period_end=r.period_end,
                evidence={"as_of": str(r.as_of), "attainment": r.attainment, "elapsed_share": r.elapsed_share},
                action={lang: self._action(r, lang) for lang in ("en", "zh")},
                details={"target_source": r.source, "projection": r.projection, "projection_low": r.projection_low,
                         "projection_high": r.projection_high, "needed_per_day": r.needed_per_day},
            ))
        return out

    def payload(self) -> dict:
        ctx = self.ctx
        return {
            "client": ctx.client, "period": ctx.period.name, "period_start": ctx.period.start, "period_end": ctx.period.end,
            "reporting_currency": ctx.params.reporting_currency, "language": ctx.language,
            "stage": ctx.params.targets.stage, "summary": self.summary(),
            "people": [p.model_dump() for p in ctx.params.targets.people],
            "shops": [s.model_dump() for s in ctx.params.targets.shops],
            "targets": records(self.evaluated), "bottom_up_gaps": records(self.gaps),
            "leaderboards": {team: records(board) for team, board in self.leaderboards.items()},
            "vendors": records(self.vendors), "alerts": self.alerts(),
            "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def records(df: pd.DataFrame) -> list[dict]:
    return [] if df is None or df.empty else df.astype(object).where(df.notna(), None).to_dict("records")


def build_targets_report(ctx: RunContext) -> TargetsReport:
    config = ctx.params.targets  # markets of people and shops were checked when the params loaded
    con = connect_clean(ctx.client)
    register_fx(con, ctx.params)
    actuals = daily_actuals(con, ctx.period.end, config)
    if actuals.empty:
        raise NoDataError(f"client {ctx.client}: no orders up to {ctx.period.end}; run ingest first")
    from shopkpi.coverage import data_coverage, orders_complete_through

    try:
        through = orders_complete_through(data_coverage(con, ctx.params), ctx.period)
    except NoDataError:
        through = None  # no orders in the period itself: targets are evaluated on what there is
    if through is not None:  # the days after it are still being exported: they would read as slow days
        actuals = actuals[actuals["day"] <= through]
    evaluated = evaluate(config, actuals, ctx.period, through)
    if evaluated.empty:
        raise NoDataError(f"client {ctx.client}: no KPI targets for {ctx.period.name}; set targets_file or targets.stage "
                          f"(a template from data/target_templates.yaml) in params/{ctx.client}.yaml to track them")
    boards = {board: leaderboard(actuals, evaluated, config, ctx.period, board) for board in BOARDS}
    return TargetsReport(ctx, actuals, evaluated, bottom_up_gaps(evaluated), boards,
                         vendor_scorecard(actuals, ctx.params.targets, ctx.period))


def stage_description(ctx: RunContext) -> str | None:
    stage = ctx.params.targets.stage
    return stage_templates()[stage]["description"][ctx.language] if stage else None


def write_targets_artifact(report: TargetsReport):
    """targets.json, and the KPI-pace alerts merged into alerts.json beside the shop-health ones."""
    from shopkpi.health.alerts import write_alerts

    write_alerts(report.ctx, report.alerts(), kinds=["kpi_pace"])
    return artifacts.write_json(report.ctx.artifacts_dir / "targets.json", report.payload())
