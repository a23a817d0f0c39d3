"""Shared fixtures: isolated workspaces, a small demo client run end to end once per session."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

import pytest
from hypothesis import settings

# CI explores the same examples every run (a red run must be reproducible); local runs keep exploring.
settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

from shopkpi import paths

PROJECT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
SHARED_REAL = PROJECT.parent / "shared" / "data" / "real"
DEMO_TEST_SCALE = 0.02
# Analyses are validated against the generator's truth on a larger demo (about 20 s to build).
DEMO_VALIDATION_SCALE = 0.3


@contextlib.contextmanager
def workspace_env(root: Path):
    """Point the library (and kernels started meanwhile) at a workspace, then restore the previous one."""
    previous = os.environ.get(paths.WORKSPACE_ENV)
    os.environ[paths.WORKSPACE_ENV] = str(root)
    try:
        yield root
    finally:
        if previous is None:
            os.environ.pop(paths.WORKSPACE_ENV, None)
        else:
            os.environ[paths.WORKSPACE_ENV] = previous


def make_workspace(root: Path, clients=("demo",)) -> Path:
    (root / "params").mkdir(parents=True, exist_ok=True)
    template = (PROJECT / "params" / "demo.yaml").read_text(encoding="utf-8")
    for client in clients:
        (root / "params" / f"{client}.yaml").write_text(template.replace("client: demo", f"client: {client}"), encoding="utf-8")
    shutil.copytree(PROJECT / "params" / "targets", root / "params" / "targets", dirs_exist_ok=True)
    return root


def client_workspace(root: Path, client: str, extra_params: str = "") -> Path:
    """A workspace with one client whose params are the demo's plus `extra_params` (YAML text appended)."""
    make_workspace(root, clients=(client,))
    path = root / "params" / f"{client}.yaml"
    path.write_text(path.read_text(encoding="utf-8") + extra_params, encoding="utf-8")
    return root


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Path:
    """An empty workspace with params for clients demo and acme."""
    root = make_workspace(tmp_path / "ws", clients=("demo", "acme"))
    monkeypatch.setenv(paths.WORKSPACE_ENV, str(root))
    return root


@pytest.fixture(scope="session")
def demo_run_session(tmp_path_factory):
    """A small demo client generated, ingested and run through every notebook, once per session."""
    from shopkpi.demo import generate_demo_client
    from shopkpi.ingest.pipeline import ingest
    from shopkpi.params import load_client_params
    from shopkpi.app.runner import run_pipeline

    root = make_workspace(tmp_path_factory.mktemp("demo_ws"))
    with workspace_env(str(root)):
        summary = generate_demo_client(paths.client_data_dir("demo"), seed=7, scale=DEMO_TEST_SCALE)
        report = ingest("demo", load_client_params("demo"))
        period, results = run_pipeline("demo")
    return {"root": root, "summary": summary, "ingest": report, "period": period, "results": results}


@pytest.fixture
def demo_run(demo_run_session, monkeypatch):
    """The session's small demo run, with SHOPKPI_WORKSPACE pointing at it for this test."""
    monkeypatch.setenv(paths.WORKSPACE_ENV, str(demo_run_session["root"]))
    return demo_run_session


@pytest.fixture(scope="session")
def demo_store_session(tmp_path_factory):
    """A demo client at validation scale (seed 42), generated and ingested, no notebooks run; once per session."""
    from shopkpi.demo import generate_demo_client
    from shopkpi.ingest.pipeline import ingest
    from shopkpi.params import load_client_params

    root = make_workspace(tmp_path_factory.mktemp("validation_ws"))
    with workspace_env(str(root)):
        generate_demo_client(paths.client_data_dir("demo"), seed=42, scale=DEMO_VALIDATION_SCALE)
        ingest("demo", load_client_params("demo"))
    return root


@pytest.fixture
def demo_store(demo_store_session, monkeypatch):
    """Workspace root of the validation-scale demo, with SHOPKPI_WORKSPACE pointing at it for this test.

    Truth is in data/demo/truth/truth.json. Never write into its store; write outputs under tmp_path.
    """
    monkeypatch.setenv(paths.WORKSPACE_ENV, str(demo_store_session))
    return demo_store_session


# Fixtures that build a demo client: a test using one belongs to the pipeline layer, not the fast unit layer.
PIPELINE_FIXTURES = {"demo_run", "demo_run_session", "demo_store", "demo_store_session", "voila_server", "partial_month"}


def pytest_collection_modifyitems(items):
    for item in items:
        if PIPELINE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.pipeline)


def copy_fixture(name: str, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(FIXTURES / name, dest / name))
