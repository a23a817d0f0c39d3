"""The review (复盘) beyond sales: what the analysis notebooks left in artifacts, as sentences in the report language.

Reads artifacts only, never the store: the review says what the analyses found, and says so
when an analysis did not run or failed, instead of leaving a silent gap.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace

from shopkpi import artifacts
from shopkpi.dictionary import t
from shopkpi.money import money
from shopkpi.targets.catalogue import KPIS, format_value, node_label, projection_text, target_counts

ANALYSES = {"targets": "targets.json", "alerts": "alerts.json", "content": "content.json", "creators": "creators.json",
            "restock": "restock.json", "profit": "profit.json"}
SEVERITY_ORDER = ("critical", "warning", "info")
REPORT_TITLE = {"week": "weekly_report", "biweek": "biweekly_report", "month": "monthly_report", "quarter": "quarterly_report"}


def load_artifacts(folder: Path) -> dict[str, dict | None]:
    """Each analysis's artifact in a period's artifacts folder, None where it is missing."""
    out = {}
    for name, file in ANALYSES.items():
        path = folder / file
        out[name] = artifacts.read_json(path) if path.exists() else None
    return out


def missing_analyses(lang: str, found: dict[str, dict | None]) -> list[str]:
    return [t("analysis_missing", lang, analysis=t(f"analysis_{name}", lang), file=ANALYSES[name])
            for name, payload in found.items() if payload is None]


def target_summary_line(lang: str, targets: dict | None) -> str:
    """Targets met / on track / behind / not started, adding up to the total (or that 07 has not run)."""
    if targets is None:
        return t("targets_not_run", lang)
    return t("targets_buckets", lang, **target_counts(targets["targets"]))


def target_lines(lang: str, targets: dict | None, flagged: set[str] = frozenset()) -> list[str]:
    """Targets of this period and the periods around it by bucket (adding up to the total), each one behind with
    what it needs, then the boards' leaders."""
    if not targets:
        return []
    cur = targets["reporting_currency"]
    rows = [SimpleNamespace(**r) for r in targets["targets"] if r["level"] != "person"]
    if not rows:
        return [t("no_targets", lang)]
    lines = [target_summary_line(lang, targets)]
    for r in [r for r in rows if r.status in ("off_pace", "missed", "behind")]:
        common = dict(kpi=t(r.kpi, lang), node=node_label(r.node, lang), period=r.period, target=format_value(r.kpi, r.target, cur, lang),
                      attainment="–" if r.attainment is None else f"{r.attainment:.0%}")
        if r.needed_per_day is None:  # an ended period or a ratio: no projection or daily amount applies
            lines.append(t("target_short", lang, actual=format_value(r.kpi, r.actual, cur, lang), **common))
        else:
            lines.append(t("target_off_pace", lang, projection=projection_text(r, cur),
                           needed=format_value(r.kpi, r.needed_per_day, cur, lang), **common))
    return lines + leader_lines(lang, targets.get("leaderboards") or {}, cur, flagged)


# Spend is a cost, not merit: a board whose first KPI is an input is led by its outcome KPI instead.
INPUT_KPIS = ("ad_spend",)


def leader_lines(lang: str, boards: dict[str, list[dict]], currency: str, flagged: set[str] = frozenset()) -> list[str]:
    """Who leads each team's and role's board on points (see the targets' points rules), with the board's outcome KPI.

    A creator `04_creators` flags as a fake audience is never crowned: the review names the next one and says why."""
    lines = []
    for board, rows in boards.items():
        if not rows or not any(r.get("points") for r in rows):
            continue
        skipped = [r["person"] for r in rows if r["person"] in flagged]
        eligible = [r for r in rows if r["person"] not in flagged and r.get("points")]
        role = t(f"node_{board}", lang)
        role = role[:1].upper() + role[1:]
        if not eligible:
            lines.append(t("review_board_all_flagged", lang, role=role))
            continue
        top = eligible[0]
        kpi = next(k for k in top if k in KPIS and k not in INPUT_KPIS)
        lines.append(t("review_role_leader", lang, role=role, person=top["person"], points=f"{top['points']:,.0f}",
                       kpi=t(kpi, lang), value=format_value(kpi, top[kpi], currency, lang)))
        if skipped and rows[0]["person"] in flagged:
            lines.append(t("review_leader_flagged", lang, role=role, people=", ".join(skipped)))
    return lines


def alert_subject(alert: dict, lang: str) -> str:
    """An alert's subject (team, role, shop or person) in the report language."""
    return node_label(alert.get("subject") or "", lang) if alert.get("subject") else ""


