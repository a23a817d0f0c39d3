"""The period's P&L: per market and SKU, the waterfall from net GMV to contribution, fee checks, payouts, ads.

Other ad spend (Ads Manager, and GMV Max when the statement does not already charge it) is allocated to a
market's SKUs by their share of the market's revenue: a documented rule, since an ad account does not say
which SKU a click bought. Money is in each market's currency; totals across markets use the reporting currency
at each line's own day (the review's FX rule).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from shopkpi import artifacts, spreadsheet
from shopkpi.dictionary import t
from shopkpi.money import money
from shopkpi.periods import Window, same_days
from shopkpi.profit import fees as fee_data
from shopkpi.profit.lines import STEP_NAMES, _has, build_lines, window_where
from shopkpi.report import _change as change

ARTIFACT = "profit.json"
OVERDUE_DAYS = 21  # delivered this long ago and in no statement: Seller Center settles within 3-15 days [reference §1.6]
FEE_CHECK_DAYS = 28
# Steps of the waterfall after net sales, in order (samples and other ads are costs outside the order lines).
WATERFALL = ["shipping", "platform_fees", "affiliate_commission", "gmv_max_fees", "adjustments", "other", "cogs",
             "samples", "creator_fees", "ads_allocated"]
ATTRIBUTION = {"Ads Manager": "ads_attribution_ads_manager", "GMV Max": "ads_attribution_gmv_max"}
ALLOCATED = ["creator_fees", "ads_allocated"]  # market costs spread over its SKUs by revenue share
SUMS = STEP_NAMES + ["cogs", "samples", *ALLOCATED, "contribution"]


@dataclass
class ProfitResult:
    window: Window
    previous: Window
    reporting_currency: str
    by_market: pd.DataFrame
    previous_by_market: pd.DataFrame
    sku_pnl: pd.DataFrame
    waterfall: pd.DataFrame
    fee_checks: pd.DataFrame
    payouts: pd.DataFrame
    overdue: pd.DataFrame
    ads: pd.DataFrame
    fee_rates: list[dict]
    lines: pd.DataFrame = field(repr=False, default=None)

    def total(self, frame: pd.DataFrame | None = None) -> dict:
        frame = self.by_market if frame is None else frame
        out = {c: float(frame[f"{c}_rep"].sum()) for c in SUMS + ["gmv_net"]}
        out["margin"] = out["contribution"] / out["revenue"] if out["revenue"] else None
        settled = float(frame["revenue_settled_rep"].sum())
        out["settled_share"] = settled / out["revenue"] if out["revenue"] else None
        return out


def _with_fx(con: duckdb.DuckDBPyConnection, lines: pd.DataFrame) -> pd.Series:
    """Reporting-currency rate per line, on its own paid day (the one FX rule)."""
    from shopkpi.report import fx_join

    con.register("pnl_days", lines[["line_key", "currency", "paid_local_date"]])
    rates = con.execute(f"SELECT l.line_key, fx.rate FROM pnl_days l {fx_join('l', 'paid_local_date')}").df()
    con.unregister("pnl_days")
    return lines["line_key"].map(rates.set_index("line_key")["rate"])


def _ad_product(con) -> str:
    from shopkpi.profit.lines import _columns

    return "coalesce(ad_product, 'Ads Manager')" if "ad_product" in _columns(con, "ad_days") else "'Ads Manager'"


def ad_spend(con: duckdb.DuckDBPyConnection, window: Window, settled_gmv_max_markets: set[str]) -> pd.DataFrame:
    """Ad spend per market in the window that the statement does not already charge (local currency)."""
    if not _has(con, "ad_days"):
        return pd.DataFrame(columns=["market", "ad_product", "spend"])
    df = con.execute(f"""
        SELECT market, {_ad_product(con)} AS product, sum(cost) AS spend
        FROM ad_days WHERE report_date BETWEEN ? AND ? GROUP BY ALL
    """, [window.start, window.end]).df().rename(columns={"product": "ad_product"})
    charged = df["market"].isin(settled_gmv_max_markets) & df["ad_product"].eq("GMV Max")
    return df[~charged]


def creator_fees(con: duckdb.DuckDBPyConnection, window: Window) -> pd.Series:
    """Contracted creators' fixed fees for the videos they posted in the window, per market (local currency).

    The same count as the creators notebook's cost (creators.costs.fixed_fees): the first `videos_promised`
    contract videos are paid."""
    from shopkpi.creators.costs import fixed_fees

    fees, found = fixed_fees(con, window)
    return fees.groupby("market")["fixed_fees"].sum() if found and len(fees) else pd.Series(dtype=float)


def market_pnl(con, lines: pd.DataFrame, window: Window, gmv: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per market, per SKU x market) P&L of the window's lines; other ads and creator fixed fees allocated by revenue share."""
    lines = lines.copy()
    lines["rate"] = _with_fx(con, lines)
    orders = lines[lines["basis"] != "sample"]
    samples = lines[lines["basis"] == "sample"]
    gmv_max_markets = set(orders.loc[orders["gmv_max_fees"].ne(0), "market"])
    spend = ad_spend(con, window, gmv_max_markets).groupby("market")["spend"].sum()
    key = ["market", "currency", "seller_sku", "sku_id", "product_name"]
    sku = orders.groupby(key, dropna=False)[STEP_NAMES + ["cogs"]].sum(min_count=1).fillna(0.0)
    sku["samples"] = samples.groupby(key, dropna=False)["contribution_before_ads"].sum().reindex(sku.index).fillna(0.0)
    sku["lines"] = orders.groupby(key, dropna=False).size()
    sku["lines_settled"] = orders[orders["basis"] == "settled"].groupby(key, dropna=False).size().reindex(sku.index).fillna(0)
    sku["cost_missing_lines"] = orders.groupby(key, dropna=False)["cost_missing"].sum()
    sku = sku.reset_index()
    market_revenue = sku.groupby("market")["revenue"].transform("sum")
    share = sku["revenue"] / market_revenue.where(market_revenue != 0)
    for column, cost in (("ads_allocated", spend), ("creator_fees", creator_fees(con, window))):
        sku[column] = (-sku["market"].map(cost).fillna(0.0) * share).fillna(0.0)
    sku["contribution"] = sku[STEP_NAMES + ["cogs", "samples", *ALLOCATED]].sum(axis=1)
    sku["margin"] = sku["contribution"] / sku["revenue"].where(sku["revenue"] != 0)
    # Reporting currency: each line at its day's rate; ads and allocation at the window's mean line rate.
    rate = orders.groupby("market").apply(lambda d: (d["rate"] * d["revenue"].abs()).sum() / d["revenue"].abs().sum()
                                          if d["revenue"].abs().sum() else d["rate"].mean(), include_groups=False)
    by = sku.groupby(["market", "currency"])[SUMS].sum().reset_index()
    by["lines"] = sku.groupby(["market", "currency"])["lines"].sum().to_numpy()
    by["lines_settled"] = sku.groupby(["market", "currency"])["lines_settled"].sum().to_numpy()
    by["revenue_settled"] = orders[orders["basis"] == "settled"].groupby("market")["revenue"].sum().reindex(by["market"]).fillna(0.0).to_numpy()
    by["gmv_net"] = by["market"].map(gmv.set_index("market")["gmv_net_local"]).fillna(0.0)
    for c in SUMS + ["revenue_settled", "gmv_net"]:
        if c in STEP_NAMES or c == "cogs":
            exact = orders.assign(v=orders[c] * orders["rate"]).groupby("market")["v"].sum()
            by[f"{c}_rep"] = by["market"].map(exact).fillna(0.0)
        else:
            by[f"{c}_rep"] = by[c] * by["market"].map(rate).fillna(0.0)
    by["contribution_rep"] = by[[f"{c}_rep" for c in STEP_NAMES + ["cogs", "samples", *ALLOCATED]]].sum(axis=1)
    gmv_rep = gmv.set_index("market")["gmv_net"]
    by["gmv_net_rep"] = by["market"].map(gmv_rep).fillna(0.0)
    by["margin"] = by["contribution"] / by["revenue"].where(by["revenue"] != 0)
    by["settled_share"] = by["revenue_settled"] / by["revenue"].where(by["revenue"] != 0)
    return by, sku


