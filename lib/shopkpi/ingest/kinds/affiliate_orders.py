"""Seller Center Affiliate orders export (one row per affiliate order SKU line) -> typed commission lines.

Estimated and actual commission stay apart. The actual columns are empty until the order settles;
`actual_commission_total` stays null until then and is never filled with zeros.
"""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from shopkpi.ingest.columns import local_dates, schema_fields, typed_columns
from shopkpi.ingest.headers import HeaderMatch
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
    market_of_rows,
    non_data_rows,
    provenance_columns,
)
from shopkpi.ingest.values import MONEY_TYPE, clean_text

KIND = "affiliate_orders"
TIMES = ["created_time", "paid_time", "delivered_time", "commission_paid_time"]
SPEC = {
    "order_id": "id", "sku_id": "id", "product_id": "id", "content_id": "id",
    **dict.fromkeys(["product_name", "sku_name", "seller_sku", "payment_method", "order_status", "platform",
                     "creator_username", "content_type", "commission_model"], "text"),
    "quantity": "count",
    **dict.fromkeys(["standard_commission_rate", "shop_ads_commission_rate", "pit_rate"], "percent"),
    **dict.fromkeys(["price", "payment_amount", "est_commission_base", "est_standard_commission",
                     "actual_commission_base", "actual_commission", "est_shop_ads_commission",
                     "actual_shop_ads_commission", "est_cofunded_bonus", "actual_cofunded_bonus", "est_pit",
                     "actual_pit"], "money"),
    **dict.fromkeys(TIMES, "timestamp"),
}
REQUIRED_VALUES = ("order_id", "sku_id", "created_time")
# The parts of the actual commission, each with its estimate. Once an order has settled, an empty
# actual part counts as zero only when its estimate is zero too (nothing was due); otherwise the
# total is unknown and stays null.
ACTUAL_PARTS = {"actual_commission": "est_standard_commission",
                "actual_shop_ads_commission": "est_shop_ads_commission",
                "actual_cofunded_bonus": "est_cofunded_bonus"}
YES_NO = {"yes": True, "y": True, "true": True, "có": True, "是": True,
          "no": False, "n": False, "false": False, "không": False, "否": False}


def _stored_name(name: str) -> str:
    return name.replace("_time", "_at")


def schema() -> pa.Schema:
    fields = [("order_id", pa.string()), ("sku_id", pa.string()), ("market", pa.string()), ("currency", pa.string())]
    fields += [(_stored_name(n), t) for n, t in schema_fields(SPEC) if n not in ("order_id", "sku_id")]
    fields += [("fully_returned", pa.bool_()), ("settled", pa.bool_()), ("actual_commission_total", MONEY_TYPE),
               ("created_local_date", pa.date32()), ("paid_local_date", pa.date32())]
    return pa.schema(fields + PROVENANCE)


def market_of_currency(currency: pa.Array, ctx: ImportContext, hint_first: bool = False) -> pa.Array:
    """Market per row from a currency code used by exactly one of the client's markets (GBP -> UK);
    else the --market hint, else the client's only market; null where none of these applies.

    `hint_first`: the --market hint wins over the currency, for money an account may hold in another
    currency than the shop's (an ad account paying in USD for a Thai shop).
    """
    if hint_first and ctx.market_hint:
        return pa.array([ctx.market_hint] * len(currency), pa.string())
    found = currency_to_market(clean_text(currency), ctx.params)
    codes = [m.code for m in ctx.params.markets]
    fallback = ctx.market_hint or (codes[0] if len(codes) == 1 else None)
    return pc.fill_null(found, fallback) if fallback else found


def note_untold_market(problems: Problems, market: pa.Array, ctx: ImportContext, column: str, source: pa.Array,
                       subject: str = "the currency") -> None:
    """Quarantine rows whose market could not be told (or is not one of the client's), saying what to pass."""
    codes = [m.code for m in ctx.params.markets]
    problems.note(pc.invert(pc.fill_null(pc.is_in(market, pa.array(codes)), False)), column,
                  f"{subject} does not tell one of this client's markets {codes} (pass --market CODE for this file)".lstrip(),
                  source)


