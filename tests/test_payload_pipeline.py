"""A payload corpus (markup, script, formula, bidi and newline text) written into the demo's raw exports and run
through the whole pipeline: no executable markup in any HTML, no formula in any XLSX/CSV, every PDF printed."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from conftest import DEMO_TEST_SCALE, make_workspace, workspace_env

from shopkpi import paths
from shopkpi.spreadsheet import FORMULA_START

pytestmark = pytest.mark.notebook

PAYLOADS = ["<script>alert('xss')</script>", "<img src=x onerror=alert(1)>", "=HYPERLINK(\"http://x\",\"y\")",
            "@SUM(1+1)", "\u202eevil\u202c", "line one\nline two"]
TEXT_COLUMNS = {"Product Name", "Video title", "Creator Username", "Creator name", "Seller Note"}


def _poison(path) -> int:
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    if not rows:
        return 0
    header, changed = rows[0], 0
    targets = [i for i, h in enumerate(header) if h.strip() in TEXT_COLUMNS]
    for n, row in enumerate(rows[2:12], 2):
        for i in targets:
            if i < len(row) and row[i]:
                row[i] = PAYLOADS[(n + i) % len(PAYLOADS)] + " " + row[i]
                changed += 1
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.write_bytes(out.getvalue().encode("utf-8-sig" if bom else "utf-8"))
    return changed


def test_payloads_through_the_whole_pipeline(tmp_path):
    from shopkpi.demo import generate_demo_client
    from shopkpi.ingest.pipeline import ingest
    from shopkpi.params import load_client_params
    from shopkpi.pdf import chromium
    from shopkpi.runner import run_pipeline

    root = make_workspace(tmp_path / "ws")
    with workspace_env(root):
        generate_demo_client(paths.client_data_dir("demo"), seed=7, scale=DEMO_TEST_SCALE)
        poisoned = sum(_poison(p) for p in paths.raw_dir("demo").rglob("*.csv"))
        assert poisoned > 20
        assert not ingest("demo", load_client_params("demo")).failed
        period, results = run_pipeline("demo")
        assert {r.notebook: r.status for r in results if r.status != "ok"} == {}
        out = paths.period_outputs_dir("demo", period)
        pages = list(out.glob("*.html"))
        assert len(pages) >= 9
        for page in pages:
            text = page.read_text(encoding="utf-8")
            assert "<script>alert" not in text and "<img src=x onerror" not in text, page.name
        for book in out.glob("*.xlsx"):
            for ws in load_workbook(book).worksheets:
                for row in ws.iter_rows():
                    for cell in row:
                        assert cell.data_type != "f", (book.name, cell.coordinate)
                        if isinstance(cell.value, str):
                            assert not cell.value.startswith(FORMULA_START), (book.name, cell.coordinate, cell.value)
        for table in out.glob("*.csv"):
            for row in csv.reader(io.StringIO(table.read_text(encoding="utf-8-sig"), newline="")):
                for value in row:
                    assert not value.startswith(FORMULA_START) or value.lstrip("-").replace(".", "", 1).isdigit(), (table.name, value)
        if chromium() is None:
            pytest.skip("no Chromium here; .ci/run installs it")
        assert (out / "08_review_report.pdf").exists() and (out / "08_review_report.en.pdf").exists()