def waterfall(total: dict) -> pd.DataFrame:
    """Net GMV -> net sales -> each cost step -> contribution (reporting currency)."""
    steps = [("gmv_net", total["gmv_net"]), ("to_net_sales", total["revenue"] - total["gmv_net"])]
    steps += [(s, total[s]) for s in WATERFALL]
    steps.append(("contribution", total["contribution"]))
    return pd.DataFrame(steps, columns=["step", "amount"])


def fee_checks(con, table: pd.DataFrame, end: dt.date) -> pd.DataFrame:
    """Settled fees against the table's rate for their category, statements settled in the last 4 weeks to `end`.

    A group (market, top category, fee line, month of order) is listed when the statement charged more than a
    cent per line away from the table and more than 1% off it. Lines whose base the export and the statement
    disagree on (a refund the export has not seen) are left out."""
    if not _has(con, "settlements"):
        return pd.DataFrame()
    start = end - dt.timedelta(days=FEE_CHECK_DAYS - 1)
    where = (f"order_id IN (SELECT coalesce(related_order_id, order_adjustment_id) FROM settlements "
             f"WHERE settled_date BETWEEN DATE '{start}' AND DATE '{end}')")
    lines = build_lines(con, where, table)
    lines = lines[lines["basis"] == "settled"]
    if "s_items" in lines:
        # Only where the statement's net item value equals the Orders export's: an export taken before a late
        # refund gives the table a larger base than the statement charged on, which is not a fee change.
        lines = lines[(lines["s_items"] + lines["s_items_refunded"] - lines["item_kept"]).abs() < 0.005]
    rows = []
    for fee_line in fee_data.fee_lines(table):
        s_col, e_col = f"s_fee_{fee_line}", f"e_fee_{fee_line}"
        if s_col not in lines or e_col not in lines:
            continue
        d = lines.assign(category=lines["product_category"].fillna("").str.split("/").str[0],
                         month=pd.to_datetime(lines["created_local_date"]).dt.strftime("%Y-%m"))
        g = d.groupby(["market", "currency", "category", "month"]).agg(
            settled=(s_col, "sum"), table=(e_col, "sum"), lines=(s_col, "size"), table_rate=(f"rate_{fee_line}", "max"))
        g = g.reset_index().assign(fee_line=fee_line)
        g["difference"] = g["settled"] - g["table"]
        g["charged_rate"] = g["table_rate"] * g["settled"] / g["table"].where(g["table"] != 0)
        rows.append(g)
    if not rows:
        return pd.DataFrame()
    out = pd.concat(rows, ignore_index=True)
    listed = (out["difference"].abs() > 0.01 * out["lines"]) & (out["difference"].abs() > 0.01 * out["table"].abs())
    return out[listed].sort_values("difference").reset_index(drop=True)


