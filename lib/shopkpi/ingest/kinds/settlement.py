"""Seller Center settlement / income statement (order details) -> typed settlement lines.

One row per order or adjustment settled; money signed as in the export (fees negative). Its times
are UTC [reference §1.6; headers may say "(UTC)"], so they are not shifted by the shop's time zone.
An XLSX statement may carry a header block above the column headers ("Time period", "Currency",
"Total settlement amount"); its totals are reconciled with the sum of the rows.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from shopkpi.ad_days import zone_name
from shopkpi.ingest.columns import DATE_FORMATS, schema_fields, typed_columns
from shopkpi.ingest.headers import HeaderMatch, normalise_header, registry
from shopkpi.ingest.importers import Importer, register
from shopkpi.ingest.kinds.affiliate_orders import market_of_currency, note_untold_market
from shopkpi.ingest.readers import RawTable
from shopkpi.ingest.rows import (
    PROVENANCE,
    ImportContext,
    Parsed,
    Problems,
    column_of,
    finish,
    market_reference,
    money_convention,
    non_data_rows,
    provenance_columns,
)
from shopkpi.ingest.values import clean_text, parse_money, parse_timestamp

KIND = "settlement"
MONEY = [
    "total_settlement_amount", "total_revenue", "subtotal_after_seller_discounts", "subtotal_before_discounts",
    "seller_discounts", "refund_subtotal_after_seller_discounts", "refund_subtotal_before_seller_discounts",
    "refund_of_seller_discounts", "total_fees", "transaction_fee", "tiktok_shop_commission_fee",
    "credit_card_instalment_handling_fee", "sfp_service_fee", "gmv_max_voucher", "seller_shipping_fee",
    "actual_shipping_fee", "platform_shipping_fee_discount", "customer_shipping_fee", "actual_return_shipping_fee",
    "refunded_customer_shipping_fee", "shipping_subsidy", "affiliate_commission", "affiliate_partner_commission",
    "affiliate_shop_ads_commission", "tap_shop_ads_commission", "adjustment_amount", "customer_payment",
    "customer_refund", "platform_discounts", "refund_of_platform_discounts",
    "payment_fee", "dynamic_commission", "gmv_max_ad_fee", "gmv_max_coupon_fee", "order_processing_fee", "per_item_fee",
    "infrastructure_fee", "refund_administration_fee", "small_order_fee", "fbt_fulfillment_fee", "co_funded_promotion",
    "sales_tax",
]
# Sheets of the newer income statement beside "Order details": their totals are reconciled, their rows not stored
# as settlement rows (a reserve is money held back, not an order's settlement).
RESERVE_SHEET = re.compile(r"(?i)reserve")
WITHDRAWAL_SHEET = re.compile(r"(?i)withdraw")
_AMOUNT_HEADER = re.compile(r"(?i)amount|金额")
SPEC = {
    "order_adjustment_id": "text", "transaction_type": "text", "related_order_id": "id",
    "statement_id": "text", "payment_id": "text", "sku_id": "id", "quantity": "count", "statement_date": "date",
    **dict.fromkeys(MONEY, "money"),
    "estimated_parcel_weight": "number",
}
TIMES = ["order_created_time", "settled_time"]
DAY_FORMATS = ["%Y/%m/%d %H:%M:%S", "%Y/%m/%d"] + DATE_FORMATS
# Excel turns long numeric IDs into "5.82E+17" when a CSV is opened and saved.
_EXCEL_NUMBER = r"(?i)^[0-9]+(\.[0-9]+)?e\+?[0-9]+$"


def schema() -> pa.Schema:
    fields = [("order_adjustment_id", pa.string()), ("transaction_type", pa.string()),
              ("settled_at", pa.timestamp("s", tz="UTC")), ("market", pa.string()), ("currency", pa.string())]
    fields += [(n, t) for n, t in schema_fields(SPEC) if n not in ("order_adjustment_id", "transaction_type")]
    fields += [("order_created_at", pa.timestamp("s", tz="UTC")), ("settled_date", pa.date32())]
    return pa.schema(fields + PROVENANCE)


def header_block(metadata_rows: list[list[str]]) -> dict[str, str]:
    """Label -> value pairs above the column headers whose label is a settlement column
    ("Currency", "Total settlement amount"...), keyed by canonical name. The value is the next
    non-empty cell to the right of the label, else the cell under it."""
    lookup = registry()[KIND].lookup
    block: dict[str, str] = {}
    for r, row in enumerate(metadata_rows):
        for c, cell in enumerate(row):
            canonical = lookup.get(normalise_header(cell)) if cell.strip() else None
            if canonical is None or canonical in block:
                continue
            right = [v.strip() for v in row[c + 1:] if v.strip()]
            below = metadata_rows[r + 1][c].strip() if r + 1 < len(metadata_rows) and c < len(metadata_rows[r + 1]) else ""
            if right or below:
                block[canonical] = right[0] if right else below
    return block


def parse_settlement(raw: RawTable, match: HeaderMatch, ctx: ImportContext) -> Parsed:
    cols, params = match.mapping, ctx.params
    skip, skip_rule = non_data_rows(raw, cols["order_adjustment_id"])
    problems = Problems(raw, match, skip)
    block = header_block(raw.metadata_rows)
    reports = {name: rows for name, rows in raw.other_sheets.items() if not (RESERVE_SHEET.search(name) or WITHDRAWAL_SHEET.search(name))}
    for rows in reports.values():
        block = header_block(rows) | block  # the header block above the rows wins where both state a value

    def column(name: str) -> pa.Array:
        return column_of(raw, match, name)

    currency = pc.coalesce(pc.utf8_upper(clean_text(column("currency"))),
                           pa.scalar(block.get("currency", "").upper() or None, pa.string()))
    market = market_of_currency(currency, ctx, hint_first=True)
    note_untold_market(problems, market, ctx, "currency", column("currency"), subject="the currency")
    codes = [m.code for m in params.markets]

    out, _ = typed_columns(raw, match, ctx, problems, SPEC, market, required=("order_adjustment_id", "transaction_type"))
    problems.note(pc.match_substring_regex(out["order_adjustment_id"], _EXCEL_NUMBER), "order_adjustment_id",
                  "not an ID (Excel may have turned it into 1.23E+17)", column("order_adjustment_id"))
    problems.note(pc.is_null(out["total_settlement_amount"]), "total_settlement_amount", "required value is empty",
                  column("total_settlement_amount"))
    formats = list(dict.fromkeys(f for code in codes for f in market_reference().get(code, {}).get("timestamp_formats", [])))
    used_format = None
    # The statement's times are UTC unless its Reports sheet states another zone.
    zone = zone_name(block.get("time_zone")) or "UTC"
    for name in TIMES:
        out[name.replace("_time", "_at")], failed, fmt = parse_timestamp(column(name), formats + DAY_FORMATS, zone)
        problems.note(failed, name, f"not a date-time ({' or '.join(formats + DAY_FORMATS)})", column(name))
        used_format = used_format or fmt
    out["settled_date"] = out["settled_at"].cast(pa.date32())
    out |= {"market": market, "currency": currency}
    as_of = pc.max(out["settled_at"]).as_py()
    out |= provenance_columns(raw, ctx, as_of)

    parsed = finish(raw, ctx, out, SETTLEMENT.schema, skip, skip_rule, problems, used_format)
    # The statement's own totals are written like its rows: in its market's money convention.
    found = sorted(set(market.drop_null().to_pylist()) & set(codes))
    convention = money_convention(found[0], params) if len(found) == 1 else "dot"
    parsed.reconciliation = _reconcile_header_block(block, parsed.rows, parsed.quarantine.num_rows, convention)
    parsed.reconciliation += _other_sheet_totals(raw.other_sheets, convention)
    return parsed


def _other_sheet_totals(sheets: dict[str, list[list[str]]], convention: str = "dot") -> list[dict]:
    """Reserve and withdrawal sheets: the sum of their amount column, shown beside the statement's total
    (they explain why the bank deposit differs from it); never added to the settlement rows."""
    entries = []
    for name, rows in sheets.items():
        metric = "reserve_amount" if RESERVE_SHEET.search(name) else "withdrawal_amount" if WITHDRAWAL_SHEET.search(name) else None
        if metric is None or not rows:
            continue
        header_at = next((i for i, r in enumerate(rows[:10]) if any(_AMOUNT_HEADER.search(c) for c in r)), None)
        if header_at is None:
            entries.append({"metric": metric, "export_total": None, "our_total": None,
                            "explanation": f"sheet {name!r} has no amount column; not reconciled"})
            continue
        position = next(i for i, c in enumerate(rows[header_at]) if _AMOUNT_HEADER.search(c))
        cells = [r[position] for r in rows[header_at + 1:] if position < len(r) and r[position].strip()]
        amounts, failed = parse_money(pa.array(cells, pa.string()), convention=convention)
        total = float(pc.sum(amounts).as_py() or 0)
        bad = int(pc.sum(failed).as_py() or 0)
        entries.append({"metric": metric, "export_total": total, "our_total": None,
                        "explanation": f"sheet {name!r}: {len(cells) - bad} amount(s) summed"
                                       + (f", {bad} unreadable" if bad else "") + "; kept apart from the order rows"})
    return entries


def _reconcile_header_block(block: dict[str, str], rows: pa.Table, quarantined: int, convention: str = "dot") -> list[dict]:
    """Each money total stated in the header block against the sum of the rows we keep."""
    entries = []
    for metric in (m for m in MONEY if m in block):
        stated, failed = parse_money(pa.array([block[metric]], pa.string()), convention=convention)
        stated = None if failed[0].as_py() or stated[0].as_py() is None else float(stated[0].as_py())
        ours = float(pc.sum(rows.column(metric)).as_py() or 0)
        if stated is None:
            explanation = f"the header block's value {block[metric]!r} is not a money amount"
        elif stated == ours:
            explanation = ""
        elif quarantined:
            explanation = f"{quarantined} quarantined row(s) are not in our total"
        else:
            explanation = "the header block's total differs from the sum of the rows"
        entries.append({"metric": metric, "export_total": stated, "our_total": ours, "explanation": explanation})
    return entries


# A row is one order (or one SKU of it, in the newer layout) or adjustment in one settlement: the same order can
# settle again later (a refund, a fee correction), and re-exporting a statement must not add its rows twice.
SETTLEMENT = register(Importer(kind=KIND, table="settlements",
                               key=("order_adjustment_id", "transaction_type", "settled_at", "sku_id"),
                               schema=schema(), parse=parse_settlement))
