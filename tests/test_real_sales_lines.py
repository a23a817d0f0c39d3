"""The generic sales-lines importer on a real shop's invoice lines (UCI Online Retail, UK, 2010-11)."""

from __future__ import annotations

import os
from decimal import Decimal

import pandas as pd
import pytest

from shopkpi.ingest.pipeline import ingest, row_accounting
from shopkpi.params import load_client_params
from shopkpi.store import Store

from conftest import SHARED_REAL, client_workspace, workspace_env

pytestmark = pytest.mark.realdata
UCI = SHARED_REAL / "online_retail_uci" / "transactions_2010-12-01_to_2011-08-31.csv.gz"

if not UCI.exists():
    if os.environ.get("CI"):
        raise RuntimeError(f"CI must run the real-data tests: {UCI} is missing")
    pytest.skip(f"real data not found at {UCI} (../shared is absent in a user's own clone)", allow_module_level=True)

MAPPING = """
sales_lines:
  market: UK
  columns: {order_id: InvoiceNo, sku: StockCode, product_name: Description, quantity: Quantity,
            unit_price: UnitPrice, ordered_at: InvoiceDate, buyer: CustomerID, country: Country}
  cancelled_order_prefix: C
  non_product_skus: [POST, M, D, DOT, BANK CHARGES, AMAZONFEE, C2, PADS, CRUK, S, B]
"""


@pytest.fixture(scope="module")
def uci_store(tmp_path_factory):
    root = client_workspace(tmp_path_factory.mktemp("uci_ws"), "retail", MAPPING)
    with workspace_env(str(root)):
        report = ingest("retail", load_client_params("retail"), [UCI])
        yield report


@pytest.fixture(scope="module")
def source():
    return pd.read_csv(UCI, dtype=str, keep_default_na=False)


def test_detected_by_headers_and_every_row_accounted(uci_store, source):
    [result] = uci_store.files
    assert result.status == "ingested" and result.kind == "sales_lines", result.message
    assert result.rows_in == len(source) == 320_705
    [row] = [r for r in row_accounting("retail").to_pylist()]
    assert row["unaccounted"] == 0
    assert row["in_store"] + row["quarantined"] + row["excluded"] == 320_705


def test_amounts_match_an_independent_sum(uci_store, source):
    lines = Store("retail").read("sales_lines").to_pandas()
    kept_rows = set(lines["source_row"])
    src = source.assign(source_row=range(2, len(source) + 2))
    src = src[src["source_row"].isin(kept_rows)]
    expected = sum(Decimal(q) * Decimal(p) for q, p in zip(src["Quantity"], src["UnitPrice"]))
    assert sum(lines["line_amount"]) == expected
    assert lines["quantity"].sum() == src["Quantity"].astype(int).sum()


def test_cancellations_and_fees_are_flagged_not_dropped(uci_store, source):
    lines = Store("retail").read("sales_lines").to_pandas()
    cancellations = source["InvoiceNo"].str.startswith("C") | source["Quantity"].str.startswith("-")
    assert lines["is_cancellation"].sum() == cancellations.sum()
    assert lines.loc[lines["sku"] == "POST", "is_non_product"].all()


def test_same_sku_twice_in_an_invoice_is_kept_twice(uci_store, source):
    lines = Store("retail").read("sales_lines").to_pandas()
    assert len(lines) == len(source) - len(Store("retail").read("quarantine"))
    assert lines.groupby(["order_id", "sku"]).size().max() > 1


def test_customer_ids_are_hashed(uci_store):
    lines = Store("retail").read("sales_lines").to_pandas()
    assert "17850.0" not in set(lines["buyer_hash"].dropna())
    assert lines["buyer_hash"].dropna().str.fullmatch(r"[0-9a-f]{20}").all()
