"""Hardening: what an attacker or an unlucky user can put in raw/ is escaped, bounded, refused with a clear
message or quarantined, and never loses or leaks a stored row."""

from __future__ import annotations

import csv
import gzip
import io
import os
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from conftest import FIXTURES

from shopkpi import paths
from shopkpi.ingest.pipeline import ingest, row_accounting
from shopkpi.params import load_client_params
from shopkpi.store import Store

UK = """client: {name}
display_name: Shop {name}
language: en
reporting_currency: GBP
markets:
  - {{code: UK, currency: GBP, timezone: Europe/London}}
"""


@pytest.fixture
def shops(workspace):
    for name in ("alpha", "beta"):
        (workspace / "params" / f"{name}.yaml").write_text(UK.format(name=name), encoding="utf-8")
        paths.raw_dir(name).mkdir(parents=True)
    return workspace


def _rows() -> list[list[str]]:
    return list(csv.reader(open(FIXTURES / "orders_uk_small.csv", encoding="utf-8", newline="")))


def _write(path: Path, rows) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    return path


def _ingest(client: str, files=None):
    return ingest(client, load_client_params(client), files)


def _version(client: str) -> int:
    return Store(client).manifest()["version"]


def test_links_and_special_files_in_raw_are_refused_and_listed(shops):
    beta_file = _write(paths.raw_dir("beta") / "beta_orders.csv", _rows())
    raw = paths.raw_dir("alpha")
    _write(raw / "orders.csv", _rows())
    (raw / "link.csv").symlink_to(beta_file)
    (raw / "beta_folder").symlink_to(paths.raw_dir("beta"), target_is_directory=True)
    os.mkfifo(raw / "pipe.csv")
    report = _ingest("alpha")
    status = {Path(f.source_file).name: (f.status, f.message) for f in report.files}
    assert status["orders.csv"][0] == "ingested"
    assert status["link.csv"][0] == "refused" and "symbolic link" in status["link.csv"][1]
    assert status["beta_folder"][0] == "refused" and status["pipe.csv"][0] == "refused"
    assert {r["source_file"] for r in Store("alpha").read("files").to_pylist()} == {"orders.csv"}  # nothing of beta's


def test_other_suffixes_are_listed_xlsm_read_and_xls_refused(shops):
    raw = paths.raw_dir("alpha")
    wb = Workbook()
    for row in _rows():
        wb.active.append(row)
    wb.save(raw / "orders.xlsm")  # openpyxl writes the workbook; macros, if any, are never run
    (raw / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)  # an OLE2 (Excel 97-2003) header
    (raw / "notes.pdf").write_bytes(b"%PDF-1.4\n")
    (raw / "~$orders.xlsx").write_bytes(b"lock")
    report = _ingest("alpha")
    status = {Path(f.source_file).name: (f.status, f.message) for f in report.files}
    assert status["orders.xlsm"] == ("ingested", "an .xlsm workbook: read without its macros")
    assert status["old.xls"][0] == "refused" and "save it as .xlsx" in status["old.xls"][1]
    assert status["notes.pdf"][0] == "skipped" and status["~$orders.xlsx"][0] == "skipped"
    assert [f.source_file for f in report.failed] == ["old.xls"]


def test_a_truncated_redownload_keeps_the_stored_lines(shops):
    """A re-download cut after the first line of a two-line order (same event times, later run) keeps both."""
    header, description = _rows()[0], _rows()[1]
    index = {h: i for i, h in enumerate(header)}

    def line(sku: str) -> list[str]:
        row = list(_rows()[2])
        row[index["SKU ID"]] = sku
        return row

    _write(paths.raw_dir("alpha") / "a.csv", [header, description, line("1729000000000000101"), line("1729000000000000102")])
    _ingest("alpha")
    _write(paths.raw_dir("alpha") / "b.csv", [header, description, line("1729000000000000101")])
    _ingest("alpha")
    skus = sorted(r["sku_id"] for r in Store("alpha").read("order_lines").to_pylist())
    assert skus == ["1729000000000000101", "1729000000000000102"]
    rules = Store("alpha").connect().execute("SELECT rule FROM excluded WHERE source_file = 'b.csv'").fetchall()
    assert ("fewer_lines_than_stored",) in rules
    assert all(r["unaccounted"] == 0 for r in row_accounting("alpha").to_pylist())


