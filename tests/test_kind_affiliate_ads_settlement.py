"""Affiliate orders, Ads Manager custom report and settlement statement importers.

Fixtures (tests/fixtures/):
- affiliate_orders_uk.csv: seller-side affiliate orders in GBP: settled, unsettled, fully refunded, Spark Ads
  (Shop Ads commission + co-funded bonus), Showcase, LIVE, and three bad rows (Excel-mangled Order ID,
  "Partly" as Yes/No, a USD row).
- affiliate_orders_vn.csv: the Vietnamese-locale header of the same export (UTF-8 with BOM), with PIT columns.
- ads_th_custom_report.csv: "Cost (THB)"-style headers, 6 daily rows and a "Total of 6 results" row whose
  totals equal the column sums.
- settlement_th_statement.xlsx: sheet "Order details" with the header block (Time period / Currency /
  Total settlement amount = 3095.03) above the headers, trailing spaces in headers, date-time cells, and one
  row whose ID Excel turned into 5.82E+17 (its 150.00 is in the header total but cannot be kept).
- settlement_uk_orders.csv: the newer spellings ("Order/Adjustment ID", "Transaction type"), no header block.
"""

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest

from shopkpi.ingest.headers import detect_kind, normalise_header, registry
from shopkpi.ingest.pipeline import ingest, row_accounting
from shopkpi.ingest.readers import read_any
from shopkpi.params import load_client_params
from shopkpi.store import Store

from conftest import DEMO_TEST_SCALE, FIXTURES, copy_fixture

KINDS = ("affiliate_orders", "ads_report", "settlement")


def _ingest(client, *files, market=None):
    return ingest(client, load_client_params(client), [Path(f) for f in files], market_hint=market)


def _rewrite(src: Path, dest: Path, edit) -> Path:
    rows = edit(list(csv.reader(open(src, encoding="utf-8-sig", newline=""))))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(buffer.getvalue(), encoding="utf-8")
    return dest


def _table(client, name, key):
    return {row[key]: row for row in Store(client).read(name).to_pylist()}


def _reconciliation(client):
    return {(Path(r["source_file"]).name, r["metric"]): r for r in Store(client).read("reconciliation").to_pylist()}


def _balanced(client):
    return all(r["unaccounted"] == 0 for r in row_accounting(client).to_pylist())


# -- kinds and headers -------------------------------------------------------------------------------

@pytest.mark.parametrize("fixture, kind", [
    ("affiliate_orders_uk.csv", "affiliate_orders"), ("affiliate_orders_vn.csv", "affiliate_orders"),
    ("ads_th_custom_report.csv", "ads_report"), ("settlement_th_statement.xlsx", "settlement"),
    ("settlement_uk_orders.csv", "settlement"), ("orders_uk_small.csv", "orders"),
])
def test_each_export_is_detected_as_its_kind(fixture, kind):
    raw = read_any(FIXTURES / fixture)
    match = detect_kind(raw.headers)
    assert match.kind == kind and not match.duplicated


@pytest.mark.parametrize("kind", KINDS)
def test_no_two_columns_of_a_kind_share_a_spelling(kind):
    seen = {}
    for column in registry()[kind].columns.values():
        for alias in column.aliases:
            other = seen.setdefault(normalise_header(alias), column.canonical)
            assert other == column.canonical, f"{alias!r} matches both {other} and {column.canonical}"


# -- affiliate orders ----------------------------------------------------------------------------------

def test_affiliate_rows_accounted_and_bad_rows_quarantined(workspace):
    [result] = _ingest("demo", copy_fixture("affiliate_orders_uk.csv", workspace / "in")).files
    assert (result.status, result.kind) == ("ingested", "affiliate_orders")
    assert (result.rows_in, result.rows_kept, result.rows_quarantined, result.rows_excluded) == (10, 7, 3, 0)
    reasons = {(q["source_row"], q["column"]): q for q in Store("demo").read("quarantine").to_pylist()}
    assert "Excel" in reasons[(9, "Order ID")]["reason"] and reasons[(9, "Order ID")]["raw_value"] == "5.72E+17"
    assert reasons[(10, "Fully returned or refunded")]["raw_value"] == "Partly"
    assert reasons[(11, "Currency")]["raw_value"] == "USD" and "--market" in reasons[(11, "Currency")]["reason"]
    assert _balanced("demo")


