"""What a Voila page shows: the artifacts of the one client its link opens, drawn as finished HTML.

Import-light (json, html, base64 only besides labels) because Voila executes the page in a fresh kernel
on every view. The client is the server-bound one, or on a server for all clients the one the gate names;
either way it is shown only with that client's own token, checked before any of its files is read.
"""

from __future__ import annotations

import base64
import contextvars
import html
import json
import os
from pathlib import Path

from shopkpi import paths
from shopkpi.dictionary import t
from shopkpi.errors import ShopkpiError

BOUND_CLIENT_ENV = "SHOPKPI_DASHBOARD_CLIENT"


def bound_client(requested: str = "") -> str:
    """The server-bound client; a page parameter may only repeat it, never change it."""
    client = os.environ.get(BOUND_CLIENT_ENV, "")
    if not client:
        if not requested:
            raise ShopkpiError("this page is not bound to a client: start it with `shopkpi serve --client NAME`")
        client = requested
    elif requested and requested != client:
        raise ShopkpiError("this page can only show the client it was opened for")
    return paths.check_client_name(client)


def available_periods(client: str, artifact: str = "kpis.json") -> list[str]:
    """The client's periods that have `artifact`, oldest first."""
    base = paths.client_outputs_dir(client)
    if not base.exists():
        return []
    found = []
    for folder in base.iterdir():
        if paths.PERIOD_NAME.match(folder.name) and (folder / "artifacts" / artifact).exists():
            found.append(folder.name)
    from shopkpi.periods import parse_period

    # By end date: as text every "2026-12" would sort before "2026-W46".
    return sorted(found, key=lambda name: (parse_period(name).end, name))


def default_period(client: str, periods: list[str] | None = None) -> str | None:
    """The period a page opens on: the latest whose review covers it completely, else the latest there is."""
    periods = available_periods(client) if periods is None else periods
    for period in reversed(periods):
        try:
            if load_kpis(client, period).get("complete", True):
                return period
        except (OSError, ValueError):
            continue
    return periods[-1] if periods else None


def read_page_artifact(client: str, period: str | None, artifact: str) -> tuple[Path, dict] | None:
    """(artifacts folder, payload) of `period` (default: the latest complete one that has it), or None when there is none."""
    if period is None:
        periods = available_periods(client, artifact)
        if not periods:
            return None
        period = default_period(client, periods) if artifact == "kpis.json" else periods[-1]
    folder = paths.artifacts_dir(client, paths.check_period_name(period))
    file = folder / artifact
    if not file.exists():
        return None
    return folder, json.loads(file.read_text(encoding="utf-8"))


def no_artifact_html(key: str) -> str:
    """A page's "nothing for this period" note, in both report languages (no artifact says which one)."""
    return STYLE + f'<div class="skp"><p>{html.escape(t(key, "en"))} / {html.escape(t(key, "zh"))}</p></div>'


def load_kpis(client: str, period: str) -> dict:
    return json.loads((paths.artifacts_dir(client, paths.check_period_name(period)) / "kpis.json").read_text(encoding="utf-8"))


def format_number(value, kind: str = "number") -> str:
    """How the pages show a number: count, rate (percent with 2 decimals), share, lift (×1.23) or plain number."""
    if value is None:
        return "–"
    if kind == "count":
        return f"{value:,.0f}"
    if kind == "rate":
        return f"{value:.2%}"
    if kind == "lift":
        return f"×{value:.2f}"
    if kind == "share":
        return f"{value:.0%}"
    return f"{value:,.2f}"


def _change(now, before) -> str:
    if now is None or not before:
        return ""
    change = now / before - 1
    cls = "up" if change >= 0 else "down"
    return f'<span class="{cls}">{change:+.1%}</span>'


def _figure(path: Path, alt: str) -> str:
    if not path.exists():
        return ""
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}" style="max-width:100%;height:auto">'