def payouts(con, window: Window) -> pd.DataFrame:
    """Each statement settled in the window: its stated total, the sum of its rows, reserves, withdrawal, gap."""
    if not _has(con, "settlements") or not _has(con, "reconciliation"):
        return pd.DataFrame()
    df = con.execute("""
        WITH s AS (
            SELECT source_file, any_value(market) AS market, any_value(currency) AS currency,
                   min(settled_date) AS first_settled, max(settled_date) AS last_settled, count(*) AS rows,
                   sum(CAST(total_settlement_amount AS DOUBLE)) FILTER (WHERE transaction_type ILIKE 'order') AS orders_total,
                   sum(CAST(total_settlement_amount AS DOUBLE)) FILTER (WHERE NOT transaction_type ILIKE 'order') AS adjustments_total
            FROM settlements GROUP BY source_file
        ), r AS (
            SELECT source_file,
                   max(export_total) FILTER (WHERE metric = 'total_settlement_amount') AS statement_total,
                   max(our_total) FILTER (WHERE metric = 'total_settlement_amount') AS rows_total,
                   max(export_total) FILTER (WHERE metric = 'reserve_amount') AS reserve,
                   max(export_total) FILTER (WHERE metric = 'withdrawal_amount') AS withdrawal
            FROM reconciliation WHERE kind = 'settlement' GROUP BY source_file
        )
        SELECT s.*, r.statement_total, coalesce(r.rows_total, coalesce(s.orders_total, 0) + coalesce(s.adjustments_total, 0)) AS rows_total,
               coalesce(r.reserve, 0) AS reserve, r.withdrawal
        FROM s LEFT JOIN r USING (source_file)
        WHERE s.last_settled BETWEEN ? AND ?
        ORDER BY market, first_settled
    """, [window.start, window.end]).df()
    total = df["statement_total"].fillna(df["rows_total"])
    df["gap"] = (total + df["reserve"] - df["withdrawal"]).round(2)
    df["rows_vs_statement"] = (df["rows_total"] - total).round(2)
    df["balanced"] = df["gap"].abs().lt(0.005) & df["rows_vs_statement"].abs().lt(0.005)
    return df