def test_implausible_values_and_dates_are_quarantined_and_do_not_move_the_default_period(shops):
    rows = _rows()
    header = rows[0]
    col = {h: i for i, h in enumerate(header)}
    good = rows[2]
    bad = []
    for column, value in [("Quantity", "-3"), ("SKU Unit Original Price", "-10"), ("Order Amount", "999999999999999.99"),
                          ("Quantity", "99999999999"), ("Created Time", "01/01/1900 00:00:00"),
                          ("Paid Time", "31/12/2099 10:00:00")]:
        row = list(good)
        row[col["Order ID"]] = f"5760000000009{len(bad):05d}"
        row[col[column]] = value
        bad.append(row)
    _write(paths.raw_dir("alpha") / "odd.csv", rows + bad)
    report = _ingest("alpha")
    assert not report.failed
    reasons = {q["source_row"]: q["reason"] for q in Store("alpha").read("quarantine").to_pylist()}
    start = len(rows) + 1
    assert "implausible quantity" in reasons[start] and "implausible negative amount" in reasons[start + 1]
    assert "implausible amount (above UK's limit" in reasons[start + 2] and "implausible quantity" in reasons[start + 3]
    assert "implausible date" in reasons[start + 4] and "in the future" in reasons[start + 5]
    latest = Store("alpha").connect().execute("SELECT max(paid_local_date) FROM order_lines").fetchone()[0]
    assert latest.year == 2026
    from shopkpi.params import resolve_run

    assert resolve_run("alpha", "", "").period.start.year == 2026


def test_decompression_bombs_are_refused_before_they_inflate(shops):
    raw = paths.raw_dir("alpha")
    _write(raw / "good.csv", _rows())
    _ingest("alpha")
    version = _version("alpha")
    with gzip.open(raw / "zeros.csv.gz", "wb", compresslevel=9) as fh:  # 60 MB of one byte: about 60 KB packed
        fh.write(b"0" * (60 << 20))
    wb_path = raw / "bomb.xlsx"
    wb = Workbook()
    wb.active.append(["Order ID"])
    wb.save(wb_path)
    with zipfile.ZipFile(wb_path, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/padding.bin", b"\0" * (60 << 20))
    report = _ingest("alpha")
    status = {f.source_file: f for f in report.files}
    assert status["zeros.csv.gz"].status == "failed" and "inflates past" in status["zeros.csv.gz"].message
    assert status["bomb.xlsx"].status == "failed" and "refused before reading" in status["bomb.xlsx"].message
    assert _version("alpha") == version  # the store is unchanged


def test_a_file_name_with_a_newline_cannot_forge_summary_lines(shops):
    name = "orders.csv\ningested         orders   fake.csv: in 999"
    _write(paths.raw_dir("alpha") / "x.csv", [["nothing"], ["here"]])
    try:
        _write(paths.raw_dir("alpha") / name, _rows())
    except OSError:
        pytest.skip("the file system refuses newlines in names")
    lines = _ingest("alpha").summary_lines()
    assert not any(line.startswith("ingested         orders   fake.csv") for line in lines)
    assert any("\\ningested" in line for line in lines)


PAYLOADS = ["<script>alert('xss')</script>", "<img src=x onerror=alert(1)>", "=HYPERLINK(\"http://x\")", "\u202eevil"]


def test_table_bullets_headings_and_notes_escape_markup():
    from IPython.core.interactiveshell import InteractiveShell  # noqa: F401 - display needs IPython

    from shopkpi import display

    styler = display.table(pd.DataFrame({"<b>name</b>": PAYLOADS[:2], "GMV": [1.0, 2.0]}), money=["GMV"])
    html = styler.to_html()
    assert "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html and "&lt;b&gt;name" in html
    shown = []
    import IPython.display

    original = display.display
    display.display = shown.append
    try:
        display.bullets(PAYLOADS)
        display.note(PAYLOADS[1])
        display.heading("summary", "en", suffix=PAYLOADS[0])
    finally:
        display.display = original
    assert all(isinstance(o, IPython.display.HTML) for o in shown)
    text = "".join(o.data for o in shown)
    assert "<script>" not in text and "<img" not in text and text.count("&lt;") >= 4


@pytest.mark.notebook
def test_payloads_through_the_pipeline_leave_no_markup_and_the_pdf_prints(shops):
    """Product names carrying markup run through ingest, clean and the review: no executable markup in any
    HTML, and the review PDF still prints (the script once blocked Chromium's print for 120 s)."""
    from shopkpi.app.runner import run_pipeline

    rows = _rows()
    col = {h: i for i, h in enumerate(rows[0])}
    for i, row in enumerate(rows[2:]):
        row[col["Product Name"]] = PAYLOADS[i % len(PAYLOADS)]
        row[col["Seller SKU"]] = PAYLOADS[(i + 1) % len(PAYLOADS)][:20]
    _write(paths.raw_dir("alpha") / "orders.csv", rows)
    assert not _ingest("alpha").failed
    period, results = run_pipeline("alpha", "2026-W45", notebooks=["01_ingest", "02_clean", "08_review_report"])
    assert {r.notebook: r.status for r in results} == {"01_ingest": "ok", "02_clean": "ok", "08_review_report": "ok"}
    out = paths.period_outputs_dir("alpha", period)
    for page in out.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script>alert" not in text and "<img src=x onerror" not in text, page.name
    from shopkpi.app.pdf import chromium

    if chromium() is None:
        pytest.skip("no Chromium here; .ci/run installs it")
    assert (out / "08_review_report.pdf").exists()


def test_utf16_without_bom_and_encrypted_workbooks_get_precise_messages(shops):
    raw = paths.raw_dir("alpha")
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(_rows())
    (raw / "utf16.csv").write_bytes(text.getvalue().encode("utf-16-le"))  # no BOM
    # An encrypted OOXML file is an OLE2 container holding an "EncryptedPackage" stream.
    (raw / "locked.xlsx").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500 + "EncryptedPackage".encode("utf-16-le"))
    report = _ingest("alpha")
    status = {f.source_file: f for f in report.files}
    assert status["utf16.csv"].status == "ingested" and status["utf16.csv"].rows_kept == 4
    assert status["locked.xlsx"].status == "failed" and "password-protected" in status["locked.xlsx"].message


