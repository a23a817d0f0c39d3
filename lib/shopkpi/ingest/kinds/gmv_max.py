"""GMV Max campaign overview report (daily, per campaign when broken down) -> typed daily GMV Max stats.

Its days are the ad account's days, like the Ads Manager report's; `shopkpi.clean` shows both in one
`ad_stats` view (GMV Max rows: conversions = SKU orders, payment value = gross revenue), and `ad_days`
re-aligns them to the shop's days. The last row is a totals row whose day is "-": it is reconciled with
the sum of the rows we keep, never stored.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shopkpi.ingest.columns import schema_fields, typed_columns
from shopkpi.ingest.headers import HeaderMatch
from shopkpi.ingest.importers import Importer, register
from shopkpi.ingest.kinds.ads_report import DAY_FORMATS, currency_from_headers
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
    totals_row_entries,
)
from shopkpi.ingest.values import clean_text

KIND = "gmv_max"
SPEC = {
    "report_date": "date", "campaign_id": "id", "campaign_name": "text",
    "cost": "money", "net_cost": "money", "gross_revenue": "money", "cost_per_order": "price",
    "sku_orders": "count", "roi": "number",
}
RECONCILED = ["cost", "net_cost", "sku_orders", "gross_revenue"]


def schema() -> pa.Schema:
    fields = [("report_date", pa.date32()), ("campaign_key", pa.string()), ("market", pa.string()), ("currency", pa.string())]
    fields += [(n, t) for n, t in schema_fields(SPEC) if n != "report_date"]
    return pa.schema(fields + PROVENANCE)


def parse_gmv_max(raw: RawTable, match: HeaderMatch, ctx: ImportContext) -> Parsed:
    skip, skip_rule = non_data_rows(raw, match.mapping["report_date"])
    # The totals row writes "-" (or a total label) as its day: the last such row is the export's own total.
    day = clean_text(column_of(raw, match, "report_date"))
    dash = pc.fill_null(pc.is_in(day, pa.array(["-", "--", "Total", "合计", "总计"])), False).to_numpy(zero_copy_only=False)
    footer = np.zeros(raw.records.num_rows, dtype=bool)
    if dash.any():
        footer[np.flatnonzero(dash)[-1]] = True
    skip_rule = pc.if_else(pa.array(footer), pa.scalar("footer_row"), skip_rule)
    skip = pc.is_valid(skip_rule)
    problems = Problems(raw, match, skip)

    def column(name: str) -> pa.Array:
        return column_of(raw, match, name)

    suffix = currency_from_headers(raw, match, ["cost", "gross_revenue", "net_cost"])
    currency = pc.coalesce(pc.utf8_upper(clean_text(column("currency"))), pa.scalar(suffix, pa.string()))
    market = market_of_currency(currency, ctx, hint_first=True)
    note_untold_market(problems, market, ctx, "currency", column("currency"), subject="the ad account's currency")
    out, _ = typed_columns(raw, match, ctx, problems, SPEC, market, required=("report_date", "cost"), date_formats=DAY_FORMATS)
    # One row per day, or per day and campaign: a campaign is its ID, else its name, else the whole shop.
    out["campaign_key"] = pc.coalesce(out["campaign_id"], out["campaign_name"], pa.scalar("shop", pa.string()))
    out |= {"market": market, "currency": currency}
    last_day = pc.max(out["report_date"]).as_py()
    out |= provenance_columns(raw, ctx, dt.datetime.combine(last_day, dt.time(), dt.timezone.utc) if last_day else None)
    parsed = finish(raw, ctx, out, GMV_MAX.schema, skip, skip_rule, problems)
    parsed.reconciliation = _reconcile(footer, match, out, parsed)
    return parsed


def _reconcile(footer: np.ndarray, match: HeaderMatch, out: dict[str, pa.Array], parsed: Parsed) -> list[dict]:
    """The totals row against the sum of the kept rows, per summable metric."""
    if not footer.any():
        return []
    return totals_row_entries(int(np.flatnonzero(footer)[0]), RECONCILED, match, out, parsed.rows, parsed.quarantine.num_rows)


GMV_MAX = register(Importer(kind=KIND, table="gmv_max_days", key=("report_date", "campaign_key", "market"), schema=schema(),
                            parse=parse_gmv_max))
