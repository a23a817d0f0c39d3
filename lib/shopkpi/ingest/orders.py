"""Seller Center Orders export (one row per SKU line) -> typed, PII-free order lines."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from shopkpi.errors import InputFileError
from shopkpi.ingest.headers import HeaderMatch, registry
from shopkpi.ingest.readers import RawTable
from shopkpi.ingest.values import MONEY_TYPE, check_id, clean_text, parse_count, parse_money, parse_timestamp

LINE_MONEY = ["unit_original_price", "subtotal_before_discount", "platform_discount", "seller_discount", "subtotal_after_discount"]
# Order-level money repeats on every SKU line of the order; it is summed once per order.
ORDER_MONEY = [
    "shipping_fee_after_discount", "original_shipping_fee", "shipping_fee_seller_discount",
    "shipping_fee_platform_discount", "payment_platform_discount", "retail_delivery_fee", "small_order_fee",
    "taxes", "order_amount", "order_refund_amount",
]
COUNTS = ["quantity", "return_quantity"]
TIMES = ["created_time", "paid_time", "rts_time", "shipped_time", "delivered_time", "cancelled_time"]
TEXT = [
    "order_status", "order_substatus", "cancel_return_type", "normal_or_preorder", "seller_sku", "product_name",
    "variation", "cancel_by", "cancel_reason", "fulfillment_type", "warehouse_name", "tracking_id", "delivery_option",
    "shipping_provider", "payment_method", "product_category", "package_id", "creator_handle",
]
REQUIRED_VALUES = ["order_id", "sku_id", "order_status", "quantity", "created_time"]


@lru_cache(maxsize=1)
def rules() -> dict:
    return yaml.safe_load(resources.files("shopkpi.data").joinpath("rules.yaml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def market_reference() -> dict:
    return yaml.safe_load(resources.files("shopkpi.data").joinpath("markets.yaml").read_text(encoding="utf-8"))


def order_line_schema() -> pa.Schema:
    fields = [("order_id", pa.string()), ("sku_id", pa.string()), ("market", pa.string()), ("currency", pa.string())]
    fields += [(c, pa.string()) for c in TEXT]
    fields += [(c, pa.int64()) for c in COUNTS]
    fields += [(c, MONEY_TYPE) for c in LINE_MONEY + ORDER_MONEY]
    fields += [(c.replace("_time", "_at"), pa.timestamp("s", tz="UTC")) for c in TIMES]
    fields += [
        ("created_local_date", pa.date32()), ("paid_local_date", pa.date32()),
        ("buyer_hash", pa.string()), ("is_test", pa.bool_()), ("is_sample_note", pa.bool_()),
        ("is_replacement", pa.bool_()), ("file_id", pa.string()), ("source_file", pa.string()),
        ("source_row", pa.int64()), ("export_as_of", pa.timestamp("s", tz="UTC")),
    ]
    return pa.schema(fields)


QUARANTINE_SCHEMA = pa.schema([
    ("file_id", pa.string()), ("source_file", pa.string()), ("source_row", pa.int64()),
    ("column", pa.string()), ("reason", pa.string()), ("raw_value", pa.string()),
])
EXCLUDED_SCHEMA = pa.schema([
    ("file_id", pa.string()), ("source_file", pa.string()), ("source_row", pa.int64()),
    ("rule", pa.string()), ("order_id", pa.string()), ("sku_id", pa.string()), ("detail", pa.string()),
])


@dataclass
class ParsedOrders:
    lines: pa.Table
    quarantine: pa.Table
    excluded: pa.Table  # non-data rows only; duplicates are decided at merge time
    markets: list[str]
    timestamp_format: str | None


def _problem_rows(raw: RawTable, index: list[int], column: str, reason: str, values: list) -> dict:
    return {
        "source_row": [raw.row_number(i) for i in index],
        "column": [column] * len(index),
        "reason": [reason] * len(index),
        # Raw text is kept short; PII columns never reach here (they are not parsed).
        "raw_value": [None if v is None else str(v)[:80] for v in values],
    }


def _market_of_rows(raw: RawTable, match: HeaderMatch, params, market_hint: str | None) -> pa.Array:
    client_markets = {m.code for m in params.markets}
    if "country" in match.mapping:
        names = {}
        for code, ref in market_reference().items():
            for name in ref["country_names"]:
                names[name.casefold()] = code
        countries = clean_text(raw.records.column(match.mapping["country"]))
        lowered = pc.utf8_lower(countries)
        keys = pa.array(list(names))
        codes = pa.array([names[k] for k in names])
        found = pc.take(codes, pc.index_in(lowered, keys))
        if market_hint:
            found = pc.if_else(pc.is_null(countries), market_hint, found)
        elif len(client_markets) == 1:
            found = pc.fill_null(found, next(iter(client_markets)))
        return found
    if market_hint:
        return pa.array([market_hint] * raw.records.num_rows, pa.string())
    if len(client_markets) == 1:
        return pa.array([next(iter(client_markets))] * raw.records.num_rows, pa.string())
    raise InputFileError(raw.path, f"has no Country column and the client has several markets {sorted(client_markets)}; "
                         "pass --market CODE for this file")


def _non_data_mask(raw: RawTable, match: HeaderMatch) -> tuple[pa.Array, pa.Array]:
    """Rows that are not order lines: description row, footers, blank rows -> (mask, rule)."""
    n = raw.records.num_rows
    all_blank = pa.array([True] * n)
    for name in raw.records.column_names:
        if name.startswith("c"):
            all_blank = pc.and_(all_blank, pc.is_null(clean_text(raw.records.column(name))))
    first = clean_text(raw.records.column(match.mapping["order_id"]))
    footer = pc.fill_null(pc.match_substring_regex(first, r"(?i)^(total|合计|总计|tổng|jumlah)"), False)
    sentence = pc.fill_null(pc.match_substring_regex(first, r"[A-Za-z].*\s"), False)
    description = pc.and_(sentence, pa.array([i == 0 for i in range(n)]))
    rule = pc.if_else(all_blank, "blank_row", pc.if_else(footer, "footer_row", pc.if_else(description, "description_row", pa.scalar(None, pa.string()))))
    return pc.is_valid(rule), rule


def _flag(text: pa.Array | None, pattern: str | None) -> pa.Array | None:
    if text is None or not pattern:
        return None
    return pc.fill_null(pc.match_substring_regex(text, pattern), False)


def _buyer_hashes(usernames: pa.Array, salt: bytes) -> pa.Array:
    cache: dict[str, str] = {}
    out = []
    for value in usernames.to_pylist():
        if value is None:
            out.append(None)
            continue
        digest = cache.get(value)
        if digest is None:
            digest = cache[value] = hashlib.sha256(salt + value.encode("utf-8")).hexdigest()[:20]
        out.append(digest)
    return pa.array(out, pa.string())


def parse_orders(raw: RawTable, match: HeaderMatch, *, params, file_id: str, source_file: str,
                 salt: bytes, market_hint: str | None = None) -> ParsedOrders:
    records = raw.records
    n = records.num_rows
    cols = match.mapping
    problems: list[dict] = []
    bad = pa.array([False] * n)

    non_data, non_data_rule = _non_data_mask(raw, match)
    keep_parsing = pc.invert(non_data)
    if "__ragged__" in records.column_names:
        ragged = pc.not_equal(records.column("__ragged__"), "")
        idx = pc.indices_nonzero(pc.and_(ragged, keep_parsing)).to_pylist()
        widths = records.column("__ragged__").to_pylist()
        problems.append(_problem_rows(raw, idx, "(row)", "row has a different number of cells than the header",
                                      [f"{widths[i]} cells vs {len(raw.headers)}" for i in idx]))
        bad = pc.or_(bad, ragged)

    def note(mask: pa.Array, column: str, reason: str, source: pa.Array):
        nonlocal bad
        mask = pc.and_(pc.fill_null(mask, False), keep_parsing)
        mask = pc.and_(mask, pc.invert(bad))  # one quarantine record per row: its first problem
        idx = pc.indices_nonzero(mask).to_pylist()
        if idx:
            problems.append(_problem_rows(raw, idx, raw.headers[cols[column]] if column in cols else column, reason,
                                          pc.take(source, pa.array(idx)).to_pylist()))
            bad = pc.or_(bad, mask)

    def column(name: str) -> pa.Array:
        return records.column(cols[name]) if name in cols else pa.nulls(n, pa.string())

    out: dict[str, pa.Array] = {}
    out["order_id"], failed = check_id(column("order_id"), (15, 20))
    note(failed, "order_id", "not an 18-19 digit Order ID (Excel may have turned it into 1.23E+17); quarantined, never merged", column("order_id"))
    out["sku_id"], failed = check_id(column("sku_id"), (6, 25))
    note(failed, "sku_id", "not a numeric SKU ID", column("sku_id"))

    market = _market_of_rows(raw, match, params, market_hint)
    client_codes = pa.array([m.code for m in params.markets])
    note(pc.invert(pc.fill_null(pc.is_in(market, client_codes), False)), "country",
         f"country is not one of this client's markets {client_codes.to_pylist()}", column("country"))
    out["market"] = market
    currency_of = {m.code: m.currency for m in params.markets}
    out["currency"] = pc.take(pa.array(list(currency_of.values())), pc.index_in(market, pa.array(list(currency_of))))

    for name in TEXT:
        out[name] = clean_text(column(name))
    for name in COUNTS:
        out[name], failed = parse_count(column(name))
        note(failed, name, "not a whole number", column(name))
    for name in LINE_MONEY + ORDER_MONEY:
        out[name], failed = parse_money(column(name))
        note(failed, name, "not a money amount", column(name))

    # Timestamps are local wall-clock times of each row's market.
    reference = market_reference()
    used_format = None
    for name in TIMES:
        parsed_parts = pa.nulls(n, pa.timestamp("s", tz="UTC"))
        for code in sorted(set(market.drop_null().to_pylist()) & set(currency_of)):
            in_market = pc.fill_null(pc.equal(market, code), False)
            formats = reference.get(code, {}).get("timestamp_formats", ["%Y-%m-%d %H:%M:%S"])
            parsed, failed, fmt = parse_timestamp(column(name), formats, params.market(code).timezone)
            used_format = used_format or fmt
            note(pc.and_(failed, in_market), name, f"not a date-time in {code} layout ({' or '.join(formats)})", column(name))
            parsed_parts = pc.if_else(in_market, parsed, parsed_parts)
        out[name.replace("_time", "_at")] = parsed_parts

    for name in REQUIRED_VALUES:
        key = name.replace("_time", "_at")
        note(pc.is_null(out[key]), name, "required value is empty", column(name))

    local_dates = {}
    for name in ("created_at", "paid_at"):
        dates = pa.nulls(n, pa.date32())
        for code in sorted(set(market.drop_null().to_pylist()) & set(currency_of)):
            in_market = pc.fill_null(pc.equal(market, code), False)
            local = pc.local_timestamp(pc.assume_timezone(out[name].cast(pa.timestamp("s")), "UTC").cast(
                pa.timestamp("s", tz=params.market(code).timezone)))
            dates = pc.if_else(in_market, local.cast(pa.date32()), dates)
        local_dates[name.replace("_at", "_local_date")] = dates
    out.update(local_dates)

    flag_rules = rules()["flags"]
    seller_note = clean_text(column("seller_note"))
    buyer = clean_text(column("buyer_username"))
    is_test = _flag(seller_note, flag_rules["test_order"]["seller_note_regex"])
    is_test = pc.or_(is_test, _flag(buyer, flag_rules["test_order"]["buyer_username_regex"]))
    out["is_test"] = is_test
    out["is_sample_note"] = _flag(seller_note, flag_rules["sample_order"]["seller_note_regex"])
    out["is_replacement"] = _flag(seller_note, flag_rules["replacement_order"]["seller_note_regex"])
    out["buyer_hash"] = _buyer_hashes(buyer, salt)

    time_columns = [out[t.replace("_time", "_at")] for t in TIMES]
    as_of = max((pc.max(t).as_py() for t in time_columns if t.null_count < len(t)), default=None)
    out["file_id"] = pa.array([file_id] * n, pa.string())
    out["source_file"] = pa.array([source_file] * n, pa.string())
    out["source_row"] = pa.array([raw.row_number(i) for i in range(n)], pa.int64())
    out["export_as_of"] = pa.array([as_of] * n, pa.timestamp("s", tz="UTC"))

    schema = order_line_schema()
    table = pa.table({f.name: out[f.name].cast(f.type) for f in schema}, schema=schema)
    good = pc.and_(keep_parsing, pc.invert(bad))
    lines = table.filter(good)

    quarantine = _problems_table(problems, file_id, source_file)
    nd_idx = pc.indices_nonzero(non_data).to_pylist()
    excluded = pa.table({
        "file_id": [file_id] * len(nd_idx), "source_file": [source_file] * len(nd_idx),
        "source_row": [raw.row_number(i) for i in nd_idx],
        "rule": pc.take(non_data_rule, pa.array(nd_idx, pa.int64())).to_pylist(),
        "order_id": [None] * len(nd_idx), "sku_id": [None] * len(nd_idx), "detail": [None] * len(nd_idx),
    }, schema=EXCLUDED_SCHEMA)
    markets = sorted(set(lines.column("market").to_pylist()))
    return ParsedOrders(lines, quarantine, excluded, markets, used_format)


def _problems_table(problems: list[dict], file_id: str, source_file: str) -> pa.Table:
    rows = {k: [] for k in ("source_row", "column", "reason", "raw_value")}
    for p in problems:
        for k in rows:
            rows[k].extend(p[k])
    n = len(rows["source_row"])
    return pa.table({"file_id": [file_id] * n, "source_file": [source_file] * n, **rows}, schema=QUARANTINE_SCHEMA)