STYLE = """
<style>
.skp {font-family: system-ui, sans-serif; max-width: 1100px}
.skp .cards {display:flex; flex-wrap:wrap; gap:12px; margin:12px 0}
.skp .card {flex:1 1 160px; border:1px solid #ddd; border-radius:8px; padding:10px 14px}
.skp .card .label {color:#555; font-size:13px}
.skp .card .value {font-size:22px; font-weight:600}
.skp .up {color:#1a7f37} .skp .down {color:#c62828}
.skp table {border-collapse:collapse; width:100%; font-size:14px}
.skp th, .skp td {border-bottom:1px solid #eee; padding:4px 8px; text-align:right}
.skp th:first-child, .skp td:first-child {text-align:left}
.skp .scroll {overflow-x:auto}
</style>
"""


def market_note(market: str, lang: str, key: str = "market_tables_note", **values) -> str:
    """What a market filter does to a page: which parts it narrows and which still cover every market."""
    if not market:
        return ""
    return f'<p class="market-note" style="color:#555">{html.escape(t(key, lang, market=market, **values))}</p>'


def _market_row(rows: list[dict], market: str) -> dict:
    row = next((m for m in rows if m["market"] == market), None)
    if row is None:
        return {}
    # The market's own currency: the same figures its local team sees in Seller Center.
    return {"gmv_net": row["gmv_net_local"], "gmv_gross": row["gmv_gross_local"], "orders": row["orders"],
            "aov": row["aov_local"], "units": row["units"], "currency": row["currency"]}


def period_line(k: dict, lang: str) -> str:
    """"Period: 2026-11 (2026-11-01 – 2026-11-30)", or "2026-11 to date (… 18 of 30 days)" for a period not over yet."""
    if k.get("complete", True):
        shown = f"{k['period']} ({k['period_start']} – {k['period_end']})"
    else:
        shown = t("period_to_date", lang, name=k["period"], start=k["period_start"], end=k["window_end"], days=k["days"],
                  period_days=k["period_days"])
    return f"{t('period', lang)}: {shown}"


def as_of_html(k: dict, lang: str) -> str:
    """The data's last complete local day per export kind and market, and when the page's figures were computed."""
    from shopkpi.coverage import as_of_line

    text = as_of_line(k.get("data_as_of") or [], lang) if k.get("data_as_of") else ""
    return (f'<p class="as-of" style="color:#777;font-size:12px">{html.escape(text)}'
            f'{" · " if text else ""}{html.escape(t("generated_at", lang))}: {html.escape(str(k.get("generated_at", "")))}</p>')


