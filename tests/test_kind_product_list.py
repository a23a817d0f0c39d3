"""Data Compass product analysis list: sectioned headers, stated dates, channel reconciliation, bridge to orders."""

import datetime as dt
from decimal import Decimal

import pytest
from openpyxl import Workbook

from shopkpi.ingest.pipeline import ingest, row_accounting
from shopkpi.params import load_client_params
from shopkpi.quality import data_compass_bridge, reconciliation_table
from shopkpi.store import Store

from conftest import FIXTURES

PARAMS = """client: compass
display_name: Data Compass test
language: en
reporting_currency: GBP
markets:
  - {code: UK, currency: GBP, timezone: Europe/London, shop_name: Luma Home UK}
"""
SECTIONS = ["All", "Affiliate", "Seller LIVE", "Seller Product card", "Seller video"]
PER_SECTION = ["GMV", "Items sold", "Product impressions", "Product clicks"]
# product id, name, per section (GMV, items, impressions, clicks); the channels add up to All.
PRODUCTS = [
    ("1729000000000000001", "Silicone lid set", [("59.94", 6, 1000, 80), ("19.98", 2, 400, 30), ("9.99", 1, 100, 10),
                                                  ("29.97", 3, 300, 30), ("0", 0, 200, 10)]),
    ("1729000000000000002", "Cloud dish rack", [("£1,299.00", 100, 5000, 300), ("1,000.00", 77, 2500, 150), ("0", 0, 0, 0),
                                                 ("299.00", 23, 1500, 100), ("0", 0, 1000, 50)]),
    ("1.729E+18", "Mangled ID", [("5.00", 1, 10, 1)] * 5),
]


def _write_product_list(path, date_cell="29/11/2026~30/11/2026", products=PRODUCTS, impressions_off=0):
    wb = Workbook()
    ws = wb.active
    ws.append([date_cell])
    ws.append([])
    ws.append(["", "", ""] + [name if i == 0 else "" for name in SECTIONS for i in range(len(PER_SECTION))])
    ws.append(["Product Name", "Product ID", "GMV range"] + PER_SECTION * len(SECTIONS))
    for product_id, name, sections in products:
        cells = [name, product_id, "£1k-5k"]
        for number, (gmv, items, impressions, clicks) in enumerate(sections):
            cells += [gmv, items, impressions + (impressions_off if number == 0 else 0), clicks]
        ws.append(cells)
    wb.save(path)
    return path


@pytest.fixture
def compass(workspace):
    (workspace / "params" / "compass.yaml").write_text(PARAMS, encoding="utf-8")
    return workspace


def test_product_list_sections_dates_and_quarantine(compass):
    file = _write_product_list(compass / "in.xlsx")
    [result] = ingest("compass", load_client_params("compass"), [file]).files
    assert result.status == "ingested" and result.kind == "product_list", result.message
    assert (result.rows_in, result.rows_kept, result.rows_quarantined) == (3, 2, 1)
    rows = {r["product_id"]: r for r in Store("compass").read("product_days").to_pylist()}
    rack = rows["1729000000000000002"]
    assert (rack["period_start"], rack["period_end"]) == (dt.date(2026, 11, 29), dt.date(2026, 11, 30))
    assert rack["gmv"] == Decimal("1299.00") and rack["items_sold"] == 100 and rack["market"] == "UK"
    # The All section's columns, and the channel sections read apart ("Affiliate:: Product impressions").
    assert (rack["product_impressions"], rack["affiliate_impressions"], rack["product_card_impressions"]) == (5000, 2500, 1500)
    quarantine = Store("compass").read("quarantine").to_pylist()
    assert [(q["source_row"], q["column"]) for q in quarantine] == [(7, "Product ID")]
    assert all(r["unaccounted"] == 0 for r in row_accounting("compass").to_pylist())
    recon = reconciliation_table("compass")
    assert recon["difference"].tolist() == [0] and recon["explanation"].tolist() == ["agrees"]


def test_channels_that_do_not_add_up_are_shown(compass):
    _write_product_list(compass / "off.xlsx", impressions_off=7)
    ingest("compass", load_client_params("compass"), [compass / "off.xlsx"])
    [row] = reconciliation_table("compass").to_dict(orient="records")
    assert row["difference"] == -14 and "do not add up" in row["explanation"]


def test_product_list_without_a_date_is_refused(compass):
    file = _write_product_list(compass / "nodate.xlsx", date_cell="Product analysis")
    [result] = ingest("compass", load_client_params("compass"), [file]).files
    assert result.status == "failed" and "states no date above its header" in result.message
    assert not Store("compass").has("product_days")


def test_bridge_to_our_orders_over_the_same_local_dates(compass):
    orders = FIXTURES / "orders_uk_small.csv"
    _write_product_list(compass / "one_day.xlsx", date_cell="02/11/2026")
    ingest("compass", load_client_params("compass"), [orders, compass / "one_day.xlsx"])
    [bridge] = data_compass_bridge("compass").to_dict(orient="records")
    # Independently: every paid line of the fixture on 2 Nov (London), cancelled ones included.
    lines = [r for r in Store("compass").read("order_lines").to_pylist() if r["paid_local_date"] == dt.date(2026, 11, 2)]
    ours = sum(r["subtotal_before_discount"] - (r["seller_discount"] or 0) for r in lines)
    assert bridge["our_gmv"] == pytest.approx(float(ours)) and bridge["our_items"] == sum(r["quantity"] for r in lines)
    assert bridge["compass_gmv"] == pytest.approx(59.94 + 1299.00) and bridge["compass_items"] == 106
    assert bridge["gmv_difference"] == pytest.approx(float(ours) - 1358.94)


def test_review_footnote_reports_reconciliation_and_compass_gap(compass, tmp_path):
    from shopkpi import artifacts
    from shopkpi.review import data_quality_lines

    _write_product_list(compass / "one_day.xlsx", date_cell="02/11/2026", impressions_off=7)
    ingest("compass", load_client_params("compass"), [FIXTURES / "orders_uk_small.csv", compass / "one_day.xlsx"])
    artifacts.write_json(tmp_path / "clean.json", {
        "exclusions": [], "reconciliation": reconciliation_table("compass").to_dict(orient="records"),
        "data_compass": data_compass_bridge("compass").to_dict(orient="records")})
    en, zh = data_quality_lines("en", tmp_path), data_quality_lines("zh", tmp_path)
    assert any("0 of 1 agree" in line and "-14.00" in line and "do not add up" in line for line in en), en
    assert any(line.startswith("Data Compass product list UK 2026-11-02") and "GBP 1,358.94" in line for line in en), en
    assert any("数据罗盘商品列表 UK" in line for line in zh) and len(zh) == len(en)
