"""Orders exports of other markets, built from the UK fixture with each market's known quirks."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from shopkpi.clean import connect_clean
from shopkpi.ingest.pipeline import ingest, row_accounting
from shopkpi.params import load_client_params
from shopkpi.store import Store

from conftest import FIXTURES

SEA_PARAMS = """client: sea
display_name: SEA test shop
language: en
reporting_currency: USD
markets:
  - {code: ID, currency: IDR, timezone: Asia/Jakarta}
  - {code: US, currency: USD, timezone: America/Los_Angeles}
fx:
  - {currency: IDR, from: 2025-01-01, rate: 0.000063}
"""
UK_TIME = "%d/%m/%Y %H:%M:%S"


def _fixture_rows() -> list[list[str]]:
    return list(csv.reader(open(FIXTURES / "orders_uk_small.csv", encoding="utf-8", newline="")))


def _write(path, rows, encoding="utf-8"):
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def _convert(rows, *, country, money, time_format, status_map, cell_suffix="", extra_columns=()):
    header, description, data = rows[0], rows[1], rows[2:]
    money_cols = {i for i, h in enumerate(header) if any(k in h for k in ("Price", "Subtotal", "Discount", "Fee", "Taxes", "Amount"))}
    time_cols = {i for i, h in enumerate(header) if h.endswith("Time")}
    id_cols = {header.index("Order ID"), header.index("SKU ID")}
    out = [header + list(extra_columns), description + ["Description." for _ in extra_columns]]
    for row in data:
        new = []
        for i, cell in enumerate(row):
            if i in money_cols and cell:
                cell = money(Decimal(cell))
            elif i in time_cols and cell:
                try:
                    cell = dt.datetime.strptime(cell, UK_TIME).strftime(time_format)
                except ValueError:
                    pass  # keep the fixture's impossible date as it is
            elif header[i] == "Country":
                cell = country
            elif header[i] == "Order Status":
                cell = status_map.get(cell, cell)
            if i in id_cols | time_cols:
                cell += cell_suffix  # ID-locale exports end IDs and times with a tab (an empty one is a lone tab)
            new.append(cell)
        out.append(new + ["creator_one" for _ in extra_columns])
    return out


@pytest.fixture
def sea(workspace):
    (workspace / "params" / "sea.yaml").write_text(SEA_PARAMS, encoding="utf-8")
    return workspace


def test_indonesian_export(sea):
    rows = _convert(_fixture_rows(), country="Indonesia", money=lambda d: f"Rp {int(d * 10000):,}".replace(",", "."),
                    time_format=UK_TIME, status_map={"Completed": "Selesai", "Canceled": "Dibatalkan", "To ship": "Perlu dikirim"},
                    cell_suffix="\t", extra_columns=("Creator Handle",))
    file = _write(sea / "id_orders.csv", rows)
    [result] = ingest("sea", load_client_params("sea"), [file]).files
    assert result.status == "ingested", result.message
    assert (result.rows_kept, result.rows_quarantined) == (4, 2)
    lines = {(r["order_id"], r["sku_id"]): r for r in Store("sea").read("order_lines").to_pylist()}
    first = lines[("576000000000000001", "1729000000000000001")]  # no trailing tab left on IDs
    assert first["order_amount"] == Decimal("299600") and first["currency"] == "IDR" and first["market"] == "ID"
    assert first["paid_at"] == dt.datetime(2026, 11, 2, 3, 16, tzinfo=dt.timezone.utc)  # 10:16 in Jakarta (UTC+7)
    assert first["creator_handle"] == "creator_one"
    statuses = dict(connect_clean("sea").execute("SELECT order_id, exclusion_reason FROM clean_orders").fetchall())
    assert statuses["576000000000000002"] == "cancelled" and statuses["576000000000000001"] is None
    assert all(r["unaccounted"] == 0 for r in row_accounting("sea").to_pylist())


def test_us_export_with_month_first_times(sea):
    rows = _convert(_fixture_rows(), country="United States", money=lambda d: f"${d:,.2f}",
                    time_format="%m/%d/%Y %I:%M:%S %p", status_map={})
    header = rows[0]
    at = header.index("Taxes")
    rows = [r[:at] + [cell] + r[at:] for r, cell in zip(rows, ["Retail Delivery Fee", "Colorado fee."] + ["$0.00"] * (len(rows) - 2))]
    file = _write(sea / "us_orders.csv", rows)
    [result] = ingest("sea", load_client_params("sea"), [file]).files
    assert result.status == "ingested", result.message
    lines = {(r["order_id"], r["sku_id"]): r for r in Store("sea").read("order_lines").to_pylist()}
    first = lines[("576000000000000001", "1729000000000000001")]
    assert first["order_amount"] == Decimal("29.96") and first["retail_delivery_fee"] == Decimal("0.00")
    assert first["paid_at"] == dt.datetime(2026, 11, 2, 18, 16, tzinfo=dt.timezone.utc)  # 10:16 AM in Los Angeles (UTC-8)
    assert str(first["paid_local_date"]) == "2026-11-02"


VN_PARAMS = """client: vn
display_name: VN test shop
language: en
reporting_currency: USD
markets:
  - {code: VN, currency: VND, timezone: Asia/Ho_Chi_Minh}
