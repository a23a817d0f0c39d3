import csv
import io
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from shopkpi import paths
from shopkpi.errors import InputFileError
from shopkpi.ingest.headers import UnknownKindError, detect_kind, normalise_header
from shopkpi.ingest.pipeline import ingest, row_accounting
from shopkpi.ingest.readers import read_any
from shopkpi.params import load_client_params
from shopkpi.store import Store

from conftest import FIXTURES, copy_fixture

PII_VALUES = ["Jane Doe", "7700900123", "1 High St", "LS1 1AA", "jane_d"]


def _ingest(client, *files):
    return ingest(client, load_client_params(client), [Path(f) for f in files])


def _rewrite(src: Path, dest: Path, encoding: str, delimiter: str = ",", edit=None) -> Path:
    rows = list(csv.reader(open(src, encoding="utf-8", newline="")))
    if edit:
        rows = edit(rows)
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(buffer.getvalue().encode(encoding))
    return dest


def test_every_row_is_accounted_for(workspace):
    file = copy_fixture("orders_uk_small.csv", workspace / "in")
    report = _ingest("demo", file)
    [result] = report.files
    assert (result.rows_in, result.rows_kept, result.rows_quarantined, result.rows_excluded) == (7, 4, 2, 1)
    accounting = row_accounting("demo").to_pylist()
    assert accounting[0]["unaccounted"] == 0 and accounting[0]["in_store"] == 4


def test_quarantine_names_file_row_and_column(workspace):
    _ingest("demo", copy_fixture("orders_uk_small.csv", workspace / "in"))
    rows = {(r["source_row"], r["column"]): r for r in Store("demo").read("quarantine").to_pylist()}
    assert rows[(6, "Order ID")]["raw_value"] == "5.76E+17"
    assert "Excel" in rows[(6, "Order ID")]["reason"]
    assert rows[(7, "Created Time")]["raw_value"] == "31/02/2026 20:00:00"
    excluded = Store("demo").read("excluded").to_pylist()
    assert [(e["source_row"], e["rule"]) for e in excluded] == [(2, "description_row")]


def test_order_level_money_kept_per_line_and_ids_stay_strings(workspace):
    _ingest("demo", copy_fixture("orders_uk_small.csv", workspace / "in"))
    lines = Store("demo").read("order_lines")
    first = lines.filter(pc.equal(lines["order_id"], "576000000000000001"))
    assert first.num_rows == 2
    assert set(first["order_amount"].to_pylist()) == {__import__("decimal").Decimal("29.96")}
    assert lines.schema.field("order_id").type == "string"


def test_no_clear_text_pii_in_the_store(workspace):
    _ingest("demo", copy_fixture("orders_uk_small.csv", workspace / "in"))
    blob = b"".join(p.read_bytes() for p in paths.store_dir("demo").rglob("*.parquet"))
    table_text = " ".join(str(pq.read_table(p).to_pylist()) for p in paths.store_dir("demo").rglob("*.parquet"))
    for value in PII_VALUES:
        assert value not in table_text and value.encode() not in blob
    names = Store("demo").read("order_lines").column_names
    assert not {"recipient", "phone", "detail_address", "buyer_username", "seller_note"} & set(names)


def test_buyer_hash_is_salted_per_client(workspace):
    file = copy_fixture("orders_uk_small.csv", workspace / "in")
    _ingest("demo", file)
    _ingest("acme", file)
    demo = set(Store("demo").read("order_lines")["buyer_hash"].to_pylist())
    acme = set(Store("acme").read("order_lines")["buyer_hash"].to_pylist())
    assert demo and acme and not demo & acme
    assert not (workspace / "data" / "demo" / "secrets").is_relative_to(Path(__file__).parents[1])


def test_reingesting_the_same_file_changes_nothing(workspace):
    file = copy_fixture("orders_uk_small.csv", workspace / "in")
    _ingest("demo", file)
    before = Store("demo").manifest()["version"]
    again = _ingest("demo", file)
    assert again.files[0].status == "already_ingested"
    assert Store("demo").manifest()["version"] == before


def test_newer_overlapping_export_wins(workspace):
    old = copy_fixture("orders_uk_small.csv", workspace / "in")

    def refund_and_advance(rows):
        header = rows[0]
        status, refund, delivered = header.index("Order Status"), header.index("Order Refund Amount"), header.index("Delivered Time")
        for row in rows[2:]:
            if row[0] == "576000000000000001":
                row[status], row[refund], row[delivered] = "Completed", "29.96", "20/11/2026 12:00:00"
        return rows

    new = _rewrite(old, workspace / "in2" / "orders_later.csv", "utf-8", edit=refund_and_advance)
    _ingest("demo", old)
    _ingest("demo", new)
    lines = Store("demo").read("order_lines").to_pylist()
    refunded = [l for l in lines if l["order_id"] == "576000000000000001"]
    assert len(refunded) == 2 and all(str(l["order_refund_amount"]) == "29.96" for l in refunded)
    assert all(l["source_file"].endswith("orders_later.csv") for l in refunded)
    rules = [e["rule"] for e in Store("demo").read("excluded").to_pylist()]
    assert rules.count("superseded_by_newer_export") == 4  # every kept line of the older file
    assert all(r["unaccounted"] == 0 for r in row_accounting("demo").to_pylist())


