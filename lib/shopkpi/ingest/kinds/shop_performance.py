"""Seller Center shop performance export (shop health, reference §2) -> one row per market and week."""

from __future__ import annotations

import datetime as dt
import re

import pyarrow as pa
import pyarrow.compute as pc

from shopkpi.errors import InputFileError
from shopkpi.ingest.columns import typed_columns
from shopkpi.ingest.headers import HeaderMatch, normalise_header
from shopkpi.ingest.importers import Importer, register
from shopkpi.ingest.readers import RawTable
from shopkpi.ingest.rows import (
    PROVENANCE,
    ImportContext,
    Parsed,
    Problems,
    column_of,
    excluded_table,
    market_of_rows,
    market_reference,
    non_data_rows,
    provenance_columns,
)
from shopkpi.ingest.values import clean_text, parse_timestamp

RATES = [
    "late_dispatch_rate", "seller_fault_cancellation_rate", "valid_tracking_rate", "on_time_delivery_rate",
    "response_rate_12h", "response_rate_24h", "response_rate", "negative_review_rate", "seller_fault_return_rate",
    "non_buyer_fault_return_rate", "im_dissatisfaction_rate",
]
# Day-first before month-first: the UK and SEA write 20/10/2025; a US shop moves month-first ahead.
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d-%m-%Y", "%d.%m.%Y", "%Y.%m.%d"]
_DATE = r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4}"
_MIDNIGHT = r"(?:\s+(?:00:00|23:59)(?::\d{2})?)?"  # Excel date cells read back as "2025-10-20 00:00:00"
WEEK_PATTERN = rf"^(?P<start>{_DATE}){_MIDNIGHT}(?:\s*(?:-|–|—|~|～|to|至)\s*(?P<end>{_DATE}){_MIDNIGHT})?$"
_SHOP_LABEL = re.compile(r"^\s*(?:shop|shop name|store|store name|店铺|店铺名称|ร้านค้า|cửa hàng|toko)\s*[:：]\s*(.+?)\s*$",
                         re.I)
_SUMMARY = r"(?i)^(?:(?:average|avg|mean|overall|summary)\b|平均)"


def schema() -> pa.Schema:
    fields = [("market", pa.string()), ("shop_name", pa.string()), ("week_start", pa.date32()), ("week_end", pa.date32()),
              ("orders", pa.int64())]
    fields += [(r, pa.float64()) for r in RATES] + [("shop_performance_score", pa.float64())]
    return pa.schema(fields + PROVENANCE)


def date_formats(market: pa.Array) -> list[str]:
    """DATE_FORMATS with month-first tried before day-first when a row's market writes dates month-first."""
    month_first = any(market_reference().get(code, {}).get("timestamp_formats", ["%d"])[0].startswith("%m")
                      for code in set(market.drop_null().to_pylist()))
    if not month_first:
        return DATE_FORMATS
    return ["%Y-%m-%d", "%m/%d/%Y"] + [f for f in DATE_FORMATS if f not in ("%Y-%m-%d", "%m/%d/%Y")]


def stated_dates(metadata_rows: list[list[str]], formats: list[str] = DATE_FORMATS) -> list[dt.date]:
    """Every date written in the lines above the header ("Date range: 14/10/2025 - 18/11/2026"), sorted."""
    tokens = [t for row in metadata_rows for cell in row if cell for t in re.findall(_DATE, cell)]
    if not tokens:
        return []
    parsed, _, _ = parse_timestamp(pa.array(tokens, pa.string()), formats, "UTC")
    return sorted(value.date() for value in parsed.to_pylist() if value is not None)


def stated_shop(metadata_rows: list[list[str]], shop_names: list[str]) -> str | None:
    """The shop a file names above its header: a "Shop: ..." line, else a line holding a client shop name."""
    cells = [cell for row in metadata_rows for cell in row if cell and cell.strip()]
    for cell in cells:
        labelled = _SHOP_LABEL.match(cell)
        if labelled:
            return labelled.group(1)
    keys = [normalise_header(name) for name in shop_names if name]
    for cell in cells:
        key = normalise_header(cell)
        if any(k and k in key for k in keys):
            return cell.strip()
    return None


def shop_market(raw: RawTable, match: HeaderMatch, ctx: ImportContext) -> tuple[pa.Array, str | None]:
    """Market per row: the stated shop name, else --market, else a Country column, else the only market."""
    n = raw.records.num_rows
    params = ctx.params
    codes = [m.code for m in params.markets]
    by_shop = {normalise_header(m.shop_name): m.code for m in params.markets if m.shop_name}
    named = stated_shop(raw.metadata_rows, [m.shop_name for m in params.markets])
    from_name = None
    if named:
        key = normalise_header(named)
        # Exact name first; else the longest client shop name inside the text ("Luma Home UK (official)").
        longest_first = sorted(by_shop, key=len, reverse=True)
        from_name = by_shop.get(key) or next((by_shop[k] for k in longest_first if k and k in key), None)
        if from_name is None and not ctx.market_hint:
            shops = {m.code: m.shop_name for m in params.markets}
            raise InputFileError(raw.path, f"names shop {named!r}, which is none of this client's shops {shops}; "
                                 "if it belongs to this client, pass --market CODE (or add its shop_name to the params)")
        if from_name and ctx.market_hint and ctx.market_hint != from_name:
            raise InputFileError(raw.path, f"names shop {named!r} of market {from_name}, but --market {ctx.market_hint} "
                                 "was given; ingest this file without --market or with the matching one")
    code = from_name or ctx.market_hint
    if code:
        if code not in codes:
            raise InputFileError(raw.path, f"--market {code} is not one of this client's markets {codes}")
        return pa.array([code] * n, pa.string()), named
    if "country" in match.mapping:
        return market_of_rows(raw, match, ctx), named
    if len(codes) == 1:
        return pa.array(codes * n, pa.string()), named
    raise InputFileError(raw.path, "states no shop name matching this client's shops "
                         f"{[m.shop_name for m in params.markets]} above the header and has no Country column, so its "
                         f"market is unknown; pass --market CODE (one of {codes}) for this file")


