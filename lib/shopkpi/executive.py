"""The review's first page: the period's headline figures, what moved them, targets and the alerts that matter.

Everything here is computed from the weekly report (the store, through `report.py`) and the analyses'
artifacts; each sentence carries its units and, for alerts, an owner named in the client's params.
"""

from __future__ import annotations

import pandas as pd

from shopkpi.dictionary import t
from shopkpi.money import money
from shopkpi.report import CHANNEL_KPIS, WeeklyReport, _change, pct

HEADLINE_KPIS = ("gmv_net", "orders", "aov")
OTHER_SKUS = "*other*"


def headline_table(report: WeeklyReport) -> pd.DataFrame:
    """Net GMV, orders and AOV with 环比 and 同比 (the same days of the previous period and of last year), with units."""
    lang, cur = report.ctx.language, report.currency
    ago = report.year_ago_total
    rows = []
    for key in HEADLINE_KPIS:
        now = report.total.get(key)
        shown = f"{now:,.0f} {t('unit_orders', lang)}" if key == "orders" else money(now, cur)
        rows.append({t("kpi", lang): t(key, lang), t("this_period", lang): shown,
                     t("change", lang): pct(_change(now, report.previous_total.get(key)), lang),
                     t("change_yoy", lang): pct(_change(now, ago.get(key)), lang) if ago else t("no_year_ago_data", lang)})
    return pd.DataFrame(rows)


def _cells(cells: pd.DataFrame, keep: dict[str, set]) -> pd.DataFrame:
    """Market × SKU cells, each market's SKUs outside `keep` summed as one "other SKUs" cell."""
    if cells.empty:
        return pd.DataFrame(columns=["market", "seller_sku", "product_name", "gmv_net", "units"])
    sku = [s if s in keep.get(m, set()) else OTHER_SKUS for m, s in zip(cells["market"], cells["seller_sku"])]
    out = cells.assign(seller_sku=sku)
    return out.groupby(["market", "seller_sku"], as_index=False).agg(
        product_name=("product_name", "first"), gmv_net=("gmv_net", "sum"), units=("units", "sum"))


def sku_drivers(report: WeeklyReport, per_market: int = 8) -> pd.DataFrame:
    """The change in net GMV by market × SKU (each market's top SKUs, the rest as one cell), split into volume and price.

    The cells add up exactly to the change in total net GMV: each order's net amount is spread over its lines.
    Volume effect = change in units × last period's net price; price effect = the rest (for SKUs sold in both)."""
    now, before = report.sku_cells, report.previous_sku_cells
    both = pd.concat([now, before])
    keep = {m: set(g.groupby("seller_sku")["gmv_net"].sum().abs().nlargest(per_market).index) for m, g in both.groupby("market")}
    a, b = _cells(now, keep), _cells(before, keep)
    merged = a.merge(b, on=["market", "seller_sku"], how="outer", suffixes=("", "_prev"))
    merged["product_name"] = merged["product_name"].fillna(merged["product_name_prev"])
    for c in ("gmv_net", "units", "gmv_net_prev", "units_prev"):
        merged[c] = merged[c].astype(float).fillna(0.0)
    merged["delta"] = merged["gmv_net"] - merged["gmv_net_prev"]
    price_prev = merged["gmv_net_prev"] / merged["units_prev"].where(merged["units_prev"] > 0)
    merged["volume_effect"] = ((merged["units"] - merged["units_prev"]) * price_prev).fillna(merged["delta"])
    merged["price_effect"] = merged["delta"] - merged["volume_effect"]
    order = merged["delta"].abs().sort_values(ascending=False).index
    return merged.loc[order].drop(columns=["product_name_prev"]).reset_index(drop=True)


def market_drivers(report: WeeklyReport) -> pd.DataFrame:
    """The change in net GMV per market, split into orders (volume) and AOV (price/mix), in the reporting currency."""
    a = report.by_market.set_index("market")[["gmv_net", "orders"]]
    b = report.previous_by_market.set_index("market")[["gmv_net", "orders"]]
    m = a.join(b, how="outer", rsuffix="_prev").fillna(0.0)
    m["delta"] = m["gmv_net"] - m["gmv_net_prev"]
    aov_prev = m["gmv_net_prev"] / m["orders_prev"].where(m["orders_prev"] > 0)
    m["orders_effect"] = ((m["orders"] - m["orders_prev"]) * aov_prev).fillna(m["delta"])
    m["aov_effect"] = m["delta"] - m["orders_effect"]
    return m.reset_index().sort_values("delta", key=abs, ascending=False)


