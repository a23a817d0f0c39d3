"""03_content runs on the small demo, writes content.json and its figures; subsets by parameters; the page reads only the artifact."""

from __future__ import annotations

import json

import nbformat
import pytest

from shopkpi import paths
from shopkpi.app import runner
from shopkpi.content.page import page_html
from shopkpi.content.pipeline import resolve_content_run
from shopkpi.content.summary import review_lines
from shopkpi.errors import ParamsError

NOTEBOOK = paths.notebooks_dir() / "03_content.ipynb"


@pytest.fixture(scope="module")
def content_run(demo_run_session, tmp_path_factory):
    from conftest import workspace_env

    # The pipeline run already executed 03_content for the whole client (zh); only the subset runs here.
    result = next(r for r in demo_run_session["results"] if r.notebook == "03_content")
    assert result.status == "ok", result.error
    out = tmp_path_factory.mktemp("content_nb")
    with workspace_env(str(demo_run_session["root"])):
        period = demo_run_session["period"]
        full = paths.artifacts_dir("demo", period) / "content.json"
        before = full.read_bytes()
        runner.execute("03_content", {"client": "demo", "period": period, "language": "en", "markets": "UK",
                                      "tiers": "micro,mid"}, out / "03_content.subset.ipynb")
        after = full.read_bytes()
    return demo_run_session | {"full_before": before, "full_after": after}


def _artifact(period: str, name: str = "content.json") -> dict:
    return json.loads((paths.artifacts_dir("demo", period) / name).read_text(encoding="utf-8"))


def test_notebook_is_committed_thin_and_clean():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    import papermill

    assert set(papermill.inspect_notebook(str(NOTEBOOK))) == {"client", "period", "language", "markets", "tiers"}
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit the notebook without outputs"
    source = "\n".join(c.source for c in code)
    assert "resolve_content_run(" in source  # parameters validated in the library
    for figure in ("forest_figure", "funnel_figure", "waterfall_figure", "lifecycle_figure"):
        assert f"figures.{figure}(" in source
    assert "def " not in source and "import pandas" not in source  # the analysis lives in lib/


def test_notebook_writes_the_artifact_with_figures(content_run, demo_run):
    period = content_run["period"]
    k = _artifact(period)
    assert {"period", "language", "reporting_currency", "window", "funnels", "decomposition", "effects", "holdout",
            "experiments", "lifecycle", "traffic", "recommendations", "missing", "figures", "filters"} <= set(k)
    assert k["period"] == period and k["language"] == "zh" and k["filters"] == {"markets": [], "tiers": []}
    total = k["funnels"]["total"][0]
    assert total["ctr"] == pytest.approx(total["product_clicks"] / total["views"])
    folder = paths.artifacts_dir("demo", period)
    assert {"funnel", "waterfall", "lifecycle", "traffic"} <= set(k["figures"])
    if k["effects"]:
        assert "forest" in k["figures"]
    else:
        assert k["missing"]["effects"]
    for rel in k["figures"].values():
        assert (folder / "figures" / rel).stat().st_size > 5_000
    assert k["lifecycle"]["orders"]["share_24h"]["value"] <= k["lifecycle"]["orders"]["share_72h"]["value"]


def test_a_subset_run_keeps_its_own_artifact(content_run, demo_run):
    period = content_run["period"]
    assert content_run["full_before"] == content_run["full_after"], "a subset run must not overwrite content.json"
    k = _artifact(period, "content.UK.micro-mid.json")
    assert k["filters"] == {"markets": ["UK"], "tiers": ["micro", "mid"]} and k["language"] == "en"
    full = _artifact(period)
    assert 0 < k["window"]["videos"] < full["window"]["videos"]
    assert {r["market"] for r in k["funnels"]["market"]} <= {"UK"}
    assert {r["tier"] for r in k["funnels"]["tier"]} <= {"micro", "mid"}
    assert all(name.endswith(".UK.micro-mid.png") for name in k["figures"].values())


def test_parameters_are_validated_with_clear_errors(demo_run):
    period = demo_run["period"]
    ctx, markets, tiers = resolve_content_run("demo", period, "en", " TH, UK", ["nano"])
    assert markets == ["TH", "UK"] and tiers == ["nano"]
    with pytest.raises(ParamsError, match=r"markets \['US'\] are not markets of client 'demo'.*\['UK', 'TH'\]"):
        resolve_content_run("demo", period, "en", markets="US")
    with pytest.raises(ParamsError, match=r"tiers \['mega'\] are not creator tiers.*nano"):
        resolve_content_run("demo", period, "en", tiers="mega")
    with pytest.raises(ParamsError, match="markets must be a comma-separated string"):
        resolve_content_run("demo", period, "en", markets=3)
    with pytest.raises(ParamsError, match="unknown parameter"):
        resolve_content_run("demo", period, "en", creator="x")
    with pytest.raises(ParamsError, match=r"unknown parameter\(s\) \['tier'\]"):
        runner.check_parameters(NOTEBOOK, {"client": "demo", "tier": "nano"})


def test_page_renders_from_the_artifact_only(content_run, demo_run, monkeypatch):
    from shopkpi import store

    def refuse(*args, **kwargs):
        raise AssertionError("the page must not read the store")

    monkeypatch.setattr(store.Store, "connect", refuse)
    period = content_run["period"]
    html = page_html("demo", period)
    assert 'data-page="content"' in html and "<img" in html and "内容分析" in html
    none = page_html("demo", "2020-W01")
    assert "本期尚无内容分析" in none and "No content analysis for this period" in none and "<img" not in none


def test_review_lines_in_both_languages(content_run, demo_run):
    k = _artifact(content_run["period"])
    en, zh = review_lines(k, "en"), review_lines(k, "zh")
    assert 3 <= len(en) == len(zh) <= 5
    assert en[0].startswith(f"Videos posted in {k['period']}") and "发布的视频" in zh[0]
    assert all(line.strip() for line in en + zh)