@pytest.mark.parametrize("encoding, delimiter", [("utf-8-sig", ","), ("gb18030", ","), ("utf-16", "\t"), ("utf-8", ";")])
def test_encodings_and_delimiters(workspace, encoding, delimiter):
    def chinese_headers(rows):
        rows[0][rows[0].index("Order Status")] = "订单状态"
        rows[0][rows[0].index("Product Name")] = "商品名称"
        return rows

    file = _rewrite(FIXTURES / "orders_uk_small.csv", workspace / "in" / f"orders_{encoding}.csv", encoding, delimiter, chinese_headers)
    [result] = _ingest("demo", file).files
    assert result.status == "ingested", result.message
    assert (result.rows_kept, result.rows_quarantined) == (4, 2)


def test_header_normalisation():
    assert normalise_header("\ufeff Cancelation/Return Type\t") == normalise_header("cancelation return type")
    assert normalise_header("Cost (THB)") == normalise_header("cost")
    assert normalise_header(" Virtual Bundle Seller SKU") == "virtualbundlesellersku"


def test_unknown_kind_lists_closest_kinds_and_unmatched_headers():
    with pytest.raises(UnknownKindError) as err:
        detect_kind(["Order ID", "Order Statuss", "SKU ID", "Quantity", "Order Amount", "Foo"])
    text = str(err.value)
    assert "orders" in text and "Order Status" in text and "'Foo'" in text and "Order Statuss" in text


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"\x00\x01\x02garbage\x00" * 50, "binary"),
    (b"PK\x03\x04not really a zip", "Excel workbook"),
    (b"Order ID,Quantity\n\x80\xff\x80\xff,1\n", "encoding"),
])
def test_malformed_files_get_clear_errors(tmp_path, content, message):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    with pytest.raises(InputFileError) as err:
        read_any(bad)
    assert str(bad) in str(err.value) and message in str(err.value)


def test_a_bad_file_does_not_stop_the_others_or_lose_stored_data(workspace):
    good = copy_fixture("orders_uk_small.csv", workspace / "in")
    _ingest("demo", good)
    before = Store("demo").read("order_lines").num_rows
    truncated = workspace / "in" / "truncated.csv"
    truncated.write_bytes(good.read_bytes()[: int(len(good.read_bytes()) * 0.8)])
    dup = _rewrite(good, workspace / "in" / "dup_headers.csv", "utf-8", edit=lambda r: [r[0][:2] + ["Order ID"] + r[0][3:]] + r[1:])
    empty = workspace / "in" / "empty.csv"
    empty.write_text("")
    report = _ingest("demo", truncated, dup, empty)
    statuses = {Path(f.source_file).name: f.status for f in report.files}
    assert statuses["empty.csv"] == "failed" and statuses["dup_headers.csv"] == "failed"
    assert "columns A ('Order ID') and C ('Order ID')" in next(f.message for f in report.files if "dup_headers" in f.source_file)
    assert statuses["truncated.csv"] == "ingested"  # a cut-off last row is quarantined, not fatal
    assert Store("demo").read("order_lines").num_rows >= before
    assert all(r["unaccounted"] == 0 for r in row_accounting("demo").to_pylist())


def test_interrupted_commit_leaves_previous_store_readable(workspace, monkeypatch):
    _ingest("demo", copy_fixture("orders_uk_small.csv", workspace / "in"))
    before = Store("demo").read("order_lines").to_pylist()
    calls = {"n": 0}
    real_write = pq.write_table

    def dying_write(table, where, **kw):
        calls["n"] += 1
        if calls["n"] == 2:  # after the first table of the commit is written
            raise KeyboardInterrupt("killed mid-commit")
        return real_write(table, where, **kw)

    newer = _rewrite(FIXTURES / "orders_uk_small.csv", workspace / "in" / "newer.csv", "utf-8",
                     edit=lambda rows: [rows[0]] + [[c.replace("Completed", "Delivered") for c in r] for r in rows[1:]])
    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr("shopkpi.store.pq.write_table", dying_write)
        _ingest("demo", newer)
    assert calls["n"] == 2
    assert Store("demo").read("order_lines").to_pylist() == before


