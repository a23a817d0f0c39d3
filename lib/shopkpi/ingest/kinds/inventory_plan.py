"""Inventory / purchasing sheet -> one row per SKU x warehouse x as-of date (stock position and buying terms)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import zipfile

import pyarrow as pa
import pyarrow.compute as pc

from shopkpi.ingest.columns import typed_columns
from shopkpi.ingest.headers import HeaderMatch, currency_suffix
from shopkpi.ingest.importers import Importer, register
from shopkpi.ingest.kinds.shop_performance import stated_dates
from shopkpi.ingest.readers import RawTable
from shopkpi.ingest.rows import (
    PROVENANCE,
    ImportContext,
    Parsed,
    Problems,
    column_of,
    finish,
    market_reference,
    non_data_rows,
    provenance_columns,
)
from shopkpi.ingest.values import clean_text, parse_count

PRICE_TYPE = pa.decimal128(18, 4)  # purchase costs can have fractions of a cent (0.0350 CNY per label)
TEXT = ["seller_sku", "product_name", "warehouse"]
COUNTS = ["on_hand", "inbound_qty", "moq", "case_pack"]
NUMBERS = ["lead_time_days", "lead_time_std_days"]
NOT_NEGATIVE = ["inbound_qty", "moq", "case_pack", "lead_time_days", "lead_time_std_days", "unit_cost", "landed_cost"]
REQUIRED_VALUES = ("seller_sku", "warehouse", "on_hand")
_CURRENCY_ALIASES = {"RMB": "CNY"}
# Lines above the header that say which date the stock figures are for (other dates there may be plans).
_AS_OF_LABEL = re.compile(r"(?i)as[ -]of|snapshot|stock date|updated|report date|截至|截止|库存日期|更新")


def schema() -> pa.Schema:
    return pa.schema([
        ("seller_sku", pa.string()), ("sku_id", pa.string()), ("product_name", pa.string()), ("warehouse", pa.string()),
        ("market", pa.string()), ("as_of", pa.date32()), ("as_of_basis", pa.string()),
        ("on_hand", pa.int64()), ("inbound_qty", pa.int64()), ("inbound_eta", pa.date32()),
        ("lead_time_days", pa.float64()), ("lead_time_std_days", pa.float64()), ("moq", pa.int64()), ("case_pack", pa.int64()),
        ("unit_cost", PRICE_TYPE), ("unit_cost_currency", pa.string()), ("landed_cost", PRICE_TYPE), ("currency", pa.string()),
    ] + PROVENANCE)


def without_midnight(raw: RawTable, match: HeaderMatch, names: list[str]) -> RawTable:
    """Excel date cells read back as '2026-12-06 00:00:00'; drop the midnight so date layouts match."""
    records = raw.records
    for name in names:
        if name in match.mapping:
            position = match.mapping[name]
            stripped = pc.replace_substring_regex(records.column(position), r"\s+00:00(:00)?$", "")
            records = records.set_column(position, records.column_names[position], stripped)
    return dataclasses.replace(raw, records=records)


def market_codes(values: pa.Array, params) -> tuple[pa.Array, pa.Array]:
    """A Market/Country column -> the client's market codes; the mask marks values that name no client market."""
    names = {name.casefold(): code for code, ref in market_reference().items() for name in ref["country_names"]}
    names |= {code.casefold(): code for code in market_reference()}
    client = pa.array([m.code for m in params.markets])
    text = pc.utf8_lower(clean_text(values))
    found = pc.take(pa.array(list(names.values())), pc.index_in(text, pa.array(list(names))))
    known = pc.fill_null(pc.is_in(found, client), False)
    return pc.if_else(known, found, pa.scalar(None, pa.string())), pc.and_(pc.is_valid(text), pc.invert(known))


def workbook_saved_at(raw: RawTable) -> dt.datetime | None:
    """The XLSX's own last-saved (else created) time from docProps/core.xml, in UTC."""
    if raw.encoding != "xlsx":
        return None
    try:
        with zipfile.ZipFile(raw.path) as book:
            core = book.read("docProps/core.xml").decode("utf-8", errors="ignore")
    except (KeyError, OSError, zipfile.BadZipFile):
        return None
    for tag in ("modified", "created"):
        found = re.search(rf"<dcterms:{tag}[^>]*>\s*([0-9T:\-.]+)(Z|[+-][0-9:]+)?\s*</dcterms:{tag}>", core)
        if found:
            try:
                stamp = dt.datetime.fromisoformat(found.group(1) + (found.group(2) or "Z").replace("Z", "+00:00"))
            except ValueError:
                continue
            return stamp.astimezone(dt.timezone.utc).replace(microsecond=0)
    return None