def parse_weeks(text: pa.Array, formats: list[str]) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """'20/10/2025 - 26/10/2025' (or one start date) -> week_start, week_end, not-a-week mask, bad-date mask."""
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    parts = pc.extract_regex(text, WEEK_PATTERN)
    shapeless = pc.and_(pc.is_valid(text), pc.is_null(parts))
    start_text, end_text = pc.struct_field(parts, "start"), pc.struct_field(parts, "end")
    # Starts and ends are parsed together so both halves of a range use the same day/month order.
    both, failed, _ = parse_timestamp(pa.concat_arrays([start_text, end_text]), formats, "UTC")
    n = len(text)
    dates = pc.local_timestamp(both).cast(pa.date32()) if len(both) else both.cast(pa.date32())
    start, end = dates.slice(0, n), dates.slice(n)
    bad_date = pc.or_(failed.slice(0, n), failed.slice(n))
    # A lone date is the first day of a Monday-Sunday week.
    six_days_later = pc.add(start.cast(pa.int32()), pa.scalar(6, pa.int32())).cast(pa.date32())
    end = pc.coalesce(end, six_days_later)
    return start, end, shapeless, bad_date


def parse_shop_performance(raw: RawTable, match: HeaderMatch, ctx: ImportContext) -> Parsed:
    records, cols = raw.records, match.mapping
    n = records.num_rows
    skip, skip_rule = non_data_rows(raw, cols["week"])
    summary = pc.fill_null(pc.match_substring_regex(clean_text(records.column(cols["week"])), _SUMMARY), False)
    summary = pc.and_(summary, pc.invert(skip))
    skip_rule = pc.if_else(summary, pa.scalar("summary_row"), skip_rule)
    skip = pc.or_(skip, summary)
    problems = Problems(raw, match, skip)

    def column(name: str) -> pa.Array:
        return column_of(raw, match, name)

    market, shop_name = shop_market(raw, match, ctx)
    client_codes = pa.array([m.code for m in ctx.params.markets])
    problems.note(pc.invert(pc.fill_null(pc.is_in(market, client_codes), False)), "country",
                  f"country is not one of this client's markets {client_codes.to_pylist()}", column("country"))

    week_text = clean_text(column("week"))
    formats = date_formats(market)
    out: dict[str, pa.Array] = {"market": market, "shop_name": pa.array([shop_name] * n, pa.string())}
    out["week_start"], out["week_end"], shapeless, bad_date = parse_weeks(week_text, formats)
    problems.note(pc.is_null(week_text), "week", "required value is empty", column("week"))
    problems.note(shapeless, "week", "not a week like 20/10/2025 - 26/10/2025", column("week"))
    problems.note(bad_date, "week", f"not a date ({' or '.join(formats)})", column("week"))
    problems.note(pc.less(out["week_end"], out["week_start"]), "week", "the week ends before it starts", column("week"))

    spec = {"orders": "count", **{r: "percent" for r in RATES}, "shop_performance_score": "number"}
    typed, _ = typed_columns(raw, match, ctx, problems, spec, market)
    out |= typed
    for rate in RATES:
        outside = pc.or_(pc.less(out[rate], 0.0), pc.greater(out[rate], 1.0))
        problems.note(outside, rate, "rate outside 0-100%", column(rate))

    # Sheets carry dates only: the export is as of the end of its stated date range, else its last week.
    stated = stated_dates(raw.metadata_rows, formats)
    last_week = pc.max(out["week_end"].filter(pc.invert(pc.or_(skip, problems.bad)))).as_py()
    as_of_day = stated[-1] if stated else last_week
    as_of = dt.datetime.combine(as_of_day, dt.time(), dt.timezone.utc) if as_of_day else None
    out |= provenance_columns(raw, ctx, as_of)

    table = pa.table({f.name: out[f.name].cast(f.type) for f in SHOP_PERFORMANCE.schema}, schema=SHOP_PERFORMANCE.schema)
    rows = table.filter(pc.and_(pc.invert(skip), pc.invert(problems.bad)))
    return Parsed(rows, problems.table(ctx), excluded_table(raw, ctx, skip, skip_rule),
                  sorted(set(rows.column("market").drop_null().to_pylist())), None)


SHOP_PERFORMANCE = register(Importer(kind="shop_performance", table="shop_performance", key=("market", "week_start"),
                                     schema=schema(), parse=parse_shop_performance))
