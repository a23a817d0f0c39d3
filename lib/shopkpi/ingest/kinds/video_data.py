"""Video Data export (one row per video x product) -> `video_products`, plus a one-row-per-video view.

Also holds the helpers the other content kinds share: market from currency symbols, local
timestamps in the short "2025-10-31 12:10" layout, wall-clock times, creator handles.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shopkpi.ingest.columns import local_dates, typed_columns
from shopkpi.ingest.headers import HeaderMatch, currency_suffix
from shopkpi.ingest.importers import Importer, register
from shopkpi.ingest.readers import RawTable
from shopkpi.ingest.rows import (
    PROVENANCE,
    ImportContext,
    Parsed,
    Problems,
    column_of,
    currency_to_market,
    excluded_table,
    market_reference,
    non_data_rows,
    provenance_columns,
)
from shopkpi.ingest.values import MONEY_TYPE, clean_text, parse_timestamp

UTC = pa.timestamp("s", tz="UTC")
WALL_CLOCK = pa.timestamp("s")  # local time as written, no zone attached
# Analytics exports write "2025-10-31 12:10" (no seconds); markets.yaml lists the Orders export layouts
# only. These are tried after the market's own, and none is day/month ambiguous.
ANALYTICS_LAYOUTS = ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M"]
# Currency marks seen in money cells; "$" alone is read as USD.
_CURRENCY_MARK = r"(?P<mark>US\$|S\$|RM|Rp|THB|USD|GBP|EUR|VND|IDR|MYR|PHP|SGD|JPY|[£฿€₫₱$])"
_MARK_CURRENCY = {"US$": "USD", "$": "USD", "S$": "SGD", "RM": "MYR", "Rp": "IDR", "£": "GBP", "฿": "THB",
                  "€": "EUR", "₫": "VND", "₱": "PHP"}
_ABBREVIATED = r"^\s*[0-9][0-9.,]*\s*[KkMmBb]\s*$"


def market_from_money(raw: RawTable, match: HeaderMatch, ctx: ImportContext, problems: Problems,
                      money_columns: list[str]) -> tuple[pa.Array, pa.Array]:
    """(market, currency) per row, read from currency symbols in money cells ("£205.33", "฿1,205.00").

    Analytics exports have no Country column; the symbol tells the shop. Rows without any symbol
    ("0") take the file's single market, else the "(THB)" header suffix, --market, or the only market.
    """
    params, n = ctx.params, raw.records.num_rows
    by_currency: dict[str, list[str]] = {}
    for m in params.markets:
        by_currency.setdefault(m.currency, []).append(m.code)
    mark = pa.nulls(n, pa.string())
    for name in money_columns:
        found = pc.struct_field(pc.extract_regex(clean_text(column_of(raw, match, name)), _CURRENCY_MARK), "mark")
        mark = pc.coalesce(mark, found)
    currency = pc.coalesce(pc.take(pa.array(list(_MARK_CURRENCY.values())), pc.index_in(mark, pa.array(list(_MARK_CURRENCY)))),
                           mark)
    market = currency_to_market(currency, params)
    problems.note(pc.and_(pc.is_valid(currency), pc.is_null(market)), money_columns[0],
                  f"currency is not one of this client's markets {sorted(by_currency)}", column_of(raw, match, money_columns[0]))
    seen = set(market.drop_null().to_pylist())
    suffixes = {currency_suffix(raw.headers[match.mapping[c]]) for c in money_columns if c in match.mapping} - {None}
    fallback = None
    if len(seen) == 1:
        fallback = seen.pop()
    elif len(suffixes) == 1 and (from_suffix := currency_to_market(pa.array(list(suffixes)), params)[0].as_py()):
        fallback = from_suffix
    elif ctx.market_hint:
        fallback = ctx.market_hint
    elif len(params.markets) == 1:
        fallback = params.markets[0].code
    if fallback is not None:
        market = pc.if_else(pc.is_null(currency), pa.scalar(fallback, pa.string()), market)
    problems.note(pc.is_null(market), money_columns[0], "cannot tell the market: no currency symbol in the money cells "
                  "and the client has several markets; pass --market CODE", column_of(raw, match, money_columns[0]))
    codes = [m.code for m in params.markets]
    problems.note(pc.and_(pc.is_valid(market), pc.invert(pc.is_in(market, pa.array(codes)))), money_columns[0],
                  f"--market is not one of this client's markets {codes}", column_of(raw, match, money_columns[0]))
    currency = pc.take(pa.array([m.currency for m in params.markets]), pc.index_in(market, pa.array(codes)))
    return market, currency


def local_times(source: pa.Array, market: pa.Array, ctx: ImportContext, problems: Problems, name: str,
                layouts: list[str] = ANALYTICS_LAYOUTS) -> tuple[pa.Array, str | None]:
    """Market-local wall-clock text -> UTC, trying the analytics layouts after the market's own."""
    utc, used = pa.nulls(len(source), UTC), None
    for code in sorted(set(market.drop_null().to_pylist()) & {m.code for m in ctx.params.markets}):
        in_market = pc.fill_null(pc.equal(market, code), False)
        formats = list(dict.fromkeys(market_reference().get(code, {}).get("timestamp_formats", []) + layouts))
        values = pc.if_else(in_market, source.cast(pa.string()), pa.scalar(None, pa.string()))
        parsed, failed, fmt = parse_timestamp(values, formats, ctx.params.market(code).timezone)
        used = used or fmt
        problems.note(pc.and_(failed, in_market), name, f"not a date-time in {code} layout ({' or '.join(formats)})", source)
        utc = pc.if_else(in_market, parsed, utc)
    return utc, used


