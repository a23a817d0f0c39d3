"""Daily demand per SKU x market from clean order lines, with stock-out days censored.

Demand is the quantity of counted lines (cancelled, unpaid, test, sample and replacement
orders removed) by local payment date. Returns are kept apart: a returned unit was still
demanded and rarely goes back on the shelf. A day the SKU was out of stock in every
warehouse of the market is censored (NaN), never a zero: nobody could buy it.

A client without TikTok order exports but with its own sales lines (params `sales_lines`) gets
the same panel from them: positive lines of products by local order date; a cancellation line
(negative quantity) that matches an earlier line of the same buyer, SKU and quantity removes that
line, and one that matches none is a return, shown apart. Negative lines without a buyer are
stock adjustments, not demand.

A day on which a whole market sold nothing, on a weekday that usually sells, is a closed shop or a
missing export: censored, unless the events calendar says the shop was closed (`kind: closed`),
in which case it is a known zero that the models neither learn from nor forecast above zero.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from shopkpi.errors import NoDataError, ShopkpiError

# An old SKU whose first sale falls this close to the data start was selling before it.
_OLD_SKU_GRACE_DAYS = 28
# Syntetos-Boylan: average inter-demand interval above this is intermittent.
ADI_INTERMITTENT = 1.32


@dataclass
class Panel:
    """Daily series on one calendar: y[s, t] units (NaN before the series starts and on censored days)."""

    dates: pd.DatetimeIndex
    meta: pd.DataFrame  # one row per series, positional index
    y: np.ndarray
    censored: np.ndarray
    price: np.ndarray
    returns: np.ndarray
    notes: list[str] = field(default_factory=list)
    min_history_days: int = 56

    @property
    def origin(self) -> dt.date:
        return self.dates[-1].date()

    def active(self) -> np.ndarray:
        return np.arange(len(self.dates))[None, :] >= self.meta["start_idx"].to_numpy()[:, None]

    def truncated(self, end_idx: int) -> Panel:
        """The panel as it was known on dates[end_idx] (a backtest origin)."""
        meta = self.meta.copy()
        meta["start_idx"] = np.minimum(meta["start_idx"], end_idx + 1)
        sl = slice(0, end_idx + 1)
        panel = Panel(self.dates[sl], meta, self.y[:, sl], self.censored[:, sl], self.price[:, sl], self.returns[:, sl],
                      list(self.notes), self.min_history_days)
        panel.meta = describe_series(panel, self.min_history_days)
        return panel


def _tables(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}


def connect_demand(client: str):
    """The client's store with the `clean_lines` view when it holds TikTok orders (else just its tables)."""
    from shopkpi.clean import connect_clean
    from shopkpi.store import Store

    con = Store(client).connect()
    return connect_clean(client) if "order_lines" in _tables(con) else con


def demand_source(con) -> str:
    """`order_lines` (TikTok Shop orders) when the store has any, else the client's own `sales_lines`."""
    tables = _tables(con)
    for table in ("order_lines", "sales_lines"):
        if table in tables and con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]:
            return table
    raise NoDataError("the store has neither order lines nor sales lines: run ingest first")


def last_complete_day(con, params) -> dt.date:
    """The last local day every market's orders export fully covers (a day is complete once 23:00 has passed)."""
    # epoch seconds: fetching zoned timestamps would need pytz
    stamp = "coalesce(paid_at, created_at)" if demand_source(con) == "order_lines" else "ordered_at"
    table = demand_source(con)
    rows = con.execute(f"SELECT market, epoch(max({stamp})) FROM {table} GROUP BY market").fetchall()
    days = []
    for market, latest in rows:
        if latest is None:
            continue
        utc = dt.datetime.fromtimestamp(latest, dt.UTC)
        local = utc.astimezone(ZoneInfo(params.market(market).timezone))
        days.append(local.date() if local.hour >= 23 else local.date() - dt.timedelta(days=1))
    if not days:
        raise NoDataError("the store has no order lines: run ingest first")
    return min(days)


def forecast_origin(con, params, period_end: dt.date) -> dt.date:
    """The last day with complete data at or before the period end."""
    return min(last_complete_day(con, params), period_end)


def _sales(con, origin: dt.date, source: str) -> pd.DataFrame:
    if source == "sales_lines":
        return _own_sales(con, origin)
    return con.execute("""
        SELECT seller_sku, market, paid_local_date AS day, sum(quantity)::DOUBLE AS units,
               sum(coalesce(return_quantity, 0))::DOUBLE AS returns,
               sum(subtotal_after_discount)::DOUBLE AS revenue, any_value(currency) AS currency
        FROM clean_lines
        WHERE exclusion_reason IS NULL AND paid_local_date IS NOT NULL AND paid_local_date <= ?
          AND seller_sku IS NOT NULL
        GROUP BY ALL
    """, [origin]).df()


