"""04_creators runs in the demo pipeline, writes creators.json, figures and the shortlist, and the page renders them."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from shopkpi import paths
from shopkpi.creators.page import creators_page_html


@pytest.fixture(scope="module")
def creators_run(demo_run_session):
    """The pipeline run of the demo's latest week, which includes 04_creators (in the demo's language, zh)."""
    result = next(r for r in demo_run_session["results"] if r.notebook == "04_creators")
    assert result.status == "ok", result.error
    return demo_run_session


def test_notebook_writes_the_artifact_figures_and_shortlist(creators_run, demo_run):
    period = creators_run["period"]
    folder = paths.artifacts_dir("demo", period)
    k = json.loads((folder / "creators.json").read_text(encoding="utf-8"))
    assert {"period", "as_of", "window", "reporting_currency", "summary", "creators", "tiers", "fake_screen", "live",
            "classifier", "figures"} <= set(k)
    assert k["period"] == period and k["language"] == "zh" and k["window"]["days"] == 90
    assert k["summary"]["creators"] == len(k["creators"]) > 0
    assert sum(k["summary"]["recommendations"].values()) == len(k["creators"])
    ranks = [c["rank"] for c in k["creators"]]
    assert ranks == sorted(ranks) == list(range(1, len(ranks) + 1))
    assert all(c["recommendation"] in {"scale", "keep", "renegotiate", "drop"} and c["reason"] for c in k["creators"])
    for rel in k["figures"].values():
        assert (folder / rel).stat().st_size > 5_000
    shortlist = pd.read_csv(paths.period_outputs_dir("demo", period) / "creator_shortlist.csv", encoding="utf-8-sig")
    assert len(shortlist) == len(k["creators"]) and "达人" in shortlist.columns


def test_page_renders_from_the_artifact_only(creators_run, demo_run):
    period = creators_run["period"]
    page = creators_page_html("demo", period)
    assert 'data-page="creators"' in page and "<img" in page
    k = json.loads((paths.artifacts_dir("demo", period) / "creators.json").read_text(encoding="utf-8"))
    assert all(f'data-creator="{c["creator"]}"' in page for c in k["creators"][:5])
    assert "no_artifact" not in page
    assert "本期尚无达人复盘" in creators_page_html("demo", "2020-W01")
