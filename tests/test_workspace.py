"""Workspace hygiene: notebooks clean and parameterised, lib/ tracked, one dependency list, CLI help."""

import json
import re
import subprocess
import sys
import tomllib

import papermill
import pytest
import yaml

from shopkpi.cli import build_parser
from shopkpi.app.runner import PIPELINE, RUN_PARAMETERS

from conftest import PROJECT

NOTEBOOKS = sorted((PROJECT / "notebooks").rglob("*.ipynb"))
NOTEBOOKS = [p for p in NOTEBOOKS if ".ipynb_checkpoints" not in p.parts]


def test_notebooks_exist_for_the_pipeline():
    names = {p.stem for p in NOTEBOOKS}
    assert set(PIPELINE) <= names and "overview" in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{path.name}: cells {dirty} have outputs; clear them before committing"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_exactly_one_parameters_cell_first_among_code(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    tagged = [i for i, c in enumerate(nb["cells"]) if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged 'parameters'"
    first_code = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code")
    assert tagged[0] == first_code


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.stem in PIPELINE], ids=lambda p: p.name)
def test_pipeline_notebooks_declare_the_run_parameters(path):
    declared = papermill.inspect_notebook(str(path))
    assert RUN_PARAMETERS <= set(declared)
    # Anything more is for analysts in JupyterLab (e.g. a market subset); the pipeline runs the defaults.
    extra = {name: p for name, p in declared.items() if name not in RUN_PARAMETERS}
    assert all(p["default"] in ('""', "''", "[]", "None") for p in extra.values()), extra


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_build_no_paths_themselves(path):
    source = "\n".join("".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == "code")
    assert not re.search(r"(open\(|Path\(|read_csv\(|read_parquet\(|['\"]\.\.?/|os\.path)", source), f"{path.name} builds a path"


def test_lib_is_not_hidden_by_gitignore():
    result = subprocess.run(["git", "check-ignore", "-q", "lib/shopkpi/__init__.py"], cwd=PROJECT)
    assert result.returncode == 1, "lib/ is ignored by .gitignore"
    for kept in ["data/README.md", "outputs/README.md"]:
        assert subprocess.run(["git", "check-ignore", "-q", kept], cwd=PROJECT).returncode == 1
    for hidden in ["data/demo/raw/x.csv", "outputs/demo/2026-W46/x.html"]:
        assert subprocess.run(["git", "check-ignore", "-q", hidden], cwd=PROJECT).returncode == 0


def test_environment_yml_wraps_the_one_dependency_list():
    env = yaml.safe_load((PROJECT / "environment.yml").read_text())
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip_section == ['-e ".[test]"'] or pip_section == ["-e .[test]"]
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    assert project["requires-python"] == ">=" + python.split("=")[1]
    assert "test" in project["optional-dependencies"]


def test_every_subcommand_has_help():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert {"demo", "ingest", "run", "serve"} <= set(commands)
    for name in commands:
        out = subprocess.run([sys.executable, "-m", "shopkpi.cli", name, "--help"], capture_output=True, text=True)
        assert out.returncode == 0 and "usage: shopkpi" in out.stdout, name


def test_cli_reports_bad_input_without_traceback(workspace):
    out = subprocess.run([sys.executable, "-m", "shopkpi.cli", "run", "--client", "../acme"], capture_output=True, text=True)
    assert out.returncode == 2 and "client name" in out.stderr and "Traceback" not in out.stderr