def overview_html(client: str, period: str | None = None, market: str = "") -> str:
    """The overview page for a client's latest complete (or given) period, for all markets or one.

    With a market picked, cards and the SKU list are that market's, in its own currency; the market table
    keeps the reporting currency for every market, and each amount carries the currency it is in."""
    from shopkpi.money import money

    periods = available_periods(client)
    if not periods:
        return no_artifact_html("no_report")
    period = period or default_period(client, periods)
    k = load_kpis(client, period)
    lang, reporting = page_language(k["language"]), k["reporting_currency"]
    cur = reporting
    tot, prev = k["total"], k["previous_total"]
    by_market = k["by_market"]
    top_skus = [dict(s, amount=s["sku_sales"], currency=reporting) for s in k["top_skus"]]
    if market:
        tot, prev = _market_row(k["by_market"], market), _market_row(k.get("previous_by_market", []), market)
        cur = tot.get("currency", cur)
        by_market = [m for m in by_market if m["market"] == market]
        top_skus = [dict(s, amount=s["sku_sales_local"], currency=s["currency"]) for s in (k.get("top_skus_by_market") or {}).get(market, [])]
    esc = html.escape
    cards = []
    for key, fmt in [("gmv_net", "money"), ("gmv_gross", "money"), ("orders", "int"), ("aov", "money"), ("units", "int")]:
        value = tot.get(key)
        shown = money(value, cur) if fmt == "money" else f"{int(value or 0):,}"
        cards.append(f'<div class="card" data-kpi="{key}" data-currency="{esc(cur) if fmt == "money" else ""}">'
                     f'<div class="label">{esc(t(key, lang))}</div>'
                     f'<div class="value">{esc(shown)}</div><div>{_change(value, prev.get(key))}</div></div>')
    rows = "".join(
        f"<tr><td>{esc(m['market'])}</td><td>{esc(money(m['gmv_net_local'], m['currency']))}</td>"
        f"<td>{esc(money(m['gmv_net'], reporting))}</td><td>{int(m['orders']):,}</td><td>{int(m['units']):,}</td></tr>"
        for m in by_market)
    market_table = (f"<table><tr><th>{esc(t('market', lang))}</th><th>{esc(t('gmv_net', lang))} ({esc(t('local_currency', lang))})</th>"
                    f"<th>{esc(t('gmv_net', lang))} ({esc(reporting)})</th><th>{esc(t('orders', lang))}</th><th>{esc(t('units', lang))}</th></tr>{rows}</table>")
    sku_rows = "".join(
        f"<tr><td>{esc(str(s['seller_sku']))}</td><td>{esc(str(s['product_name']))}</td><td>{esc(money(s['amount'], s['currency']))}</td>"
        f"<td>{int(s['units']):,}</td></tr>" for s in top_skus)
    sku_table = (f"<table><tr><th>{esc(t('seller_sku', lang))}</th><th>{esc(t('product', lang))}</th>"
                 f"<th>{esc(t('sku_sales', lang))}</th><th>{esc(t('units', lang))}</th></tr>{sku_rows}</table>")
    figure = _figure(paths.artifacts_dir(client, period) / "figures" / "daily_net_gmv.png", t("daily_net_gmv", lang))
    summary = "".join(f"<li>{esc(s)}</li>" for s in k.get("summary", []))
    return STYLE + f"""
<div class="skp" data-page="overview" data-client="{esc(client)}" data-period="{esc(period)}" data-market="{esc(market)}">
<h2>{esc(k['display_name'])} · {esc(t('dashboard_title', lang))}{esc(' · ' + market if market else '')}</h2>
<p>{esc(period_line(k, lang))} · {esc(t('reporting_currency', lang))}: {esc(reporting)}</p>
<div class="cards">{''.join(cards)}</div>
{market_note(market, lang, "market_filter_note", currency=cur)}
<h3>{esc(t('summary', lang))}</h3><ul>{summary}</ul>
<h3>{esc(t('market', lang))}</h3><div class="scroll">{market_table}</div>
<h3>{esc(t('daily_net_gmv', lang))}</h3>{figure}
<h3>{esc(t('top_skus', lang))}</h3><div class="scroll">{sku_table}</div>
{as_of_html(k, lang)}
</div>"""


# Page name -> (label key, "module:function" rendering (client, period) -> HTML), imported on first view
# so a reader who opens one tab does not pay for every analysis's imports.
PAGES = {
    "overview": ("dashboard_title", "shopkpi.app.dashboard:overview_html"),
    "targets": ("kpi_targets", "shopkpi.targets.page:targets_page_html"),
    "alerts": ("review_alerts", "shopkpi.health.page:health_page_html"),
    "content": ("page_content", "shopkpi.content.page:page_html"),
    "creators": ("page_creators", "shopkpi.creators.page:creators_page_html"),
    "restock": ("page_restock", "shopkpi.restock.page:restock_html"),
    "profit": ("page_profit", "shopkpi.profit.page:profit_page_html"),
    "review": ("page_review", "shopkpi.review:review_page_html"),
}


def page_renderers() -> dict[str, tuple[str, object]]:
    import importlib

    found = {}
    for name, (label, target) in PAGES.items():
        module, function = target.split(":")
        found[name] = (label, getattr(importlib.import_module(module), function))
    return found


def client_markets(client: str, period: str) -> list[str]:
    return [m["market"] for m in load_kpis(client, period)["by_market"]]


