"""How far each export kind's data reaches, per market: the last local day that is complete ("data as of").

A day is complete when the export that carries it was taken after the day ended in the market's time
zone: an Orders export downloaded at 09:30 Bangkok time on 11-19 holds all of 11-18 and part of 11-19.
Exports of whole days or weeks (Ads Manager, GMV Max, shop performance, stock history, Data Compass)
end on a day they state; event exports (orders, videos, LIVE, affiliate orders, settlements) are cut
by the export time, or, when a file carries no export time, one day before their last event.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from shopkpi.errors import NoDataError
from shopkpi.periods import Period


@dataclass(frozen=True)
class Source:
    kind: str  # label key suffix: i18n coverage_<kind>
    table: str
    day: str  # the local day a row belongs to
    event: bool  # True: rows are events cut by the export time; False: rows are whole days or weeks


SOURCES = (
    Source("orders", "order_lines", "paid_local_date", True),
    Source("affiliate_orders", "affiliate_orders", "paid_local_date", True),
    Source("videos", "video_products", "posted_local_date", True),
    Source("live", "live_sessions", "started_local_date", True),
    Source("ads", "ad_stats", "report_date", False),
    Source("gmv_max", "gmv_max_days", "report_date", False),
    Source("settlements", "settlements", "settled_date", True),
    Source("shop_health", "shop_performance", "week_end", False),
    Source("stock", "stock_history", "date", False),
    Source("product_list", "product_days", "period_end", False),
)
COLUMNS = ["kind", "market", "first_day", "last_day", "export_as_of", "complete_through"]


def _complete_through(last_day: dt.date, export_as_of, timezone: str | None, event: bool) -> dt.date:
    if export_as_of is None or pd.isna(export_as_of):
        return last_day - dt.timedelta(days=1) if event else last_day
    stamp = pd.Timestamp(export_as_of)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    if stamp.time() == dt.time(0, 0):  # a date without a time (from a file name): the file covers that day whole
        through = stamp.date()
    else:
        local = stamp.tz_convert(ZoneInfo(timezone)) if timezone else stamp
        through = local.date() - dt.timedelta(days=1)
    # Events stop when they stop (no LIVE after the 8th is a complete 9th); day rows end on their last day.
    # No day after today is complete, whatever a mangled timestamp says.
    return min(through if event else min(last_day, through), dt.date.today())


def data_coverage(con: duckdb.DuckDBPyConnection, params) -> pd.DataFrame:
    """One row per export kind and market: first and last day with rows, the export time, the last complete day."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    zones = {m.code: m.timezone for m in params.markets}
    rows = []
    for source in SOURCES:
        if source.table not in tables:
            continue
        found = con.execute(f"""SELECT market, min({source.day}), max({source.day}), max(export_as_of)
                                FROM {source.table} WHERE {source.day} IS NOT NULL AND market IS NOT NULL
                                GROUP BY market ORDER BY market""").fetchall()
        for market, first, last, as_of in found:
            rows.append({"kind": source.kind, "market": market, "first_day": first, "last_day": last,
                         "export_as_of": None if as_of is None else pd.Timestamp(as_of).isoformat(),
                         "complete_through": _complete_through(last, as_of, zones.get(market), source.event)})
    return pd.DataFrame(rows, columns=COLUMNS)


def orders_complete_through(coverage: pd.DataFrame, period: Period) -> dt.date:
    """The last day complete in every market that has orders in `period` (the day totals can be compared to).

    A market whose orders end before the period starts does not hold the others back."""
    orders = coverage[coverage["kind"] == "orders"]
    active = orders[(orders["last_day"] >= period.start) & (orders["first_day"] <= period.end)]
    if active.empty:
        raise NoDataError(f"no orders in {period.name} ({period.start} – {period.end})")
    return min(active["complete_through"])


def latest_complete(coverage: pd.DataFrame, horizon_days: int = 35) -> dt.date:
    """The day every recently active market's orders are complete through (the default report's last day)."""
    orders = coverage[coverage["kind"] == "orders"]
    if orders.empty:
        raise NoDataError("no orders in the store")
    recent = orders[orders["last_day"] >= max(orders["last_day"]) - dt.timedelta(days=horizon_days)]
    return min(recent["complete_through"])


def records(coverage: pd.DataFrame) -> list[dict]:
    """The coverage table as artifact records (dates as ISO text)."""
    out = coverage.copy()
    for column in ("first_day", "last_day", "complete_through"):
        out[column] = out[column].map(lambda d: d.isoformat() if d is not None else None)
    return out.to_dict(orient="records")


def as_of_line(coverage: list[dict], language: str) -> str:
    """"数据截至（当地完整日）：订单 TH 2026-11-18、UK 2026-11-18；广告 …" from coverage records."""
    from shopkpi.dictionary import t

    by_kind: dict[str, list[str]] = {}
    for r in coverage:
        by_kind.setdefault(r["kind"], []).append(f"{r['market']} {r['complete_through']}")
    sep = "、" if language == "zh" else ", "
    parts = [f"{t('coverage_' + kind, language)} {sep.join(days)}" for kind, days in by_kind.items()]
    return t("data_as_of_line", language, parts=("；" if language == "zh" else "; ").join(parts) or "–")
