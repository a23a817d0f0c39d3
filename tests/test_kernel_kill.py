"""A kernel killed mid-run: retried once on a fresh kernel, and recorded as a failure when it dies again."""

from __future__ import annotations

import nbformat
import pytest

from shopkpi.app import runner

pytestmark = pytest.mark.notebook

KILLER = """import os, pathlib, signal
marker = pathlib.Path(os.environ["SHOPKPI_TEST_KILL_MARKER"])
deaths = int(marker.read_text()) if marker.exists() else 0
if deaths < int(os.environ["SHOPKPI_TEST_KILLS"]):
    marker.write_text(str(deaths + 1))
    os.kill(os.getpid(), signal.SIGKILL)
print("survived after", deaths, "kills")"""


@pytest.fixture
def killer(tmp_path, monkeypatch):
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('client = "demo"\nperiod = ""\nlanguage = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(KILLER)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    source = tmp_path / "killer.ipynb"
    nbformat.write(nb, source)
    monkeypatch.setattr(runner, "notebook_path", lambda name: source)
    monkeypatch.setattr(runner, "render_html", lambda notebook, html: html)
    monkeypatch.setenv("SHOPKPI_TEST_KILL_MARKER", str(tmp_path / "kills"))
    return tmp_path


def _run(folder):
    return runner._run_one("killer", {"client": "demo", "period": "2026-W46", "language": "en"}, folder, "", 120, None)


def test_a_kernel_killed_once_is_retried_and_the_retry_recorded(killer, monkeypatch):
    monkeypatch.setenv("SHOPKPI_TEST_KILLS", "1")
    result = _run(killer)
    assert result.status == "ok" and result.attempts == 2
    out = nbformat.read(result.output, as_version=4)
    assert "survived after 1 kills" in out.cells[-1].outputs[0]["text"]


def test_a_kernel_that_keeps_dying_is_a_recorded_failure(killer, monkeypatch):
    monkeypatch.setenv("SHOPKPI_TEST_KILLS", "5")
    result = _run(killer)
    assert result.status == "failed" and result.attempts == 1 + runner.DEAD_KERNEL_RETRIES
    assert "kernel died" in result.error and f"after {result.attempts} attempts" in result.error
    assert result.output.exists()  # papermill's partial output notebook is kept for reading
    assert (killer / "kills").read_text() == str(result.attempts)
    kept = nbformat.read(result.output, as_version=4)
    first = kept.cells[0]
    assert "shopkpi-run-failed" in first.metadata["tags"] and first.outputs[0]["output_type"] == "error"
    assert "kernel died" in first.outputs[0]["evalue"] and kept.metadata["papermill"]["exception"] is True


def test_a_multi_line_error_is_one_line_in_the_summary():
    class Failed(Exception):
        ename, evalue = "ShopkpiError", "first line\n  second line\nthird"

    assert runner.error_line(Failed()) == "ShopkpiError: first line second line third"
