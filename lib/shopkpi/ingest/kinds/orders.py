"""Seller Center Orders export (one row per SKU line) -> typed, PII-free order lines."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from shopkpi.dictionary import rules
from shopkpi.ingest.columns import local_dates, plausibility, typed_columns
from shopkpi.ingest.headers import HeaderMatch
from shopkpi.ingest.importers import Importer, register
from shopkpi.ingest.privacy import hash_buyers
from shopkpi.ingest.readers import RawTable
from shopkpi.ingest.rows import (
    PROVENANCE,
    ImportContext,
    Parsed,
    Problems,
    column_of,
    finish,
    market_of_rows,
    market_reference,
    non_data_rows,
    provenance_columns,
)
from shopkpi.ingest.values import MONEY_TYPE, check_id, clean_text

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


def order_line_schema() -> pa.Schema:
    fields = [("order_id", pa.string()), ("sku_id", pa.string()), ("market", pa.string()), ("currency", pa.string())]
    fields += [(c, pa.string()) for c in TEXT]
    fields += [(c, pa.int64()) for c in COUNTS]
    fields += [(c, MONEY_TYPE) for c in LINE_MONEY + ORDER_MONEY]
    fields += [(c.replace("_time", "_at"), pa.timestamp("s", tz="UTC")) for c in TIMES]
    fields += [
        ("created_local_date", pa.date32()), ("paid_local_date", pa.date32()),
        ("buyer_hash", pa.string()), ("is_test", pa.bool_()), ("is_sample_note", pa.bool_()), ("is_replacement", pa.bool_()),
    ]
    return pa.schema(fields + PROVENANCE)


def _flag(text: pa.Array, pattern: str) -> pa.Array:
    return pc.fill_null(pc.match_substring_regex(text, pattern), False)


def _check_plausible(out: dict[str, pa.Array], market: pa.Array, problems: Problems, column) -> None:
    """Quarantine values no real order has: negative quantities or amounts, amounts above the market's limit
    (data/markets.yaml max_amount), quantities above rules.yaml's, events in the future (a wrong clock)."""
    import datetime as dt

    bounds = plausibility()
    for name in COUNTS:
        bad = pc.or_(pc.less(out[name], 0), pc.greater(out[name], bounds["max_quantity"]))
        problems.note(bad, name, f"implausible quantity (below 0 or above {bounds['max_quantity']:,})", column(name))
    limits = {code: market_reference().get(code, {}).get("max_amount") for code in set(market.drop_null().to_pylist())}
    for name in LINE_MONEY + ORDER_MONEY:
        problems.note(pc.less(out[name], 0), name, "implausible negative amount (this column is never negative)", column(name))
        for code, limit in limits.items():
            if limit is None:
                continue
            in_market = pc.fill_null(pc.equal(market, code), False)
            above = pc.and_(in_market, pc.greater(out[name].cast(pa.float64()), float(limit)))
            problems.note(above, name, f"implausible amount (above {code}'s limit of {limit:,} in data/markets.yaml)", column(name))
    latest = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=bounds["future_days"])
    for name in TIMES:
        stored = name.replace("_time", "_at")
        future = pc.greater(out[stored], pa.scalar(latest.replace(microsecond=0), out[stored].type))
        problems.note(future, name, f"in the future (after {latest:%Y-%m-%d}): a wrong clock or a mangled date", column(name))


def parse_orders(raw: RawTable, match: HeaderMatch, ctx: ImportContext) -> Parsed:
    cols, params = match.mapping, ctx.params
    skip, skip_rule = non_data_rows(raw, cols["order_id"])
    problems = Problems(raw, match, skip)

    def column(name: str) -> pa.Array:
        return column_of(raw, match, name)

    out: dict[str, pa.Array] = {}
    out["order_id"], failed = check_id(column("order_id"), (15, 20))
    problems.note(failed, "order_id", "not an 18-19 digit Order ID (Excel may have turned it into 1.23E+17); "
                  "quarantined, never merged", column("order_id"))
    out["sku_id"], failed = check_id(column("sku_id"), (6, 25))
    problems.note(failed, "sku_id", "not a numeric SKU ID", column("sku_id"))

    market = market_of_rows(raw, match, ctx)
    currency_of = {m.code: m.currency for m in params.markets}
    problems.note(pc.invert(pc.fill_null(pc.is_in(market, pa.array(list(currency_of))), False)), "country",
                  f"country is not one of this client's markets {list(currency_of)}", column("country"))
    out["market"] = market
    out["currency"] = pc.take(pa.array(list(currency_of.values())), pc.index_in(market, pa.array(list(currency_of))))

    spec = {**{c: "text" for c in TEXT}, **{c: "count" for c in COUNTS}, **{c: "money" for c in LINE_MONEY + ORDER_MONEY},
            **{c: "timestamp" for c in TIMES}}
    typed, used_format = typed_columns(raw, match, ctx, problems, spec, market)
    out |= {name.replace("_time", "_at"): values for name, values in typed.items()}
    for name in REQUIRED_VALUES:
        problems.note(pc.is_null(out[name.replace("_time", "_at")]), name, "required value is empty", column(name))
    _check_plausible(out, market, problems, column)
    for name in ("created_at", "paid_at"):
        out[name.replace("_at", "_local_date")] = local_dates(out[name], market, params)

    flags = rules()["flags"]
    seller_note, buyer = clean_text(column("seller_note")), clean_text(column("buyer_username"))
    out["is_test"] = pc.or_(_flag(seller_note, flags["test_order"]["seller_note_regex"]),
                            _flag(buyer, flags["test_order"]["buyer_username_regex"]))
    out["is_sample_note"] = _flag(seller_note, flags["sample_order"]["seller_note_regex"])
    out["is_replacement"] = _flag(seller_note, flags["replacement_order"]["seller_note_regex"])
    out["buyer_hash"] = hash_buyers(buyer, ctx.salt)

    # The export's "as of" is its latest event: the newest export's state wins when windows overlap. A quarantined
    # row (a date in 2099) is no evidence of when the file was taken, so only the rows kept count.
    kept = pc.invert(problems.bad)
    times = [pc.filter(out[t.replace("_time", "_at")], kept) for t in TIMES]
    as_of = max((pc.max(t).as_py() for t in times if t.null_count < len(t)), default=None)
    out |= provenance_columns(raw, ctx, as_of)

    return finish(raw, ctx, out, ORDERS.schema, skip, skip_rule, problems, used_format)


ORDERS = register(Importer(kind="orders", table="order_lines", key=("order_id", "sku_id"),
                           schema=order_line_schema(), parse=parse_orders, group_key=("order_id",),
                           event_columns=tuple(t.replace("_time", "_at") for t in TIMES)))
