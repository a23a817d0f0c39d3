"""The dashboard's creators page, rendered from creators.json and its figures only (import-light)."""

from __future__ import annotations

import html

from shopkpi.app.dashboard import STYLE, page_language, _figure, market_note, no_artifact_html, read_page_artifact
from shopkpi.dictionary import t

REC_CLASS = {"scale": "up", "drop": "down"}
TOP = 30


def _num(value, digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def summary_lines(k: dict, lang: str) -> list[str]:
    """What the notebook, the review report and the page say first, from the creators.json payload alone."""
    s, w, cur, notes = k["summary"], k["window"], k["reporting_currency"], k["notes"]
    recs = s["recommendations"]
    lines = [t("cr_summary_window", lang, start=w["start"], end=w["end"], days=w["days"]),
             t("cr_summary_totals", lang, creators=s["creators"], cost=s["total_cost"], gmv=s["gmv_net"], currency=cur,
               roi=s["pooled_roi"] if s["pooled_roi"] is not None else float("nan")),
             t("cr_summary_recommendations", lang, **{r: recs.get(r, 0) for r in ("scale", "keep", "renegotiate", "drop")}),
             t("cr_summary_screen", lang, screened=s["screened"], flagged=s["fake_flagged"])]
    if not notes.get("has_contracts", True):
        lines.append(t("cr_no_contracts", lang))
    if notes.get("unmatched_sample_orders"):
        lines.append(t("cr_unmatched_samples", lang, orders=notes["unmatched_sample_orders"]))
    for market, spend in notes.get("ad_spend_without_creator_by_market", {}).items():
        lines.append(t("cr_unnamed_ad_spend", lang, market=market, spend=spend))
    missing_cost = notes.get("net_lines_without_landed_cost", 0) + notes.get("sample_orders_without_landed_cost", 0)
    if missing_cost:
        lines.append(t("cr_missing_landed_cost", lang, lines=missing_cost))
    seen = set()
    for b in k["live"]["best_slots"]:  # sorted best first within each market
        if b["market"] not in seen:
            seen.add(b["market"])
            lines.append(t("cr_summary_best_slot", lang, market=b["market"], slot=b["slot"], gmv=b["gmv_per_hour"],
                           currency=b["currency"], sessions=int(b["sessions"])))
    return lines


def creators_page_html(client: str, period: str, market: str = "") -> str:
    found = read_page_artifact(client, period, "creators.json")
    if found is None:
        return no_artifact_html("cr_no_artifact")
    folder, k = found
    mine = (lambda rows: [r for r in rows if r["market"] == market]) if market else list
    lang, esc, cur = page_language(k["language"]), html.escape, k["reporting_currency"]
    head = "".join(f"<th>{esc(h)}</th>" for h in [
        t("rank", lang), t("cr_creator", lang), t("market", lang), t("cr_tier", lang), t("cr_recommendation", lang),
        t("reason", lang), t("cr_roi_expected", lang), t("cr_roi_lo", lang), t("cr_break_even_roi", lang),
        f"{t('cr_total_cost', lang)} ({cur})", f"{t('cr_gmv_net_creator', lang)} ({cur})"])
    rows = "".join(
        f'<tr data-creator="{esc(c["creator"])}"><td>{c["rank"]}</td><td>{esc(c["creator"])}</td><td>{esc(c["market"])}</td>'
        f'<td>{esc(c["tier"] or "–")}</td><td class="{REC_CLASS.get(c["recommendation"], "")}">{esc(t("cr_rec_" + c["recommendation"], lang))}</td>'
        f'<td>{esc(t(c["reason"], lang))}</td><td>{_num(c["roi_expected"])}</td><td>{_num(c["roi_lo"])}</td>'
        f'<td>{_num(c["break_even_roi"])}</td><td>{_num(c["total_cost_rc"], 0)}</td><td>{_num(c["gmv_net_rc"], 0)}</td></tr>'
        for c in mine(k["creators"])[:TOP])
    flagged = [c for c in mine(k["fake_screen"]["creators"]) if c["flagged"]]
    flag_rows = "".join(
        f'<tr data-flagged="{esc(c["creator"])}"><td>{esc(c["creator"])}</td><td>{esc(c["market"])}</td>'
        f'<td>{esc("; ".join(t(r["rule"], lang, value=r["value"]) for r in c["reasons"]))}</td></tr>' for c in flagged)
    flag_table = (f'<table><tr><th>{esc(t("cr_creator", lang))}</th><th>{esc(t("market", lang))}</th>'
                  f'<th>{esc(t("reason", lang))}</th></tr>{flag_rows}</table>') if flagged else f'<p>{esc(t("cr_no_flags", lang))}</p>'
    slot_rows = "".join(
        f'<tr><td>{esc(b["market"])}</td><td>{esc(b["slot"])}</td><td>{int(b["sessions"])}</td>'
        f'<td>{esc(b["currency"])} {_num(b["gmv_per_hour"], 0)}</td></tr>' for b in mine(k["live"]["best_slots"]))
    slot_table = (f'<table><tr><th>{esc(t("market", lang))}</th><th>{esc(t("cr_local_slot", lang))}</th>'
                  f'<th>{esc(t("cr_sessions", lang))}</th><th>{esc(t("cr_gmv_per_hour", lang))}</th></tr>{slot_rows}</table>'
                  ) if slot_rows else f'<p>{esc(t("cr_no_live", lang))}</p>'
    figs = {name: _figure(folder / rel, name) for name, rel in k.get("figures", {}).items()}
    summary = "".join(f"<li>{esc(s)}</li>" for s in summary_lines(k, lang))
    return STYLE + f"""
<div class="skp" data-page="creators" data-client="{esc(client)}" data-period="{esc(k['period'])}">
<h2>{esc(t("cr_title", lang))} · {esc(k['period'])}</h2>
{market_note(market, lang)}<ul>{summary}</ul>
<h3>{esc(t('cr_ranking', lang))}</h3>{figs.get('creators_cost_vs_return', '')}
<div class="scroll"><table><tr>{head}</tr>{rows}</table></div>
<h3>{esc(t('cr_fake_screen', lang))}</h3><div class="scroll">{flag_table}</div>
<h3>{esc(t('cr_live', lang))}</h3><div class="scroll">{slot_table}</div>{figs.get('creators_live_heatmap', '')}
</div>"""