def parse_yes_no(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """'Yes'/'No' (any case, a few locales) -> bool; other text fails."""
    text = pc.utf8_lower(clean_text(values))
    parsed = pc.take(pa.array(list(YES_NO.values()), pa.bool_()), pc.index_in(text, pa.array(list(YES_NO), pa.string())))
    return parsed, pc.and_(pc.is_valid(text), pc.is_null(parsed))


def parse_affiliate_orders(raw: RawTable, match: HeaderMatch, ctx: ImportContext) -> Parsed:
    cols, params = match.mapping, ctx.params
    skip, skip_rule = non_data_rows(raw, cols["order_id"])
    problems = Problems(raw, match, skip)

    def column(name: str) -> pa.Array:
        return column_of(raw, match, name)

    # Market: the Country column if the export has one, else the Currency column (GBP -> UK).
    currency = pc.utf8_upper(clean_text(column("currency")))
    market = market_of_rows(raw, match, ctx) if "country" in cols else market_of_currency(currency, ctx)
    codes = [m.code for m in params.markets]
    currency_of = {m.code: m.currency for m in params.markets}
    where = "country" if "country" in cols else "currency"
    note_untold_market(problems, market, ctx, where, column(where), subject="")
    expected = pc.take(pa.array(list(currency_of.values())), pc.index_in(market, pa.array(codes)))
    problems.note(pc.and_(pc.is_valid(currency), pc.not_equal(currency, expected)), "currency",
                  "currency is not the currency of the row's market", column("currency"))

    out: dict[str, pa.Array] = {"market": market, "currency": pc.coalesce(currency, expected)}
    typed, used_format = typed_columns(raw, match, ctx, problems, SPEC, market, required=REQUIRED_VALUES)
    out |= {_stored_name(name): values for name, values in typed.items()}
    out["fully_returned"], failed = parse_yes_no(column("fully_returned"))
    problems.note(failed, "fully_returned", "not Yes or No", column("fully_returned"))

    # Settled: the export reports an actual commission (paid, or zero because the line was returned).
    settled = pc.is_valid(out["commission_paid_at"])
    for part in ACTUAL_PARTS:
        settled = pc.or_(settled, pc.is_valid(out[part]))
    out["settled"] = settled
    zero = pa.scalar(Decimal(0), MONEY_TYPE)
    unknown = pc.invert(settled)
    for part, estimate in ACTUAL_PARTS.items():
        owed = pc.fill_null(pc.not_equal(out[estimate], zero), False)
        unknown = pc.or_(unknown, pc.and_(pc.is_null(out[part]), owed))
    standard, shop_ads, bonus = (pc.fill_null(out[part], zero) for part in ACTUAL_PARTS)
    total = pc.add(pc.add(standard, shop_ads), bonus)
    out["actual_commission_total"] = pc.if_else(unknown, pa.scalar(None, total.type), total)

    for name in ("created_at", "paid_at"):
        out[name.replace("_at", "_local_date")] = local_dates(out[name], market, params)
    times = [out[_stored_name(t)] for t in TIMES]
    as_of = max((pc.max(t).as_py() for t in times if t.null_count < len(t)), default=None)
    out |= provenance_columns(raw, ctx, as_of)

    table = pa.table({f.name: out[f.name].cast(f.type) for f in AFFILIATE_ORDERS.schema}, schema=AFFILIATE_ORDERS.schema)
    rows = table.filter(pc.and_(pc.invert(skip), pc.invert(problems.bad)))
    return Parsed(rows, problems.table(ctx), excluded_table(raw, ctx, skip, skip_rule),
                  sorted(set(rows.column("market").to_pylist())), used_format)


# One row per order SKU line: an order line is attributed to one creator and one piece of content.
AFFILIATE_ORDERS = register(Importer(kind=KIND, table="affiliate_orders", key=("order_id", "sku_id"),
                                     schema=schema(), parse=parse_affiliate_orders))
