"""A client's own sales-lines file (independent site, Shopify...), its headers mapped in params."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from shopkpi.ingest.columns import local_dates
from shopkpi.ingest.headers import ColumnSpec, HeaderMatch, KindSpec
from shopkpi.ingest.importers import Importer, register
from shopkpi.ingest.privacy import hash_buyers
from shopkpi.ingest.readers import RawTable
from shopkpi.ingest.rows import (
    PROVENANCE,
    ImportContext,
    Parsed,
    Problems,
    column_of,
    excluded_table,
    non_data_rows,
    provenance_columns,
)
from shopkpi.ingest.values import clean_text, parse_count, parse_money, parse_timestamp

KIND = "sales_lines"
PRICE_TYPE = pa.decimal128(18, 4)  # shop systems store unit prices like 0.001


def kind_spec(params) -> KindSpec | None:
    """The client's sales-lines layout as a kind, so files are detected by their headers like any export."""
    mapping = params.sales_lines
    if mapping is None:
        return None
    columns = {canonical: ColumnSpec(canonical, (header,)) for canonical, header in mapping.columns.items()}
    if "buyer" in columns:
        columns["buyer"] = ColumnSpec("buyer", (mapping.columns["buyer"],), "hash")
    required = tuple(c for c in ("order_id", "sku", "quantity", "ordered_at") if c in columns)
    return KindSpec(KIND, f"{params.client}'s own sales lines (params sales_lines)", required, columns)


def schema() -> pa.Schema:
    return pa.schema([
        ("order_id", pa.string()), ("line_no", pa.int64()), ("sku", pa.string()), ("product_name", pa.string()),
        ("market", pa.string()), ("currency", pa.string()), ("quantity", pa.int64()), ("unit_price", PRICE_TYPE),
        ("line_amount", PRICE_TYPE), ("ordered_at", pa.timestamp("s", tz="UTC")), ("ordered_local_date", pa.date32()),
        ("status", pa.string()), ("buyer_country", pa.string()), ("buyer_hash", pa.string()),
        ("is_cancellation", pa.bool_()), ("is_non_product", pa.bool_()),
    ] + PROVENANCE)


def parse_sales_lines(raw: RawTable, match: HeaderMatch, ctx: ImportContext) -> Parsed:
    mapping, cols, n = ctx.params.sales_lines, match.mapping, raw.records.num_rows
    market = ctx.params.market(mapping.market)
    skip, skip_rule = non_data_rows(raw, cols["order_id"])
    problems = Problems(raw, match, skip)

    def column(name: str) -> pa.Array:
        return column_of(raw, match, name)

    out: dict[str, pa.Array] = {"order_id": clean_text(column("order_id")), "sku": clean_text(column("sku")),
                                "product_name": clean_text(column("product_name")), "status": clean_text(column("status")),
                                "buyer_country": clean_text(column("country"))}
    for name in ("order_id", "sku"):
        problems.note(pc.is_null(out[name]), name, "required value is empty", column(name))
    out["quantity"], failed = parse_count(column("quantity"))
    problems.note(pc.or_(failed, pc.is_null(out["quantity"])), "quantity", "not a whole number", column("quantity"))
    for name in ("unit_price", "line_amount"):
        out[name], failed = parse_money(column(name), PRICE_TYPE)
        problems.note(failed, name, "not a money amount", column(name))
    derived = pc.multiply(out["quantity"].cast(pa.decimal128(19, 0)), out["unit_price"]).cast(PRICE_TYPE)
    out["line_amount"] = pc.coalesce(out["line_amount"], derived)
    out["ordered_at"], failed, fmt = parse_timestamp(column("ordered_at"), [mapping.timestamp_format], market.timezone)
    problems.note(pc.or_(failed, pc.is_null(out["ordered_at"])), "ordered_at",
                  f"not a date-time in the layout {mapping.timestamp_format}", column("ordered_at"))
    out["market"] = pa.array([market.code] * n, pa.string())
    out["ordered_local_date"] = local_dates(out["ordered_at"], out["market"], ctx.params)

    negative = pc.fill_null(pc.less(out["quantity"], 0), False)
    prefixed = (pc.fill_null(pc.starts_with(out["order_id"], mapping.cancelled_order_prefix), False)
                if mapping.cancelled_order_prefix else pa.array([False] * n))
    out["is_cancellation"] = pc.or_(negative, prefixed)
    out["is_non_product"] = pc.fill_null(pc.is_in(out["sku"], pa.array(mapping.non_product_skus, pa.string())), False)
    out["buyer_hash"] = hash_buyers(clean_text(column("buyer")), ctx.salt)
    out["currency"] = pa.array([market.currency] * n, pa.string())
    # A shop system can list the same SKU twice in one order: number the lines within each order.
    out["line_no"] = _line_numbers(out["order_id"])
    as_of = pc.max(out["ordered_at"]).as_py()
    out |= provenance_columns(raw, ctx, as_of)

    table = pa.table({f.name: out[f.name].cast(f.type) for f in SALES_LINES.schema}, schema=SALES_LINES.schema)
    rows = table.filter(pc.and_(pc.invert(skip), pc.invert(problems.bad)))
    return Parsed(rows, problems.table(ctx), excluded_table(raw, ctx, skip, skip_rule), [market.code], fmt)


def _line_numbers(order_ids: pa.Array) -> pa.Array:
    import pandas as pd

    return pa.array(pd.Series(order_ids.to_pandas()).groupby(order_ids.to_pandas(), dropna=False).cumcount().to_numpy() + 1)


SALES_LINES = register(Importer(kind=KIND, table="sales_lines", key=("order_id", "line_no"), schema=schema(),
                                parse=parse_sales_lines))
