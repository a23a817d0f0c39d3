"""The dashboard's profit page, from profit.json only (the same figures as the review and the XLSX)."""

from __future__ import annotations

import html

from shopkpi.dictionary import t
from shopkpi.money import money
from shopkpi.profit.report import ARTIFACT, FIGURE, summary_lines


def _share(value: float | None, decimals: int) -> str:
    return "" if value is None else f"{value:.{decimals}%}"


def profit_page_html(client: str, period: str, market: str = "") -> str:
    from shopkpi.app.dashboard import STYLE, page_language, _figure, no_artifact_html, read_page_artifact

    found = read_page_artifact(client, period, ARTIFACT)
    if found is None:
        return no_artifact_html("no_report")
    folder, p = found
    lang, cur, esc = page_language(p["language"]), p["reporting_currency"], html.escape
    markets = [m for m in p["by_market"] if not market or m["market"] == market]
    rows = "".join(
        f'<tr data-market="{esc(m["market"])}"><td>{esc(m["market"])}</td><td>{esc(money(m["revenue"], m["currency"]))}</td>'
        f'<td>{esc(money(m["contribution"], m["currency"]))}</td>'
        f'<td>{_share(m["margin"], 1)}</td><td>{_share(m["settled_share"], 0)}</td></tr>'
        for m in markets)
    head = "".join(f"<th>{esc(t(k, lang))}</th>" for k in ("market", "pnl_revenue", "pnl_contribution", "pnl_margin", "pnl_settled_share"))
    skus = [s for s in p["sku_pnl"] if not market or s["market"] == market]
    losing = sorted((s for s in skus if s["contribution"] < 0), key=lambda s: s["contribution"])[:10]
    best = sorted(skus, key=lambda s: -s["contribution"])[:10]

    def sku_rows(items):
        return "".join(f"<tr><td>{esc(s['market'])}</td><td>{esc(str(s['seller_sku']))}</td>"
                       f"<td>{esc(money(s['contribution'], s['currency']))}</td></tr>" for s in items)

    sku_head = "".join(f"<th>{esc(t(k, lang))}</th>" for k in ("market", "seller_sku", "pnl_contribution"))
    lines = "".join(f"<li>{esc(s)}</li>" for s in summary_lines(p, lang))
    total = p["total"]
    card = (f'<div class="cards"><div class="card" data-kpi="contribution" data-currency="{esc(cur)}">'
            f'<div class="label">{esc(t("pnl_contribution", lang))}</div><div class="value">{esc(money(total["contribution"], cur))}</div></div>'
            f'<div class="card" data-kpi="margin"><div class="label">{esc(t("pnl_margin", lang))}</div>'
            f'<div class="value">{_share(total["margin"], 1) or "—"}</div></div></div>')
    return STYLE + f"""
<div class="skp" data-page="profit" data-period="{esc(p['period'])}">
<h2>{esc(t('profit_title', lang))}</h2>
<p>{esc(t('period', lang))}: {esc(p['period'])} ({esc(str(p['window_start']))} – {esc(str(p['window_end']))}) · {esc(t('reporting_currency', lang))}: {esc(cur)}</p>{card}
<ul>{lines}</ul>
<h3>{esc(t('pnl_waterfall', lang))}</h3>{_figure(folder / FIGURE, t('pnl_waterfall', lang))}
<h3>{esc(t('pnl_by_market', lang))}</h3><div class="scroll"><table><tr>{head}</tr>{rows}</table></div>
<h3>{esc(t('pnl_top_skus', lang))}</h3><div class="scroll"><table><tr>{sku_head}</tr>{sku_rows(best)}</table></div>
<h3>{esc(t('pnl_loss_skus', lang))}</h3><div class="scroll"><table><tr>{sku_head}</tr>{sku_rows(losing)}</table></div>
<p style="color:#777;font-size:12px">{esc(t('pnl_lines_note', lang))}</p>
</div>"""
