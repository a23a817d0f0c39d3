"""The weekly (or monthly) business review: KPIs by market, top SKUs, period over period."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from shopkpi import artifacts, paths
from shopkpi.clean import connect_clean, exclusion_counts
from shopkpi.dictionary import t
from shopkpi.errors import NoDataError, ParamsError
from shopkpi.params import RunContext
from shopkpi.periods import Period

KPI_KEYS = ["gmv_gross", "gmv_net", "orders", "units", "aov", "refund_amount"]
COUNT_KPIS = {"orders", "units"}


def register_fx(con: duckdb.DuckDBPyConnection, params) -> None:
    """A temp table `fx` (currency, valid_from, rate) for ASOF joins; refuses orders older than the first rate."""
    rows = [(f.currency, f.valid_from, f.rate) for f in params.fx]
    rows.append((params.reporting_currency, dt.date(1970, 1, 1), 1.0))
    con.execute("CREATE OR REPLACE TEMP TABLE fx (currency VARCHAR, valid_from DATE, rate DOUBLE)")
    con.executemany("INSERT INTO fx VALUES (?, ?, ?)", rows)
    # An inner ASOF join would silently drop orders paid before a currency's first rate: refuse instead.
    uncovered = con.execute("""
        SELECT o.currency, min(o.paid_local_date) FROM clean_orders o
        LEFT JOIN (SELECT currency, min(valid_from) AS first_rate FROM fx GROUP BY 1) f USING (currency)
        WHERE o.paid_local_date IS NOT NULL AND (f.first_rate IS NULL OR o.paid_local_date < f.first_rate)
        GROUP BY 1 ORDER BY 1
    """).fetchall()
    if uncovered:
        gaps = ", ".join(f"{currency} from {day}" for currency, day in uncovered)
        raise ParamsError(f"{paths.params_file(params.client)}: fx has no rate to {params.reporting_currency} for orders paid "
                          f"before the first rate ({gaps}); add an earlier `from:` rate")


def _orders_with_fx(period: Period) -> str:
    return f"""
        SELECT o.*, fx.rate, fx.valid_from AS fx_date
        FROM clean_orders o ASOF JOIN fx ON o.currency = fx.currency AND o.paid_local_date >= fx.valid_from
        WHERE o.paid_local_date BETWEEN DATE '{period.start}' AND DATE '{period.end}'
    """


def kpis_by_market(con, period: Period) -> pd.DataFrame:
    """One row per market: local-currency and reporting-currency KPIs and the GMV bridge parts."""
    df = con.execute(f"""
        WITH o AS ({_orders_with_fx(period)})
        SELECT market, any_value(currency) AS currency,
            CAST(sum(order_amount) AS DOUBLE) AS gmv_gross_local,
            sum(order_amount * rate) AS gmv_gross,
            CAST(sum(order_amount - coalesce(order_refund_amount, 0)) FILTER (WHERE exclusion_reason IS NULL) AS DOUBLE) AS gmv_net_local,
            sum((order_amount - coalesce(order_refund_amount, 0)) * rate) FILTER (WHERE exclusion_reason IS NULL) AS gmv_net,
            count(*) FILTER (WHERE exclusion_reason IS NULL) AS orders,
            sum(units) FILTER (WHERE exclusion_reason IS NULL) AS units,
            sum(coalesce(order_refund_amount, 0) * rate) FILTER (WHERE exclusion_reason IS NULL) AS refund_amount,
            sum(order_amount * rate) FILTER (WHERE exclusion_reason = 'cancelled') AS cancelled_amount,
            sum(order_amount * rate) FILTER (WHERE exclusion_reason IN ('test_order', 'sample_order', 'replacement_order')) AS test_sample_amount,
            sum(order_amount * rate) FILTER (WHERE exclusion_reason = 'unpaid') AS unpaid_amount,
            max(fx_date) AS fx_from, arg_max(rate, fx_date) AS fx_rate,  -- the latest rate used and its date
            -- A rate that changed inside the period: every rate used, each with the date it took effect.
            string_agg(DISTINCT printf('%.6g from %s', rate, fx_date), '; ' ORDER BY printf('%.6g from %s', rate, fx_date)) AS fx_rates_used
        FROM o GROUP BY market ORDER BY market
    """).df()
    numeric = [c for c in df.columns if c not in ("market", "currency", "fx_from", "fx_rates_used")]
    df[numeric] = df[numeric].astype(float).fillna(0.0)
    df[["orders", "units"]] = df[["orders", "units"]].astype(int)
    df["fx_from"] = pd.to_datetime(df["fx_from"]).dt.date
    df["aov"] = df["gmv_net"] / df["orders"].where(df["orders"] > 0)
    df["aov_local"] = df["gmv_net_local"] / df["orders"].where(df["orders"] > 0)
    return df


def total_kpis(by_market: pd.DataFrame) -> dict:
    sums = {k: float(by_market[k].sum()) for k in ["gmv_gross", "gmv_net", "refund_amount",
                                                    "cancelled_amount", "test_sample_amount", "unpaid_amount"]}
    sums |= {k: int(by_market[k].sum()) for k in ["orders", "units"]}
    sums["aov"] = sums["gmv_net"] / sums["orders"] if sums["orders"] else None
    return sums


def top_skus(con, period: Period, limit: int) -> pd.DataFrame:
    return con.execute(f"""
        SELECT l.seller_sku, any_value(l.product_name) AS product_name,
               string_agg(DISTINCT l.market, ', ' ORDER BY l.market) AS markets,
               sum(l.subtotal_after_discount * fx.rate) AS sku_sales, sum(l.quantity) AS units,
               count(DISTINCT l.order_id) AS orders
        FROM clean_lines l ASOF JOIN fx ON l.currency = fx.currency AND l.paid_local_date >= fx.valid_from
        WHERE l.exclusion_reason IS NULL AND l.paid_local_date BETWEEN DATE '{period.start}' AND DATE '{period.end}'
        GROUP BY l.seller_sku ORDER BY sku_sales DESC, l.seller_sku LIMIT {int(limit)}
    """).df()


def daily_net_gmv(con, start: dt.date, end: dt.date) -> pd.DataFrame:
    df = con.execute(f"""
        SELECT o.paid_local_date AS day, o.market, sum((o.order_amount - coalesce(o.order_refund_amount, 0)) * fx.rate) AS gmv_net
        FROM clean_orders o ASOF JOIN fx ON o.currency = fx.currency AND o.paid_local_date >= fx.valid_from
        WHERE o.exclusion_reason IS NULL AND o.paid_local_date BETWEEN DATE '{start}' AND DATE '{end}'
        GROUP BY ALL ORDER BY day, market
    """).df()
    # Days without sales are zero, not gaps: reindex every market over the whole window.
    days = pd.date_range(start, end, freq="D")
    markets = sorted(df["market"].unique())
    full = pd.MultiIndex.from_product([days, markets], names=["day", "market"])
    df["day"] = pd.to_datetime(df["day"])
    return df.set_index(["day", "market"]).reindex(full, fill_value=0.0).reset_index()


def _change(now: float | None, before: float | None) -> float | None:
    if now is None or before in (None, 0):
        return None
    return now / before - 1


@dataclass
class WeeklyReport:
    ctx: RunContext
    by_market: pd.DataFrame
    previous_by_market: pd.DataFrame
    total: dict
    previous_total: dict
    top_skus: pd.DataFrame
    daily: pd.DataFrame
    exclusions: pd.DataFrame

    def kpi_table(self) -> pd.DataFrame:
        """KPI x (this period, previous period, change), all markets, formatted for reading."""
        lang = self.ctx.language
        rows = []
        for key in KPI_KEYS:
            now, before = self.total.get(key), self.previous_total.get(key)
            shown = (lambda v: "–" if v is None else f"{v:,.0f}") if key in COUNT_KPIS else (lambda v: "–" if v is None else f"{v:,.2f}")
            rows.append({t("kpi", lang): t(key, lang), t("this_period", lang): shown(now),
                         t("previous_period", lang): shown(before), t("change", lang): pct(_change(now, before), lang)})
        return pd.DataFrame(rows)

    def market_table(self) -> pd.DataFrame:
        lang = self.ctx.language
        prev = self.previous_by_market.set_index("market")["gmv_net"] if len(self.previous_by_market) else pd.Series(dtype=float)
        df = self.by_market.assign(gmv_net_change=[_change(r.gmv_net, prev.get(r.market)) for r in self.by_market.itertuples()])
        cols = {"market": t("market", lang), "currency": t("local_currency", lang),
                "gmv_gross_local": f"{t('gmv_gross', lang)} ({t('local_currency', lang)})",
                "gmv_net_local": f"{t('gmv_net', lang)} ({t('local_currency', lang)})",
                "gmv_net": f"{t('gmv_net', lang)} ({self.ctx.params.reporting_currency})",
                "orders": t("orders", lang), "units": t("units", lang),
                "aov_local": f"{t('aov', lang)} ({t('local_currency', lang)})", "gmv_net_change": t("change", lang)}
        return df[list(cols)].rename(columns=cols)

    def top_sku_table(self) -> pd.DataFrame:
        lang, cur = self.ctx.language, self.ctx.params.reporting_currency
        return self.top_skus.rename(columns={
            "seller_sku": t("seller_sku", lang), "product_name": t("product", lang), "markets": t("market", lang),
            "sku_sales": f"{t('sku_sales', lang)} ({cur})", "units": t("units", lang), "orders": t("orders", lang)})

    def bridge(self) -> pd.DataFrame:
        lang, tot = self.ctx.language, self.total
        steps = [("gmv_gross", tot["gmv_gross"]), ("cancelled", -tot["cancelled_amount"]),
                 ("test_order", -tot["test_sample_amount"]), ("unpaid", -tot["unpaid_amount"]),
                 ("refunded", -tot["refund_amount"]), ("gmv_net", tot["gmv_net"])]
        labels = {"test_order": f"{t('test_order', lang)} / {t('sample_order', lang)} / {t('replacement_order', lang)}"}
        # + 0.0 turns -0.0 into 0.0 so an empty step does not print as "-0.00".
        return pd.DataFrame([{t("bridge_step", lang): labels.get(k, t(k, lang)), t("amount", lang): v + 0.0} for k, v in steps])

    def summary(self) -> list[str]:
        lang, cur, tot = self.ctx.language, self.ctx.params.reporting_currency, self.total
        change = _change(tot["gmv_net"], self.previous_total.get("gmv_net"))
        sentences = [t("summary_sentence", lang, gmv=money(tot["gmv_net"], cur), change=pct(change, lang),
                       orders=f"{int(tot['orders']):,}", aov=money(tot["aov"], cur))]
        if len(self.by_market) > 1 and tot["gmv_net"]:
            top = self.by_market.sort_values("gmv_net", ascending=False).iloc[0]
            sentences.append(t("biggest_market", lang, market=top.market, share=pct(top.gmv_net / tot["gmv_net"], lang, signed=False)))
        if len(self.top_skus):
            best = self.top_skus.iloc[0]
            sentences.append(t("top_sku_sentence", lang, sku=f"{best.seller_sku} {best.product_name}", gmv=money(best.sku_sales, cur)))
        return sentences

    def to_artifact(self) -> dict:
        p = self.ctx.period
        return {
            "client": self.ctx.client, "display_name": self.ctx.params.display_name, "language": self.ctx.language,
            "period": p.name, "period_kind": p.kind, "period_start": p.start, "period_end": p.end,
            "previous_period": p.previous().name, "reporting_currency": self.ctx.params.reporting_currency,
            "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "total": self.total, "previous_total": self.previous_total,
            "by_market": self.by_market.to_dict(orient="records"),
            "previous_by_market": self.previous_by_market.to_dict(orient="records"),
            "top_skus": self.top_skus.to_dict(orient="records"),
            "summary": self.summary(),
        }


def require_orders_in(con: duckdb.DuckDBPyConnection, client: str, period: Period) -> None:
    """Refuse a period without a single order line: a review of zeros would read as a week without sales."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if "clean_lines" not in tables:
        raise NoDataError(f"client {client}: no Orders export in the store; ingest one (Seller Center -> Orders -> Export)")
    found, first, last = con.execute("""
        SELECT count(*) FILTER (WHERE coalesce(paid_local_date, created_local_date) BETWEEN ? AND ?),
               min(coalesce(paid_local_date, created_local_date)), max(coalesce(paid_local_date, created_local_date))
        FROM clean_lines""", [period.start, period.end]).fetchone()
    if not found:
        raise NoDataError(f"client {client}: no orders in {period.name} ({period.start} – {period.end}); "
                          f"the store's orders run from {first} to {last}: choose a period inside that range")