def page_html(client: str, page: str, period: str, market: str = "") -> str:
    """One page for the bound client, a period it has and optionally one of its markets; anything else is refused."""
    import inspect

    client = bound_client(client)
    renderers = page_renderers()
    if page not in renderers:
        raise ShopkpiError(f"no page {page!r}; pages: {', '.join(renderers)}")
    if period not in available_periods(client):
        raise ShopkpiError(f"no report for period {period!r}")
    if market and market not in client_markets(client, period):
        raise ShopkpiError(f"no market {market!r} in period {period!r}")
    render = renderers[page][1]
    kpis = load_kpis(client, period)
    # Every page says how far the data reaches (the overview and review pages place it themselves).
    lang = page_language(kpis["language"])
    as_of = "" if page in ("overview", "review") else as_of_html(kpis, lang)
    try:
        if market and "market" in inspect.signature(render).parameters:
            return render(client, period, market=market) + as_of
        body = render(client, period)
        return (market_note(market, lang, "market_not_filtered") + body if market else body) + as_of
    except Exception as exc:  # one broken artifact must not take the other pages down
        return f"<p><b>This page cannot be shown:</b> {html.escape(type(exc).__name__)}: {html.escape(str(exc))}</p>"


def page_language(artifact_language: str) -> str:
    """The language a page is drawn in: the reader's pick (the zh/en toggle) over the artifact's report language."""
    return _PAGE_LANGUAGE.get() or artifact_language


_PAGE_LANGUAGE: contextvars.ContextVar[str] = contextvars.ContextVar("page_language", default="")
LANGUAGES = ("zh", "en")
VIEW_FIELDS = ("page", "period", "market", "lang")  # everything a link may choose; the client is never one of them


def stored_token(client: str) -> str | None:
    """The client's dashboard token as stored, or None: a page never creates one (only `shopkpi serve` does)."""
    file = paths.dashboard_token_file(client)
    try:
        return file.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def token_matches(client: str, key: str) -> bool:
    import hmac

    token = stored_token(client)
    return bool(token and key) and hmac.compare_digest(token.encode(), key.encode())


def authorised_client(requested: str, key: str) -> str:
    """The client a view may show: the server-bound one (or, on a server for all clients, the one named),
    and only with that client's own token; checked before any of its data is read."""
    client = bound_client(requested)
    if not token_matches(client, key):
        raise ShopkpiError(link_not_valid_text())
    return client


def link_not_valid_text() -> str:
    """What a refused link is told, in both report languages (who asked is unknown)."""
    return f"{t('link_not_valid', 'zh')} / {t('link_not_valid', 'en')}"


def view_link(view: dict, **change) -> str:
    """A relative link to another view of the same client: the server path keeps the client, the query the rest."""
    from urllib.parse import urlencode

    merged = {**view, **change}
    return "?" + urlencode({k: merged[k] for k in ("key", *VIEW_FIELDS) if merged.get(k)})


PAGE_STYLE = """
<style>
html, body {margin:0; padding:0}
body {padding:8px 12px; -webkit-text-size-adjust:100%}
.skp-nav {font-family: system-ui, sans-serif; display:flex; flex-wrap:wrap; gap:8px 16px; align-items:center; margin-bottom:8px}
.skp-nav .tabs {display:flex; flex-wrap:wrap; gap:4px}
.skp-nav .tabs a {padding:6px 10px; border:1px solid #ccd; border-radius:16px; text-decoration:none; color:#124; font-size:14px}
.skp-nav .tabs a[aria-current="page"] {background:#124; color:#fff}
.skp-nav form {display:flex; flex-wrap:wrap; gap:6px; align-items:center; font-size:14px}
.skp-nav select, .skp-nav button {font-size:14px; max-width:100%}
.skp img {max-width:100%; height:auto}
.skp table {display:block; overflow-x:auto; max-width:100%}
.skp h2 {overflow-wrap:anywhere}
.skp td, .skp th {white-space:nowrap}
@media (max-width: 600px) {.skp .card .value {font-size:18px} .skp table {font-size:13px}}
</style>
"""


