"""Content analysis building blocks on small hand-made data: ratios of sums, exact GMV decomposition, tests, lifecycle."""

import math

import numpy as np
import pandas as pd
import pytest

from shopkpi.content import experiments, funnel, lifecycle
from shopkpi.content.features import caption_features, tier_of
from shopkpi.dictionary import labels


def test_group_ratios_are_recomputed_from_sums_not_averaged():
    videos = pd.DataFrame({"hook_type": ["q", "q"], "views": [100, 10_000], "product_clicks": [10, 100],
                           "orders": [5, 1], "gmv_reporting": [50.0, 30.0]})
    row = funnel.funnel(videos, "hook_type").iloc[0]
    assert row["ctr"] == pytest.approx(110 / 10_100)
    assert row["ctor"] == pytest.approx(6 / 110)
    assert row["gpm"] == pytest.approx(80.0 / 10_100 * 1000)
    assert row["aov"] == pytest.approx(80.0 / 6)
    per_row_mean = (videos["product_clicks"] / videos["views"]).mean()
    assert abs(row["ctr"] - per_row_mean) > 0.04  # averaging per video would report 5.5%, the truth is 1.09%


def test_group_sums_keep_every_video_including_untagged():
    videos = pd.DataFrame({"hook_type": ["q", None, "n"], "views": [1, 2, 3], "product_clicks": [0, 1, 1],
                           "orders": [0, 0, 1], "gmv_reporting": [0.0, 0.0, 9.0]})
    table = funnel.funnel(videos, "hook_type")
    assert set(table["hook_type"]) == {"q", "n", "not_tagged"} and table["units"].sum() == 3 and table["views"].sum() == 6


def test_gmv_decomposition_multiplies_back_and_contributions_add_up():
    now = {"views": 961_719.0, "product_clicks": 12_601.0, "orders": 703.0, "gmv_reporting": 17_770.6}
    before = {"views": 1_528_207.0, "product_clicks": 18_626.0, "orders": 928.0, "gmv_reporting": 26_867.59}
    table = funnel.decompose(now, before).set_index("factor")
    assert math.prod(table["current"]) == pytest.approx(now["gmv_reporting"], rel=1e-12)
    assert math.prod(table["previous"]) == pytest.approx(before["gmv_reporting"], rel=1e-12)
    assert math.prod(table["ratio"]) == pytest.approx(now["gmv_reporting"] / before["gmv_reporting"], rel=1e-12)
    assert table["contribution"].sum() == pytest.approx(now["gmv_reporting"] - before["gmv_reporting"], abs=1e-6)
    assert funnel.main_driver(table.reset_index()) == "views"


def test_decomposition_without_orders_is_undefined_not_invented():
    table = funnel.decompose({"views": 10.0, "product_clicks": 1.0, "orders": 0.0, "gmv_reporting": 0.0},
                             {"views": 10.0, "product_clicks": 1.0, "orders": 1.0, "gmv_reporting": 5.0})
    assert table["contribution"].isna().all() and funnel.main_driver(table) is None


def test_caption_features_and_tiers():
    caps = pd.Series(["Link in the shop tab 👇 #fyp #amazonfinds", "ราคานี้จริงดิ?! กดตะกร้าเลย #ของดี", "", None])
    f = caption_features(caps)
    assert f["hashtag_count"].tolist() == [2, 1, 0, 0]
    assert f["has_cta"].tolist() == [True, True, False, False]
    assert f["has_question"].tolist() == [False, True, False, False]
    assert f["has_emoji"].tolist() == [True, False, False, False]
    assert f["caption_language"].tolist() == ["latin", "th", "none", "none"]
    assert tier_of(pd.Series([9_999, 10_000, 99_999, 100_000, 1_000_000])).tolist() == ["nano", "micro", "micro", "mid", "macro"]


