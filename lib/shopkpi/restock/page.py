"""The dashboard's restock page, rendered from restock.json and its figures only (import-light)."""

from __future__ import annotations

import html
import json

from shopkpi import paths
from shopkpi.app.dashboard import STYLE, page_language, _figure
from shopkpi.dictionary import t

PLAN_COLUMNS = ["seller_sku", "warehouse", "status", "on_hand", "inbound_qty", "inbound_eta", "reorder_point", "order_qty",
                "days_of_cover", "stockout_date"]


def restock_periods(client: str) -> list[str]:
    base = paths.client_outputs_dir(client)
    if not base.exists():
        return []
    found = [f.name for f in base.iterdir() if paths.PERIOD_NAME.match(f.name) and (f / "artifacts" / "restock.json").exists()]
    return sorted(found, key=lambda name: (json.loads((base / name / "artifacts" / "restock.json").read_text(encoding="utf-8"))["period_end"], name))


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) < 100 else f"{value:,.0f}"
    return html.escape(str(value))


def _ratio(value) -> str:
    return "–" if value is None else f"{value:.2f}"


def restock_html(client: str, period: str | None = None) -> str:
    periods = restock_periods(client)
    if not periods:
        return STYLE + f'<div class="skp"><p>{html.escape(t("restock_no_plan", "en"))} / {html.escape(t("restock_no_plan", "zh"))}</p></div>'
    period = paths.check_period_name(period or periods[-1])
    folder = paths.artifacts_dir(client, period)
    k = json.loads((folder / "restock.json").read_text(encoding="utf-8"))
    lang, esc, s = page_language(k["language"]), html.escape, k["summary"]
    cards = "".join(
        f'<div class="card" data-kpi="{key}"><div class="label">{esc(label)}</div><div class="value">{esc(value)}</div></div>'
        for key, label, value in [
            ("order_now", t("restock_status_order_now", lang), f"{s['order_now']:,}"),
            ("stockout_risk", t("restock_status_stockout_risk", lang), f"{s['stockout_risk']:,}"),
            ("order_value", t("restock_col_order_value_local", lang), f"{k['reporting_currency']} {s['order_value']:,.0f}"),
            ("cash_tied_up", t("restock_col_cash_tied_up_local", lang), f"{k['reporting_currency']} {s['cash_tied_up']:,.0f}")])
    head = "".join(f"<th>{esc(t('restock_col_' + c, lang))}</th>" for c in PLAN_COLUMNS)
    rows = "".join(
        "<tr>" + "".join(f"<td>{esc(t('restock_status_' + r[c], lang)) if c == 'status' else _cell(r[c])}</td>" for c in PLAN_COLUMNS) + "</tr>"
        for r in k["plan"] if r["status"] != "ok")
    acc_rows = "".join(
        f"<tr><td>{esc(t('restock_model_' + a['model'], lang))}</td><td>{a['wape_daily']:.1%}</td><td>{a['wape_total']:.1%}</td>"
        f"<td>{_ratio(a.get('mase_total'))}</td><td>{a['bias_total']:+.1%}</td></tr>" for a in k["accuracy"]["overall"])
    acc = (f"<table><tr><th>{esc(t('restock_model', lang))}</th><th>WAPE · {esc(t('restock_daily', lang))}</th>"
           f"<th>WAPE · {esc(t('restock_lead_time_total', lang))}</th><th>MASE · {esc(t('restock_lead_time_total', lang))}</th>"
           f"<th>{esc(t('restock_bias', lang))} · {esc(t('restock_lead_time_total', lang))}</th></tr>{acc_rows}</table>")
    ev_rows = "".join(
        f"<tr><td>{esc(e['market'])}</td><td>{esc(e['name'])} ({esc(t('restock_role_' + e['role'], lang))})</td><td>{esc(str(e['next_date']))}</td>"
        f"<td>{e['uplift']:.2f}</td></tr>" for e in k["events"])
    ev = (f"<table><tr><th>{esc(t('market', lang))}</th><th>{esc(t('restock_event', lang))}</th><th>{esc(t('restock_next_date', lang))}</th>"
          f"<th>{esc(t('restock_uplift', lang))}</th></tr>{ev_rows}</table>")
    fig = {key: _figure(folder / rel, t("restock_" + ("top_risks" if key == "risks" else key), lang)) for key, rel in k["figures"].items()}
    return STYLE + f"""
<div class="skp" data-client="{esc(client)}" data-period="{esc(period)}" data-page="restock">
<h2>{esc(k['display_name'])} · {esc(t('restock_title', lang))}</h2>
<p>{esc(t('restock_origin_note', lang, origin=k['origin'], period_end=k['period_end'], stock_as_of=k['stock_as_of']))}</p>
<div class="cards">{cards}</div>
<h3>{esc(t('restock_what_to_order', lang))}</h3><div class="scroll"><table><tr>{head}</tr>{rows}</table></div>
<h3>{esc(t('restock_top_risks', lang))}</h3>{fig['risks']}
<h3>{esc(t('restock_projection', lang))}</h3>{fig['projection']}
<h3>{esc(t('restock_accuracy', lang))}</h3><div class="scroll">{acc}</div>{fig['accuracy']}
<h3>{esc(t('restock_event_uplifts', lang))}</h3><div class="scroll">{ev}</div>
<p style="color:#777;font-size:12px">{esc(t('generated_at', lang))}: {esc(k['generated_at'])}</p>
</div>"""