def _own_sales(con, origin: dt.date) -> pd.DataFrame:
    """Daily units, returns and revenue from the client's own sales lines (see the module notes)."""
    return con.execute("""
        WITH lines AS (
            SELECT row_number() OVER () AS rid, * FROM sales_lines
            WHERE NOT is_non_product AND sku IS NOT NULL AND ordered_local_date <= ? AND quantity <> 0
        ), sold AS (
            SELECT rid, buyer_hash, sku, market, quantity AS q, ordered_at FROM lines
            WHERE NOT is_cancellation AND quantity > 0
        ), undone AS (
            SELECT rid, buyer_hash, sku, market, -quantity AS q, ordered_at FROM lines
            WHERE quantity < 0 AND buyer_hash IS NOT NULL
        ), matched AS (  -- each cancellation undoes the buyer's latest earlier line of that SKU and quantity
            SELECT u.rid AS undone_rid, s.rid AS sold_rid FROM undone u ASOF JOIN sold s
              ON u.buyer_hash = s.buyer_hash AND u.sku = s.sku AND u.market = s.market AND u.q = s.q
             AND u.ordered_at >= s.ordered_at
        )
        SELECT sku AS seller_sku, market, ordered_local_date AS day,
               sum(quantity) FILTER (WHERE quantity > 0 AND NOT is_cancellation
                                     AND rid NOT IN (SELECT sold_rid FROM matched))::DOUBLE AS units,
               coalesce(sum(-quantity) FILTER (WHERE quantity < 0 AND buyer_hash IS NOT NULL
                                               AND rid NOT IN (SELECT undone_rid FROM matched)), 0)::DOUBLE AS returns,
               sum(line_amount) FILTER (WHERE quantity > 0 AND NOT is_cancellation
                                        AND rid NOT IN (SELECT sold_rid FROM matched))::DOUBLE AS revenue,
               any_value(currency) AS currency
        FROM lines GROUP BY ALL
        HAVING units > 0 OR returns > 0
    """, [origin]).df().fillna({"units": 0.0, "revenue": 0.0})


def _catalog(con, origin: dt.date, source: str) -> pd.DataFrame:
    """Latest name, category and SKU ID per SKU x market (sellers rename listings)."""
    if source == "sales_lines":
        return con.execute("""
            SELECT sku AS seller_sku, market, arg_max(product_name, ordered_at) AS product_name,
                   NULL::VARCHAR AS category, NULL::VARCHAR AS sku_id
            FROM sales_lines WHERE ordered_local_date <= ? AND sku IS NOT NULL AND NOT is_non_product GROUP BY ALL
        """, [origin]).df()
    return con.execute("""
        SELECT seller_sku, market, arg_max(product_name, paid_local_date) AS product_name,
               arg_max(product_category, paid_local_date) AS category, arg_max(sku_id, paid_local_date) AS sku_id
        FROM clean_lines WHERE paid_local_date <= ? AND seller_sku IS NOT NULL GROUP BY ALL
    """, [origin]).df()


def sku_markets(con, options) -> pd.DataFrame:
    """SKU ID -> market from order lines, for stock tables whose rows carry no market."""
    if "order_lines" not in _tables(con):
        return pd.DataFrame({"sku_id": pd.Series(dtype=str), "market": pd.Series(dtype=str)})
    return con.execute("SELECT DISTINCT sku_id, market FROM order_lines WHERE sku_id IS NOT NULL").df()


def assign_markets(stock: pd.DataFrame, con, options, table: str) -> pd.DataFrame:
    """Fill `market` on stock rows: own column, else the SKU ID's market, else the warehouse's (known or configured)."""
    stock = stock.copy()
    by_id = sku_markets(con, options).drop_duplicates("sku_id").set_index("sku_id")["market"]
    stock["market"] = stock["market"].fillna(stock["sku_id"].map(by_id))
    known = stock.dropna(subset=["market"]).groupby("warehouse")["market"].agg(lambda m: m.unique().tolist())
    single = {w: m[0] for w, m in known.items() if len(m) == 1}
    stock["market"] = stock["market"].fillna(stock["warehouse"].map(single)).fillna(stock["warehouse"].map(options.warehouse_markets))
    if options.warehouse_markets:
        configured = stock["warehouse"].map(options.warehouse_markets)
        stock["market"] = configured.fillna(stock["market"])
    missing = stock[stock["market"].isna()]
    if len(missing):
        first = missing.iloc[0]
        raise ShopkpiError(f"{table}: {len(missing)} row(s) have no market (e.g. {first['source_file']}, row {first['source_row']}, "
                           f"warehouse {first['warehouse']!r}, SKU {first['seller_sku']!r}); add the warehouse to "
                           f"`restock.warehouse_markets` in params")
    return stock


