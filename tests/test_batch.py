"""The Monday batch on a local Dask cluster: parallel clients, one broken client isolated, reruns skipped.

The demo client's exports carry a payload corpus (markup, script, formula, bidi and newline text) through the
whole batch: no executable markup in any HTML, no formula in any XLSX/CSV, every PDF printed."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys

import nbformat
import pytest
from openpyxl import load_workbook

from shopkpi import paths
from shopkpi.app.runner import PIPELINE
from shopkpi.spreadsheet import FORMULA_START

from conftest import make_workspace

pytestmark = pytest.mark.notebook

PAYLOADS = ["<script>alert('xss')</script>", "<img src=x onerror=alert(1)>", "=HYPERLINK(\"http://x\",\"y\")",
            "@SUM(1+1)", "\u202eevil\u202c", "line one\nline two"]
TEXT_COLUMNS = {"Product Name", "Video title", "Creator Username", "Creator name", "Seller Note"}


def _poison(path) -> int:
    """Prefix text cells of rows 2-11 with payloads; returns the cells changed."""
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


@pytest.fixture(scope="module")
def batch_workspace(demo_run_session, tmp_path_factory):
    root = make_workspace(tmp_path_factory.mktemp("batch_ws"), clients=("demo", "acme"))
    for client in ("demo", "acme"):
        shutil.copytree(demo_run_session["root"] / "data" / "demo" / "raw", root / "data" / client / "raw")
    assert sum(_poison(p) for p in (root / "data" / "demo" / "raw").rglob("*.csv")) > 20
    # acme's export folder holds a file that is not a readable export.
    (root / "data" / "acme" / "raw" / "UK" / "orders" / "broken.csv").write_bytes(b"Order ID,Quantity\n\x80\xff,1\n")
    return root


@pytest.fixture(scope="module")
def first_batch(batch_workspace, month):
    """Both clients on two workers, once for the module (a full pipeline run is the expensive part)."""
    return _batch(batch_workspace, "--all", "--workers", "2", "--period", month)


@pytest.fixture(scope="module")
def month(demo_run_session):
    """The month of the demo's latest week: the batch runs the monthly review (the week runs everywhere else)."""
    from shopkpi.periods import parse_period

    start = parse_period(demo_run_session["period"]).start
    return f"{start.year}-{start.month:02d}"


def _batch(root, *args):
    env = {**__import__("os").environ, paths.WORKSPACE_ENV: str(root)}
    return subprocess.run([sys.executable, "-m", "shopkpi.cli", "batch", *args], capture_output=True, text=True, env=env, timeout=600)


def test_one_broken_client_fails_cleanly_and_the_others_succeed(batch_workspace, month, first_batch):
    out = first_batch
    assert out.returncode == 1, out.stdout + out.stderr
    assert "1 ok or skipped, 1 failed" in out.stdout
    lines = [l for l in out.stdout.splitlines() if l.startswith(("acme ", "demo "))]
    assert any(l.startswith("acme") and "failed" in l and "broken.csv" in l for l in lines)
    demo_notebooks = PIPELINE + ["08_review_report.en"]  # the demo also wants an English review
    assert sum(1 for l in lines if l.startswith("demo") and " ok " in l) == len(demo_notebooks)
    acme = json.loads(next((batch_workspace / "outputs" / "acme").glob("*/manifest.json")).read_text())
    assert acme["status"] == "failed"
    failed_nb = nbformat.read(next((batch_workspace / "outputs" / "acme").glob("*/01_ingest.ipynb")), as_version=4)
    assert failed_nb.metadata.papermill.get("exception") is True  # kept, with the error in it
    demo = json.loads(next((batch_workspace / "outputs" / "demo").glob("*/manifest.json")).read_text())
    assert demo["status"] == "ok" and demo["row_counts"]["order_lines"] > 0 and demo["input_hashes"]
    assert [n["notebook"] for n in demo["notebooks"]] == demo_notebooks
    review = batch_workspace / "outputs" / "demo" / month
    assert "月度经营复盘" in (review / "08_review_report.html").read_text(encoding="utf-8")
    assert "Monthly business review" in (review / "08_review_report.en.html").read_text(encoding="utf-8")