def _alert_where(alert: dict, lang: str) -> str:
    """Where an alert applies: its market (or the company) and its subject, e.g. "UK / 剪辑师"."""
    return " / ".join(p for p in (alert.get("market") or t("company", lang), alert_subject(alert, lang)) if p)


def alert_evidence(alert: dict, lang: str, currency: str) -> str:
    """What an alert measured, with units: a KPI's attainment and daily need, or a health metric against its limit."""
    ev = alert.get("evidence") or {}
    if alert["kind"] == "kpi_pace":  # the metric is a KPI: shown as the targets show it, with currency or unit
        value = lambda v: format_value(alert["metric"], v, currency, lang)  # noqa: E731
        return t("evidence_pace", lang, actual=value(alert["value"]), target=value(alert["threshold"]),
                 attainment=f"{(ev.get('attainment') or 0):.0%}", elapsed=f"{(ev.get('elapsed_share') or 0):.0%}",
                 as_of=ev.get("as_of", "–"))
    shown = (lambda v: f"{v:.2%}") if alert.get("unit") == "rate" else (lambda v: f"{v:,.2f}")  # noqa: E731
    value, limit = alert.get("value"), alert.get("threshold")
    return t("evidence_threshold", lang, value="–" if value is None else shown(value),
             comparator=alert.get("comparator") or "", threshold="–" if limit is None else shown(limit))


def alert_sentence(alert: dict, lang: str, currency: str) -> str:
    """[severity] where · metric (period): evidence. Owner: who. Action: what to do."""
    return t("alert_line", lang, severity=t("health_severity_" + alert["severity"], lang),
             what=f"{_alert_where(alert, lang)} · {t(alert['metric'], lang)} ({alert['period']})",
             owner=(alert.get("owner") or {}).get(lang) or t("owner_unassigned", lang),
             evidence=alert_evidence(alert, lang, currency), action=alert["action"][lang])


def alert_lines(lang: str, alerts: dict | None, currency: str, limit: int = 8) -> list[str]:
    """Counts by severity, then the most severe alerts with evidence, owner and action."""
    if not alerts:
        return []
    every = alerts.get("alerts", [])
    if not every:
        return [t("no_alerts", lang)]
    counts = {s: sum(a["severity"] == s for a in every) for s in SEVERITY_ORDER}
    lines = [t("alerts_summary", lang, critical=counts["critical"], warning=counts["warning"], info=counts["info"])]
    return lines + [alert_sentence(a, lang, currency) for a in every if a["severity"] != "info"][:limit]


def health_lines(lang: str, alerts: dict | None) -> list[str]:
    """Shop health per market from 06_shop_health: metrics in breach or warning with value and limit, else the closest one."""
    status = ((alerts or {}).get("kinds") or {}).get("shop_health", {}).get("status") or []
    if not status:
        return []
    shown = lambda v: "–" if v is None else f"{v:.2%}"  # noqa: E731
    lines = []
    for market in sorted({r["market"] for r in status}):
        mine = [r for r in status if r["market"] == market and r.get("threshold") is not None]
        bad = [r for r in mine if r["status"] not in ("ok", "no_threshold", "no_data")]
        week = max(str(r["week_end"]) for r in mine) if mine else "–"
        unconfirmed = any(r.get("threshold_confirmed") is False for r in mine)
        if bad:
            items = "; ".join(f"{t(r['metric'], lang)} {shown(r['value'])} ({t('limit', lang)} {r['comparator']} {shown(r['threshold'])}, "
                              f"{t('health_status_' + r['status'], lang)})" for r in bad)
            lines.append(t("health_market_bad", lang, market=market, week=week, count=len(bad), total=len(mine), items=items))
        elif mine:
            def margin(r):  # how close to its limit, as a share of the limit
                return abs((r["value"] or 0) - r["threshold"]) / (abs(r["threshold"]) or 1)
            near = min((r for r in mine if r["value"] is not None), key=margin, default=None)
            lines.append(t("health_market_ok", lang, market=market, week=week, total=len(mine),
                           closest="–" if near is None else f"{t(near['metric'], lang)} {shown(near['value'])} "
                                                             f"({t('limit', lang)} {near['comparator']} {shown(near['threshold'])})"))
        if unconfirmed:
            lines.append(t("health_thresholds_unconfirmed", lang, market=market))
    return lines


