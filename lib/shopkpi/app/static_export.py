"""The dashboard as one static HTML file for e-mail: every page of a period, no code, no kernel, no script.

The same page renderers as the Voila dashboard, so the e-mailed file and the live page cannot disagree.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from shopkpi import paths
from shopkpi.app import dashboard
from shopkpi.dictionary import t
from shopkpi.errors import ShopkpiError


def export_file(client: str, period: str) -> Path:
    return paths.period_outputs_dir(client, period) / f"dashboard_{client}_{period}.html"


def export_dashboard(client: str, period: str | None = None) -> Path:
    """Write every dashboard page of `period` (default: the latest) into one self-contained HTML file."""
    client = paths.check_client_name(client)
    periods = dashboard.available_periods(client)
    if not periods:
        raise ShopkpiError(f"client {client!r} has no report yet: run the pipeline first")
    period = paths.check_period_name(period or periods[-1])
    if period not in periods:
        raise ShopkpiError(f"client {client!r} has no report for period {period!r}; it has {', '.join(periods)}")
    k = dashboard.load_kpis(client, period)
    lang, esc = k["language"], html.escape
    sections, links = [], []
    for name, (label, _) in dashboard.page_renderers().items():
        body = dashboard.page_html(client, name, period).replace(dashboard.STYLE, "")
        links.append(f'<a href="#{name}">{esc(t(label, lang))}</a>')
        sections.append(f'<section id="{name}">{body}</section>')
    document = f"""<!DOCTYPE html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(k['display_name'])} · {esc(period)}</title>
{dashboard.STYLE}
<style>nav.skp-nav {{position:sticky; top:0; background:#fff; padding:8px 0; border-bottom:1px solid #ddd}}
nav.skp-nav a {{margin-right:14px}} section {{margin:24px 0}}</style></head>
<body style="max-width:1100px;margin:auto;padding:0 12px">
<nav class="skp-nav">{''.join(links)}</nav>
{''.join(sections)}
</body></html>
"""
    path = export_file(client, period)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(document, encoding="utf-8")
    os.replace(tmp, path)
    return path