def test_actual_commission_total_stays_null_until_settled(workspace):
    _ingest("demo", copy_fixture("affiliate_orders_uk.csv", workspace / "in"))
    rows = _table("demo", "affiliate_orders", "order_id")
    settled = rows["571777145594283088"]
    assert settled["settled"] and settled["actual_commission_total"] == Decimal("1.25")
    assert settled["est_standard_commission"] == Decimal("1.25") and settled["standard_commission_rate"] == pytest.approx(0.12)
    pending = rows["571790000000000002"]  # actual columns still empty: unknown, not zero
    assert not pending["settled"] and pending["actual_commission_total"] is None and pending["actual_commission"] is None
    assert pending["est_standard_commission"] == Decimal("2.64")
    refunded = rows["571790000000000003"]
    assert refunded["fully_returned"] is True and refunded["settled"] and refunded["actual_commission_total"] == Decimal("0.00")
    spark = rows["571790000000000004"]  # standard 0 + Shop Ads 2.64 + co-funded bonus 0.50
    assert spark["actual_commission_total"] == Decimal("3.14") and spark["shop_ads_commission_rate"] == pytest.approx(0.08)
    assert (spark["est_shop_ads_commission"], spark["est_cofunded_bonus"]) == (Decimal("2.64"), Decimal("0.50"))
    live = rows["571790000000000006"]  # empty Shop Ads / bonus actuals where nothing was due count as zero
    assert live["actual_commission_total"] == Decimal("2.80") and live["content_type"] == "LIVE"
    missing = rows["571790000000000007"]  # Shop Ads commission was due but its actual is empty
    assert missing["settled"] and missing["actual_commission_total"] is None
    showcase = rows["571790000000000005"]
    assert showcase["content_type"] == "Showcase" and showcase["content_id"] is None
    assert {r["market"] for r in rows.values()} == {"UK"} and {r["currency"] for r in rows.values()} == {"GBP"}


def test_affiliate_times_are_local_and_ids_strings(workspace):
    _ingest("demo", copy_fixture("affiliate_orders_uk.csv", workspace / "in"))
    row = _table("demo", "affiliate_orders", "order_id")["571777145594283088"]
    # 28/06/2026 19:29:31 in London (BST) is 18:29:31 UTC.
    assert row["created_at"] == dt.datetime(2026, 6, 28, 18, 29, 31, tzinfo=dt.timezone.utc)
    assert row["created_local_date"] == dt.date(2026, 6, 28)
    assert row["commission_paid_at"] == dt.datetime(2026, 7, 18, 9, 34, 24, tzinfo=dt.timezone.utc)
    assert row["content_id"] == "7430128609946652245" and row["sku_id"] == "1731281355657067751"
    assert Store("demo").read("affiliate_orders").schema.field("order_id").type == "string"


def test_affiliate_market_comes_from_the_currency(workspace):
    def to_baht(rows):
        return [rows[0]] + [[("THB" if c == "GBP" else c) for c in r] for r in rows[1:]]

    th = _rewrite(FIXTURES / "affiliate_orders_uk.csv", workspace / "in" / "affiliate_th.csv", to_baht)
    _ingest("demo", th)
    rows = Store("demo").read("affiliate_orders").to_pylist()
    assert {(r["market"], r["currency"]) for r in rows} == {("TH", "THB")}
    # 28/06/2026 19:29:31 in Bangkok is 12:29:31 UTC.
    first = next(r for r in rows if r["order_id"] == "571777145594283088")
    assert first["created_at"] == dt.datetime(2026, 6, 28, 12, 29, 31, tzinfo=dt.timezone.utc)


def test_market_hint_only_fills_rows_whose_currency_tells_no_market(workspace):
    [result] = _ingest("demo", copy_fixture("affiliate_orders_uk.csv", workspace / "in"), market="TH").files
    # The currency wins over the hint (GBP rows are UK); the USD row now falls back to TH and is refused.
    assert (result.rows_kept, result.rows_quarantined) == (7, 3)
    usd = [q for q in Store("demo").read("quarantine").to_pylist() if q["raw_value"] == "USD"]
    assert usd and "not the currency of the row's market" in usd[0]["reason"]