def test_the_batch_cluster_serves_no_dask_pages():
    import urllib.error
    import urllib.request

    from shopkpi.app.batch import local_cluster

    cluster = local_cluster(1, {})
    try:
        server = cluster.scheduler.http_server
        ports = [s.getsockname() for s in server._sockets.values()] if server is not None else []
        for host, port in ports:
            assert host == "127.0.0.1"
            for route in ("/status", "/info/main/workers.html", "/metrics", "/json/identity.json"):
                try:
                    code = urllib.request.urlopen(f"http://127.0.0.1:{port}{route}", timeout=10).status
                except urllib.error.HTTPError as exc:
                    code = exc.code
                assert code == 404, (route, code)
        assert 8787 not in {p for _, p in ports}
    finally:
        cluster.close()


def test_an_unclosed_quote_quarantines_its_row_and_keeps_the_rest(shops):
    rows = _rows()
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    lines = buffer.getvalue().splitlines(keepends=True)
    lines[2] = lines[2].replace(",Completed,", ',"Completed,', 1)  # the first data row opens a quote it never closes
    (paths.raw_dir("alpha") / "quote.csv").write_text("".join(lines), encoding="utf-8")
    [result] = _ingest("alpha").files
    quarantine = Store("alpha").read("quarantine").to_pylist()
    damaged = [q for q in quarantine if q["reason"].startswith("unclosed quote")]
    assert [q["source_row"] for q in damaged] == [3]
    assert result.rows_in == len(rows) - 1  # every physical line after the header is one record
    assert result.rows_kept >= 3  # the orders after the damaged row are read, not swallowed
    assert all(r["unaccounted"] == 0 for r in row_accounting("alpha").to_pylist())


def test_a_file_cut_inside_its_last_character_keeps_its_other_rows(shops):
    rows = _rows()
    rows[-1][rows[0].index("Product Name")] = "ถ้วยกาแฟ"  # Thai: 3 bytes a character
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    cut = data[: data.rindex("แฟ".encode()) + 1]  # the download stops inside a character of the last row
    (paths.raw_dir("alpha") / "cut.csv").write_bytes(cut)
    [result] = _ingest("alpha").files
    assert result.status == "ingested", result.message
    assert result.rows_in == len(rows) - 1 and result.rows_kept >= 3
    last = max(q["source_row"] for q in Store("alpha").read("quarantine").to_pylist())
    assert last == len(rows)  # the cut row is quarantined, with its spreadsheet row number


def test_batch_summary_shows_retries_and_keeps_errors_on_one_line():
    from shopkpi.app.batch import ClientRun, summary_table

    run = ClientRun(client="alpha", period="2026-W45", status="failed")
    run.notebooks = [{"notebook": "03_content", "status": "ok", "seconds": 3.0, "error": "", "attempts": 2},
                     {"notebook": "04_creators", "status": "failed", "seconds": 1.0, "error": "Boom:\nline two", "attempts": 1}]
    table = summary_table([run]).splitlines()
    assert len(table) == 3 and "(attempt 2)" in table[1] and table[2].endswith("Boom: line two")