def stockout_line(lang: str, r: dict, owner: str) -> str:
    """A SKU running out before its inbound lands: the date, the gap in days and units, who acts and how."""
    import datetime as dt

    out, eta = r.get("stockout_date"), r.get("inbound_eta")
    gap = (dt.date.fromisoformat(str(eta)[:10]) - dt.date.fromisoformat(str(out)[:10])).days if out and eta else None
    return t("alert_stockout", lang, sku=f"{r['seller_sku']} {r.get('product_name') or ''}".strip(), warehouse=r.get("warehouse") or "–",
             date=out or "–", eta=eta or t("no_inbound", lang), gap="–" if gap is None else f"{gap}",
             short=f"{r.get('units_short_before_replenishment') or 0:,.0f}", inbound=f"{r.get('inbound_qty') or 0:,.0f}",
             lead=f"{r.get('lead_time_days') or 0:,.0f}", owner=owner)


def _stockouts(restock: dict) -> list[dict]:
    return sorted((r for r in restock["plan"] if r.get("status") == "stockout_risk"), key=lambda r: str(r.get("stockout_date")))


def restock_lines(lang: str, restock: dict | None, params=None, limit: int = 5) -> list[str]:
    """What to order now and the SKUs that run out before their stock arrives, with the gap."""
    if not restock:
        return []
    summary = restock["summary"]
    lines = [t("restock_summary_sentence", lang, order_now=summary["order_now"], at_risk=summary["stockout_risk"],
               value=money(summary["order_value"], restock["reporting_currency"], whole=True))]
    for r in _stockouts(restock)[:limit]:
        lines.append(stockout_line(lang, r, _owner(params, r.get("market"), lang)))
    return lines


def _owner(params, market: str | None, lang: str) -> str:
    if params is None:
        return t("owner_unassigned", lang)
    from shopkpi.owners import owner_of

    return owner_of(params, market, None, lang)


def _flagged(creators: dict | None) -> list[dict]:
    return [c for c in (creators or {}).get("creators", []) if c.get("fake_flagged")]


def flagged_creators(creators: dict | None) -> set[str]:
    """Creators 04_creators flags as a fake audience (the review never crowns them)."""
    return {c["creator"] for c in _flagged(creators)}


def top_alerts(lang: str, found: dict, currency: str, params=None, limit: int = 3) -> list[str]:
    """The first page's alerts: the most severe ones, the nearest stock-outs and the flagged creators, each with an owner."""
    lines = [alert_sentence(a, lang, currency) for a in (found.get("alerts") or {}).get("alerts", []) if a["severity"] != "info"][:limit]
    if restock := found.get("restock"):
        lines += [stockout_line(lang, r, _owner(params, r.get("market"), lang)) for r in _stockouts(restock)[:2]]
    if creators := found.get("creators"):
        flagged = _flagged(creators)
        if flagged:
            biggest = sorted(flagged, key=lambda c: -(c.get("total_cost_rc") or 0))[:3]
            lines.append(t("alert_fake_creators", lang, count=len(flagged), owner=_owner(params, None, lang),
                           names=", ".join(f"{c['creator']} ({c['market']})" for c in biggest),
                           cost=money(sum(c.get("total_cost_rc") or 0 for c in flagged), creators["reporting_currency"], whole=True)))
    return lines


def content_lines(lang: str, content: dict | None) -> list[str]:
    """What sold in the videos, what to repeat, A/B tests and how sure we are, from content.json."""
    from shopkpi.content.summary import review_lines

    return review_lines(content, lang) if content else []


def creator_lines(lang: str, creators: dict | None) -> list[str]:
    """The creator review's summary: window, cost and return, recommendations, flags, best LIVE slots."""
    from shopkpi.creators.page import summary_lines

    return summary_lines(creators, lang) if creators else []


def next_actions(lang: str, found: dict[str, dict | None], params=None, alerts_limit: int = 3) -> list[str]:
    """What to do next, each with an owner: the most severe alerts' actions, orders to place, creators to act on."""
    actions = []
    alerts = [a for a in (found.get("alerts") or {}).get("alerts", []) if a["severity"] != "info"]
    for a in alerts[:alerts_limit]:  # alerts.json is sorted most severe first
        owner = (a.get("owner") or {}).get(lang) or t("owner_unassigned", lang)
        actions.append(t("next_action_line", lang, owner=owner, where=_alert_where(a, lang), action=a["action"][lang]))
    if restock := found.get("restock"):
        s = restock["summary"]
        if s["order_now"]:
            actions.append(t("action_restock_order", lang, skus=s["order_now"],
                             value=money(s["order_value"], restock["reporting_currency"], whole=True), owner=_owner(params, None, lang)))
        if s["stockout_risk"]:
            actions.append(t("action_restock_risk", lang, skus=s["stockout_risk"], owner=_owner(params, None, lang)))
    if creators := found.get("creators"):
        recs, s = creators["summary"]["recommendations"], creators["summary"]
        if recs.get("scale") or recs.get("drop") or recs.get("renegotiate"):
            actions.append(t("action_creators", lang, scale=recs.get("scale", 0), renegotiate=recs.get("renegotiate", 0),
                             drop=recs.get("drop", 0), flagged=s["fake_flagged"], owner=_owner(params, None, lang)))
    return actions or [t("no_next_actions", lang)]