def test_vietnamese_affiliate_export(workspace):
    template = (workspace / "params" / "demo.yaml").read_text(encoding="utf-8")
    vn = template.replace("client: demo", "client: vn").split("markets:")[0] + (
        "markets:\n  - {code: VN, currency: VND, timezone: Asia/Ho_Chi_Minh}\n"
        "fx:\n  - {currency: VND, from: 2025-01-01, rate: 0.00004}\n")
    (workspace / "params" / "vn.yaml").write_text(vn, encoding="utf-8")
    [result] = _ingest("vn", copy_fixture("affiliate_orders_vn.csv", workspace / "in")).files
    assert (result.status, result.kind, result.rows_kept, result.rows_quarantined) == ("ingested", "affiliate_orders", 2, 0)
    rows = _table("vn", "affiliate_orders", "order_id")
    done, pending = rows["578012345678901234"], rows["578012345678901235"]
    assert (done["market"], done["currency"], done["sku_name"], done["seller_sku"]) == ("VN", "VND", "Trắng", "LH-KIT-0101")
    assert done["creator_username"] == "bepnhaminh" and done["standard_commission_rate"] == pytest.approx(0.15)
    assert (done["pit_rate"], done["est_pit"], done["actual_pit"]) == (pytest.approx(0.10), Decimal("3885"), Decimal("3885"))
    assert done["settled"] and done["actual_commission_total"] == Decimal("38850")
    assert not pending["settled"] and pending["actual_commission_total"] is None
    # 03/11/2026 20:15:00 in Ho Chi Minh City (UTC+7) is 13:15 UTC.
    assert done["created_at"] == dt.datetime(2026, 11, 3, 13, 15, tzinfo=dt.timezone.utc)


# -- ads -------------------------------------------------------------------------------------------------

def test_ads_totals_row_is_excluded_and_reconciled(workspace):
    [result] = _ingest("demo", copy_fixture("ads_th_custom_report.csv", workspace / "in")).files
    assert (result.kind, result.rows_in, result.rows_kept, result.rows_quarantined, result.rows_excluded) == (
        "ads_report", 7, 6, 0, 1)
    [excluded] = Store("demo").read("excluded").to_pylist()
    assert (excluded["source_row"], excluded["rule"]) == (8, "footer_row")
    recon = _reconciliation("demo")
    metrics = {m for _, m in recon}
    assert metrics == {"rows", "cost", "impressions", "clicks", "conversions", "complete_payment", "complete_payment_value"}
    for row in recon.values():
        assert row["difference"] == 0 and row["explanation"] == "", row
    assert recon[("ads_th_custom_report.csv", "cost")]["export_total"] == pytest.approx(1403.63)
    assert recon[("ads_th_custom_report.csv", "complete_payment_value")]["our_total"] == pytest.approx(4719.00)
    assert recon[("ads_th_custom_report.csv", "impressions")]["export_total"] == 19492  # "19,492"
    assert _balanced("demo")


def test_ads_values_typed_and_days_kept_as_reported(workspace):
    _ingest("demo", copy_fixture("ads_th_custom_report.csv", workspace / "in"))
    rows = {(r["report_date"], r["ad_id"]): r for r in Store("demo").read("ad_stats").to_pylist()}
    row = rows[(dt.date(2026, 11, 17), "1826000000000000202")]
    assert (row["market"], row["currency"]) == ("TH", "THB")  # from "Cost (THB)" and the Currency column
    assert row["cost"] == Decimal("999.99") and row["cpc"] == Decimal("6.62") and row["impressions"] == 15408
    assert row["ctr"] == pytest.approx(0.0098) and row["cvr"] == pytest.approx(0.0397)
    assert row["complete_payment"] == 6 and row["complete_payment_value"] == Decimal("3294.00")
    assert row["complete_payment_roas"] == pytest.approx(3.29) and row["avg_play_time_per_view"] == pytest.approx(8.77)
    assert row["ad_created_date"] == dt.date(2026, 10, 28) and row["ad_name"] == "VSA | Cloud Dish Drying Rack | 15s"
    # The ad account's time zone is not in the export: unknown, and the day is not shifted.
    assert row["ad_account_timezone"] is None
    assert {d for d, _ in rows} == {dt.date(2026, 11, 16), dt.date(2026, 11, 17), dt.date(2026, 11, 18)}


def test_ads_quarantined_row_explains_the_reconciliation_gap(workspace):
    def break_cost(rows):
        rows[1][rows[0].index("Cost (THB)")] = "81,55 THB?"  # row of 81.55 THB, 747 impressions
        return rows

    ads = _rewrite(FIXTURES / "ads_th_custom_report.csv", workspace / "in" / "ads_broken.csv", break_cost)
    [result] = _ingest("demo", ads).files
    assert (result.rows_kept, result.rows_quarantined, result.rows_excluded) == (5, 1, 1)
    recon = _reconciliation("demo")
    cost, impressions = recon[("ads_broken.csv", "cost")], recon[("ads_broken.csv", "impressions")]
    assert cost["export_total"] == pytest.approx(1403.63) and cost["difference"] == pytest.approx(-81.55)
    assert impressions["difference"] == -747
    assert cost["explanation"] == "1 quarantined row(s) are not in our total"
    assert recon[("ads_broken.csv", "rows")]["difference"] == -1