def driver_lines(report: WeeklyReport, top: int = 3) -> list[str]:
    """Where the change in net GMV came from: by market (orders vs AOV), then the biggest SKU moves."""
    lang, cur = report.ctx.language, report.currency
    total_delta = report.total["gmv_net"] - report.previous_total["gmv_net"]
    if not report.previous_total["orders"]:
        return [t("drivers_no_previous", lang)]
    parts = []
    for r in market_drivers(report).itertuples():
        parts.append(t("driver_market", lang, market=r.market, delta=money(r.delta, cur, whole=True, signed=True),
                       orders=money(r.orders_effect, cur, whole=True, signed=True), aov=money(r.aov_effect, cur, whole=True, signed=True)))
    lines = [t("drivers_total", lang, delta=money(total_delta, cur, whole=True, signed=True),
               markets=("；" if lang == "zh" else "; ").join(parts))]
    cells = sku_drivers(report)
    for r in cells.head(top).itertuples():
        what = t("other_skus", lang) if r.seller_sku == OTHER_SKUS else f"{r.seller_sku} {r.product_name}"
        lines.append(t("driver_sku", lang, market=r.market, sku=what, delta=money(r.delta, cur, whole=True, signed=True),
                       units=f"{r.units_prev:,.0f} → {r.units:,.0f}", volume=money(r.volume_effect, cur, whole=True, signed=True),
                       price=money(r.price_effect, cur, whole=True, signed=True)))
    if total_delta:
        share = cells.head(top)["delta"].sum() / total_delta
        lines.append(t("drivers_share", lang, top=top, share=f"{share:.0%}"))
    return lines


def channel_lines(report: WeeklyReport) -> list[str]:
    """Net GMV beside what the exports attribute to the shop's LIVE and to affiliate creators (platform attribution)."""
    lang, cur = report.ctx.language, report.currency
    ch = report.attributed[report.attributed["kpi"].isin(list(CHANNEL_KPIS))]
    if ch.empty:
        return [t("channels_missing", lang)]
    sums = ch.groupby("kpi")[["num", "num_prev"]].sum()
    parts = [t("channel_part", lang, channel=t(label, lang), now=money(sums.loc[kpi, "num"], cur, whole=True),
               change=pct(_change(sums.loc[kpi, "num"], sums.loc[kpi, "num_prev"]), lang),
               share=pct(sums.loc[kpi, "num"] / report.total["gmv_net"], lang, signed=False) if report.total["gmv_net"] else "–")
             for kpi, label in CHANNEL_KPIS.items() if kpi in sums.index]
    return [t("channels_line", lang, parts=("；" if lang == "zh" else "; ").join(parts))]


def ads_lines(report: WeeklyReport) -> list[str]:
    """Ad spend, the revenue the ad platforms attribute to it and ROAS, per market and in total, against the previous days."""
    lang, cur = report.ctx.language, report.currency
    a = report.attributed
    spend, roas = a[a["kpi"] == "ad_spend"].set_index("market"), a[a["kpi"] == "roas"].set_index("market")
    if spend.empty:
        return [t("ads_missing", lang)]
    ratio = lambda num, den: f"{num / den:.2f}" if den else "–"  # noqa: E731
    lines = [t("ads_total", lang, spend=money(spend["num"].sum(), cur, whole=True),
               change=pct(_change(spend["num"].sum(), spend["num_prev"].sum()), lang),
               revenue=money(roas["num"].sum(), cur, whole=True), roas=ratio(roas["num"].sum(), roas["den"].sum()),
               roas_prev=ratio(roas["num_prev"].sum(), roas["den_prev"].sum()),
               share=pct(spend["num"].sum() / report.total["gmv_net"], lang, signed=False) if report.total["gmv_net"] else "–")]
    for market in spend.index:
        r = roas.loc[market] if market in roas.index else None
        lines.append(t("ads_market", lang, market=market, spend=money(spend.loc[market, "num"], cur, whole=True),
                       roas="–" if r is None else ratio(r["num"], r["den"]),
                       roas_prev="–" if r is None else ratio(r["num_prev"], r["den_prev"])))
    return lines
