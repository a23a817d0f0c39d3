"""Daily stock history (WMS / 3PL export) -> one row per SKU x warehouse x day, end-of-day on hand."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from shopkpi.ingest.columns import typed_columns
from shopkpi.ingest.headers import HeaderMatch
from shopkpi.ingest.importers import Importer, register
from shopkpi.ingest.kinds.inventory_plan import market_codes, without_midnight
from shopkpi.ingest.readers import RawTable
from shopkpi.ingest.rows import (
    PROVENANCE,
    ImportContext,
    Parsed,
    Problems,
    column_of,
    finish,
    non_data_rows,
    provenance_columns,
)
from shopkpi.ingest.values import clean_text

TRUE_TEXT = ["1", "true", "yes", "y", "x", "oos", "out of stock", "stockout", "是", "缺货"]
FALSE_TEXT = ["0", "false", "no", "n", "in stock", "否", "有货"]
REQUIRED_VALUES = ("date", "seller_sku", "warehouse", "on_hand")


def schema() -> pa.Schema:
    return pa.schema([
        ("date", pa.date32()), ("seller_sku", pa.string()), ("sku_id", pa.string()), ("warehouse", pa.string()),
        ("market", pa.string()), ("on_hand", pa.int64()), ("received", pa.int64()), ("stockout", pa.bool_()),
    ] + PROVENANCE)


def parse_flag(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """'1'/'0', 'Yes'/'No', 'TRUE'/'FALSE', '是'/'否' -> bool; other text fails."""
    text = pc.utf8_lower(clean_text(values))
    yes = pc.is_in(text, pa.array(TRUE_TEXT))
    no = pc.is_in(text, pa.array(FALSE_TEXT))
    parsed = pc.if_else(yes, True, pc.if_else(no, False, pa.scalar(None, pa.bool_())))
    return parsed, pc.and_(pc.is_valid(text), pc.is_null(parsed))


def parse_stock_history(raw: RawTable, match: HeaderMatch, ctx: ImportContext) -> Parsed:
    raw = without_midnight(raw, match, ["date"])
    cols = match.mapping

    def column(name: str) -> pa.Array:
        return column_of(raw, match, name)

    skip, skip_rule = non_data_rows(raw, cols["date"])
    problems = Problems(raw, match, skip)
    out: dict[str, pa.Array] = {}
    # Warehouse names are not a safe market signal: only a Market column sets it.
    out["market"], unknown = market_codes(column("market"), ctx.params)
    problems.note(unknown, "market", f"not one of this client's markets {[m.code for m in ctx.params.markets]}",
                  column("market"))
    spec = {"date": "date", "seller_sku": "text", "sku_id": "id", "warehouse": "text", "on_hand": "count",
            "received": "count"}
    typed, _ = typed_columns(raw, match, ctx, problems, spec, out["market"], required=REQUIRED_VALUES)
    out |= typed
    out["stockout"], failed = parse_flag(column("stockout"))
    problems.note(failed, "stockout", "not a stock-out flag (1/0, yes/no, true/false)", column("stockout"))
    problems.note(pc.less(out["received"], 0), "received", "negative value", column("received"))

    # Dates only: the export is as of its latest day, so a longer, newer history supersedes overlapping days.
    kept = pc.invert(pc.or_(skip, problems.bad))
    latest = pc.max(out["date"].filter(kept)).as_py()
    as_of = dt.datetime.combine(latest, dt.time(), dt.timezone.utc) if latest else None
    out |= provenance_columns(raw, ctx, as_of)

    return finish(raw, ctx, out, STOCK_HISTORY.schema, skip, skip_rule, problems)


STOCK_HISTORY = register(Importer(kind="stock_history", table="stock_history", key=("seller_sku", "warehouse", "date"),
                                  schema=schema(), parse=parse_stock_history))
