"""06_shop_health runs through papermill and leaves alerts.json and figures that the page renders."""

import json

import nbformat
from shopkpi import paths
from shopkpi.health import page
from shopkpi.health.alerts import SCHEMA
from shopkpi.health.metrics import METRICS
from shopkpi.app.runner import execute


def test_shop_health_notebook_writes_alerts_and_figures(demo_store, tmp_path):
    out = tmp_path / "06_shop_health.ipynb"
    execute("06_shop_health", {"client": "demo", "period": "2026-W32", "language": "zh"}, out)
    folder = paths.artifacts_dir("demo", "2026-W32")
    data = json.loads((folder / "alerts.json").read_text(encoding="utf-8"))
    assert data["schema"] == SCHEMA and data["period"] == "2026-W32" and data["language"] == "zh"
    health = data["kinds"]["shop_health"]
    ids = {a["id"] for a in health["alerts"]}
    assert "shop_health:TH:late_dispatch_rate:2026-W32" in ids
    for alert in health["alerts"]:
        assert {"id", "kind", "market", "metric", "period", "severity", "status", "value", "threshold", "trend",
                "evidence", "action", "source"} <= set(alert)
    for rel in health["figures"]:
        assert (folder / rel).stat().st_size > 10_000
    assert {f"figures/health_{m}.png" for m in METRICS} == set(health["figures"])
    # The executed notebook shows the alert and no error output; the page renders from the artifact alone.
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    shown = json.dumps([o.get("data", {}) for o in outputs], ensure_ascii=False)
    assert "shop_health:TH:late_dispatch_rate:2026-W32" in shown and "延迟发货率" in shown
    html = page.health_page_html("demo", "2026-W32")
    assert "延迟发货率" in html and html.count("<img") == len(METRICS)


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(paths.notebooks_dir() / "06_shop_health.ipynb", as_version=4)
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    assert params[0].source.startswith('client: str = "demo"')
    assert all(c.outputs == [] and c.execution_count is None for c in nb.cells if c.cell_type == "code")
