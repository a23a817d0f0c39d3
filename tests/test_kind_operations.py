"""Operations-side kinds: shop performance (shop health), inventory/purchasing sheet, daily stock history."""

import csv
import datetime as dt
import json
import re
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from shopkpi import paths
from shopkpi.ingest.headers import UnknownKindError, detect_kind
from shopkpi.ingest.pipeline import ingest, row_accounting
from shopkpi.ingest.readers import read_any
from shopkpi.params import load_client_params
from shopkpi.store import Store

from conftest import DEMO_TEST_SCALE, FIXTURES, copy_fixture, make_workspace, workspace_env

MINE = {"shop_performance", "inventory_plan", "stock_history"}
DEMO_FOLDERS = ["UK/shop_health", "TH/shop_health", "inventory"]
HEALTH_HEADER = ["Week", "Orders", "Late Dispatch Rate", "Seller Fault Cancellation Rate", "Valid Tracking Rate",
                 "On-Time Delivery Rate", "12h Response Rate", "24h Response Rate", "Negative Review Rate",
                 "Seller-fault Return Rate"]
HEALTH_COLUMNS = ["week", "orders", "late_dispatch_rate", "seller_fault_cancellation_rate", "valid_tracking_rate",
                  "on_time_delivery_rate", "response_rate_12h", "response_rate_24h", "negative_review_rate",
                  "seller_fault_return_rate"]
PLAN_HEADER = ["Seller SKU", "SKU ID", "Product name", "Warehouse", "On hand", "Inbound qty", "Inbound ETA",
               "Lead time (days)", "Lead time std (days)", "MOQ", "Case pack", "Unit cost (CNY)",
               "Landed cost (local currency)", "Currency"]


def _ingest(client, *files, market_hint=None):
    return ingest(client, load_client_params(client), [Path(f) for f in files], market_hint=market_hint)