def sheet_as_of(raw: RawTable, saved: dt.datetime | None) -> tuple[dt.datetime, str]:
    """When the whole sheet's numbers were true, and where that came from.

    A date written above the header wins; else the workbook's saved time (file content, not its
    name, which users rename); else the ingest date, which the `as_of_basis` column then says.
    """
    labelled = [[cell for cell in row if _AS_OF_LABEL.search(cell or "")] for row in raw.metadata_rows]
    stated = stated_dates(labelled) or stated_dates(raw.metadata_rows)
    if stated:
        return dt.datetime.combine(stated[-1], dt.time(), dt.timezone.utc), "sheet"
    if saved:
        return saved, "workbook_saved"
    today = dt.datetime.now(dt.timezone.utc).date()
    return dt.datetime.combine(today, dt.time(), dt.timezone.utc), "ingest_date"


def parse_inventory_plan(raw: RawTable, match: HeaderMatch, ctx: ImportContext) -> Parsed:
    raw = without_midnight(raw, match, ["inbound_eta", "as_of"])
    records, cols = raw.records, match.mapping
    n = records.num_rows

    def column(name: str) -> pa.Array:
        return column_of(raw, match, name)

    skip, skip_rule = non_data_rows(raw, cols["seller_sku"])
    # A first SKU with spaces ("Blue Mug 300ml") looks like a description sentence; a stock count says it is data.
    on_hand, _ = parse_count(column("on_hand"))
    counted_description = pc.and_(pc.fill_null(pc.equal(skip_rule, "description_row"), False), pc.is_valid(on_hand))
    skip = pc.and_(skip, pc.invert(counted_description))
    skip_rule = pc.if_else(counted_description, pa.scalar(None, pa.string()), skip_rule)
    problems = Problems(raw, match, skip)

    out: dict[str, pa.Array] = {}
    # Warehouse names ("UK-3PL-Leeds") are not a safe market signal: only a Market column sets it.
    out["market"], unknown = market_codes(column("market"), ctx.params)
    problems.note(unknown, "market", f"not one of this client's markets {[m.code for m in ctx.params.markets]}",
                  column("market"))

    spec = {**{c: "text" for c in TEXT}, "sku_id": "id", **{c: "count" for c in COUNTS}, **{c: "number" for c in NUMBERS},
            "inbound_eta": "date", "as_of": "date", "unit_cost": "price", "landed_cost": "price"}
    typed, _ = typed_columns(raw, match, ctx, problems, spec, out["market"], required=REQUIRED_VALUES)
    out |= typed
    for name in NOT_NEGATIVE:
        problems.note(pc.less(out[name].cast(pa.float64()), 0.0), name, "negative value", column(name))

    saved = workbook_saved_at(raw)
    sheet_time, sheet_basis = sheet_as_of(raw, saved)
    from_column = pc.is_valid(out["as_of"])
    out["as_of_basis"] = pc.if_else(from_column, "column", sheet_basis)
    out["as_of"] = pc.fill_null(out["as_of"], pa.scalar(sheet_time.date(), pa.date32()))

    out["currency"] = _local_currency(raw, match, ctx, problems, out["market"], column("currency"))
    cost_currency = currency_suffix(raw.headers[cols["unit_cost"]]) if "unit_cost" in cols else None
    out["unit_cost_currency"] = pa.array([_CURRENCY_ALIASES.get(cost_currency, cost_currency)] * n, pa.string())

    # Rows with the same as-of date are the same snapshot: a later-saved sheet is a correction and wins.
    kept = pc.invert(pc.or_(skip, problems.bad))
    latest = pc.max(out["as_of"].filter(kept)).as_py()
    if saved and latest and saved.date() >= latest:
        export_as_of = saved
    else:
        export_as_of = dt.datetime.combine(latest, dt.time(), dt.timezone.utc) if latest else sheet_time
    out |= provenance_columns(raw, ctx, export_as_of)

    return finish(raw, ctx, out, INVENTORY_PLAN.schema, skip, skip_rule, problems)


def _local_currency(raw: RawTable, match: HeaderMatch, ctx: ImportContext, problems: Problems, market: pa.Array,
                    stated: pa.Array) -> pa.Array:
    """Landed-cost currency: the Currency column, else the header's "(GBP)", else the row's market currency."""
    n = raw.records.num_rows
    text = pc.utf8_upper(clean_text(stated))
    text = pc.if_else(pc.fill_null(pc.equal(text, "RMB"), False), "CNY", text)
    problems.note(pc.invert(pc.fill_null(pc.match_substring_regex(text, r"^[A-Z]{3}$"), True)), "currency",
                  "not a 3-letter currency code", stated)
    suffix = currency_suffix(raw.headers[match.mapping["landed_cost"]]) if "landed_cost" in match.mapping else None
    codes = [m.code for m in ctx.params.markets]
    of_market = pc.take(pa.array([m.currency for m in ctx.params.markets]), pc.index_in(market, pa.array(codes)))
    fallback = pa.array([_CURRENCY_ALIASES.get(suffix, suffix)] * n, pa.string()) if suffix else of_market
    return pc.coalesce(text, fallback)


INVENTORY_PLAN = register(Importer(kind="inventory_plan", table="inventory_plan", key=("seller_sku", "warehouse", "as_of"),
                                   schema=schema(), parse=parse_inventory_plan))