def test_blank_line_keeps_row_numbers_true(workspace):
    def blank_after_description(rows):
        return rows[:2] + [[]] + rows[2:]

    file = _rewrite(FIXTURES / "orders_uk_small.csv", workspace / "in" / "blank.csv", "utf-8", edit=blank_after_description)
    [result] = _ingest("demo", file).files
    assert (result.rows_in, result.rows_kept, result.rows_quarantined, result.rows_excluded) == (8, 4, 2, 2)
    rows = {(r["source_row"], r["column"]) for r in Store("demo").read("quarantine").to_pylist()}
    assert (7, "Order ID") in rows  # the mangled ID is on spreadsheet row 7 once a blank row precedes it
    rules = {(e["source_row"], e["rule"]) for e in Store("demo").read("excluded").to_pylist()}
    assert (3, "blank_row") in rules


def test_oversized_amount_and_ragged_rows_are_quarantined_with_their_truth(workspace):
    def damage(rows):
        header = rows[0]
        rows[2][header.index("Order Amount")] = "99999999999999999999"
        rows[3] = rows[3] + ["extra", "cells"]
        return rows

    file = _rewrite(FIXTURES / "orders_uk_small.csv", workspace / "in" / "damaged.csv", "utf-8", edit=damage)
    [result] = _ingest("demo", file).files
    assert result.status == "ingested"
    problems = {q["source_row"]: q for q in Store("demo").read("quarantine").to_pylist()}
    assert problems[3]["column"] == "Order Amount"
    assert problems[4]["raw_value"] == f"{len(_rows_of(FIXTURES / 'orders_uk_small.csv')[0]) + 2} cells vs {len(_rows_of(FIXTURES / 'orders_uk_small.csv')[0])}"


def _rows_of(path):
    return list(csv.reader(open(path, encoding="utf-8", newline="")))


def test_unknown_layout_is_a_failure_not_a_silent_skip(workspace):
    renamed = _rewrite(FIXTURES / "orders_uk_small.csv", workspace / "in" / "renamed.csv", "utf-8",
                       edit=lambda rows: [[h.replace("Order Amount", "Order Total Paid") for h in rows[0]]] + rows[1:])
    report = _ingest("demo", renamed)
    assert report.failed and report.failed[0].status == "unsupported"
    assert "Order Amount" in report.summary_lines()[0]  # the missing header is named, not cut off


def test_open_reader_survives_the_next_commit(workspace):
    _ingest("demo", copy_fixture("orders_uk_small.csv", workspace / "in"))
    con = Store("demo").connect()
    _ingest("demo", _rewrite(FIXTURES / "orders_uk_small.csv", workspace / "in2" / "later.csv", "utf-8",
                             edit=lambda rows: rows[:2] + [[c.replace("Completed", "Delivered") for c in r] for r in rows[2:]]))
    assert con.execute("SELECT count(*) FROM order_lines").fetchone()[0] == 4


def _order(lines, order_id):
    return sorted((l for l in lines if l["order_id"] == order_id), key=lambda l: l["sku_id"])


def test_a_line_missing_from_a_newer_export_is_gone(workspace):
    """Order ...001 had two SKU lines; the newer export has one (amount changed): only the newer one counts."""
    def drop_a_line(rows):
        header = rows[0]
        amount, delivered = header.index("Order Amount"), header.index("Delivered Time")
        # A clean export: without the fixture's two damaged rows, so nothing in it is unreadable.
        clean = [r for r in rows[2:] if r[0].isdigit() and not r[header.index("Created Time")].startswith("31/02")]
        kept = [r for r in clean if not (r[0] == "576000000000000001" and r[header.index("SKU ID")].endswith("01"))]
        for r in kept:
            if r[0] == "576000000000000001":
                r[amount], r[delivered] = "9.98", "10/11/2026 10:00:00"
        return rows[:2] + kept

    _ingest("demo", copy_fixture("orders_uk_small.csv", workspace / "in"))
    _ingest("demo", _rewrite(FIXTURES / "orders_uk_small.csv", workspace / "in2" / "newer.csv", "utf-8", edit=drop_a_line))
    lines = _order(Store("demo").read("order_lines").to_pylist(), "576000000000000001")
    assert [l["sku_id"] for l in lines] == ["1729000000000000002"]
    assert str(lines[0]["order_amount"]) == "9.98"
    from shopkpi.clean import connect_clean

    amount, day, week, month = connect_clean("demo").execute(
        "SELECT order_amount, paid_local_date, paid_local_week, paid_local_month FROM clean_orders "
        "WHERE order_id = '576000000000000001'").fetchone()
    assert str(amount) == "9.98"
    iso = day.isocalendar()
    assert week == f"{iso.year}-W{iso.week:02d}" and month == day.strftime("%Y-%m")  # the market's own calendar
    assert all(r["unaccounted"] == 0 for r in row_accounting("demo").to_pylist())