def _write_xlsx(path: Path, rows: list[list], saved: dt.datetime | None = None) -> Path:
    """A one-sheet workbook; `saved` stamps docProps/core.xml (openpyxl always writes 'now')."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    if saved:
        stamp = saved.strftime("%Y-%m-%dT%H:%M:%SZ")
        with zipfile.ZipFile(path) as src:
            entries = {info.filename: src.read(info) for info in src.infolist()}
        core = entries["docProps/core.xml"].decode()
        for tag in ("created", "modified"):
            core = re.sub(rf"(<dcterms:{tag}[^>]*>)[^<]*(</dcterms:{tag}>)", rf"\g<1>{stamp}\g<2>", core)
        entries["docProps/core.xml"] = core.encode()
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
            for name, data in entries.items():
                dst.writestr(name, data)
    return path


def _health_rows(shop_line: str | None, weeks: list[tuple[str, str]], range_end: str = "18/11/2026") -> list[list]:
    top = ([[shop_line]] if shop_line else []) + [[f"Date range: 14/10/2025 - {range_end}"]]
    body = [[week, 50, ldr, "0.00%", "100.00%", "99.00%", "92.00%", "96.00%", "1.00%", "0.00%"] for week, ldr in weeks]
    return top + [HEALTH_HEADER] + body


def _by(table, *columns):
    return {tuple(r[c] for c in columns): r for r in table.to_pylist()}


# -- the generated demo client, ingested once for this module ---------------------------------------------------------

@pytest.fixture(scope="module")
def ops_demo(tmp_path_factory):
    from shopkpi.demo import generate_demo_client

    root = make_workspace(tmp_path_factory.mktemp("ops_ws"))
    with workspace_env(str(root)):
        generate_demo_client(paths.client_data_dir("demo"), seed=7, scale=DEMO_TEST_SCALE)
        raw = paths.raw_dir("demo")
        report = _ingest("demo", *[raw / folder for folder in DEMO_FOLDERS])
        truth = json.loads((paths.client_data_dir("demo") / "truth" / "truth.json").read_text(encoding="utf-8"))
        store = Store("demo")
        tables = {t: store.read(t) for t in ("shop_performance", "inventory_plan", "stock_history", "quarantine")}
        yield {"raw": raw, "report": report, "truth": truth, "tables": tables, "accounting": row_accounting("demo")}


def _expected_kind(relative: Path) -> str | None:
    if relative.parts[1:2] == ("shop_health",):
        return "shop_performance"
    if relative.parts[0] == "inventory":
        return "stock_history" if relative.suffix == ".csv" else "inventory_plan"
    return None


def test_demo_files_are_detected_by_headers_not_by_name(ops_demo, tmp_path):
    raw = ops_demo["raw"]
    seen = set()
    for number, path in enumerate(sorted(p for p in raw.rglob("*") if p.is_file())):
        relative = path.relative_to(raw)
        expected = _expected_kind(relative)
        # A neutral name proves the headers alone decide the kind.
        neutral = Path(shutil.copy(path, tmp_path / f"export_{number}{path.suffix}"))
        try:
            kind = detect_kind(read_any(neutral).headers).kind
        except UnknownKindError:
            kind = None
        if expected:
            assert kind == expected, relative
            seen.add(kind)
        else:
            assert kind not in MINE, relative
            if relative.parts[1:2] == ("orders",):
                assert kind == "orders", relative
    assert seen == MINE


@pytest.mark.parametrize("headers, kind", [
    (["Week", "LDR", "SFCR", "VTR", "OTDR"], "shop_performance"),
    (["统计周期", "迟发货率", "卖家责任取消率", "有效追踪率"], "shop_performance"),
    (["Period", "Late dispatch rate (LDR)", "Seller-fault cancellation rate (SFCR)", "Country"], "shop_performance"),
    (["SKU", "Warehouse name", "Available stock", "Lead time", "MOQ", "Unit cost (RMB)"], "inventory_plan"),
    (["商家SKU", "仓库", "可用库存", "采购周期"], "inventory_plan"),
    (["Date", "SKU", "Warehouse", "Closing stock", "Out of stock"], "stock_history"),
    (["Date", "Seller SKU", "SKU ID", "Warehouse", "On hand", "Received", "Stockout"], "stock_history"),
])
def test_header_variants_detect_the_kind(headers, kind):
    assert detect_kind(headers).kind == kind


def test_orders_fixture_still_detects_as_orders():
    assert detect_kind(read_any(FIXTURES / "orders_uk_small.csv").headers).kind == "orders"


def test_every_demo_file_ingests_and_balances(ops_demo):
    files = ops_demo["report"].files
    assert {f.kind for f in files} == MINE
    for f in files:
        assert f.status == "ingested", f.message
        assert f.rows_in > 0 and (f.rows_kept, f.rows_quarantined, f.rows_excluded) == (f.rows_in, 0, 0), f
    accounting = ops_demo["accounting"].to_pylist()
    assert len(accounting) == len(files) and all(r["unaccounted"] == 0 for r in accounting)
    tables = ops_demo["tables"]
    for kind in MINE:
        assert tables[kind].num_rows == sum(f.rows_in for f in files if f.kind == kind)
    assert tables["quarantine"].num_rows == 0


def _cells(path: Path) -> list[list]:
    book = load_workbook(path, read_only=True)
    rows = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    return rows


def _pct(text: str) -> float:
    return float(text.rstrip("%")) / 100


def test_shop_performance_values_match_the_sheet(ops_demo):
    stored = _by(ops_demo["tables"]["shop_performance"], "market", "week_start")
    for market, shop in (("UK", "Luma Home UK"), ("TH", "Luma Home TH")):
        path = ops_demo["raw"] / market / "shop_health" / f"Shop performance - {shop}.xlsx"
        cells = _cells(path)
        header_at = next(i for i, r in enumerate(cells) if r[0] == "Week")
        range_end = dt.datetime.strptime(re.findall(r"\d{2}/\d{2}/\d{4}", cells[header_at - 1][0])[-1], "%d/%m/%Y").date()
        body = cells[header_at + 1:]
        assert sum(1 for key in stored if key[0] == market) == len(body)
        for i in (0, len(body) // 2, len(body) - 1):
            cell = dict(zip(HEALTH_COLUMNS, body[i]))
            start, end = (dt.datetime.strptime(d.strip(), "%d/%m/%Y").date() for d in cell["week"].split(" - "))
            row = stored[(market, start)]
            assert row["week_end"] == end and (end - start).days == 6
            assert row["shop_name"] == shop and row["orders"] == int(cell["orders"])
            assert row["source_row"] == header_at + 2 + i and row["source_file"] == f"{market}/shop_health/{path.name}"
            for name in HEALTH_COLUMNS[2:]:
                assert row[name] == pytest.approx(_pct(cell[name]), abs=1e-12), (market, start, name)
            assert row["export_as_of"].date() == range_end
    for planted in ops_demo["truth"]["shop_health"]["planted"]:
        row = stored[(planted["market"], dt.date.fromisoformat(planted["week_start"]))]
        assert row[planted["metric"]] == pytest.approx(planted["true_rate"], abs=5e-5)  # the sheet rounds to 0.01%


def test_inventory_plan_values_match_the_sheet(ops_demo):
    path = next((ops_demo["raw"] / "inventory").glob("*.xlsx"))
    cells = _cells(path)
    header_at = cells.index(PLAN_HEADER)
    stated = [c for row in cells[:header_at] for c in row if c and re.search(r"\d{2}/\d{2}/\d{4}", str(c))]
    stored = _by(ops_demo["tables"]["inventory_plan"], "seller_sku", "warehouse")
    book = load_workbook(path, read_only=True)
    saved = book.properties.modified
    book.close()
    if stated:  # a line above the header gives the date
        expected_as_of = (dt.datetime.strptime(re.findall(r"\d{2}/\d{2}/\d{4}", stated[-1])[-1], "%d/%m/%Y").date(), "sheet")
    else:  # no date on the sheet: the workbook's own saved time, and the row says so
        expected_as_of = (saved.date(), "workbook_saved")
    body = cells[header_at + 1:]
    assert len(stored) == len(body)
    for i in (0, len(body) // 2, len(body) - 1):
        cell = dict(zip(PLAN_HEADER, body[i]))
        row = stored[(cell["Seller SKU"], cell["Warehouse"])]
        assert row["sku_id"] == cell["SKU ID"] and isinstance(row["sku_id"], str)
        assert (row["on_hand"], row["inbound_qty"], row["moq"], row["case_pack"]) == (
            cell["On hand"], cell["Inbound qty"], cell["MOQ"], cell["Case pack"])
        assert row["inbound_eta"] == (cell["Inbound ETA"].date() if cell["Inbound ETA"] else None)
        assert row["lead_time_days"] == cell["Lead time (days)"] and row["lead_time_std_days"] == cell["Lead time std (days)"]
        assert row["unit_cost"] == Decimal(str(cell["Unit cost (CNY)"])) and row["unit_cost_currency"] == "CNY"
        assert row["landed_cost"] == Decimal(str(cell["Landed cost (local currency)"])) and row["currency"] == cell["Currency"]
        assert row["market"] is None  # the sheet has no Market column; warehouse names are not trusted for it
        assert (row["as_of"], row["as_of_basis"]) == expected_as_of
        assert row["source_row"] == header_at + 2 + i
    warehouse = {m: ref["warehouse"] for m, ref in ops_demo["truth"]["markets"].items()}
    for planted in ops_demo["truth"]["stockouts"]["upcoming"]:
        row = stored[(planted["seller_sku"], warehouse[planted["market"]])]
        assert (row["sku_id"], row["on_hand"], row["inbound_qty"], str(row["inbound_eta"])) == (
            planted["sku_id"], planted["on_hand"], planted["inbound_qty"], planted["inbound_eta"])


def test_stock_history_values_match_the_csv(ops_demo):
    path = ops_demo["raw"] / "inventory" / "stock_history_daily.csv"
    with open(path, encoding="utf-8", newline="") as fh:
        lines = list(csv.DictReader(fh))
    table = ops_demo["tables"]["stock_history"]
    assert table.num_rows == len(lines)
    stored = _by(table, "seller_sku", "warehouse", "date")
    for i in (0, len(lines) // 3, len(lines) - 1):
        line = lines[i]
        row = stored[(line["Seller SKU"], line["Warehouse"], dt.date.fromisoformat(line["Date"]))]
        assert (row["sku_id"], row["on_hand"], row["received"], row["stockout"]) == (
            line["SKU ID"], int(line["On hand"]), int(line["Received"]), line["Stockout"] == "1")
        assert row["source_row"] == i + 2 and row["market"] is None
    latest = max(dt.date.fromisoformat(line["Date"]) for line in lines)
    assert {r.date() for r in table.column("export_as_of").to_pylist()} == {latest}
    warehouse = {m: ref["warehouse"] for m, ref in ops_demo["truth"]["markets"].items()}
    for spell in ops_demo["truth"]["stockouts"]["past_spells"]:
        start, end = dt.date.fromisoformat(spell["start_date"]), dt.date.fromisoformat(spell["end_date"])
        days = [stored[(spell["seller_sku"], warehouse[spell["market"]], start + dt.timedelta(d))]
                for d in range((end - start).days + 1)]
        assert all(r["stockout"] and r["on_hand"] == 0 for r in days), spell


# -- hand-made files: malformed values, re-ingest, newer exports, market and as-of rules -------------------------------

def test_malformed_values_are_quarantined_with_file_row_and_column(workspace):
    files = [copy_fixture(name, workspace / "in") for name in
             ("shop_perf_by_country.csv", "inventory_plan_by_market.csv", "inventory_stock_history_small.csv")]
    report = _ingest("demo", *files)
    counts = {Path(f.source_file).name: (f.status, f.rows_in, f.rows_kept, f.rows_quarantined, f.rows_excluded)
              for f in report.files}
    assert counts == {
        "shop_perf_by_country.csv": ("ingested", 10, 3, 5, 2),
        "inventory_plan_by_market.csv": ("ingested", 9, 3, 5, 1),
        "inventory_stock_history_small.csv": ("ingested", 9, 3, 5, 1),
    }
    quarantine = {(Path(q["source_file"]).name, q["source_row"]): q for q in Store("demo").read("quarantine").to_pylist()}
    expected = {
        ("shop_perf_by_country.csv", 5): ("Late Dispatch Rate", "abc%", "not a percentage"),
        ("shop_perf_by_country.csv", 6): ("Week", "week 44", "not a week"),
        ("shop_perf_by_country.csv", 7): ("On-Time Delivery Rate (OTDR)", "130.00%", "outside 0-100%"),
        ("shop_perf_by_country.csv", 8): ("Week", "09/11/2025 - 03/11/2025", "ends before it starts"),
        ("shop_perf_by_country.csv", 9): ("Country", "France", "not one of this client's markets"),
        ("inventory_plan_by_market.csv", 5): ("SKU ID", "1.73123E+18", "Excel"),
        ("inventory_plan_by_market.csv", 6): ("Stock on hand", "ten", "not a whole number"),
        ("inventory_plan_by_market.csv", 7): ("MOQ", "-50", "negative"),
        ("inventory_plan_by_market.csv", 8): ("Market", "Mars", "not one of this client's markets"),
        ("inventory_plan_by_market.csv", 9): ("SKU", "", "required value is empty"),
        ("inventory_stock_history_small.csv", 6): ("Date", "2026-02-31", "not a date"),
        ("inventory_stock_history_small.csv", 7): ("Out of stock", "maybe", "not a stock-out flag"),
        ("inventory_stock_history_small.csv", 8): ("SKU", "", "required value is empty"),
        ("inventory_stock_history_small.csv", 9): ("Received", "-4", "negative"),
        ("inventory_stock_history_small.csv", 10): ("Closing stock", "1.5", "not a whole number"),
    }
    assert set(quarantine) == set(expected)
    for where, (column, value, reason) in expected.items():
        q = quarantine[where]
        assert (q["column"], q["raw_value"] or "") == (column, value) and reason in q["reason"], (where, q)
    excluded = {(Path(e["source_file"]).name, e["source_row"]): e["rule"] for e in Store("demo").read("excluded").to_pylist()}
    assert excluded == {("shop_perf_by_country.csv", 10): "blank_row", ("shop_perf_by_country.csv", 11): "summary_row",
                        ("inventory_plan_by_market.csv", 10): "footer_row",
                        ("inventory_stock_history_small.csv", 5): "duplicate_within_file"}
    assert all(r["unaccounted"] == 0 for r in row_accounting("demo").to_pylist())


def test_hand_made_files_parse_to_the_right_values(workspace):
    files = [copy_fixture(name, workspace / "in") for name in
             ("shop_perf_by_country.csv", "inventory_plan_by_market.csv", "inventory_stock_history_small.csv")]
    before = dt.datetime.now(dt.timezone.utc).date()
    _ingest("demo", *files)
    after = dt.datetime.now(dt.timezone.utc).date()
    store = Store("demo")
    health = _by(store.read("shop_performance"), "market", "week_start")
    uk = health[("UK", dt.date(2025, 10, 27))]  # "27/10/2025-02/11/2025", bare fractions, "0"
    assert uk["week_end"] == dt.date(2025, 11, 2)
    rates = (uk["late_dispatch_rate"], uk["seller_fault_cancellation_rate"], uk["valid_tracking_rate"])
    assert rates == pytest.approx((0.046, 0.0, 0.97))
    assert uk["response_rate_24h"] == pytest.approx(0.96) and uk["response_rate_12h"] is None
    assert health[("TH", dt.date(2025, 10, 20))]["seller_fault_return_rate"] == pytest.approx(0.005)
    plan = _by(store.read("inventory_plan"), "seller_sku", "warehouse")
    mug = plan[("Blue Mug 300ml", "Leeds 3PL")]  # first SKU has spaces: data, not a description row
    assert (mug["market"], mug["on_hand"], mug["inbound_eta"], mug["lead_time_std_days"]) == ("UK", 40, dt.date(2026, 12, 6), 6.5)
    assert (mug["unit_cost"], mug["unit_cost_currency"], mug["landed_cost"], mug["currency"]) == (
        Decimal("12.3456"), "CNY", Decimal("3.10"), "GBP")
    th = plan[("LH-SKN-0002", "BKK-01")]
    assert (th["market"], th["landed_cost"], th["currency"], th["inbound_eta"]) == (
        "TH", Decimal("1101.95"), "THB", dt.date(2026, 12, 20))
    assert plan[("LH-SKN-0002", "Leeds 3PL")]["market"] == "UK"  # "United Kingdom"
    assert {r["as_of_basis"] for r in plan.values()} == {"ingest_date"}  # a CSV with no date anywhere
    assert {r["as_of"] for r in plan.values()} <= {before, after}
    history = _by(store.read("stock_history"), "date")
    days = [(d.day, r["on_hand"], r["stockout"]) for (d,), r in sorted(history.items())]
    assert days == [(1, 5, False), (2, 0, True), (3, 24, False)]


def test_reingesting_the_same_file_changes_nothing(workspace):
    files = [copy_fixture(name, workspace / "in") for name in
             ("shop_perf_by_country.csv", "inventory_plan_by_market.csv", "inventory_stock_history_small.csv")]
    _ingest("demo", *files)
    before = Store("demo").manifest()["version"]
    renamed = Path(shutil.copy(files[2], workspace / "in" / "copy_of_history.csv"))
    again = _ingest("demo", *files, renamed)
    assert {f.status for f in again.files} == {"already_ingested"}
    assert Store("demo").manifest()["version"] == before


def test_newer_shop_performance_export_supersedes_older(workspace):
    old = _write_xlsx(workspace / "in" / "old.xlsx", _health_rows("Shop: Luma Home UK", [
        ("20/10/2025 - 26/10/2025", "5.00%")], range_end="28/10/2025"))
    new = _write_xlsx(workspace / "in" / "new.xlsx", _health_rows("Shop: Luma Home UK", [
        ("20/10/2025 - 26/10/2025", "4.00%"), ("27/10/2025 - 02/11/2025", "1.00%")], range_end="04/11/2025"))
    _ingest("demo", new)
    _ingest("demo", old)  # arriving later does not make the older export win
    stored = _by(Store("demo").read("shop_performance"), "market", "week_start")
    assert len(stored) == 2
    assert stored[("UK", dt.date(2025, 10, 20))]["late_dispatch_rate"] == pytest.approx(0.04)
    assert stored[("UK", dt.date(2025, 10, 20))]["source_file"].endswith("new.xlsx")
    rules = [(Path(e["source_file"]).name, e["rule"]) for e in Store("demo").read("excluded").to_pylist()]
    assert rules == [("old.xlsx", "superseded_by_newer_export")]
    assert all(r["unaccounted"] == 0 for r in row_accounting("demo").to_pylist())


def test_newer_stock_history_supersedes_overlapping_days(workspace):
    old = copy_fixture("inventory_stock_history_small.csv", workspace / "in")
    new = workspace / "in" / "history_later.csv"
    new.write_text("Date,Seller SKU,Warehouse,On hand,Stockout\n"
                   "2026-11-03,LH-SKN-0001,UK-3PL-Leeds,20,0\n2026-11-04,LH-SKN-0001,UK-3PL-Leeds,18,0\n", encoding="utf-8")
    _ingest("demo", new, old)
    history = _by(Store("demo").read("stock_history"), "date")
    assert sorted(d.day for (d,) in history) == [1, 2, 3, 4]
    assert history[(dt.date(2026, 11, 3),)]["on_hand"] == 20 and history[(dt.date(2026, 11, 3),)]["received"] is None
    rules = [(Path(e["source_file"]).name, e["source_row"], e["rule"]) for e in Store("demo").read("excluded").to_pylist()]
    assert ("inventory_stock_history_small.csv", 4, "superseded_by_newer_export") in rules
    assert all(r["unaccounted"] == 0 for r in row_accounting("demo").to_pylist())


def _plan_rows(as_of_line: str | None, on_hand: int) -> list[list]:
    top = [[as_of_line]] if as_of_line else []
    return top + [PLAN_HEADER, ["LH-SKN-0001", "1731313918974361823", "Serum", "UK-3PL-Leeds", on_hand, 0, None, 35, 6,
                                300, 6, 62.05, 9.46, "GBP"]]


def test_inventory_plan_as_of_comes_from_the_sheet_and_a_later_save_corrects_it(workspace):
    first = _write_xlsx(workspace / "in" / "a.xlsx", _plan_rows("Stock as of 18/11/2026", 10), saved=dt.datetime(2026, 11, 18, 9))
    fixed = _write_xlsx(workspace / "in" / "b.xlsx", _plan_rows("Stock as of 18/11/2026", 12), saved=dt.datetime(2026, 11, 19, 8))
    later = _write_xlsx(workspace / "in" / "c.xlsx", _plan_rows("As of: 25/11/2026", 7), saved=dt.datetime(2026, 11, 25, 9))
    undated = _write_xlsx(workspace / "in" / "d.xlsx", _plan_rows(None, 3), saved=dt.datetime(2026, 12, 1, 7, 30))
    _ingest("demo", fixed, first, later, undated)
    plan = {r["as_of"]: r for r in Store("demo").read("inventory_plan").to_pylist()}
    assert {d: (r["on_hand"], r["as_of_basis"], Path(r["source_file"]).name) for d, r in plan.items()} == {
        dt.date(2026, 11, 18): (12, "sheet", "b.xlsx"),  # same snapshot saved later: the correction wins
        dt.date(2026, 11, 25): (7, "sheet", "c.xlsx"),
        dt.date(2026, 12, 1): (3, "workbook_saved", "d.xlsx"),
    }
    rules = [(Path(e["source_file"]).name, e["rule"]) for e in Store("demo").read("excluded").to_pylist()]
    assert rules == [("a.xlsx", "superseded_by_newer_export")]


@pytest.mark.parametrize("shop_line, hint, market", [
    ("Shop: Luma Home UK", None, "UK"),
    ("Shop name: Luma Home TH (official)", None, "TH"),
    ("Luma Home TH", None, "TH"),
    (None, "TH", "TH"),
])
def test_shop_performance_market_from_shop_name_or_hint(workspace, shop_line, hint, market):
    file = _write_xlsx(workspace / "in" / "health.xlsx", _health_rows(shop_line, [("20/10/2025 - 26/10/2025", "1.00%")]))
    [result] = _ingest("demo", file, market_hint=hint).files
    assert result.status == "ingested", result.message
    assert Store("demo").read("shop_performance").column("market").to_pylist() == [market]


@pytest.mark.parametrize("shop_line, hint, message", [
    (None, None, "--market"),
    ("Shop: Some Other Shop", None, "none of this client's shops"),
    ("Shop: Luma Home UK", "TH", "--market TH was given"),
])
def test_shop_performance_without_a_known_market_fails_clearly(workspace, shop_line, hint, message):
    file = _write_xlsx(workspace / "in" / "health.xlsx", _health_rows(shop_line, [("20/10/2025 - 26/10/2025", "1.00%")]))
    [result] = _ingest("demo", file, market_hint=hint).files
    assert result.status == "failed"
    assert str(file) in result.message and message in result.message
    assert not Store("demo").has("shop_performance")
