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
from shopkpi.periods import Period, Window, covered_window, same_days, year_before
from shopkpi.money import money

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


def fx_join(alias: str, day: str) -> str:
    """The one FX conversion: each row takes the rate in force on its own local day (an ASOF join on `fx`)."""
    return f"ASOF JOIN fx ON {alias}.currency = fx.currency AND {alias}.{day} >= fx.valid_from"


def _orders_with_fx(period: Period | Window) -> str:
    return f"""
        SELECT o.*, fx.rate, fx.valid_from AS fx_date
        FROM clean_orders o {fx_join("o", "paid_local_date")}
        WHERE o.paid_local_date BETWEEN DATE '{period.start}' AND DATE '{period.end}'
    """


def kpis_by_market(con, period: Period | Window) -> pd.DataFrame:
    """One row per market: local-currency and reporting-currency KPIs and the GMV bridge parts (a period or its days to date)."""
    df = con.execute(f"""
        WITH o AS ({_orders_with_fx(period)})
        SELECT market, any_value(currency) AS currency,
            CAST(sum(order_amount) AS DOUBLE) AS gmv_gross_local,
            sum(order_amount * rate) AS gmv_gross,
            CAST(sum(gmv_net) AS DOUBLE) AS gmv_net_local, sum(gmv_net * rate) AS gmv_net,
            count(*) FILTER (WHERE exclusion_reason IS NULL) AS orders,
            sum(units) FILTER (WHERE exclusion_reason IS NULL) AS units,
            sum(refund_amount * rate) AS refund_amount,
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


def top_skus(con, period: Period | Window, limit: int, market: str | None = None) -> pd.DataFrame:
    """Best-selling SKUs: all markets in the reporting currency, or one market's in its own currency too."""
    where = "" if market is None else f"AND l.market = '{market}'"
    return con.execute(f"""
        SELECT l.seller_sku, any_value(l.product_name) AS product_name,
               string_agg(DISTINCT l.market, ', ' ORDER BY l.market) AS markets,
               sum(l.subtotal_after_discount * fx.rate) AS sku_sales, CAST(sum(l.subtotal_after_discount) AS DOUBLE) AS sku_sales_local,
               any_value(l.currency) AS currency, sum(l.quantity) AS units, count(DISTINCT l.order_id) AS orders
        FROM clean_lines l {fx_join("l", "paid_local_date")}
        WHERE l.exclusion_reason IS NULL AND l.paid_local_date BETWEEN DATE '{period.start}' AND DATE '{period.end}' {where}
        GROUP BY l.seller_sku ORDER BY sku_sales DESC, l.seller_sku LIMIT {int(limit)}
    """).df()


def net_gmv_by_market_sku(con, period: Period | Window) -> pd.DataFrame:
    """Net GMV split over each order's SKU lines (by line subtotal, else by quantity): the cells add up to net GMV exactly."""
    return con.execute(f"""
        WITH o AS ({_orders_with_fx(period)}),
        l AS (
            SELECT order_id, seller_sku, any_value(product_name) AS product_name, sum(quantity) AS units,
                   sum(coalesce(subtotal_after_discount, 0)) AS subtotal
            FROM clean_lines WHERE exclusion_reason IS NULL GROUP BY ALL
        ),
        shares AS (
            SELECT *, CASE WHEN sum(subtotal) OVER w > 0 THEN subtotal / sum(subtotal) OVER w
                           WHEN sum(units) OVER w > 0 THEN units / sum(units) OVER w
                           ELSE 1.0 / count(*) OVER w END AS share
            FROM l WINDOW w AS (PARTITION BY order_id)
        )
        SELECT o.market, s.seller_sku, any_value(s.product_name) AS product_name,
               sum(o.gmv_net * o.rate * s.share) AS gmv_net,
               CAST(sum(s.units) AS DOUBLE) AS units
        FROM o JOIN shares s USING (order_id)
        WHERE o.exclusion_reason IS NULL
        GROUP BY ALL ORDER BY o.market, gmv_net DESC
    """).df()


CHANNEL_KPIS = {"live_gmv": "channel_live", "creator_gmv": "channel_affiliate"}
ATTRIBUTED_KPIS = (*CHANNEL_KPIS, "ad_spend", "roas")


def attributed_actuals(con, params, window: Window, previous: Window) -> pd.DataFrame:
    """The exports' own attributions (shop LIVE GMV, affiliate creator GMV, ad spend and ROAS parts) per market,
    this window and the previous one, from the targets' daily actuals (one formula for each of these KPIs)."""
    from shopkpi.targets.actuals import daily_actuals

    actuals = daily_actuals(con, window.end, params.targets)
    rows = actuals[actuals["kpi"].isin(ATTRIBUTED_KPIS)]
    columns = ["kpi", "market", "num", "den", "num_prev", "den_prev"]
    if not len(rows):
        return pd.DataFrame(columns=columns)
    parts = []
    for suffix, w in (("", window), ("_prev", previous)):
        part = rows[(rows["day"] >= w.start) & (rows["day"] <= w.end)]
        parts.append(part.groupby(["kpi", "market"])[["num", "den"]].sum().add_suffix(suffix))
    return pd.concat(parts, axis=1).fillna(0.0).reset_index()[columns]


def daily_net_gmv(con, start: dt.date, end: dt.date) -> pd.DataFrame:
    df = con.execute(f"""
        SELECT o.paid_local_date AS day, o.market, sum(o.gmv_net * fx.rate) AS gmv_net
        FROM clean_orders o {fx_join("o", "paid_local_date")}
        WHERE o.exclusion_reason IS NULL AND o.paid_local_date BETWEEN DATE '{start}' AND DATE '{end}'
        GROUP BY ALL ORDER BY day, market
    """).df()
    # Days without sales are zero, not gaps: reindex every market over the whole window (which ends at the
    # data's last complete day, so days not yet reported are not drawn as zero).
    days = pd.date_range(start, end, freq="D")
    markets = sorted(df["market"].unique())
    full = pd.MultiIndex.from_product([days, markets], names=["day", "market"])
    df["day"] = pd.to_datetime(df["day"])
    return df.set_index(["day", "market"]).reindex(full, fill_value=0.0).reset_index()


def _change(now: float | None, before: float | None) -> float | None:
    if now is None or before in (None, 0):
        return None
    return now / before - 1


def window_label(window: Window, language: str) -> str:
    """"2026-11 (2026-11-01 – 2026-11-30)" or, to date, "2026-11 至今 (2026-11-01 – 2026-11-18, 18 of 30 days)"."""
    p = window.period
    if window.complete:
        return f"{p.name} ({p.start} – {p.end})"
    return t("period_to_date", language, name=p.name, start=window.start, end=window.end, days=window.days, period_days=p.days)


@dataclass
class WeeklyReport:
    ctx: RunContext
    window: Window  # the period, or its days the data covers
    previous_window: Window  # the same number of days of the previous period
    year_ago_window: Window | None  # ... and of the same period last year (None: the store does not reach back)
    by_market: pd.DataFrame
    previous_by_market: pd.DataFrame
    year_ago_by_market: pd.DataFrame
    total: dict
    previous_total: dict
    year_ago_total: dict | None
    top_skus: pd.DataFrame
    top_skus_by_market: dict[str, pd.DataFrame]
    sku_cells: pd.DataFrame  # net GMV by market × SKU, this window
    previous_sku_cells: pd.DataFrame
    daily: pd.DataFrame
    exclusions: pd.DataFrame
    coverage: pd.DataFrame
    attributed: pd.DataFrame  # the exports' attributions (LIVE, affiliate, ads) per market, this window and the previous

    @property
    def currency(self) -> str:
        return self.ctx.params.reporting_currency

    def title(self) -> str:
        return f"{self.ctx.params.display_name} · {window_label(self.window, self.ctx.language)}"

    def comparison_note(self) -> str:
        """What 环比 and 同比 compare: the same number of days, named by their dates."""
        lang, prev, ago = self.ctx.language, self.previous_window, self.year_ago_window
        return t("comparison_note", lang, previous=f"{prev.start} – {prev.end}",
                 year_ago=f"{ago.start} – {ago.end}" if ago else t("no_year_ago_data", lang))

    def kpi_table(self) -> pd.DataFrame:
        """KPI (with its unit) x (this period, previous period, 环比, a year ago, 同比), all markets."""
        lang, cur = self.ctx.language, self.currency
        ago = self.year_ago_total or {}
        rows = []
        for key in KPI_KEYS:
            now, before, last_year = self.total.get(key), self.previous_total.get(key), ago.get(key)
            count = key in COUNT_KPIS
            shown = lambda v: "–" if v is None else (f"{v:,.0f}" if count else f"{v:,.2f}")  # noqa: E731
            label = t(key, lang)
            unit = "" if label.endswith((")", "）")) else f" ({t(f'unit_{key}', lang) if count else cur})"
            rows.append({t("kpi", lang): label + unit, t("this_period", lang): shown(now),
                         t("previous_period", lang): shown(before), t("change", lang): pct(_change(now, before), lang),
                         t("year_ago", lang): shown(last_year) if self.year_ago_total else "–",
                         t("change_yoy", lang): pct(_change(now, last_year), lang) if self.year_ago_total else t("no_year_ago_data", lang)})
        return pd.DataFrame(rows)

    def market_table(self) -> pd.DataFrame:
        """Each market in its own currency (every amount carries its currency) and in the reporting currency."""
        lang, cur = self.ctx.language, self.currency
        prev = self.previous_by_market.set_index("market")["gmv_net"] if len(self.previous_by_market) else pd.Series(dtype=float)
        rows = []
        for r in self.by_market.itertuples():
            rows.append({t("market", lang): r.market, t("gmv_gross", lang): money(r.gmv_gross_local, r.currency),
                         t("gmv_net", lang): money(r.gmv_net_local, r.currency), f"{t('gmv_net', lang)} ({cur})": r.gmv_net,
                         t("orders", lang): r.orders, t("units", lang): r.units, t("aov", lang): money(r.aov_local, r.currency),
                         t("change", lang): _change(r.gmv_net, prev.get(r.market))})
        return pd.DataFrame(rows)

    def top_sku_table(self) -> pd.DataFrame:
        lang, cur = self.ctx.language, self.currency
        return self.top_skus[["seller_sku", "product_name", "markets", "sku_sales", "units", "orders"]].rename(columns={
            "seller_sku": t("seller_sku", lang), "product_name": t("product", lang), "markets": t("market", lang),
            "sku_sales": f"{t('sku_sales', lang)} ({cur})", "units": t("units", lang), "orders": t("orders", lang)})

    def bridge(self) -> pd.DataFrame:
        lang, tot = self.ctx.language, self.total
        steps = [("gmv_gross", tot["gmv_gross"]), ("cancelled", -tot["cancelled_amount"]),
                 ("test_order", -tot["test_sample_amount"]), ("unpaid", -tot["unpaid_amount"]),
                 ("refunded", -tot["refund_amount"]), ("gmv_net", tot["gmv_net"])]
        labels = {"test_order": f"{t('test_order', lang)} / {t('sample_order', lang)} / {t('replacement_order', lang)}"}
        # + 0.0 turns -0.0 into 0.0 so an empty step does not print as "-0.00".
        return pd.DataFrame([{t("bridge_step", lang): labels.get(k, t(k, lang)), f"{t('amount', lang)} ({self.currency})": v + 0.0}
                             for k, v in steps])

    def summary(self) -> list[str]:
        lang, cur, tot = self.ctx.language, self.currency, self.total
        change = _change(tot["gmv_net"], self.previous_total.get("gmv_net"))
        sentences = [t("summary_sentence", lang, gmv=money(tot["gmv_net"], cur), change=pct(change, lang),
                       orders=f"{int(tot['orders']):,}", aov=money(tot["aov"], cur))]
        ago = self.year_ago_total
        sentences.append(t("summary_yoy", lang, gmv=pct(_change(tot["gmv_net"], ago["gmv_net"]), lang),
                           orders=pct(_change(tot["orders"], ago["orders"]), lang), aov=pct(_change(tot["aov"], ago["aov"]), lang),
                           start=self.year_ago_window.start, end=self.year_ago_window.end)
                         if ago else t("summary_no_yoy", lang))
        if len(self.by_market) > 1 and tot["gmv_net"]:
            top = self.by_market.sort_values("gmv_net", ascending=False).iloc[0]
            sentences.append(t("biggest_market", lang, market=top.market, share=pct(top.gmv_net / tot["gmv_net"], lang, signed=False)))
        if len(self.top_skus):
            best = self.top_skus.iloc[0]
            sentences.append(t("top_sku_sentence", lang, sku=f"{best.seller_sku} {best.product_name}", gmv=money(best.sku_sales, cur)))
        return sentences

    def to_artifact(self) -> dict:
        from shopkpi import coverage as cov

        p, w = self.ctx.period, self.window
        return {
            "client": self.ctx.client, "display_name": self.ctx.params.display_name, "language": self.ctx.language,
            "period": p.name, "period_kind": p.kind, "period_start": p.start, "period_end": p.end,
            "window_end": w.end, "complete": w.complete, "days": w.days, "period_days": p.days,
            "previous_period": p.previous().name, "previous_window": [self.previous_window.start, self.previous_window.end],
            "year_ago_window": [self.year_ago_window.start, self.year_ago_window.end] if self.year_ago_window else None,
            "reporting_currency": self.currency,
            "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "data_as_of": cov.records(self.coverage),
            "total": self.total, "previous_total": self.previous_total, "year_ago_total": self.year_ago_total,
            "by_market": self.by_market.to_dict(orient="records"),
            "previous_by_market": self.previous_by_market.to_dict(orient="records"),
            "year_ago_by_market": self.year_ago_by_market.to_dict(orient="records"),
            "top_skus": self.top_skus.to_dict(orient="records"),
            "top_skus_by_market": {m: df.to_dict(orient="records") for m, df in self.top_skus_by_market.items()},
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


def report_window(con: duckdb.DuckDBPyConnection, ctx: RunContext, coverage: pd.DataFrame) -> Window:
    """The period's days the orders cover completely in every market selling in it; refuses a period without any."""
    from shopkpi.coverage import orders_complete_through

    require_orders_in(con, ctx.client, ctx.period)
    through = orders_complete_through(coverage, ctx.period)
    if through < ctx.period.start:
        raise NoDataError(f"client {ctx.client}: {ctx.period.name} has no complete day yet (orders complete through {through})")
    return covered_window(ctx.period, through)


def build_weekly_report(ctx: RunContext) -> WeeklyReport:
    from shopkpi.coverage import data_coverage

    con = connect_clean(ctx.client)
    register_fx(con, ctx.params)
    coverage = data_coverage(con, ctx.params)
    window = report_window(con, ctx, coverage)
    previous = same_days(window, ctx.period.previous())
    year_ago = same_days(window, year_before(ctx.period))
    first_order = con.execute("SELECT min(paid_local_date) FROM clean_orders").fetchone()[0]
    if first_order is None or first_order > year_ago.start:
        year_ago = None  # the store does not reach back a year: no 同比, said so, never shown as -100%
    by_market, prev_by_market = kpis_by_market(con, window), kpis_by_market(con, previous)
    ago_by_market = kpis_by_market(con, year_ago) if year_ago else by_market.iloc[0:0]
    limit = ctx.params.report.top_skus
    return WeeklyReport(
        ctx=ctx, window=window, previous_window=previous, year_ago_window=year_ago,
        by_market=by_market, previous_by_market=prev_by_market, year_ago_by_market=ago_by_market,
        total=total_kpis(by_market), previous_total=total_kpis(prev_by_market),
        year_ago_total=total_kpis(ago_by_market) if year_ago else None,
        top_skus=top_skus(con, window, limit),
        top_skus_by_market={m: top_skus(con, window, limit, market=m) for m in by_market["market"]},
        sku_cells=net_gmv_by_market_sku(con, window), previous_sku_cells=net_gmv_by_market_sku(con, previous),
        daily=daily_net_gmv(con, window.end - dt.timedelta(days=55), window.end),
        exclusions=exclusion_counts(con, window.start, window.end),
        coverage=coverage,
        attributed=attributed_actuals(con, ctx.params, window, previous),
    )


def write_report_artifacts(report: WeeklyReport):
    """kpis.json for the dashboard, from the run in the client's language (other languages only render)."""
    from shopkpi import executive

    if report.ctx.language != report.ctx.params.language:
        return None
    payload = report.to_artifact() | {"drivers": executive.driver_lines(report) + executive.channel_lines(report),
                                      "ads": executive.ads_lines(report)}
    return artifacts.write_json(report.ctx.artifacts_dir / "kpis.json", payload)


def pct(value: float | None, language: str, signed: bool = True) -> str:
    if value is None:
        return t("no_previous", language)
    return f"{value:+.1%}" if signed else f"{value:.1%}"
