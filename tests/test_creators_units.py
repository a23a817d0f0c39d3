"""Unit checks of the creator review's building blocks on small hand-made inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopkpi.creators.account_classifier import operating_threshold
from shopkpi.spreadsheet import neutralise
from shopkpi.creators.fake_audience import ScreenRules, screen
from shopkpi.creators.scorecard import tier_of
from shopkpi.creators.shrinkage import EvidenceRules, has_roi_evidence, recommend, shrink_roi


def _card(orders_per_creator, cost=100.0, value=50.0, tier="C"):
    rows = []
    values = []
    for i, n in enumerate(orders_per_creator):
        rows.append({"creator": f"c{i}", "market": "UK", "tier": tier, "total_cost": cost})
        values += [{"creator": f"c{i}", "market": "UK", "order_id": f"o{i}_{k}", "value": value} for k in range(n)]
    return pd.DataFrame(rows), pd.DataFrame(values)


def test_fewer_orders_means_more_shrinkage_and_wider_intervals():
    # Ten ordinary creators at ROI ~5, plus one at ROI 10 seen with many orders and one at ROI 10 with few.
    card, values = _card([10] * 10)
    big = pd.DataFrame([{"creator": "big", "market": "UK", "tier": "C", "total_cost": 100.0},
                        {"creator": "small", "market": "UK", "tier": "C", "total_cost": 10.0}])
    extra = pd.DataFrame([{"creator": "big", "market": "UK", "order_id": f"b{k}", "value": 10.0} for k in range(100)]
                         + [{"creator": "small", "market": "UK", "order_id": f"s{k}", "value": 50.0} for k in range(2)])
    rng = np.random.default_rng(1)
    values["value"] = values["value"] * rng.lognormal(0, 0.3, len(values))
    card = pd.concat([card, big], ignore_index=True)
    out = shrink_roi(card, pd.concat([values, extra], ignore_index=True)).join(card)
    b, s = out.set_index("creator").loc["big"], out.set_index("creator").loc["small"]
    assert s["roi_shrinkage"] > b["roi_shrinkage"]
    assert np.log(s["roi_hi"] / s["roi_lo"]) > np.log(b["roi_hi"] / b["roi_lo"])
    assert abs(s["roi_expected"] - s["roi_prior"]) < abs(b["roi_expected"] - b["roi_prior"])


def test_drop_needs_evidence_or_a_fake_flag():
    base = {"total_cost": 500.0, "roi_expected": 0.3, "roi_lo": 0.1, "roi_hi": 0.6, "break_even_roi": 1.5,
            "under_delivered": False, "product_clicks": 0, "orders": 0, "videos": 1}
    card = pd.DataFrame([base, {**base, "videos": 5, "product_clicks": 2000, "orders": 3}, base])
    out = recommend(card, pd.Series([False, False, True]))
    assert out["recommendation"].tolist() == ["keep", "drop", "drop"]
    assert out["reason"].tolist() == ["cr_reason_needs_evidence", "cr_reason_confidently_loss", "cr_reason_fake_audience"]
    assert has_roi_evidence(card, EvidenceRules(min_orders=3)).tolist() == [False, True, False]


def test_tiers_by_followers():
    assert [tier_of(f) for f in (500, 10_000, 60_000, 250_000, 2_000_000, None)] == ["KOC", "C", "B", "A", "S", None]


def test_screen_flags_with_reasons_and_leaves_ordinary_creators_alone():
    rng = np.random.default_rng(0)
    n = 40
    views = rng.integers(20_000, 200_000, n).astype(float)
    s = pd.DataFrame({
        "creator": [f"c{i}" for i in range(n)], "market": "UK", "videos": 5, "views": views,
        "followers": views / 5 / 0.4, "likes_per_view": rng.lognormal(np.log(0.06), 0.2, n),
        "comments_per_like": rng.lognormal(np.log(0.06), 0.2, n), "views_per_follower": rng.lognormal(np.log(0.4), 0.3, n),
        "product_ctr": rng.lognormal(np.log(0.025), 0.2, n), "engagement_per_click": rng.lognormal(np.log(3), 0.2, n),
        "duplicate_comment_share": rng.uniform(0.3, 0.7, n), "comments_sampled": 50, "follower_jump": rng.uniform(1.0, 1.2, n),
    })
    s.loc[0, ["likes_per_view", "engagement_per_click", "follower_jump"]] = [0.2, 40, 4.0]
    out = screen(s, ScreenRules()).set_index("creator")
    assert out.loc["c0", "flagged"] and {r["rule"] for r in out.loc["c0", "reasons"]} == {
        "cr_rule_likes_per_view", "cr_rule_engagement_per_click", "cr_rule_follower_jump"}
    assert out["flagged"].sum() == 1
    small = s.assign(views=100.0)
    assert screen(small).empty, "creators below the minimum views are not screened"


def test_operating_threshold_reaches_the_target_precision():
    y = np.array([1, 1, 1, 0, 1, 0, 0, 0, 0, 0])
    score = np.linspace(1, 0, 10)
    threshold = operating_threshold(y, score, 0.8)
    flagged = score >= threshold
    assert y[flagged].mean() >= 0.8 and flagged.sum() == 5


def test_formula_injection_is_neutralised():
    assert neutralise("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert [neutralise(v) for v in ("+1", "-1", "@a", "plain", 3.5)] == ["'+1", "'-1", "'@a", "plain", 3.5]