def test_payloads_through_the_whole_batch(batch_workspace, month, first_batch):
    from shopkpi.app.pdf import chromium

    assert first_batch.returncode == 1, first_batch.stdout + first_batch.stderr  # acme's broken file only
    out = batch_workspace / "outputs" / "demo" / month
    assert json.loads((out / "manifest.json").read_text())["status"] == "ok"
    pages = list(out.glob("*.html"))
    assert len(pages) >= 9
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "<script>alert" not in text and "<img src=x onerror" not in text, page.name
    books = list(out.glob("*.xlsx"))
    assert books
    for book in books:
        for ws in load_workbook(book).worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (book.name, cell.coordinate)
                    if isinstance(cell.value, str):
                        assert not cell.value.startswith(FORMULA_START), (book.name, cell.coordinate, cell.value)
    # The buyer's sheet colours each status by its meaning, whatever the payloads did to the rows.
    from shopkpi.restock.export import status_colours
    from shopkpi.spreadsheet import STATUS_FILLS

    (plan_book,) = out.glob("purchase_suggestion_*.xlsx")
    ws = load_workbook(plan_book).worksheets[0]
    header = [c.value for c in ws[1]]
    (column, levels), = status_colours("zh").items()
    status_cells = [row[header.index(column)] for row in ws.iter_rows(min_row=2) if row[0].value is not None]
    shown = [c for c in status_cells if c.value in levels]
    assert shown and all(c.fill.fgColor.rgb == STATUS_FILLS[levels[c.value]] for c in shown)
    for table in out.glob("*.csv"):
        for row in csv.reader(io.StringIO(table.read_text(encoding="utf-8-sig"), newline="")):
            for value in row:
                assert not value.startswith(FORMULA_START) or value.lstrip("-").replace(".", "", 1).isdigit(), (table.name, value)
    if chromium() is None:
        pytest.skip("no Chromium here; .ci/run installs it")
    assert (out / "08_review_report.pdf").exists() and (out / "08_review_report.en.pdf").exists()


def test_unchanged_client_is_skipped_and_changed_inputs_rerun(batch_workspace, month, first_batch):
    out = _batch(batch_workspace, "--clients", "demo", "--period", month)
    assert out.returncode == 0 and "demo                 skipped" in out.stdout
    # A new export changes the inputs: the client runs again.
    raw = batch_workspace / "data" / "demo" / "raw" / "UK" / "orders"
    source = sorted(raw.glob("*.csv"))[-1]
    shutil.copy(source, raw / "resent_copy.csv")
    with open(raw / "resent_copy.csv", "a", encoding="utf-8") as fh:
        fh.write("\n")
    # Only the first notebook, to keep the test short: a partial run is fingerprinted apart from the full one.
    out = _batch(batch_workspace, "--clients", "demo", "--period", month, "--notebooks", "01_ingest")
    assert out.returncode == 0 and "01_ingest            ok" in out.stdout, out.stdout
    assert "demo                 skipped" not in out.stdout
    manifest = json.loads((batch_workspace / "outputs" / "demo" / month / "manifest.json").read_text())
    assert manifest["status"] == "ok" and [n["notebook"] for n in manifest["notebooks"]] == ["01_ingest"]
    assert manifest["parameters"]["notebooks"] == ["01_ingest"]
    # The same partial run again, inputs unchanged: skipped.
    out = _batch(batch_workspace, "--clients", "demo", "--period", month, "--notebooks", "01_ingest")
    assert out.returncode == 0 and "demo                 skipped" in out.stdout, out.stdout


def test_unknown_client_is_refused(batch_workspace):
    out = _batch(batch_workspace, "--clients", "nobody")
    assert out.returncode == 2 and "no params file" in out.stderr
