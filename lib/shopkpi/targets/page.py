"""The dashboard's targets page, rendered from targets.json and its figure only (import-light)."""

from __future__ import annotations

import html

from shopkpi.app.dashboard import STYLE, page_language, _figure, market_note, no_artifact_html, read_page_artifact
from shopkpi.dictionary import t
from shopkpi.targets.catalogue import format_value, node_label

STATUS_CLASS = {"met": "up", "on_track": "up", "off_pace": "down", "missed": "down", "behind": "down"}


def targets_page_html(client: str, period: str, market: str = "") -> str:
    found = read_page_artifact(client, period, "targets.json")
    if found is None:
        return no_artifact_html("no_targets")
    folder, k = found
    lang, esc, cur = page_language(k["language"]), html.escape, k["reporting_currency"]
    rows = []
    for r in (r for r in k["targets"] if r["level"] != "person" and (not market or r.get("market") == market)):
        node = node_label(r["node"], lang)
        attainment = "–" if r["attainment"] is None else f"{r['attainment']:.0%}"
        rows.append(f'<tr data-target-kpi="{esc(r["kpi"])}"><td>{esc(r["period"])}</td><td>{esc(t(r["kpi"], lang))}</td><td>{esc(node)}</td>'
                    f'<td>{format_value(r["kpi"], r["target"], cur)}</td><td>{format_value(r["kpi"], r["actual"], cur)}</td><td>{attainment}</td>'
                    f'<td>{r["elapsed_share"]:.0%}</td><td class="{STATUS_CLASS.get(r["status"], "")}">{esc(t("status_" + r["status"], lang))}</td></tr>')
    head = "".join(f"<th>{esc(t(key, lang))}</th>" for key in
                   ("period", "kpi", "target_node", "target", "actual", "attainment", "time_elapsed", "status"))
    summary = "".join(f"<li>{esc(s)}</li>" for s in k["summary"])
    figure = _figure(folder / "figures" / "attainment.png", t("attainment_chart", lang))
    return STYLE + f"""
<div class="skp" data-page="targets" data-client="{esc(client)}" data-period="{esc(k['period'])}">
<h2>{esc(t('kpi_targets', lang))} · {esc(k['period'])}</h2>
{market_note(market, lang)}<ul>{summary}</ul>{figure}
<div class="scroll"><table><tr>{head}</tr>{''.join(rows)}</table></div>
</div>"""