def view_html(client: str, page: str = "overview", period: str | None = None, market: str = "", lang: str = "", key: str = "") -> str:
    """One whole dashboard view, drawn on the server: links for pages and language, a form for period and market.

    No script and no widget: a phone gets finished HTML, and the server keeps no kernel for it afterwards."""
    esc = html.escape
    periods = available_periods(client)
    if not periods:
        return PAGE_STYLE + no_artifact_html("no_report")
    if page not in PAGES:
        raise ShopkpiError(f"no page {page!r}; pages: {', '.join(PAGES)}")
    period = period or default_period(client, periods)
    if period not in periods:
        raise ShopkpiError(f"no report for period {period!r}")
    kpis = load_kpis(client, period)
    lang = lang if lang in LANGUAGES else kpis["language"]
    picked = "" if lang == kpis["language"] else lang  # the reader's pick, when it is not the report language
    view = {"key": key, "page": page, "period": period, "market": market, "lang": picked}
    markets = [m["market"] for m in kpis["by_market"]]
    tabs = "".join(f'<a href="{esc(view_link(view, page=name))}" data-nav="{esc(name)}"'
                   f'{" aria-current=page" if name == page else ""}>{esc(t(label, lang))}</a>'
                   for name, (label, _) in PAGES.items())
    hidden = "".join(f'<input type="hidden" name="{k}" value="{esc(view[k])}">' for k in ("key", "page", "lang") if view[k])
    period_options = "".join(f'<option value="{esc(p)}"{" selected" if p == period else ""}>{esc(p)}</option>' for p in reversed(periods))
    market_options = f'<option value="">{esc(t("all_markets", lang))}</option>' + "".join(
        f'<option value="{esc(m)}"{" selected" if m == market else ""}>{esc(m)}</option>' for m in markets)
    other = "en" if lang == "zh" else "zh"
    nav = (f'<nav class="skp-nav" lang="{lang}"><div class="tabs">{tabs}</div>'
           f'<form method="get">{hidden}<label>{esc(t("period", lang))} <select name="period">{period_options}</select></label>'
           f'<label>{esc(t("market", lang))} <select name="market">{market_options}</select></label>'
           f'<button type="submit">{esc(t("show_view", lang))}</button></form>'
           f'<a class="lang" data-lang="{other}" href="{esc(view_link(view, lang="" if other == kpis["language"] else other))}">'
           f'{esc(t("other_language", lang))}</a></nav>')
    note = "" if not picked else f'<p class="lang-note" style="color:#777;font-size:12px">{esc(t("prose_in_report_language", lang))}</p>'
    token = _PAGE_LANGUAGE.set(picked)
    try:
        body = page_html(client, page, period, market)
    finally:
        _PAGE_LANGUAGE.reset(token)
    return PAGE_STYLE + nav + note + body


VIEW_MARK = "<!--skp-view:{}|{}-->"  # page, the period drawn (the default one resolved)


def view_from_query(query: str | None, requested_client: str = "") -> str:
    """The view a request asks for (Voila's query string), for the client its token opens; refusals are short and data-free.

    With `all=1` (the gate asks so) every page of that period, market and language is drawn, each after its
    VIEW_MARK: the gate keeps them for the reader's next clicks, which then need no kernel."""
    from urllib.parse import parse_qs

    fields = parse_qs(query or "", keep_blank_values=False)
    one = lambda name: (fields.get(name) or [""])[0]  # noqa: E731
    try:
        client = authorised_client(one("client") or requested_client, one("key"))
    except ShopkpiError as exc:
        return STYLE + f'<div class="skp" data-refused="1"><p>{html.escape(str(exc))}</p></div>'
    wanted = one("page") or "overview"
    pages = list(PAGES) if one("all") == "1" and wanted in PAGES else [wanted]
    period = one("period") or default_period(client) or ""
    drawn = {name: view_html(client, name, period or None, one("market"), one("lang"), one("key")) for name in pages}
    if len(pages) == 1:
        return drawn[wanted]
    return "".join(VIEW_MARK.format(name, period) + body for name, body in drawn.items())
