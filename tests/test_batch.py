"""The Monday batch on a local Dask cluster: parallel clients, one broken client isolated, reruns skipped."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import nbformat
import pytest

from shopkpi import paths
from shopkpi.runner import PIPELINE

from conftest import make_workspace

pytestmark = pytest.mark.notebook


@pytest.fixture(scope="module")
def batch_workspace(demo_run_session, tmp_path_factory):
    root = make_workspace(tmp_path_factory.mktemp("batch_ws"), clients=("demo", "acme"))
    for client in ("demo", "acme"):
        shutil.copytree(demo_run_session["root"] / "data" / "demo" / "raw", root / "data" / client / "raw")
    # acme's export folder holds a file that is not a readable export.
    (root / "data" / "acme" / "raw" / "UK" / "orders" / "broken.csv").write_bytes(b"Order ID,Quantity\n\x80\xff,1\n")
    return root


@pytest.fixture(scope="module")
def month(demo_run_session):
    """The month of the demo's latest week: the batch runs the monthly review (the week runs everywhere else)."""
    from shopkpi.periods import parse_period

    start = parse_period(demo_run_session["period"]).start
    return f"{start.year}-{start.month:02d}"


def _batch(root, *args):
    env = {**__import__("os").environ, paths.WORKSPACE_ENV: str(root)}
    return subprocess.run([sys.executable, "-m", "shopkpi.cli", "batch", *args], capture_output=True, text=True, env=env, timeout=600)


def test_one_broken_client_fails_cleanly_and_the_others_succeed(batch_workspace, month):
    out = _batch(batch_workspace, "--all", "--workers", "2", "--period", month)
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


def test_unchanged_client_is_skipped_and_force_reruns(batch_workspace, month):
    out = _batch(batch_workspace, "--clients", "demo", "--period", month)
    assert out.returncode == 0 and "demo                 skipped" in out.stdout
    # A new export changes the inputs: the client runs again.
    raw = batch_workspace / "data" / "demo" / "raw" / "UK" / "orders"
    source = sorted(raw.glob("*.csv"))[-1]
    shutil.copy(source, raw / "resent_copy.csv")
    with open(raw / "resent_copy.csv", "a", encoding="utf-8") as fh:
        fh.write("\n")
    out = _batch(batch_workspace, "--clients", "demo", "--period", month)
    assert out.returncode == 0 and "08_review_report     ok" in out.stdout, out.stdout
    assert "demo                 skipped" not in out.stdout


def test_unknown_client_is_refused(batch_workspace):
    out = _batch(batch_workspace, "--clients", "nobody")
    assert out.returncode == 2 and "no params file" in out.stderr