def data_quality_lines(lang: str, folder: Path) -> list[str]:
    """The footnote: every row accounted for, files that failed, and what the period's net figures exclude."""
    lines = []
    ingest_file, clean_file = folder / "ingest.json", folder / "clean.json"
    if ingest_file.exists():
        ingest = artifacts.read_json(ingest_file)
        rows = ingest["row_accounting"]
        total = lambda key: f"{sum(r[key] or 0 for r in rows):,.0f}"
        lines.append(t("dq_rows", lang, files=len(rows), rows_in=total("rows_in"), kept=total("in_store"),
                       quarantined=total("quarantined"), excluded=total("excluded"), unaccounted=total("unaccounted")))
        if ingest["failed_files"]:
            names = ", ".join(f["source_file"] for f in ingest["failed_files"][:5])
            lines.append(t("dq_failed", lang, files=len(ingest["failed_files"]), names=names))
        if ingest["quarantine"]:
            top = max(ingest["quarantine"], key=lambda q: q["rows"])
            lines.append(t("dq_quarantine_top", lang, column=top["column"], reason=quarantine_reason(top["reason"], lang), rows=top["rows"],
                           example=top["example"]))
    if clean_file.exists():
        clean = artifacts.read_json(clean_file)
        exclusions = clean["exclusions"]
        counted = sum(e["orders"] for e in exclusions if e["reason"] == "counted")
        by_reason: dict[str, int] = {}
        for e in exclusions:
            if e["reason"] != "counted":
                by_reason[e["reason"]] = by_reason.get(e["reason"], 0) + e["orders"]
        excluded = ", ".join(f"{t(reason, lang)} {n:,}" for reason, n in sorted(by_reason.items())) or "–"
        lines.append(t("dq_orders", lang, counted=f"{counted:,}", excluded=excluded))
        lines += _reconciliation_lines(lang, clean)
    return lines


@lru_cache(maxsize=1)
def _reason_table() -> list[dict]:
    from importlib import resources

    import yaml

    return yaml.safe_load(resources.files("shopkpi.data").joinpath("quarantine_reasons.yaml").read_text(encoding="utf-8"))


def quarantine_reason(reason: str, lang: str) -> str:
    """An importer's (English) quarantine reason in the report's language; unknown reasons say they are the original."""
    if lang == "en":
        return reason
    import re

    from shopkpi.ingest.rows import ALSO

    reason, _, others = reason.partition(ALSO)
    more = t("dq_reason_more", lang, count=others.count("; ") + 1) if others else ""
    for entry in _reason_table():
        if match := re.fullmatch(entry["pattern"], reason):
            return entry[lang].format(**match.groupdict()) + more
    return t("untranslated_reason", lang, reason=reason) + more


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and value == value  # NaN (a pandas null) is not a number


def _reconciliation_lines(lang: str, clean: dict) -> list[str]:
    """Export totals against ours (largest difference first) and the Data Compass product list against our orders."""
    lines = []
    # Side totals (an income statement's Reserve and Withdrawal sheets) have nothing of ours to agree
    # with; the profit section reconciles them against the payout.
    checked = [r for r in clean.get("reconciliation") or [] if _is_number(r.get("our_total"))]
    if checked:
        agree = [r for r in checked if r["explanation"] == "agrees"]
        if len(agree) == len(checked):
            lines.append(t("dq_reconciled_all", lang, total=len(checked)))
        else:
            worst = next(r for r in checked if r["explanation"] != "agrees")
            difference = "–" if worst["difference"] is None else f"{worst['difference']:+,.2f}"
            lines.append(t("dq_reconciled", lang, agree=len(agree), total=len(checked), file=worst["source_file"],
                           metric=worst["metric"], difference=difference, why=worst["explanation"]))
    for row in clean.get("data_compass") or []:
        pct = "–" if row["gmv_difference_pct"] is None else f"{row['gmv_difference_pct']:+.1%}"
        lines.append(t("dq_compass", lang, market=row["market"], start=str(row["period_start"])[:10], end=str(row["period_end"])[:10],
                       compass=f"{row['currency']} {row['compass_gmv']:,.2f}", ours=f"{row['currency']} {row['our_gmv'] or 0:,.2f}",
                       pct=pct))
    return lines


