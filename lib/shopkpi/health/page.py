"""The alerts / shop-health dashboard page, rendered from alerts.json and its figures only.

Import-light (json, html, base64 and labels) like shopkpi.app.dashboard: Voila runs it on every view,
and it never recomputes a number. The notebook shows the same alert blocks through these functions.
"""

from __future__ import annotations

import html

from shopkpi.app.dashboard import STYLE, page_language, _figure, format_number, market_note, no_artifact_html, read_page_artifact
from shopkpi.dictionary import t

ALERTS_FILE = "alerts.json"
PAGE_STYLE = """
<style>
.skp .alert {border-left:5px solid #999; padding:6px 12px; margin:10px 0; background:#fafafa}
.skp .alert.critical {border-color:#c62828} .skp .alert.warning {border-color:#ef8a00} .skp .alert.info {border-color:#1f6feb}
.skp .sev {font-weight:600; text-transform:uppercase; font-size:12px}
.skp .sev.critical {color:#c62828} .skp .sev.warning {color:#b06500} .skp .sev.info {color:#1f6feb}
.skp .ids {font-family:monospace; font-size:12px; color:#444; word-break:break-all}
.skp td.breach {color:#c62828; font-weight:600} .skp td.at_risk {color:#b06500}
</style>
"""


def _esc(value) -> str:
    return html.escape(str(value))


def fmt_value(value, unit: str = "rate") -> str:
    return format_number(value, unit)


def _label(prefix: str, key: str | None, lang: str) -> str:
    return t(f"{prefix}_{key}", lang) if key else "–"


def alert_html(alert: dict, lang: str) -> str:
    """One alert: what, how bad, the trend, the evidence and the orders behind it, and what to do."""
    unit = alert.get("unit", "rate")
    subject = f" · {alert['subject']}" if alert.get("subject") else ""
    line = t("health_alert_line", lang, market=(alert["market"] or t("all_markets", lang)) + subject,
             metric=t(alert["metric"], lang), period=alert["period"], value=fmt_value(alert["value"], unit),
             comparator=alert.get("comparator") or "", threshold=fmt_value(alert["threshold"], unit))
    ev = alert.get("evidence", {})
    facts = []
    if ev.get("numerator") is not None and ev.get("denominator") is not None:
        ratio = t("health_ratio", lang, numerator=f"{ev['numerator']:,}", denominator=f"{ev['denominator']:,}")
        if ev.get("ci_low") is not None:
            ratio += f" · {t('health_interval', lang)} {fmt_value(ev['ci_low'], unit)}–{fmt_value(ev['ci_high'], unit)}"
        facts.append(ratio)
    if alert.get("source") == "computed" and ev.get("platform_value") is not None:
        facts.append(t("health_platform_says", lang, value=fmt_value(ev["platform_value"], unit)))
    if alert.get("source") == "export" and ev.get("ours") is not None:
        facts.append(f"{t('health_ours', lang)}: {fmt_value(ev['ours'], unit)}")
    facts.append(f"{t('health_source', lang)}: {_label('health_source', alert.get('source'), lang)}")
    if ev.get("threshold_confirmed") is False:
        facts.append(f"{t('health_confirmed', lang)}: {t('health_no', lang)}")
    trend = alert.get("trend", {})
    points = " → ".join(fmt_value(p["value"], unit) for p in trend.get("points", []))
    trend_text = f"{t('health_trend', lang)}: {points}"
    if trend.get("direction"):
        trend_text += f" ({_label('health_trend', trend['direction'], lang)})"
    ids = ev.get("order_ids") or []
    orders = ""
    if ids:
        orders = (f"<div>{_esc(t('health_orders_behind', lang, shown=len(ids), total=ev.get('order_ids_total', len(ids))))}:"
                  f"<div class='ids'>{_esc(', '.join(ids))}</div></div>")
    sev = alert["severity"]
    return (f'<div class="alert {sev}" data-alert-id="{_esc(alert["id"])}">'
            f'<span class="sev {sev}">{_esc(t("health_severity_" + sev, lang))}</span> '
            f'<b>{_esc(line)}</b> · {_esc(_label("health_status", alert.get("status"), lang))}'
            f'<div>{_esc(" · ".join(facts))}</div><div>{_esc(trend_text)}</div>{orders}'
            f'<div><b>{_esc(t("health_action", lang))}:</b> {_esc(alert["action"][lang])}</div></div>')


def alerts_section_html(alerts: list[dict], lang: str) -> str:
    if not alerts:
        return f"<p>{_esc(t('health_no_alerts', lang))}</p>"
    return "".join(alert_html(a, lang) for a in alerts)


def _count(value) -> str:
    return "–" if value is None else f"{int(value):,}"


def status_table_html(rows: list[dict], lang: str) -> str:
    """Latest week per market: ours, Seller Center's, threshold and status for every metric."""
    head = "".join(f"<th>{_esc(t(k, lang))}</th>" for k in (
        "market", "health_metric", "health_week", "health_ours", "health_numerator", "health_denominator",
        "health_platform", "health_threshold", "health_status"))
    body = []
    for r in rows:
        threshold = f"{r['comparator']} {fmt_value(r['threshold'])}" if r.get("threshold") is not None else "–"
        ours = fmt_value(r["value"]) if r.get("source") == "computed" else "–"
        body.append(
            f"<tr><td>{_esc(r['market'])}</td><td>{_esc(t(r['metric'], lang))}</td><td>{_esc(r['week_start'])}</td>"
            f"<td>{_esc(ours)}</td><td>{_count(r.get('numerator'))}</td><td>{_count(r.get('denominator'))}</td>"
            f"<td>{_esc(fmt_value(r.get('platform_value')))}</td><td>{_esc(threshold)}</td>"
            f"<td class='{_esc(r['status'])}'>{_esc(t('health_status_' + r['status'], lang))}</td></tr>")
    return f"<div class='scroll'><table><tr>{head}</tr>{''.join(body)}</table></div>"