def build_weekly_report(ctx: RunContext) -> WeeklyReport:
    con = connect_clean(ctx.client)
    register_fx(con, ctx.params)
    require_orders_in(con, ctx.client, ctx.period)
    period, previous = ctx.period, ctx.period.previous()
    by_market, prev_by_market = kpis_by_market(con, period), kpis_by_market(con, previous)
    return WeeklyReport(
        ctx=ctx, by_market=by_market, previous_by_market=prev_by_market,
        total=total_kpis(by_market), previous_total=total_kpis(prev_by_market),
        top_skus=top_skus(con, period, ctx.params.report.top_skus),
        daily=daily_net_gmv(con, period.end - dt.timedelta(days=55), period.end),
        exclusions=exclusion_counts(con, period.start, period.end),
    )


def write_report_artifacts(report: WeeklyReport):
    """kpis.json for the dashboard, from the run in the client's language (other languages only render)."""
    if report.ctx.language != report.ctx.params.language:
        return None
    return artifacts.write_json(report.ctx.artifacts_dir / "kpis.json", report.to_artifact())


def money(value: float | None, currency: str) -> str:
    return "–" if value is None else f"{currency} {value:,.2f}"


def pct(value: float | None, language: str, signed: bool = True) -> str:
    if value is None:
        return t("no_previous", language)
    return f"{value:+.1%}" if signed else f"{value:.1%}"