def wall_clock(utc: pa.Array, market: pa.Array, params) -> pa.Array:
    """Each row's UTC time as the local wall-clock time of its market (for posting-hour analyses)."""
    out = pa.nulls(len(utc), WALL_CLOCK)
    for code in sorted(set(market.drop_null().to_pylist()) & {m.code for m in params.markets}):
        local = pc.local_timestamp(utc.cast(pa.timestamp("s", tz=params.market(code).timezone)))
        out = pc.if_else(pc.fill_null(pc.equal(market, code), False), local, out)
    return out


def creator_handles(values: pa.Array) -> pa.Array:
    """Handles are written with or without the "@"; one spelling lets kinds join on them."""
    return clean_text(pc.utf8_ltrim(clean_text(values), characters="@"))


def abbreviated(values: pa.Array) -> pa.Array:
    """True where a count was shown rounded ("12.3K"), so it is not exact."""
    return pc.fill_null(pc.match_substring_regex(values.cast(pa.string()), _ABBREVIATED), False)


def latest(*arrays: pa.Array):
    """Latest timestamp over several columns (the export's "as of"), None when all are empty."""
    return max((pc.max(a).as_py() for a in arrays if a.null_count < len(a)), default=None)


def build_rows(schema: pa.Schema, out: dict[str, pa.Array], skip: pa.Array, problems: Problems) -> pa.Table:
    """Typed columns in schema order, without non-data and quarantined rows."""
    table = pa.table({f.name: out[f.name].cast(f.type) for f in schema}, schema=schema)
    return table.filter(pc.and_(pc.invert(skip), pc.invert(problems.bad)))


# -- Video Data ----------------------------------------------------------------------------------

TEXT = ["video_title", "video_link", "creator", "product_name"]
PRODUCT_LEVEL = {"gmv": "money", "orders": "count", "items_sold": "count", "product_impressions": "count",
                 "product_clicks": "count", "ctr": "percent"}
# Video-level metrics repeat on each product row of the video: never sum them across products.
VIDEO_LEVEL = {"views": "count", "likes": "count", "comments": "count", "shares": "count", "saves": "count",
               "new_followers": "count", "duration": "duration", "avg_watch_time": "duration", "completion_rate": "percent"}
VIDEO_LEVEL_COLUMNS = ["views", "likes", "comments", "shares", "saves", "new_followers", "duration_s",
                       "avg_watch_time_s", "completion_rate", "counts_rounded"]


def video_products_schema() -> pa.Schema:
    return pa.schema([
        ("video_id", pa.string()), ("product_id", pa.string()), ("market", pa.string()), ("currency", pa.string()),
        ("creator", pa.string()), ("video_title", pa.string()), ("video_link", pa.string()), ("product_name", pa.string()),
        ("posted_at", UTC), ("posted_local_time", WALL_CLOCK), ("posted_local_date", pa.date32()),
        ("gmv", MONEY_TYPE), ("orders", pa.int64()), ("items_sold", pa.int64()),
        ("product_impressions", pa.int64()), ("product_clicks", pa.int64()), ("ctr", pa.float64()),
        ("views", pa.int64()), ("likes", pa.int64()), ("comments", pa.int64()), ("shares", pa.int64()),
        ("saves", pa.int64()), ("new_followers", pa.int64()), ("duration_s", pa.float64()),
        ("avg_watch_time_s", pa.float64()), ("completion_rate", pa.float64()), ("counts_rounded", pa.bool_()),
    ] + PROVENANCE)