def test_a_later_repull_without_new_timestamps_wins(workspace):
    """A refund re-pulled later for one order carries no new event time; the later ingestion wins."""
    def only_refunded_order(rows):
        header = rows[0]
        refund = header.index("Order Refund Amount")
        picked = [r for r in rows[2:] if r[0] == "576000000000000001"]
        for r in picked:
            r[refund] = "29.96"
        return rows[:2] + picked

    _ingest("demo", copy_fixture("orders_uk_small.csv", workspace / "in"))
    [result] = _ingest("demo", _rewrite(FIXTURES / "orders_uk_small.csv", workspace / "in2" / "repull.csv", "utf-8",
                                        edit=only_refunded_order)).files
    assert result.rows_kept == 2, result
    lines = _order(Store("demo").read("order_lines").to_pylist(), "576000000000000001")
    assert [str(l["order_refund_amount"]) for l in lines] == ["29.96", "29.96"]


def test_an_unreadable_line_in_a_newer_export_keeps_its_older_readable_copy(workspace):
    def mangle_one_line(rows):
        for r in rows[2:]:
            if r[0] == "576000000000000001" and r[5].endswith("01"):
                r[0] = "5.76E+17"  # Excel damaged this line in the newer export
        return rows

    _ingest("demo", copy_fixture("orders_uk_small.csv", workspace / "in"))
    _ingest("demo", _rewrite(FIXTURES / "orders_uk_small.csv", workspace / "in2" / "newer.csv", "utf-8", edit=mangle_one_line))
    lines = _order(Store("demo").read("order_lines").to_pylist(), "576000000000000001")
    assert [l["sku_id"] for l in lines] == ["1729000000000000001", "1729000000000000002"]
    assert all(r["unaccounted"] == 0 for r in row_accounting("demo").to_pylist())


def test_header_cell_with_a_line_break(workspace):
    def wrap_header(rows):
        rows[0][rows[0].index("Product Name")] = "Product\nName"
        return rows

    file = _rewrite(FIXTURES / "orders_uk_small.csv", workspace / "in" / "wrapped.csv", "utf-8", edit=wrap_header)
    [result] = _ingest("demo", file).files
    assert (result.rows_in, result.rows_kept, result.rows_quarantined, result.rows_excluded) == (7, 4, 2, 1)
    names = {l["product_name"] for l in Store("demo").read("order_lines").to_pylist()}
    assert "Silicone lid set" in names


@pytest.mark.parametrize("ragged", [False, True], ids=["fast path", "exact path"])
def test_csv_header_block_is_kept_aside_and_row_numbers_stay_true(tmp_path, ragged):
    """A Data Compass style CSV: shop and date-range lines above the table, like the XLSX layout."""
    src = FIXTURES / "video_data_uk_small.csv"
    lines = src.read_text(encoding="utf-8").splitlines()
    block = ["Data Compass - Video analysis", "Shop: Luma Home UK", "Date range: 2026-01-01 ~ 2026-01-31", ""]
    if ragged:
        lines[3] = lines[3] + ",extra cell"
    path = tmp_path / "videos_with_block.csv"
    path.write_text("\n".join(block + lines) + "\n", encoding="utf-8-sig")
    plain = read_any(src)
    raw = read_any(path)
    assert raw.headers == plain.headers
    assert raw.metadata_rows[:3] == [["Data Compass - Video analysis"], ["Shop: Luma Home UK"], ["Date range: 2026-01-01 ~ 2026-01-31"]]
    assert raw.records.num_rows == plain.records.num_rows
    assert raw.first_row == len(block) + 2  # the spreadsheet row of the first data line
    first_id = raw.records.column("c0")[0].as_py()
    assert first_id == lines[1].split(",")[0] and raw.row_number(0) == len(block) + 2
    if ragged:
        flags = raw.records.column("__ragged__").to_pylist()
        assert [raw.row_number(i) for i, f in enumerate(flags) if f] == [len(block) + 4]


def test_xlsx_export_on_a_later_sheet_is_found_and_a_missing_named_sheet_is_refused(tmp_path):
    from openpyxl import Workbook

    from shopkpi.ingest.readers import read_xlsx

    rows = list(csv.reader(open(FIXTURES / "video_data_uk_small.csv", encoding="utf-8", newline="")))
    book = Workbook()
    book.active.title = "Read me"
    book.active.append(["Exported from Data Compass. Do not edit the next sheet."])
    data = book.create_sheet("Videos")
    for row in rows:
        data.append(row)
    path = tmp_path / "videos.xlsx"
    book.save(path)
    raw = read_any(path)
    assert raw.headers == rows[0] and raw.records.num_rows == len(rows) - 1
    assert detect_kind(raw.headers).kind == "video_data"
    with pytest.raises(InputFileError, match="no sheet 'Tags'.*Read me, Videos"):
        read_xlsx(path, sheet="Tags")