def overdue(con, as_of: dict[str, dt.date], days: int = OVERDUE_DAYS) -> pd.DataFrame:
    """Counted orders delivered `days` or more before the data's last day, inside the statements' reach, in none."""
    if not _has(con, "settlements"):
        return pd.DataFrame()
    rows = []
    for market, last_day in as_of.items():
        rows.append(con.execute("""
            WITH reach AS (SELECT min(settled_date) AS first FROM settlements WHERE market = ?),
                 settled AS (SELECT DISTINCT coalesce(related_order_id, order_adjustment_id) AS order_id FROM settlements)
            SELECT o.order_id, o.market, o.currency, CAST(timezone('UTC', max(l.delivered_at)) AS DATE) AS delivered_date,
                   ? - CAST(timezone('UTC', max(l.delivered_at)) AS DATE) AS days_since_delivery, any_value(o.gmv_net) AS gmv_net
            FROM clean_orders o JOIN clean_lines l USING (order_id), reach
            WHERE o.market = ? AND o.exclusion_reason IS NULL AND l.delivered_at IS NOT NULL
              AND o.order_id NOT IN (SELECT order_id FROM settled)
            GROUP BY o.order_id, o.market, o.currency, reach.first
            HAVING CAST(timezone('UTC', max(l.delivered_at)) AS DATE) >= reach.first
               AND CAST(timezone('UTC', max(l.delivered_at)) AS DATE) <= ? - ?::INTEGER
            ORDER BY delivered_date
        """, [market, last_day, market, last_day, days]).df())
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def ads_review(con, window: Window, gmv: pd.DataFrame) -> pd.DataFrame:
    """Spend, attributed GMV, ROAS, CPA and cost share by ad product, campaign, market and ISO week."""
    if not _has(con, "ad_days"):
        return pd.DataFrame()
    df = con.execute(f"""
        SELECT {_ad_product(con)} AS product, market, any_value(currency) AS currency,
               strftime(report_date, '%G-W%V') AS week, campaign_name AS campaign,
               sum(cost) AS spend, sum(complete_payment_value) AS attributed_gmv, sum(complete_payment) AS orders
        FROM ad_days WHERE report_date BETWEEN ? AND ? GROUP BY ALL ORDER BY market, product, spend DESC
    """, [window.start, window.end]).df().rename(columns={"product": "ad_product"})
    df["roas"] = df["attributed_gmv"] / df["spend"].where(df["spend"] > 0)
    df["cpa"] = df["spend"] / df["orders"].where(df["orders"] > 0)
    df["cost_share"] = df["spend"] / df["market"].map(gmv.set_index("market")["gmv_net_local"]).where(lambda s: s > 0)
    return df