def comparison_table_html(rows: list[dict], lang: str) -> str:
    head = "".join(f"<th>{_esc(t(k, lang))}</th>" for k in (
        "market", "health_metric", "health_ours", "health_platform", "health_difference", "health_weeks_compared",
        "health_mean_abs_diff", "health_max_abs_diff", "health_status_disagreements"))
    body = "".join(
        f"<tr><td>{_esc(r['market'])}</td><td>{_esc(t(r['metric'], lang))}</td><td>{_esc(fmt_value(r['ours']))}</td>"
        f"<td>{_esc(fmt_value(r['platform']))}</td><td>{_esc(fmt_value(r['difference']))}</td><td>{int(r['weeks'])}</td>"
        f"<td>{_esc(fmt_value(r['mean_abs_difference']))}</td><td>{_esc(fmt_value(r['max_abs_difference']))}</td>"
        f"<td>{int(r['status_disagreements'])}</td></tr>" for r in rows)
    return f"<div class='scroll'><table><tr>{head}</tr>{body}</table></div>"


def thresholds_table_html(rows: list[dict], lang: str) -> str:
    head = "".join(f"<th>{_esc(t(k, lang))}</th>" for k in (
        "market", "health_metric", "health_region", "health_threshold", "health_warning_level", "health_valid_from",
        "health_window", "health_confirmed", "health_threshold_source"))
    body = "".join(
        f"<tr><td>{_esc(r['market'])}</td><td>{_esc(t(r['metric'], lang))}</td><td>{_esc(r['region'])}</td>"
        f"<td>{_esc(r['comparator'])} {_esc(fmt_value(r['threshold']))}</td><td>{_esc(fmt_value(r['warning_level']))}</td>"
        f"<td>{_esc(r['valid_from'] or '–')}</td><td>{_esc(r['platform_window'])}</td>"
        f"<td>{_esc(t('health_yes' if r['confirmed'] else 'health_no', lang))}</td>"
        f"<td style='text-align:left'>{_esc(r['source'])}</td></tr>" for r in rows)
    return f"<div class='scroll'><table><tr>{head}</tr>{body}</table></div>"


def health_page_html(client: str, period: str | None = None, market: str = "") -> str:
    """The alerts and shop-health page for a client's latest (or given) period, as one HTML string."""
    found = read_page_artifact(client, period, ALERTS_FILE)
    if found is None:
        return no_artifact_html("health_no_page")
    folder, data = found
    period = data["period"]
    lang = page_language(data["language"])
    parts = [f"<h2>{_esc(data['display_name'])} · {_esc(t('shop_health_title', lang))}</h2>",
             f"<p>{_esc(t('period', lang))}: <b>{_esc(period)}</b> ({_esc(data['period_start'])} – {_esc(data['period_end'])})</p>"]
    counts = data.get("counts", {})
    if market:
        def mine(rows):
            return [r for r in rows if r.get("market", market) == market]

        counts = {s: sum(a["severity"] == s for a in mine(data.get("alerts", []))) for s in ("critical", "warning", "info")}
        parts.append(market_note(market, lang))
    else:
        def mine(rows):
            return rows
    parts.append("<div class='cards'>" + "".join(
        f"<div class='card' data-severity='{s}'><div class='label'>{_esc(t('health_severity_' + s, lang))}</div>"
        f"<div class='value'>{int(counts.get(s, 0))}</div></div>" for s in ("critical", "warning", "info")) + "</div>")
    for kind, section in data.get("kinds", {}).items():
        parts.append(f"<h3>{_esc(t('health_kind_' + kind, lang))} · {_esc(t('health_alerts', lang))}</h3>")
        parts.append(alerts_section_html(mine(section.get("alerts", [])), lang))
        if kind == "shop_health":
            if section.get("status"):
                parts.append(f"<h3>{_esc(t('health_latest_week', lang))}</h3>{status_table_html(mine(section['status']), lang)}")
            if section.get("comparison"):
                parts.append(f"<h3>{_esc(t('health_comparison', lang))}</h3><p>{_esc(t('health_comparison_note', lang))}</p>"
                             f"{comparison_table_html(mine(section['comparison']), lang)}")
            if section.get("thresholds"):
                parts.append(f"<h3>{_esc(t('health_thresholds_table', lang))}</h3><p>{_esc(t('health_threshold_note', lang))}</p>"
                             f"{thresholds_table_html(mine(section['thresholds']), lang)}")
            figures = "".join(_figure(folder / rel, t("health_trends", lang)) for rel in section.get("figures", []))
            if figures:
                parts.append(f"<h3>{_esc(t('health_trends', lang))}</h3>{figures}")
    parts.append(f"<p style='color:#777;font-size:12px'>{_esc(t('generated_at', lang))}: {_esc(data['generated_at'])}</p>")
    return STYLE + PAGE_STYLE + f'<div class="skp" data-page="alerts" data-client="{_esc(client)}" data-period="{_esc(period)}">{"".join(parts)}</div>'
