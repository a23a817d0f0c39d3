"""TikTok Ads Manager custom report (daily rows per ad) -> typed ad stats, reconciled with its totals row.

The report's days are the ad account's days, and the account's time zone may differ from the shop's.
The day is stored as reported (`report_date`) with `ad_account_timezone` when the export states it;
analyses read the `ad_days` view (shopkpi.ad_days), which re-aligns them to the shop's days.
"""

from __future__ import annotations

import datetime as dt
import re

import pyarrow as pa
import pyarrow.compute as pc

from shopkpi.ingest.columns import DATE_FORMATS, schema_fields, typed_columns
from shopkpi.ingest.headers import HeaderMatch, currency_suffix
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
    non_data_rows,
    provenance_columns,
    totals_row_entries,
)
from shopkpi.ingest.values import clean_text

KIND = "ads_report"
MONEY = ["cost", "complete_payment_value"]
UNIT_COSTS = ["cpc", "cpm", "cost_per_1000_reached", "cost_per_conversion", "cost_per_complete_payment"]
SPEC = {
    "report_date": "date", "ad_id": "id", "campaign_id": "id", "ad_group_id": "id",
    **dict.fromkeys(["ad_account_timezone", "campaign_name", "ad_group_name", "ad_name", "primary_status",
                     "website_url"], "text"),
    "ad_created_date": "date",
    **dict.fromkeys(MONEY, "money"),
    **dict.fromkeys(UNIT_COSTS, "price"),
    **dict.fromkeys(["impressions", "clicks", "clicks_all", "reach", "conversions", "video_views", "video_views_2s",
                     "video_views_6s", "video_views_p25", "video_views_p50", "video_views_p75", "video_views_p100",
                     "landing_page_views", "complete_payment"], "count"),
    **dict.fromkeys(["ctr", "cvr", "video_view_rate_p100", "landing_page_view_rate"], "percent"),
    **dict.fromkeys(["frequency", "avg_play_time_per_view", "avg_play_time_per_user", "complete_payment_roas"], "number"),
}
# "By Day" is a date; "Date Created" a date-time of which the day is kept (both in the account's time zone).
DAY_FORMATS = DATE_FORMATS + ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S"]
# Summable metrics whose totals-row value must equal the sum of the rows we keep.
RECONCILED = ["cost", "impressions", "clicks", "conversions", "complete_payment", "complete_payment_value"]
_RESULTS = re.compile(r"(?i)^total\D*([0-9][0-9,]*)\s*results?")


def schema() -> pa.Schema:
    fields = [("report_date", pa.date32()), ("ad_id", pa.string()), ("market", pa.string()), ("currency", pa.string())]
    fields += [(n, t) for n, t in schema_fields(SPEC) if n not in ("report_date", "ad_id")]
    return pa.schema(fields + PROVENANCE)


def currency_from_headers(raw: RawTable, match: HeaderMatch, names: list[str] = MONEY + UNIT_COSTS) -> str | None:
    """The ad account's currency from a money header's suffix, e.g. "Cost (THB)" -> THB."""
    for name in names:
        if name in match.mapping and (code := currency_suffix(raw.headers[match.mapping[name]])):
            return code
    return None


def parse_ads_report(raw: RawTable, match: HeaderMatch, ctx: ImportContext) -> Parsed:
    cols = match.mapping
    # The day column comes first in the export, so it also holds "Total of N results" on the totals row.
    skip, skip_rule = non_data_rows(raw, cols["report_date"])
    problems = Problems(raw, match, skip)

    def column(name: str) -> pa.Array:
        return column_of(raw, match, name)

    suffix = currency_from_headers(raw, match)
    stated = pc.utf8_upper(clean_text(column("currency")))
    if suffix:
        problems.note(pc.not_equal(stated, suffix), "currency", f"differs from the currency in the headers ({suffix})",
                      column("currency"))
    currency = pc.coalesce(stated, pa.scalar(suffix, pa.string()))
    market = market_of_currency(currency, ctx, hint_first=True)
    note_untold_market(problems, market, ctx, "currency", column("currency"), subject="the ad account's currency")

    out, _ = typed_columns(raw, match, ctx, problems, SPEC, market, required=("report_date", "ad_id"),
                           date_formats=DAY_FORMATS)
    out |= {"market": market, "currency": currency}
    last_day = pc.max(out["report_date"]).as_py()
    as_of = dt.datetime.combine(last_day, dt.time(), dt.timezone.utc) if last_day else None
    out |= provenance_columns(raw, ctx, as_of)

    parsed = finish(raw, ctx, out, ADS_REPORT.schema, skip, skip_rule, problems)
    parsed.reconciliation = _reconcile_totals_row(column("report_date"), match, out, skip_rule, parsed.rows,
                                                  parsed.quarantine.num_rows)
    return parsed


def _reconcile_totals_row(day_column: pa.Array, match: HeaderMatch, out: dict[str, pa.Array], skip_rule: pa.Array,
                          rows: pa.Table, quarantined: int) -> list[dict]:
    """The export's totals row against the sum of the rows we keep, per summable metric (and the row count)."""
    footers = pc.indices_nonzero(pc.fill_null(pc.equal(skip_rule, "footer_row"), False)).to_pylist()
    if not footers:
        return []
    at = footers[-1]
    why = f"{quarantined} quarantined row(s) are not in our total" if quarantined else "the export's total differs from its rows"
    entries = []
    label = clean_text(day_column)[at].as_py() or ""
    if m := _RESULTS.match(label):
        export_rows, ours = int(m.group(1).replace(",", "")), rows.num_rows
        entries.append({"metric": "rows", "export_total": float(export_rows), "our_total": float(ours),
                        "explanation": "" if export_rows == ours else why})
    return entries + totals_row_entries(at, RECONCILED, match, out, rows, quarantined)


ADS_REPORT = register(Importer(kind=KIND, table="ad_stats", key=("report_date", "ad_id"), schema=schema(),
                               parse=parse_ads_report))