def _paired_test(rng, pairs, lift, views=20_000):
    rows = []
    for i in range(pairs):
        ctr = 0.012 * rng.lognormal(0, 0.2)
        for variant, mult in (("A", 1.0), ("B", lift)):
            v = int(views * rng.lognormal(0, 0.5))
            clicks = rng.poisson(v * ctr * mult * rng.lognormal(0, 0.05))
            rows.append({"video_id": f"{i}{variant}", "creator": f"c{i}", "experiment_id": "t", "experiment_variant": variant,
                         "posted_at": pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(days=3 * i, hours=1 if variant == "B" else 0),
                         "views": v, "product_clicks": clicks, "orders": rng.binomial(clicks, 0.05)})
    return pd.DataFrame(rows)


def test_ab_test_detects_a_powered_lift_and_flags_an_underpowered_one():
    rng = np.random.default_rng(3)
    big = experiments.analyse_experiment(_paired_test(rng, 40, 1.3), "t", "ctr")
    assert big["paired"] and big["pairs"] == 40 and big["status"] == "significant" and big["powered"]
    assert big["ci_low"] < 1.3 < big["ci_high"]
    small = experiments.analyse_experiment(_paired_test(rng, 4, 1.1, views=800), "t", "ctor")
    assert not small["powered"] and small["status"] in ("underpowered", "significant_underpowered")
    assert small["views_needed"] > small["views"] and small["more_views_needed"] > 0


def test_lifecycle_recovers_a_known_accumulation_curve():
    rng = np.random.default_rng(0)
    tau, k, n = 4.0, 0.6, 800
    a1 = rng.uniform(0.5, 20, n)
    a2 = a1 + rng.uniform(5, 30, n)
    total = rng.lognormal(11, 1, n)
    share = lambda a: 1 - np.exp(-(a / tau) ** k)
    pairs = pd.DataFrame({"video_id": range(n), "age1": a1, "age2": a2,
                          "views1": total * share(a1) * rng.lognormal(0, 0.03, n), "views2": total * share(a2)})
    result = lifecycle.accumulation_from_snapshots(pairs)
    expected = share(1.0) / share(lifecycle.HORIZON_DAYS)
    assert result["share_24h"]["ci_low"] <= expected <= result["share_24h"]["ci_high"]
    assert abs(result["share_24h"]["value"] - expected) < 0.03
    assert lifecycle.accumulation_from_snapshots(pairs.head(5)) is None  # too few videos: no curve, not a guess


def test_every_content_label_has_both_languages():
    content = {k: v for k, v in labels().items() if k.startswith("content_")}
    assert len(content) > 80 and all({"en", "zh"} <= set(v) for v in content.values())


def _lift_rows(feature, level, reference, per_metric):
    return [{"metric": m, "feature": feature, "level": level, "reference": reference, "lift": lift,
             "ci_low": lift / 1.1, "ci_high": lift * 1.1, "significant": sig} for m, (lift, sig) in per_metric.items()]


def test_best_combination_multiplies_funnel_lifts_and_needs_fdr_evidence():
    from shopkpi.content.effects import best_combination

    rows = (_lift_rows("hook_type", "question", "none", {"views": (1.0, False), "ctr": (1.3, True), "ctor": (1.0, False)})
            + _lift_rows("hook_type", "problem", "none", {"views": (1.1, False), "ctr": (1.1, False), "ctor": (1.1, False)})
            + _lift_rows("sound", "trending", "original", {"views": (1.4, True), "ctr": (1.0, False), "ctor": (0.9, False)})
            # the largest product, but no single lift significant after FDR: weak, not chosen
            + _lift_rows("weekday", "Friday", "Monday", {"views": (1.2, False), "ctr": (1.2, False), "ctor": (1.2, False)}))
    combo = best_combination(pd.DataFrame(rows))
    assert [(c["feature"], c["level"]) for c in combo["levels"]] == [("hook_type", "question"), ("sound", "trending")]
    assert combo["lift"] == pytest.approx(1.3 * 1.4 * 0.9)
    assert combo["ci_low"] < combo["lift"] < combo["ci_high"]
    assert [(w["feature"], w["level"]) for w in combo["weak"]] == [("weekday", "Friday")]