def test_plain_total_footer_with_fewer_cells_is_caught(workspace):
    def plain_total(rows):
        header = rows[0]
        total = ["Total"] + [""] * (header.index("Cost (THB)") - 1) + ["1403.63", "", "", "19492"]
        return rows[:-1] + [total]

    ads = _rewrite(FIXTURES / "ads_th_custom_report.csv", workspace / "in" / "ads_plain_total.csv", plain_total)
    [result] = _ingest("demo", ads).files
    assert (result.rows_kept, result.rows_quarantined, result.rows_excluded) == (6, 0, 1)
    recon = _reconciliation("demo")
    assert recon[("ads_plain_total.csv", "cost")]["difference"] == 0
    assert recon[("ads_plain_total.csv", "impressions")]["difference"] == 0
    assert "empty" in recon[("ads_plain_total.csv", "clicks")]["explanation"]
    assert ("ads_plain_total.csv", "rows") not in recon  # "Total" states no row count


def test_ads_time_zone_column_is_kept_when_present(workspace):
    def with_timezone(rows):
        return [r + [v] for r, v in zip(rows, ["Time zone"] + ["(UTC+07:00) Bangkok"] * (len(rows) - 2) + [""])]

    ads = _rewrite(FIXTURES / "ads_th_custom_report.csv", workspace / "in" / "ads_tz.csv", with_timezone)
    _ingest("demo", ads)
    assert {r["ad_account_timezone"] for r in Store("demo").read("ad_stats").to_pylist()} == {"(UTC+07:00) Bangkok"}


def test_newer_ads_report_wins_on_overlapping_days(workspace):
    old = copy_fixture("ads_th_custom_report.csv", workspace / "in")

    def later(rows):  # re-exported a day later: one more day, late conversions on 17 Nov
        cost, conv = rows[0].index("Cost (THB)"), rows[0].index("Complete payment")
        rows[4][conv] = "7"
        extra = list(rows[5])
        extra[0] = "2026-11-19"
        extra[cost] = "10.00"
        return rows[:-1] + [extra, rows[-1]]

    new = _rewrite(old, workspace / "in2" / "ads_later.csv", later)
    _ingest("demo", old)
    _ingest("demo", new)
    rows = {(r["report_date"], r["ad_id"]): r for r in Store("demo").read("ad_stats").to_pylist()}
    assert len(rows) == 7 and rows[(dt.date(2026, 11, 17), "1826000000000000202")]["complete_payment"] == 7
    assert _balanced("demo")


# -- settlement --------------------------------------------------------------------------------------------

def test_settlement_header_block_is_reconciled_with_the_rows(workspace):
    [result] = _ingest("demo", copy_fixture("settlement_th_statement.xlsx", workspace / "in")).files
    assert (result.status, result.kind, result.rows_in, result.rows_kept, result.rows_quarantined) == (
        "ingested", "settlement", 7, 6, 1)
    [quarantined] = Store("demo").read("quarantine").to_pylist()
    assert (quarantined["source_row"], quarantined["column"], quarantined["raw_value"]) == (12, "Order/adjustment ID", "5.82E+17")
    [recon] = Store("demo").read("reconciliation").to_pylist()
    assert recon["metric"] == "total_settlement_amount" and recon["export_total"] == pytest.approx(3095.03)
    assert recon["our_total"] == pytest.approx(2945.03) and recon["difference"] == pytest.approx(-150.00)
    assert recon["explanation"] == "1 quarantined row(s) are not in our total"
    assert _balanced("demo")


def test_settlement_rows_typed_signed_and_in_utc(workspace):
    _ingest("demo", copy_fixture("settlement_th_statement.xlsx", workspace / "in"))
    rows = _table("demo", "settlements", "order_adjustment_id")
    order = rows["582279945063823074"]
    assert (order["market"], order["currency"], order["transaction_type"]) == ("TH", "THB", "Order")
    assert order["total_revenue"] == Decimal("899.00") and order["seller_discounts"] == Decimal("-100.00")
    assert order["affiliate_commission"] == Decimal("-134.85")  # header "Affiliate commission " (trailing space)
    assert order["total_fees"] == Decimal("-197.78")
    assert order["total_revenue"] + order["total_fees"] == order["total_settlement_amount"] == Decimal("701.22")
    # Settlement times are UTC as written: no shift by the shop's time zone (Bangkok is UTC+7).
    assert order["settled_at"] == dt.datetime(2026, 11, 16, 3, 10, tzinfo=dt.timezone.utc)
    assert order["settled_date"] == dt.date(2026, 11, 16)
    assert order["order_created_at"] == dt.datetime(2026, 11, 2, 11, 53, 2, tzinfo=dt.timezone.utc)
    adjustment = rows["7306512345678901234"]
    assert adjustment["transaction_type"] == "Logistics reimbursement" and adjustment["order_created_at"] is None
    assert adjustment["related_order_id"] == "582276008647693516" and adjustment["adjustment_amount"] == Decimal("45.00")
    assert "customer_bank" not in Store("demo").read("settlements").column_names
    assert "Kasikornbank" not in str(Store("demo").read("settlements").to_pylist())