def parse_video_data(raw: RawTable, match: HeaderMatch, ctx: ImportContext) -> Parsed:
    skip, skip_rule = non_data_rows(raw, match.mapping["video_id"])
    problems = Problems(raw, match, skip)
    market, currency = market_from_money(raw, match, ctx, problems, ["gmv"])
    spec = {"video_id": "id", "product_id": "id", **{c: "text" for c in TEXT}, **PRODUCT_LEVEL, **VIDEO_LEVEL}
    out, _ = typed_columns(raw, match, ctx, problems, spec, market, required=("video_id", "product_id"))
    out["creator"] = creator_handles(column_of(raw, match, "creator"))
    out["duration_s"], out["avg_watch_time_s"] = out.pop("duration"), out.pop("avg_watch_time")
    out["market"], out["currency"] = market, currency
    # Post time is the shop market's local time.
    out["posted_at"], used_format = local_times(column_of(raw, match, "post_time"), market, ctx, problems, "post_time")
    out["posted_local_time"] = wall_clock(out["posted_at"], market, ctx.params)
    out["posted_local_date"] = local_dates(out["posted_at"], market, ctx.params)
    rounded = pa.array(np.zeros(raw.records.num_rows, dtype=bool))
    for name in ("views", "likes", "comments", "shares", "saves"):
        rounded = pc.or_(rounded, abbreviated(column_of(raw, match, name)))
    out["counts_rounded"] = rounded
    out |= provenance_columns(raw, ctx, latest(out["posted_at"]))
    rows = build_rows(VIDEO_DATA.schema, out, skip, problems)
    return Parsed(rows, problems.table(ctx), excluded_table(raw, ctx, skip, skip_rule),
                  sorted(set(rows.column("market").to_pylist())), used_format)


VIDEO_DATA = register(Importer(kind="video_data", table="video_products", key=("video_id", "product_id"),
                               schema=video_products_schema(), parse=parse_video_data))

# One row per video. Product-level sales are summed over the video's products; video-level
# metrics repeat on each product row, so they are taken once, from the video's newest row
# (all from the same row so views, likes and rates stay one coherent snapshot).
VIDEOS_BY_VIDEO_SQL = """
WITH ranked AS (
    SELECT *, row_number() OVER (PARTITION BY video_id, currency
                                 ORDER BY export_as_of DESC NULLS LAST, source_file DESC, source_row) AS rank_in_video
    FROM video_products
), sales AS (
    SELECT video_id, currency, count(*) AS products, sum(gmv) AS gmv, sum(orders) AS orders,
           sum(items_sold) AS items_sold, sum(product_impressions) AS product_impressions,
           sum(product_clicks) AS product_clicks,
           sum(product_clicks) / nullif(sum(product_impressions), 0) AS ctr
    FROM video_products GROUP BY video_id, currency
)
SELECT r.video_id, r.market, r.currency, r.creator, r.video_title, r.video_link,
       r.posted_at, r.posted_local_time, r.posted_local_date,
       s.products, s.gmv, s.orders, s.items_sold, s.product_impressions, s.product_clicks, s.ctr,
       r.views, r.likes, r.comments, r.shares, r.saves, r.new_followers, r.duration_s, r.avg_watch_time_s,
       r.completion_rate, r.counts_rounded, r.export_as_of
FROM ranked r JOIN sales s USING (video_id, currency)
WHERE r.rank_in_video = 1
ORDER BY r.posted_at, r.video_id
"""


def create_videos_view(con, name: str = "videos") -> None:
    """Add a one-row-per-video view to a DuckDB connection that has `video_products` (Store.connect())."""
    con.execute(f"CREATE OR REPLACE VIEW {name} AS {VIDEOS_BY_VIDEO_SQL}")


def videos_by_video(con) -> pa.Table:
    """One row per video: product sales summed, views/likes/... counted once per video."""
    return con.sql(VIDEOS_BY_VIDEO_SQL).to_arrow_table()
