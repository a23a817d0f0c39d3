"""Declarative typing of an export's columns: name -> kind of value, with quarantine on failure.

Every importer describes its columns as {canonical: type} and calls `typed_columns`; the
parsing, the quarantine reasons and the per-market time zones are the same for all kinds.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from shopkpi.ingest.headers import HeaderMatch
from shopkpi.ingest.readers import RawTable
from shopkpi.ingest.rows import ImportContext, Problems, column_of, market_reference, money_convention
from shopkpi.ingest.values import (
    MONEY_TYPE,
    check_id,
    clean_text,
    parse_count,
    parse_duration,
    parse_money,
    parse_percent,
    parse_timestamp,
)

# The last one is an Excel date cell read back as a timestamp at midnight.
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d", "%d-%m-%Y", "%Y-%m-%d %H:%M:%S"]
TYPES = {
    "text": pa.string(), "id": pa.string(), "money": MONEY_TYPE, "price": pa.decimal128(18, 4), "count": pa.int64(),
    "percent": pa.float64(), "duration": pa.float64(), "number": pa.float64(),
    "timestamp": pa.timestamp("s", tz="UTC"), "date": pa.date32(),
}
_REASONS = {
    "id": "not a numeric ID (Excel may have turned it into 1.23E+17)", "money": "not a money amount",
    "price": "not a money amount", "count": "not a whole number or count like 1.2K", "percent": "not a percentage",
    "duration": "not a duration like 1m28s or 0:35", "number": "not a number",
}


def schema_fields(spec: dict[str, str]) -> list[tuple[str, pa.DataType]]:
    return [(name, TYPES[kind]) for name, kind in spec.items()]


def _parse_number(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    text = pc.replace_substring(clean_text(values), ",", "")
    ok = pc.match_substring_regex(text, r"^-?[0-9]+(\.[0-9]+)?$")
    parsed = pc.if_else(ok, text, pa.scalar(None, pa.string())).cast(pa.float64())
    return parsed, pc.and_(pc.is_valid(text), pc.is_null(parsed))


def _parse_timestamp_once(ctx: ImportContext, key: tuple[str, str], source: pa.Array, formats: list[str], timezone: str):
    """parse_timestamp with the layout chosen once per file and column: the first chunk whose cells parse
    decides (ties go to the market's first layout, as for a whole file); later chunks must fit it, and a
    cell that does not is quarantined with the same reason, never read in another layout."""
    decided = ctx.facts.timestamp_formats.get(key)
    parsed, failed, fmt = parse_timestamp(source, [decided] if decided else formats, timezone)
    if decided is None and fmt is not None and parsed.null_count < len(parsed):
        ctx.facts.timestamp_formats[key] = fmt
    return parsed, failed, fmt


def plausibility() -> dict:
    from shopkpi.dictionary import rules

    return rules()["plausibility"]


def _plausible_dates(values: pa.Array, name: str, problems: Problems, source: pa.Array) -> pa.Array:
    """Quarantine dates outside plausibility (1900 from an Excel epoch, 2100 from a typo); they would move every
    default period."""
    import datetime as dt

    bounds = plausibility()
    low, high = bounds["earliest_date"], bounds["latest_date"]
    if pa.types.is_timestamp(values.type):
        low_s = pa.scalar(dt.datetime.combine(low, dt.time(), dt.timezone.utc), values.type)
        high_s = pa.scalar(dt.datetime.combine(high, dt.time(23, 59, 59), dt.timezone.utc), values.type)
    else:
        low_s, high_s = pa.scalar(low, values.type), pa.scalar(high, values.type)
    outside = pc.fill_null(pc.or_(pc.less(values, low_s), pc.greater(values, high_s)), False)
    problems.note(outside, name, f"implausible date (before {low} or after {high})", source)
    return pc.if_else(outside, pa.scalar(None, values.type), values)


def money_by_market(source: pa.Array, type_: pa.DataType, market: pa.Array, codes: list[str], params) -> tuple[pa.Array, pa.Array]:
    """Money cells read with each row's market convention (1.049,00 in Brazil, 1,049.00 in the US)."""
    conventions = {code: money_convention(code, params) for code in codes}
    if len(set(conventions.values())) <= 1:
        return parse_money(source, type_, next(iter(conventions.values()), "dot"))
    parsed, failed = parse_money(source, type_, "dot")
    for convention in sorted(set(conventions.values()) - {"dot"}):
        in_markets = pc.fill_null(pc.is_in(market, pa.array([c for c, v in conventions.items() if v == convention])), False)
        other, other_failed = parse_money(source, type_, convention)
        parsed, failed = pc.if_else(in_markets, other, parsed), pc.if_else(in_markets, other_failed, failed)
    return parsed, failed


def typed_columns(raw: RawTable, match: HeaderMatch, ctx: ImportContext, problems: Problems, spec: dict[str, str],
                  market: pa.Array, required: tuple[str, ...] = (), id_digits: tuple[int, int] = (6, 25),
                  date_formats: list[str] | None = None) -> tuple[dict[str, pa.Array], str | None]:
    """Parse each spec'd column (missing columns become nulls); returns arrays and the timestamp layout used."""
    n = raw.records.num_rows
    out: dict[str, pa.Array] = {}
    used_format = None

    def column(name: str) -> pa.Array:
        return column_of(raw, match, name)

    codes = sorted(set(market.drop_null().to_pylist()) & {m.code for m in ctx.params.markets})
    for name, kind in spec.items():
        source = column(name)
        if kind == "text":
            out[name] = clean_text(source)
            continue
        if kind == "timestamp":
            utc = pa.nulls(n, TYPES["timestamp"])
            for code in codes:
                in_market = pc.fill_null(pc.equal(market, code), False)
                formats = market_reference().get(code, {}).get("timestamp_formats", ["%Y-%m-%d %H:%M:%S"])
                parsed, failed, fmt = _parse_timestamp_once(ctx, (name, code), source, formats, ctx.params.market(code).timezone)
                used_format = used_format or fmt
                problems.note(pc.and_(failed, in_market), name, f"not a date-time in {code} layout ({' or '.join(formats)})", source)
                utc = pc.if_else(in_market, parsed, utc)
            out[name] = _plausible_dates(utc, name, problems, source)
            continue
        if kind == "date":
            parsed, failed, _ = _parse_timestamp_once(ctx, (name, "date"), source, date_formats or DATE_FORMATS, "UTC")
            problems.note(failed, name, f"not a date ({' or '.join(date_formats or DATE_FORMATS)})", source)
            out[name] = pc.local_timestamp(parsed).cast(pa.date32()) if len(parsed) else parsed.cast(pa.date32())
            out[name] = _plausible_dates(out[name], name, problems, source)
            continue
        if kind == "id":
            parsed, failed = check_id(source, id_digits)
        elif kind in ("money", "price"):
            parsed, failed = money_by_market(source, TYPES[kind], market, codes, ctx.params)
        elif kind == "count":
            parsed, failed = parse_count(source)
        elif kind == "percent":
            parsed, failed = parse_percent(source)
        elif kind == "duration":
            parsed, failed = parse_duration(source)
        elif kind == "number":
            parsed, failed = _parse_number(source)
        else:
            raise ValueError(f"unknown column type {kind!r} for {name}")
        problems.note(failed, name, _REASONS[kind], source)
        out[name] = parsed
    for name in required:
        problems.note(pc.is_null(out[name]), name, "required value is empty", column(name))
    return out, used_format


def local_dates(utc: pa.Array, market: pa.Array, params) -> pa.Array:
    """Each row's UTC time as a date in its market's time zone."""
    dates = pa.nulls(len(utc), pa.date32())
    for code in sorted(set(market.drop_null().to_pylist()) & {m.code for m in params.markets}):
        local = pc.local_timestamp(utc.cast(pa.timestamp("s", tz=params.market(code).timezone))).cast(pa.date32())
        dates = pc.if_else(pc.fill_null(pc.equal(market, code), False), local, dates)
    return dates