def test_settlement_csv_without_header_block(workspace):
    [result] = _ingest("demo", copy_fixture("settlement_uk_orders.csv", workspace / "in")).files
    assert (result.kind, result.rows_kept, result.rows_quarantined, result.rows_excluded) == ("settlement", 3, 0, 0)
    assert Store("demo").read("reconciliation").num_rows == 0
    rows = _table("demo", "settlements", "order_adjustment_id")
    first = rows["576000000000000001"]
    assert (first["market"], first["currency"]) == ("UK", "GBP")
    assert first["settled_at"] == dt.datetime(2026, 11, 16, tzinfo=dt.timezone.utc)
    assert (first["actual_shipping_fee"], first["platform_shipping_fee_discount"], first["seller_shipping_fee"]) == (
        Decimal("-2.99"), Decimal("1.56"), Decimal("-1.43"))
    assert rows["576000000000000003"]["affiliate_partner_commission"] == Decimal("-0.20")
    assert rows["7306600000000000001"]["related_order_id"] == "576000000000000003"


def test_a_later_settlement_of_the_same_order_is_kept_and_a_reexport_is_not_doubled(workspace):
    first = copy_fixture("settlement_uk_orders.csv", workspace / "in")

    def next_statement(rows):  # the order settles again a week later (a refund), plus the same first statement
        again = list(rows[2])
        again[rows[0].index("Order settled time")] = "2026/11/23"
        again[rows[0].index("Total settlement amount")] = "-14.98"
        return rows + [again]

    second = _rewrite(first, workspace / "in2" / "settlement_uk_later.csv", next_statement)
    _ingest("demo", first)
    _ingest("demo", second)
    rows = Store("demo").read("settlements").to_pylist()
    order = sorted((r["settled_at"].date(), r["total_settlement_amount"]) for r in rows if r["order_adjustment_id"] == "576000000000000003")
    assert order == [(dt.date(2026, 11, 16), Decimal("14.98")), (dt.date(2026, 11, 23), Decimal("-14.98"))]
    assert len(rows) == 4
    superseded = [e for e in Store("demo").read("excluded").to_pylist() if e["rule"] == "superseded_by_newer_export"]
    assert len(superseded) == 3 and _balanced("demo")


# -- the demo client's files ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_raw(tmp_path_factory):
    from shopkpi.demo import generate_demo_client

    root = tmp_path_factory.mktemp("demo_raw") / "demo"
    generate_demo_client(root, seed=7, scale=DEMO_TEST_SCALE)
    return root / "raw"


def test_demo_affiliate_and_ads_files_ingest_cleanly_and_reconcile(workspace, demo_raw):
    folders = [demo_raw / market / sub for market in ("UK", "TH") for sub in ("affiliate", "ads")]
    report = _ingest("demo", *folders)
    assert all(f.status == "ingested" for f in report.files), [f.message for f in report.files]
    assert {f.kind for f in report.files} == {"affiliate_orders", "ads_report"}
    assert sum(f.rows_quarantined for f in report.files) == 0
    ads_files = [f for f in report.files if f.kind == "ads_report"]
    assert all(f.rows_excluded == 1 for f in ads_files)  # the totals row
    recon = Store("demo").read("reconciliation").to_pylist()
    assert {r["source_file"] for r in recon} == {f.source_file for f in ads_files}
    assert all(r["difference"] == 0 for r in recon), [r for r in recon if r["difference"] != 0]
    affiliate = Store("demo").read("affiliate_orders").to_pylist()
    assert {r["market"] for r in affiliate} == {"UK", "TH"}
    assert all((r["actual_commission_total"] is None) == (not r["settled"]) for r in affiliate)
    assert all(r["actual_commission_total"] == 0 for r in affiliate if r["fully_returned"])
    assert _balanced("demo")
