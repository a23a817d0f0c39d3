"""05_restock runs through papermill on the small demo and leaves the plan, exports, figures and a dashboard page."""

from __future__ import annotations

import json

import nbformat
import pytest
from openpyxl import load_workbook
from shopkpi import paths
from shopkpi.dictionary import t

pytestmark = pytest.mark.notebook


@pytest.fixture(scope="module")
def restock_run(demo_run_session):
    """The pipeline's own 05_restock run (in the demo's language, zh)."""
    result = next(r for r in demo_run_session["results"] if r.notebook == "05_restock")
    assert result.status == "ok", result.error
    return result.output, demo_run_session


def test_notebook_runs_without_errors(restock_run):
    out, _ = restock_run
    nb = nbformat.read(out, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    text = json.dumps(nb.cells, ensure_ascii=False)
    assert t("restock_what_to_order", "zh") in text and t("restock_accuracy", "zh") in text


def test_artifact_and_exports(restock_run, monkeypatch):
    _, run = restock_run
    monkeypatch.setenv(paths.WORKSPACE_ENV, str(run["root"]))
    art = paths.artifacts_dir("demo", run["period"])
    payload = json.loads((art / "restock.json").read_text(encoding="utf-8"))
    for key in ["origin", "stock_as_of", "summary", "accuracy", "accuracy_per_sku", "events", "plan", "forecasts",
                "projections", "figures", "exports", "notes"]:
        assert key in payload, key
    assert payload["origin"] <= payload["period_end"]
    assert {a["model"] for a in payload["accuracy"]["overall"]} >= {"seasonal_naive", "moving_average", "gbm", "selected"}
    assert len(payload["plan"]) == payload["summary"]["rows"] > 0
    for rel in payload["figures"].values():
        assert (art / rel).stat().st_size > 1000
    outputs = paths.period_outputs_dir("demo", run["period"])
    ws = load_workbook(outputs / payload["exports"]["xlsx"]).active
    # Header, one row per plan row, a blank row, then the units totals row (outside the filtered range).
    assert ws.max_row == len(payload["plan"]) + 3 and ws.cell(row=1, column=1).value == t("restock_col_seller_sku", "zh")
    assert ws.auto_filter.ref.endswith(str(len(payload["plan"]) + 1)) and ws.cell(row=ws.max_row, column=1).value == t("total", "zh")
    order_qty = next(c for c in ws[1] if c.value == t("restock_col_order_qty", "zh")).column
    assert ws.cell(row=ws.max_row, column=order_qty).value == sum(r["order_qty"] for r in payload["plan"])
    assert (outputs / payload["exports"]["csv"]).exists()


def test_dashboard_page_reads_only_the_artifact(restock_run, monkeypatch):
    from shopkpi.restock.page import restock_html

    _, run = restock_run
    monkeypatch.setenv(paths.WORKSPACE_ENV, str(run["root"]))
    page = restock_html("demo")
    assert 'data-page="restock"' in page and page.count("data:image/png;base64") == 3
    assert t("restock_title", "zh") in page
