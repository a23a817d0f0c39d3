"""Creator/Partner Center affiliate earnings (the creator's or agency's side) -> typed earning lines.

Estimated and actual amounts stay apart; "Ineligible" rows usually leave the final amount empty, and an
empty amount stays null (never zero). The market comes from the Currency column (or --market).
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from shopkpi.ingest.columns import schema_fields, typed_columns
from shopkpi.ingest.headers import HeaderMatch
from shopkpi.ingest.importers import Importer, register
from shopkpi.ingest.kinds.ads_report import DAY_FORMATS
from shopkpi.ingest.kinds.affiliate_orders import market_of_currency, note_untold_market
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

KIND = "creator_earnings"
MONEY = ["price", "gmv", "est_commission_base", "est_standard_commission", "est_shop_ads_commission", "est_bonus",
         "est_partner_bonus", "est_iva", "est_isr", "est_pit", "est_revenue_sharing", "actual_commission_base",
         "standard_commission", "shop_ads_commission", "bonus", "partner_bonus", "tax_isr", "tax_iva", "tax_pit",
         "shared_with_partner", "total_final_earned_amount"]
SPEC = {
    "order_id": "id", "sku_id": "id", "product_id": "id", "content_id": "id",
    **dict.fromkeys(["product_name", "creator_username", "shop_name", "shop_code", "affiliate_partner", "agency",
                     "order_type", "order_settlement_status", "indirect", "commission_type", "content_type"], "text"),
    **dict.fromkeys(["items_sold", "items_refunded"], "count"),
    **dict.fromkeys(["standard_rate", "shop_ads_rate", "tiktok_bonus_rate", "partner_bonus_rate", "revenue_sharing_rate"], "percent"),
    **dict.fromkeys(MONEY, "money"),
    **dict.fromkeys(["order_date", "commission_settlement_date"], "date"),
}


def schema() -> pa.Schema:
    fields = [("order_id", pa.string()), ("sku_id", pa.string()), ("content_key", pa.string()),
              ("market", pa.string()), ("currency", pa.string())]
    fields += [(n, t) for n, t in schema_fields(SPEC) if n not in ("order_id", "sku_id")]
    return pa.schema(fields + PROVENANCE)


def parse_creator_earnings(raw: RawTable, match: HeaderMatch, ctx: ImportContext) -> Parsed:
    skip, skip_rule = non_data_rows(raw, match.mapping["order_id"])
    problems = Problems(raw, match, skip)
    currency = pc.utf8_upper(clean_text(column_of(raw, match, "currency")))
    market = market_of_currency(currency, ctx)
    note_untold_market(problems, market, ctx, "currency", column_of(raw, match, "currency"), subject="the currency")
    out, _ = typed_columns(raw, match, ctx, problems, SPEC, market, required=("order_id", "sku_id"), date_formats=DAY_FORMATS)
    currency_of = {m.code: m.currency for m in ctx.params.markets}
    out["currency"] = pc.coalesce(currency, pc.take(pa.array(list(currency_of.values())), pc.index_in(market, pa.array(list(currency_of)))))
    out["market"] = market
    # One order line can earn through several contents (a video and a LIVE): the content is part of the key.
    out["content_key"] = pc.coalesce(out["content_id"], pa.scalar("", pa.string()))
    dates = [d for d in (pc.max(out["commission_settlement_date"]).as_py(), pc.max(out["order_date"]).as_py()) if d]
    as_of = dt.datetime.combine(max(dates), dt.time(), dt.timezone.utc) if dates else None
    out |= provenance_columns(raw, ctx, as_of)
    return finish(raw, ctx, out, CREATOR_EARNINGS.schema, skip, skip_rule, problems)


CREATOR_EARNINGS = register(Importer(kind=KIND, table="creator_earnings", key=("order_id", "sku_id", "content_key"),
                                     schema=schema(), parse=parse_creator_earnings))
