"""A new agency client with only an Orders export and no targets: every notebook ends ok, or says which
exports it needs (needs_data), never a KeyError."""

from __future__ import annotations

import json

import nbformat
import pytest

from conftest import FIXTURES

from shopkpi import paths
from shopkpi.ingest.pipeline import ingest
from shopkpi.params import load_client_params
from shopkpi.app.runner import PIPELINE, run_pipeline

pytestmark = pytest.mark.notebook

THIN = """client: thin
display_name: Thin shop
language: en
reporting_currency: GBP
markets:
  - {code: UK, currency: GBP, timezone: Europe/London}
"""


@pytest.fixture
def thin(workspace):
    (workspace / "params" / "thin.yaml").write_text(THIN, encoding="utf-8")
    raw = paths.raw_dir("thin")
    raw.mkdir(parents=True)
    (raw / "orders.csv").write_bytes((FIXTURES / "orders_uk_small.csv").read_bytes())
    assert not ingest("thin", load_client_params("thin")).failed
    return workspace


@pytest.mark.parametrize("period", ["2026-W45", "2026-W44"])  # a week with orders, and the empty week before them
def test_orders_only_client_without_targets_runs_every_notebook(thin, period):
    _, results = run_pipeline("thin", period)
    by_name = {r.notebook: r for r in results}
    assert list(by_name) == PIPELINE
    for name, result in by_name.items():
        assert result.status in ("ok", "needs_data"), f"{name}: {result.error}"
        if result.status == "needs_data":
            assert result.error.startswith("NoDataError: "), result.error
        nb = nbformat.read(result.output, as_version=4)
        errors = [o["ename"] for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert set(errors) <= {"NoDataError"}, (name, errors)
    assert by_name["01_ingest"].status == "ok"
    if period == "2026-W45":
        assert by_name["02_clean"].status == by_name["08_review_report"].status == "ok"
        assert "no KPI targets" in by_name["07_kpi_targets"].error and "targets_file" in by_name["07_kpi_targets"].error
        assert "no complete local week" in by_name["06_shop_health"].error
        assert "Affiliate orders export" in by_name["04_creators"].error
        ingest_json = json.loads((paths.artifacts_dir("thin", period) / "ingest.json").read_text(encoding="utf-8"))
        assert ingest_json["failed_files"] == [] and "headers_not_read" in ingest_json
    else:
        assert "no orders in 2026-W44" in by_name["08_review_report"].error