def run(ctx) -> ProfitResult:
    from shopkpi.clean import connect_clean
    from shopkpi.coverage import data_coverage
    from shopkpi.errors import NoDataError
    from shopkpi.report import kpis_by_market, register_fx, report_window

    con = connect_clean(ctx.client)
    if not _has(con, "clean_lines"):
        raise NoDataError(f"client {ctx.client}: the store has no orders; ingest the Orders export first")
    register_fx(con, ctx.params)
    table = fee_data.register_fee_table(con)
    coverage = data_coverage(con, ctx.params)
    window = report_window(con, ctx, coverage)
    previous = same_days(window, ctx.period.previous())
    gmv, prev_gmv = kpis_by_market(con, window), kpis_by_market(con, previous)
    lines = build_lines(con, window_where(window.start, window.end), table)
    by_market, sku = market_pnl(con, lines, window, gmv)
    prev_lines = build_lines(con, window_where(previous.start, previous.end), table)
    prev_by_market, _ = market_pnl(con, prev_lines, previous, prev_gmv) if len(prev_lines) else (by_market.iloc[0:0], None)
    orders = coverage[coverage["kind"] == "orders"]
    orders_as_of = dict(zip(orders["market"], orders["complete_through"]))
    result = ProfitResult(
        window=window, previous=previous, reporting_currency=ctx.params.reporting_currency,
        by_market=by_market, previous_by_market=prev_by_market, sku_pnl=sku, waterfall=pd.DataFrame(),
        fee_checks=fee_checks(con, table, window.end), payouts=payouts(con, window),
        overdue=overdue(con, orders_as_of),
        ads=ads_review(con, window, gmv), fee_rates=fee_data.confirmed_lines(table, list(by_market["market"])), lines=lines)
    result.waterfall = waterfall(result.total())
    return result


def _records(frame: pd.DataFrame) -> list[dict]:
    if frame is None or frame.empty:
        return []
    out = frame.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v)
        elif str(out[c].dtype).startswith("datetime"):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    return out.to_dict(orient="records")


def to_artifact(result: ProfitResult, ctx) -> dict:
    total, before = result.total(), result.total(result.previous_by_market) if len(result.previous_by_market) else None
    sku = result.sku_pnl
    return {
        "client": ctx.client, "period": ctx.period.name, "language": ctx.language,
        "window_start": result.window.start, "window_end": result.window.end, "complete": result.window.complete,
        "previous_start": result.previous.start, "previous_end": result.previous.end,
        "reporting_currency": result.reporting_currency,
        "total": total, "previous_total": before,
        "changes": {k: change(total[k], before[k]) for k in ("contribution", "revenue")} if before else {},
        "by_market": _records(result.by_market), "previous_by_market": _records(result.previous_by_market),
        "waterfall": _records(result.waterfall),
        "sku_pnl": _records(sku.sort_values(["market", "contribution"])),
        "loss_making": _records(sku[sku["contribution"] < 0].sort_values("contribution")),
        "fees_above_table": _records(result.fee_checks),
        "payouts": _records(result.payouts), "overdue_unsettled": _records(result.overdue),
        "overdue_days": OVERDUE_DAYS, "ads": _records(result.ads), "fee_rates": result.fee_rates,
        "rules": {"ads_allocation": "other ad spend is allocated to a market's SKUs by revenue share",
                  "creator_fees": "contracted creators' fixed fees for videos posted in the window (the creators "
                                  "notebook's count), allocated to a market's SKUs by revenue share",
                  "cogs": "landed cost of the newest stock plan x units kept (sold - returned)"},
    }