fx:
  - {currency: VND, from: 2025-01-01, rate: 0.0000394}
"""


def _vietnam_layout(rows):
    """The VN variant: State/City/Zipcode become Province/District/Commune (address block of reference 1.2)."""
    header = rows[0]
    renamed = {"State": "Province", "City": "District", "Zipcode": "Commune"}
    out = [[renamed.get(h, h) for h in header], rows[1]]
    commune = header.index("Zipcode")
    for row in rows[2:]:
        row = list(row)
        if row[commune]:
            row[commune] = "Phường Bến Nghé"
        out.append(row)
    return out


def test_vietnamese_export(workspace):
    (workspace / "params" / "vn.yaml").write_text(VN_PARAMS, encoding="utf-8")
    rows = _convert(_fixture_rows(), country="Việt Nam", money=lambda d: f"{int(d * 10000):,}₫".replace(",", "."),
                    time_format=UK_TIME,
                    status_map={"Completed": "Hoàn thành", "Canceled": "Đã hủy", "To ship": "Chờ giao hàng"})
    file = _write(workspace / "vn_orders.csv", _vietnam_layout(rows))
    [result] = ingest("vn", load_client_params("vn"), [file]).files
    assert result.status == "ingested", result.message
    # The same rows as the UK fixture: 4 kept, the Excel-mangled ID and the impossible date quarantined.
    assert (result.rows_kept, result.rows_quarantined) == (4, 2)
    lines = {(r["order_id"], r["sku_id"]): r for r in Store("vn").read("order_lines").to_pylist()}
    first = lines[("576000000000000001", "1729000000000000001")]
    # "299.600₫": dots group thousands in a currency without minor units.
    assert first["order_amount"] == Decimal("299600") and first["currency"] == "VND" and first["market"] == "VN"
    assert first["paid_at"] == dt.datetime(2026, 11, 2, 3, 16, tzinfo=dt.timezone.utc)  # 10:16 in Ho Chi Minh City (UTC+7)
    statuses = dict(connect_clean("vn").execute("SELECT order_id, status_group FROM clean_orders").fetchall())
    assert statuses["576000000000000001"] == "completed" and statuses["576000000000000002"] == "cancelled"
    # The address block is not stored: no column holds the commune.
    stored = Store("vn").read("order_lines").to_pylist()
    assert not any("Bến Nghé" in str(v) for r in stored for v in r.values())
    assert all(r["unaccounted"] == 0 for r in row_accounting("vn").to_pylist())


@pytest.mark.parametrize("address_block", [
    ["Country", "Province", "District", "Commune", "Detail Address"],                  # VN
    ["Country", "Province", "Regency and City", "Districts", "Villages", "Zipcode"],   # ID
    ["Country", "State", "City", "Zipcode", "Detail Address"],                         # UK/US
])
def test_address_blocks_of_every_market_map_without_collisions(address_block):
    from shopkpi.ingest.headers import detect_kind

    header = _fixture_rows()[0]
    start, end = header.index("Country"), header.index("Detail Address") + 1
    match = detect_kind(header[:start] + address_block + header[end:])
    assert match.kind == "orders" and not match.duplicated
