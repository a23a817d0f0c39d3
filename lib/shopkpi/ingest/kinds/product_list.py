"""Data Compass product analysis list -> products × stated date range, its channel impressions reconciled.

The sheet states its dates only above the header (A1: "29/11/2026" or "30/08/2026~05/09/2026"); a
sheet without them cannot be placed in time and is refused. The four channel sections' impressions
add up to the All section's (reference 1.5): the file's totals are checked and shown in `reconciliation`.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from shopkpi.errors import InputFileError
from shopkpi.ingest.columns import schema_fields, typed_columns
from shopkpi.ingest.headers import HeaderMatch
from shopkpi.ingest.importers import Importer, register
from shopkpi.ingest.kinds.shop_performance import date_formats, shop_market, stated_dates
from shopkpi.ingest.readers import RawTable
from shopkpi.ingest.rows import PROVENANCE, ImportContext, Parsed, Problems, finish, non_data_rows, provenance_columns

KIND = "product_list"
CHANNEL_IMPRESSIONS = ["affiliate_impressions", "live_impressions", "product_card_impressions", "seller_video_impressions"]
SPEC = {
    "product_id": "id", "product_name": "text", "gmv_range": "text",
    **dict.fromkeys(["gmv", "refunds", "shipping_fees", "live_gmv", "video_gmv", "creator_gmv", "product_card_gmv",
                     "shop_tab_gmv"], "money"),
    **dict.fromkeys(["orders", "sku_orders", "items_sold", "customers", "product_impressions", "product_clicks",
                     "unique_impressions", "unique_clicks", "add_to_cart", "add_to_cart_users", "items_refunded",
                     "shop_tab_impressions", "shop_tab_clicks", *CHANNEL_IMPRESSIONS], "count"),
}


def schema() -> pa.Schema:
    fields = [("market", pa.string()), ("currency", pa.string()), ("period_start", pa.date32()), ("period_end", pa.date32())]
    return pa.schema(fields + schema_fields(SPEC) + PROVENANCE)


def parse_product_list(raw: RawTable, match: HeaderMatch, ctx: ImportContext) -> Parsed:
    skip, skip_rule = non_data_rows(raw, match.mapping["product_id"])
    problems = Problems(raw, match, skip)
    market, _ = shop_market(raw, match, ctx)
    dates = stated_dates(raw.metadata_rows, date_formats(market))
    if not dates:
        raise InputFileError(raw.path, "states no date above its header (Data Compass writes it in A1, e.g. "
                             "29/11/2026 or 30/08/2026~05/09/2026); without it the figures cannot be placed in time", row=1)
    out, _ = typed_columns(raw, match, ctx, problems, SPEC, market, required=("product_id",))
    n = raw.records.num_rows
    currency_of = {m.code: m.currency for m in ctx.params.markets}
    out |= {"market": market, "currency": pc.take(pa.array(list(currency_of.values())), pc.index_in(market, pa.array(list(currency_of)))),
            "period_start": pa.array([dates[0]] * n, pa.date32()), "period_end": pa.array([dates[-1]] * n, pa.date32())}
    out |= provenance_columns(raw, ctx, dt.datetime.combine(dates[-1], dt.time(), dt.timezone.utc))
    parsed = finish(raw, ctx, out, PRODUCT_LIST.schema, skip, skip_rule, problems)
    parsed.reconciliation = _channel_impressions(parsed.rows, match)
    return parsed


def _channel_impressions(rows: pa.Table, match: HeaderMatch) -> list[dict]:
    """All-section impressions against the four channel sections' sum, over the products we keep."""
    if not all(c in match.mapping for c in CHANNEL_IMPRESSIONS):
        return []
    total = float(pc.sum(rows.column("product_impressions")).as_py() or 0)
    channels = float(sum(pc.sum(rows.column(c)).as_py() or 0 for c in CHANNEL_IMPRESSIONS))
    # Both sums run over the same kept rows, so a quarantined row cannot explain a difference.
    why = "" if total == channels else "the four channel sections do not add up to the All section in this export"
    return [{"metric": "product_impressions (All vs 4 channels)", "export_total": total, "our_total": channels,
             "explanation": why}]


PRODUCT_LIST = register(Importer(kind=KIND, table="product_days", key=("market", "period_start", "period_end", "product_id"),
                                 schema=schema(), parse=parse_product_list))