def step_label(step: str, lang: str) -> str:
    return t(f"pnl_{step}", lang)


def waterfall_table(result: ProfitResult, lang: str) -> pd.DataFrame:
    cur = result.reporting_currency
    total = result.total()
    rows = [(step_label(r.step, lang), money(r.amount, cur, signed=r.step not in ("gmv_net", "contribution")),
             f"{r.amount / total['revenue']:.1%}" if total["revenue"] else "") for r in result.waterfall.itertuples()]
    return pd.DataFrame(rows, columns=[t("bridge_step", lang), f"{t('amount', lang)} ({cur})", t("pnl_share_of_revenue", lang)])


def market_table(result: ProfitResult, lang: str) -> pd.DataFrame:
    rows = []
    for r in result.by_market.itertuples():
        rows.append({t("market", lang): r.market, t("pnl_revenue", lang): money(r.revenue, r.currency),
                     t("pnl_fees_all", lang): money(r.platform_fees + r.affiliate_commission + r.gmv_max_fees, r.currency, signed=True),
                     t("pnl_cogs", lang): money(r.cogs, r.currency, signed=True),
                     t("pnl_ads_allocated", lang): money(r.ads_allocated, r.currency, signed=True),
                     t("pnl_contribution", lang): money(r.contribution, r.currency),
                     t("pnl_margin", lang): f"{r.margin:.1%}" if pd.notna(r.margin) else "",
                     t("pnl_settled_share", lang): f"{r.settled_share:.0%}" if pd.notna(r.settled_share) else ""})
    return pd.DataFrame(rows)


def sku_table(result: ProfitResult, lang: str, rows: pd.DataFrame | None = None, limit: int = 15) -> pd.DataFrame:
    sku = (result.sku_pnl.sort_values("contribution", ascending=False) if rows is None else rows).head(limit)
    return pd.DataFrame([{t("market", lang): r.market, t("seller_sku", lang): r.seller_sku, t("product", lang): r.product_name,
                          t("pnl_revenue", lang): money(r.revenue, r.currency), t("pnl_contribution", lang): money(r.contribution, r.currency),
                          t("pnl_margin", lang): f"{r.margin:.1%}" if pd.notna(r.margin) else ""} for r in sku.itertuples()])


def summary_lines(payload: dict, lang: str) -> list[str]:
    """The sentences the notebook, the review and the page show, all read from profit.json's figures."""
    cur, total, before = payload["reporting_currency"], payload["total"], payload.get("previous_total")
    moved = change(total["contribution"], before["contribution"]) if before else None
    lines = [t("pnl_summary", lang, contribution=money(total["contribution"], cur), revenue=money(total["revenue"], cur),
               margin=f"{total['margin']:.1%}" if total["margin"] is not None else "—", gmv=money(total["gmv_net"], cur),
               change=f"{moved:+.1%}" if moved is not None else t("no_previous", lang))]
    share = total["settled_share"] or 0.0
    lines.append(t("pnl_settled_note", lang, settled=f"{share:.0%}", estimated=f"{1 - share:.0%}"))
    losing = payload["loss_making"]
    if losing:
        worst = losing[0]
        lines.append(t("pnl_loss_making", lang, n=len(losing), sku=worst["seller_sku"], market=worst["market"],
                       amount=money(worst["contribution"], worst["currency"], signed=True)))
    for r in payload["fees_above_table"][:3]:
        lines.append(t("pnl_fee_above_table", lang, market=r["market"], category=r["category"], month=r["month"],
                       charged=f"{r['charged_rate']:.2%}", table=f"{r['table_rate']:.2%}",
                       amount=money(r["difference"], r["currency"], signed=True)))
    statements = payload["payouts"]
    if statements:
        bad = [p for p in statements if not p["balanced"]]
        lines.append(t("pnl_payouts_ok", lang, n=len(statements)) if not bad
                     else t("pnl_payouts_gap", lang, n=len(bad), files=", ".join(p["source_file"] for p in bad[:3])))
    if payload["overdue_unsettled"]:
        lines.append(t("pnl_overdue", lang, n=len(payload["overdue_unsettled"]), days=payload["overdue_days"]))
    return lines