def attainment_chart(lang: str, targets: dict):
    """The attainment chart in the report's language, from targets.json (07 drew its own in the client's)."""
    import pandas as pd

    from shopkpi.targets.figures import attainment_figure

    rows = pd.DataFrame(targets["targets"])
    if rows.empty or rows["attainment"].notna().sum() == 0:
        return None
    return attainment_figure(rows, lang)


def restock_chart(lang: str, restock: dict):
    """The top stock-out risks in the report's language, from restock.json."""
    import pandas as pd

    from shopkpi.restock.figures import risks_figure

    plan = pd.DataFrame(restock["plan"])
    if plan.empty:
        return None
    for column in ("stockout_date", "stock_as_of"):
        plan[column] = pd.to_datetime(plan[column])
    return risks_figure(plan, lang)


def profit_lines(lang: str, profit: dict | None) -> list[str]:
    """The profit notebook's sentences, from profit.json (the one source of every P&L figure)."""
    from shopkpi.profit.report import summary_lines

    return summary_lines(profit, lang) if profit else []


def profit_headline(lang: str, profit: dict | None) -> list[str]:
    """Contribution and margin beside GMV on the first page (the first two profit sentences)."""
    return profit_lines(lang, profit)[:2]


def review_sections(lang: str, found: dict[str, dict | None], params=None) -> list[tuple[str, list[str]]]:
    """(heading key, sentences) of each analysis that ran, in the order the review report shows them."""
    currency = next((a["reporting_currency"] for a in found.values() if a and a.get("reporting_currency")), None)
    sections = [("review_targets", target_lines(lang, found["targets"], flagged_creators(found["creators"]))),
                ("review_health", health_lines(lang, found["alerts"])),
                ("review_alerts", alert_lines(lang, found["alerts"], currency)),
                ("review_content", content_lines(lang, found["content"])),
                ("review_creators", creator_lines(lang, found["creators"])),
                ("review_restock", restock_lines(lang, found["restock"], params)),
                ("review_profit", profit_lines(lang, found["profit"])[2:])]
    return [(key, lines) for key, lines in sections if lines]


def review_page_html(client: str, period: str) -> str:
    """The dashboard's review page: the executive summary and every analysis's sentences, from artifacts only."""
    import html

    from shopkpi.app.dashboard import STYLE, page_language, as_of_html, no_artifact_html, period_line, read_page_artifact
    from shopkpi.params import load_client_params

    found_kpis = read_page_artifact(client, period, "kpis.json")
    if found_kpis is None:
        return no_artifact_html("no_report")
    folder, k = found_kpis
    lang, esc = page_language(k["language"]), html.escape
    params = load_client_params(client)
    found = load_artifacts(folder)
    section = lambda heading, lines: (f"<h3>{esc(heading)}</h3><ul>"  # noqa: E731
                                      + "".join(f"<li>{esc(s)}</li>" for s in lines) + "</ul>")
    first_page = (k.get("summary", []) + profit_headline(lang, found["profit"]) + k.get("drivers", [])
                  + [target_summary_line(lang, found["targets"])])
    parts = [f"<h2>{esc(k['display_name'])} · {esc(t(REPORT_TITLE[k['period_kind']], lang))}</h2>",
             f"<p>{esc(period_line(k, lang))}</p>",
             section(t("executive_summary", lang), first_page),
             section(t("top_alerts", lang), top_alerts(lang, found, k["reporting_currency"], params) or [t("no_alerts", lang)])]
    parts += [section(t(key, lang), lines) for key, lines in review_sections(lang, found, params)]
    if k.get("ads"):
        parts.append(section(t("review_ads", lang), k["ads"]))
    parts.append(section(t("review_next_actions", lang), next_actions(lang, found, params)))
    parts.append(section(t("review_data_quality", lang), data_quality_lines(lang, folder)))
    missing = missing_analyses(lang, found)
    if missing:
        parts.append(section(t("review_missing", lang), missing))
    parts.append(as_of_html(k, lang))
    return STYLE + f'<div class="skp" data-page="review" data-client="{esc(client)}" data-period="{esc(k["period"])}">' + "".join(parts) + "</div>"
