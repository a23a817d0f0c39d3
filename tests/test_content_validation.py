"""The content analysis against the demo's planted truth (data/demo/truth/truth.json, "content_effects").

The demo plants multiplicative lifts on views, CTR and CTOR for some levels of hook, script, BGM and
format; every other level, and presenter, language, weekday and video length, has no effect. The
analysis must find the planted lifts with the right sign, cover the true lift with its 95% interval
for at least 90% of them, and not call no-effect features significant more often than its FDR level.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from shopkpi import paths
from shopkpi.content.effects import FDR_ALPHA, NOT_TAGGED
from shopkpi.content.pipeline import build_content
from shopkpi.demo.content import KERNEL
from shopkpi.params import resolve_run

# The generator's feature names -> the tagging sheet's columns as analysed.
FEATURE = {"hook": "hook_type", "script": "script_structure", "bgm": "sound", "format": "format",
           "presenter": "presenter", "language": "language", "weekday": "weekday"}
DURATION = "log2_duration"  # lift per doubling of length; no planted effect on any metric


@pytest.fixture(scope="module")
def analysis(demo_store_session):
    from conftest import workspace_env

    with workspace_env(str(demo_store_session)):
        result = build_content(resolve_run("demo", "", "en"))
        truth = json.loads((paths.client_data_dir("demo") / "truth" / "truth.json").read_text(encoding="utf-8"))
    return result, truth["content_effects"]


@pytest.fixture(scope="module")
def compared(analysis) -> pd.DataFrame:
    """Every reported lift with a known true value: the truth's ratio of the level to the analysis's reference."""
    result, truth = analysis
    lifts = result.effects.lifts
    rows = []
    for metric, features in truth["lifts"].items():
        for feature, levels in features.items():
            part = lifts[(lifts["metric"] == metric) & (lifts["feature"] == FEATURE[feature])]
            assert not part.empty, f"no {metric} lifts reported for {FEATURE[feature]}"
            for r in part.itertuples():
                if r.level in (NOT_TAGGED, "other"):  # blank tags are a mix of levels, not a level with a truth
                    continue
                assert r.level in levels and r.reference in levels, f"{metric} {r.feature}={r.level} vs {r.reference}: not a planted level"
                rows.append({"metric": metric, "feature": r.feature, "level": r.level,
                             "true": levels[r.level] / levels[r.reference]} | _reported(r))
        duration = lifts[(lifts["metric"] == metric) & (lifts["feature"] == DURATION)]
        assert len(duration) == 1, f"no {metric} lift per doubling of length"
        rows.append({"metric": metric, "feature": DURATION, "level": "per_doubling", "true": 1.0}
                    | _reported(next(duration.itertuples())))
    return pd.DataFrame(rows)


def _reported(r) -> dict:
    return {"lift": r.lift, "ci_low": r.ci_low, "ci_high": r.ci_high, "q_value": r.q_value, "significant": bool(r.significant)}


def _show(df: pd.DataFrame) -> str:
    return df[["metric", "feature", "level", "true", "lift", "ci_low", "ci_high", "q_value"]].round(3).to_string(index=False)


def test_every_planted_effect_is_in_the_comparison(analysis, compared):
    _, truth = analysis
    planted = {(e["metric"], FEATURE[e["feature"]], e["level"]) for e in truth["real_effects"]}
    found = {(r.metric, r.feature, r.level) for r in compared.itertuples() if r.true != 1}
    assert planted == found, f"planted but not reported: {planted - found}; reported as planted: {found - planted}"


def test_planted_effects_recovered_with_the_correct_sign(compared):
    planted = compared[compared["true"] != 1]
    wrong = planted[np.sign(np.log(planted["lift"])) != np.sign(np.log(planted["true"]))]
    assert wrong.empty, f"planted effects estimated in the wrong direction:\n{_show(wrong)}"
    # Recovered, not only pointing the right way: most planted effects are significant after FDR. (Views are
    # noisy, NB shape 1.3, so a 15-25% views lift is not always detected at this scale; CTR and CTOR lifts are.)
    assert planted["significant"].mean() >= 0.5, f"most planted effects not significant after FDR:\n{_show(planted)}"
    wrong_way = planted[planted["significant"] & ((planted["ci_low"] > 1) != (planted["true"] > 1))]
    assert wrong_way.empty, f"significant in the wrong direction:\n{_show(wrong_way)}"


def test_true_lifts_lie_inside_their_intervals(compared):
    inside = (compared["ci_low"] <= compared["true"]) & (compared["true"] <= compared["ci_high"])
    planted = compared["true"] != 1
    share = inside[planted].mean()
    assert share >= 0.9, f"only {share:.0%} of planted lifts inside their 95% interval:\n{_show(compared[planted & ~inside])}"
    # The same intervals for the levels without an effect (true lift 1): a calibration check with more cases.
    overall = inside.mean()
    assert overall >= 0.9, f"only {overall:.0%} of all {len(compared)} true lifts inside their 95% interval"


def test_features_without_an_effect_are_not_significant_beyond_the_fdr_level(analysis, compared):
    _, truth = analysis
    nulls = compared[compared["true"] == 1]
    assert len(nulls) >= 50
    false = nulls[nulls["significant"]]
    assert len(false) / len(nulls) <= FDR_ALPHA, f"{len(false)} of {len(nulls)} no-effect lifts significant:\n{_show(false)}"
    no_effect = [FEATURE[f] for f in ("presenter", "language", "weekday")] + [DURATION]
    assert {f.split(" ")[0] for f in truth["no_effect_features"]} == {"presenter", "language", "weekday", "duration_s"}
    features = nulls[nulls["feature"].isin(no_effect)]
    share = features["significant"].mean()
    assert len(features) >= 25 and share <= FDR_ALPHA, f"no-effect features significant in {share:.0%} of tests:\n{_show(features[features['significant']])}"


def test_controls_remove_the_planted_confounding(analysis):
    """Bigger creators use trending sounds more: the naive views lift of trending BGM is inflated, the controlled one is not."""
    result, truth = analysis
    row = result.effects.lifts.set_index(["metric", "feature", "level"]).loc[("views", "sound", "trending")]
    true = truth["lifts"]["views"]["bgm"]["trending"]
    assert row["naive_lift"] > row["ci_high"] and row["ci_low"] <= true <= row["ci_high"]


def test_ab_tests_match_the_planted_experiments(analysis):
    result, truth = analysis
    tests = {(e["experiment_id"], e["metric"]): e for e in result.tests}
    for planted in truth["experiments"]:
        found = tests[(planted["name"], planted["metric"])]
        assert found["paired"] and found["pairs"] == len(planted["pairs"])
        if planted["powered"]:
            assert found["status"] == "significant" and found["ci_low"] <= planted["true_lift_b_vs_a"] <= found["ci_high"]
        else:
            assert not found["powered"] and found["more_views_needed"] > 0, found


def test_order_lifecycle_matches_the_planted_kernel(analysis):
    """Orders of a video arrive over 14 days with daily weights KERNEL (day 0 = the posting day). An order on
    day d is between d-1 and d+1 days old, so the share within 24 h lies between the day-0 weight and days 0-1,
    within 72 h between days 0-2 and 0-3, within 7 days between days 0-6 and 0-7."""
    result, _ = analysis
    orders = result.lifecycle["orders"]
    cumulative = np.cumsum(KERNEL)
    for key, days in (("share_24h", 1), ("share_72h", 3), ("share_7d", 7)):
        low, high = cumulative[days - 1], cumulative[days]
        assert low <= orders[key]["value"] <= high, f"{key} {orders[key]['value']:.3f} outside [{low:.3f}, {high:.3f}]"
        assert orders[key]["ci_low"] <= orders[key]["value"] <= orders[key]["ci_high"]
    assert orders["videos"] > 500 and orders["negative_ages"] <= orders["orders"] * 0.001


def test_best_combination_is_the_planted_one(analysis):
    """Per feature, the level with the most orders per video (views x CTR x CTOR) in the truth, and its combined lift."""
    result, truth = analysis
    lifts, best = result.effects.lifts, {}
    for feature in ("hook", "script", "bgm", "format", "presenter", "weekday"):
        reference = lifts.loc[lifts["feature"] == FEATURE[feature], "reference"].iloc[0]  # the analysis's, not the truth's
        total = {lvl: np.prod([truth["lifts"][m][feature][lvl] for m in ("views", "ctr", "ctor")])
                 for lvl in truth["lifts"]["views"][feature]}
        level = max(total, key=total.get)
        if total[level] > total[reference]:
            best[FEATURE[feature]] = (level, total[level] / total[reference])
    found = {c["feature"]: c["level"] for c in result.combination["levels"]}
    assert found == {f: level for f, (level, _) in best.items()}, result.combination
    true = float(np.prod([lift for _, lift in best.values()]))
    assert result.combination["ci_low"] <= true <= result.combination["ci_high"], (true, result.combination)