FIGURE = "figures/profit_waterfall.png"


def waterfall_figure(result: ProfitResult, lang: str):
    import matplotlib.pyplot as plt

    w = result.waterfall
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    running, bottoms, heights, colors = 0.0, [], [], []
    for r in w.itertuples():
        if r.step in ("gmv_net", "contribution"):
            bottoms.append(0.0)
            heights.append(r.amount)
            colors.append("#4c72b0")
            running = r.amount
        else:
            bottoms.append(running if r.amount >= 0 else running + r.amount)
            heights.append(abs(r.amount))
            colors.append("#55a868" if r.amount >= 0 else "#c44e52")
            running += r.amount
    labels = [step_label(s, lang) for s in w["step"]]
    ax.bar(range(len(w)), heights, bottom=bottoms, color=colors)
    ax.set_xticks(range(len(w)), labels, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel(result.reporting_currency)
    ax.set_title(t("pnl_waterfall", lang))
    fig.tight_layout()
    return fig


def write_outputs(result: ProfitResult, ctx) -> dict:
    """profit.json (the one source of every P&L figure shown), profit_<client>_<period>.xlsx and the waterfall figure."""
    import matplotlib.pyplot as plt

    payload = to_artifact(result, ctx)
    files = {}
    if ctx.language == ctx.params.language:
        files["artifact"] = artifacts.write_json(ctx.artifacts_dir / ARTIFACT, payload)
    fig = waterfall_figure(result, ctx.language)
    artifacts.save_figure(fig, ctx.artifacts_dir / FIGURE)
    plt.close(fig)
    sheets = {"by_market": pd.DataFrame(payload["by_market"]), "sku_pnl": pd.DataFrame(payload["sku_pnl"]),
              "waterfall": pd.DataFrame(payload["waterfall"]), "fees_above_table": pd.DataFrame(payload["fees_above_table"]),
              "payouts": pd.DataFrame(payload["payouts"]), "overdue_unsettled": pd.DataFrame(payload["overdue_unsettled"]),
              "ads": pd.DataFrame(payload["ads"]), "fee_rates": pd.DataFrame(payload["fee_rates"]),
              "order_lines": _line_export(result.lines)}
    files["xlsx"] = spreadsheet.write_workbook(sheets, ctx.outputs_dir / f"profit_{ctx.client}_{ctx.period.name}.xlsx", freeze="A2")
    files["payload"] = payload
    return files


def _line_export(lines: pd.DataFrame) -> pd.DataFrame:
    """Every P&L line with its source (settled statement or estimate), for tracing a figure to its rows."""
    keep = ["order_id", "sku_id", "seller_sku", "market", "currency", "paid_local_date", "basis", "settled_date",
            *STEP_NAMES, "cogs", "contribution_before_ads", "landed_cost", "quantity", "return_quantity"]
    return lines[[c for c in keep if c in lines.columns]].sort_values(["market", "paid_local_date", "order_id"])


def fee_rate_table(result: ProfitResult, lang: str) -> pd.DataFrame:
    """The fee rates the markets used, and whether a source confirms each (the closing caveat of every estimate)."""
    return pd.DataFrame([{t("market", lang): r["market"], "category": r["category"], "fee_line": r["fee_line"],
                          "rate": f"{r['rate']:.2%}", "base": r["base"], "from": str(r["valid_from"]),
                          "status": t("pnl_confirmed" if r["confirmed"] else "pnl_unconfirmed", lang), "source": r["source"]}
                         for r in result.fee_rates])