def _stockouts(con, options, origin: dt.date) -> pd.DataFrame:
    if "stock_history" not in _tables(con):
        return pd.DataFrame(columns=["seller_sku", "market", "day", "out", "first_day"])
    stock = con.execute("""
        SELECT date AS day, seller_sku, sku_id, warehouse, market, coalesce(stockout, on_hand <= 0) AS out,
               source_file, source_row
        FROM stock_history WHERE date <= ?
    """, [origin]).df()
    if stock.empty:
        return pd.DataFrame(columns=["seller_sku", "market", "day", "out", "first_day"])
    stock = assign_markets(stock, con, options, "stock_history")
    # Out of stock in every warehouse serving the market: nobody in that market could buy it.
    out = stock.groupby(["seller_sku", "market", "day"], as_index=False)["out"].all()
    first = stock.groupby(["seller_sku", "market"], as_index=False)["day"].min().rename(columns={"day": "first_day"})
    return out.merge(first, on=["seller_sku", "market"])


def load_panel(con, params, origin: dt.date, options, censor: bool = True) -> Panel:
    """Daily net units per SKU x market up to `origin`; `censor=False` keeps stock-out days as zeros (for comparison)."""
    source = demand_source(con)
    sales = _sales(con, origin, source)
    if sales.empty:
        raise NoDataError(f"no counted {source} on or before {origin}")
    sales["day"] = pd.to_datetime(sales["day"])
    start = sales["day"].min()
    dates = pd.date_range(start, pd.Timestamp(origin), freq="D")
    stock = _stockouts(con, options, origin)
    keys = pd.concat([sales[["seller_sku", "market"]], stock[["seller_sku", "market"]]]).drop_duplicates()
    keys = keys.sort_values(["market", "seller_sku"]).reset_index(drop=True)
    index = pd.MultiIndex.from_frame(keys)
    pos = pd.Series(np.arange(len(keys)), index=index)
    n, T = len(keys), len(dates)
    y = np.zeros((n, T))
    price = np.full((n, T), np.nan)
    returns = np.zeros((n, T))
    s_idx = pos.reindex(pd.MultiIndex.from_frame(sales[["seller_sku", "market"]])).to_numpy()
    t_idx = ((sales["day"] - start).dt.days).to_numpy()
    y[s_idx, t_idx] = sales["units"].to_numpy()
    returns[s_idx, t_idx] = sales["returns"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        price[s_idx, t_idx] = np.where(sales["units"] > 0, sales["revenue"] / sales["units"], np.nan)

    censored = np.zeros((n, T), dtype=bool)
    first_stock = np.full(n, T)
    if len(stock):
        stock["day"] = pd.to_datetime(stock["day"])
        stock = stock[stock["day"] >= start]
        si = pos.reindex(pd.MultiIndex.from_frame(stock[["seller_sku", "market"]])).to_numpy()
        ti = ((stock["day"] - start).dt.days).to_numpy()
        out = stock["out"].to_numpy(dtype=bool)
        censored[si[out], ti[out]] = True
        firsts = stock.groupby(["seller_sku", "market"])["first_day"].min()
        fi = pos.reindex(firsts.index).to_numpy()
        first_stock[fi] = np.maximum(0, (pd.to_datetime(firsts.to_numpy()) - start).days)
    sold = y > 0
    first_sale = np.where(sold.any(axis=1), sold.argmax(axis=1), T)
    # Without a stock history, a first sale near the data start means the SKU was already listed.
    start_idx = np.where(first_stock < T, np.minimum(first_stock, first_sale),
                         np.where(first_sale <= _OLD_SKU_GRACE_DAYS, 0, first_sale))
    active = np.arange(T)[None, :] >= start_idx[:, None]
    notes = []
    censored |= _closed_market_days(keys["market"].to_numpy(), dates, y, active, params, options, notes)
    y[~active] = np.nan
    if censor:
        y[censored & active] = np.nan
    censored &= active

    catalog = _catalog(con, origin, source)
    meta = keys.merge(catalog, on=["seller_sku", "market"], how="left")
    meta["currency"] = meta["market"].map({m.code: m.currency for m in params.markets})
    meta["start_idx"] = start_idx
    meta["category"] = meta["category"].fillna("")
    panel = Panel(dates, meta, y, censored, price, returns, notes, min_history_days=options.min_history_days)
    panel.meta = describe_series(panel, options.min_history_days)
    if not censor:
        panel.notes.append("stock-out days kept as zero demand (uncensored comparison)")
    return panel


# A weekday sells "usually" when the market sold something on it in at least this share of the weeks.
_USUAL_WEEKDAY_SHARE = 0.5


def _closed_market_days(markets: np.ndarray, dates: pd.DatetimeIndex, y: np.ndarray, active: np.ndarray, params, options,
                        notes: list[str]) -> np.ndarray:
    """[series, day] True where the series' market sold nothing at all on a usually-selling weekday that the
    calendar does not mark closed (a closed shop or an export gap: unknown demand, not zero)."""
    from shopkpi.restock.events import closed_dates, load_calendar

    calendar = load_calendar(sorted(set(markets)), options.extra_events)
    out = np.zeros(y.shape, dtype=bool)
    wd = dates.day_of_week.to_numpy()
    for market in np.unique(markets):
        rows = markets == market
        selling = (np.where(active[rows], y[rows], 0) > 0).any(axis=0)
        usual = np.array([selling[wd == k].mean() >= _USUAL_WEEKDAY_SHARE if (wd == k).any() else False for k in range(7)])
        known = np.isin(dates.date, list(closed_dates(calendar, market)))
        gap = ~selling & usual[wd] & ~known
        if gap.any():
            out[np.ix_(rows, gap)] = True
            days = [d.date().isoformat() for d in dates[gap]]
            notes.append(f"{market}: {len(days)} day(s) without any sale ({', '.join(days[:5])}{', ...' if len(days) > 5 else ''}) "
                         f"treated as closed or missing (censored); list known closures as `kind: closed` events")
    return out & active


def describe_series(panel: Panel, min_history_days: int) -> pd.DataFrame:
    """Per-series history length, censored days, volume, intermittency and the new-SKU flag."""
    meta = panel.meta.copy()
    T = len(panel.dates)
    active = np.arange(T)[None, :] >= meta["start_idx"].to_numpy()[:, None]
    observed = ~np.isnan(panel.y)
    meta["history_days"] = active.sum(axis=1)
    meta["censored_days"] = (panel.censored & active).sum(axis=1)
    meta["units_total"] = np.nansum(panel.y, axis=1)
    meta["returns_total"] = panel.returns.sum(axis=1)
    last91 = slice(max(0, T - 91), T)
    meta["units_91d"] = np.nansum(panel.y[:, last91], axis=1)
    meta["returns_91d"] = panel.returns[:, last91].sum(axis=1)
    with np.errstate(invalid="ignore"):
        revenue = np.nan_to_num(panel.price[:, last91]) * np.nan_to_num(panel.y[:, last91])
    meta["revenue_91d_local"] = revenue.sum(axis=1)
    nonzero = (np.nan_to_num(panel.y) > 0).sum(axis=1)
    meta["adi"] = np.where(nonzero > 0, observed.sum(axis=1) / np.maximum(nonzero, 1), np.inf)
    meta["is_intermittent"] = meta["adi"] > ADI_INTERMITTENT
    meta["is_new"] = meta["history_days"] < min_history_days
    return meta


def weekday_factors(panel: Panel, clean: np.ndarray) -> dict[str, np.ndarray]:
    """Per market, demand on each weekday (Monday first) relative to the mean, from clean days only."""
    wd = panel.dates.day_of_week.to_numpy()
    out = {}
    for market, rows in panel.meta.groupby("market").groups.items():
        y = panel.y[np.asarray(rows)]
        ok = clean[np.asarray(rows)] & ~np.isnan(y)
        # Per day: mean over series observed that day, so SKUs entering or leaving do not bias a weekday.
        count = ok.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_series_level = np.where(count > 0, np.where(ok, y, 0.0).sum(axis=1) / count, np.nan)
        rel = np.where(ok, y / np.where(per_series_level[:, None] > 0, per_series_level[:, None], np.nan), np.nan)
        factors = np.array([np.nanmean(rel[:, wd == k]) if np.isfinite(rel[:, wd == k]).any() else 1.0 for k in range(7)])
        # 0 stays 0: a shop that never sells on a weekday (closed on Saturdays) is forecast 0 on it.
        factors = np.where(np.isfinite(factors) & (factors >= 0), factors, 1.0)
        out[market] = factors / factors.mean()
    return out


def local_level(values: np.ndarray, ok: np.ndarray, half_window: int) -> np.ndarray:
    """Centred moving mean of `values` over the `ok` days within +-half_window (NaN where none)."""
    v = np.where(ok, values, 0.0)
    c = ok.astype(float)
    pad = ((0, 0), (half_window + 1, half_window))
    cv, cc = np.cumsum(np.pad(v, pad), axis=1), np.cumsum(np.pad(c, pad), axis=1)
    w = 2 * half_window + 1
    sums, counts = cv[:, w:] - cv[:, :-w], cc[:, w:] - cc[:, :-w]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)
