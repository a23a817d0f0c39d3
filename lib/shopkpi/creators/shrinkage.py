"""Small samples, honestly: empirical-Bayes shrinkage of CVR and ROI toward the tier, and recommendations.

CVR: beta-binomial per tier (prior fitted by the method of moments on the tier's creators).
ROI: normal-normal on log ROI per tier. A creator's log GMV has sampling variance ~ sum(order value^2) /
(sum order value)^2 (compound Poisson); costs are known. Half a typical order (count 0.5) is added to every GMV
so a creator with no orders yet has a finite, very uncertain estimate instead of log(0).
Creators are ranked on the posterior expected ROI; the lower bound is shown beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from shopkpi.creators.costs import KEY

INTERVAL = 0.90
MIN_PRIOR_CREATORS = 5  # fewer in a tier: the tier borrows the all-creator prior


@dataclass(frozen=True)
class EvidenceRules:
    """What must be seen before "drop" is recommended on ROI (the fake screen has its own minimum)."""

    min_videos: int = 3
    min_product_clicks: int = 500
    min_orders: int = 20


def _groups(card: pd.DataFrame, usable: pd.Series) -> dict:
    tiers = card["tier"].fillna("unknown")
    counts = tiers[usable].value_counts()
    return {tier: (tiers == tier) if counts.get(tier, 0) >= MIN_PRIOR_CREATORS else None for tier in tiers.unique()}


def shrink_cvr(card: pd.DataFrame) -> pd.DataFrame:
    """Posterior mean and interval of CVR (video orders / product clicks) per creator, toward the tier."""
    clicks = card["product_clicks"].astype(float).to_numpy()
    orders = np.minimum(card["video_orders"].astype(float).to_numpy(), clicks)
    usable = pd.Series(clicks > 0, index=card.index)
    out = pd.DataFrame(index=card.index, columns=["cvr_prior", "cvr_expected", "cvr_lo", "cvr_hi"], dtype=float)

    def prior(mask: np.ndarray) -> tuple[float, float]:
        k, n = orders[mask], clicks[mask]
        p = k.sum() / n.sum()
        rates = k / n
        # Method of moments for the beta-binomial: between-creator variance beyond binomial noise.
        var = np.average((rates - p) ** 2, weights=n)
        noise = p * (1 - p) * np.mean(1 / n)
        between = max(var - noise, 1e-4 * p * (1 - p))
        strength = max(p * (1 - p) / between - 1, 1.0)
        return p * strength, (1 - p) * strength

    overall = prior(usable.to_numpy()) if usable.any() else (1.0, 1.0)
    for tier, mask in _groups(card, usable).items():
        members = (card["tier"].fillna("unknown") == tier).to_numpy()
        a, b = prior((mask & usable).to_numpy()) if mask is not None else overall
        post_a, post_b = a + orders[members], b + clicks[members] - orders[members]
        out.loc[members, "cvr_prior"] = a / (a + b)
        out.loc[members, "cvr_expected"] = post_a / (post_a + post_b)
        out.loc[members, "cvr_lo"] = stats.beta.ppf((1 - INTERVAL) / 2, post_a, post_b)
        out.loc[members, "cvr_hi"] = stats.beta.ppf((1 + INTERVAL) / 2, post_a, post_b)
    return out


def log_roi_observations(card: pd.DataFrame, order_values: pd.DataFrame) -> pd.DataFrame:
    """Per creator with a cost: observed log ROI and its sampling variance."""
    per = order_values.groupby(KEY)["value"].agg(sum_x="sum", sum_x2=lambda v: float((v ** 2).sum()), n="size")
    typical = order_values.groupby("market")["value"].median()
    d = card[KEY].join(per, on=KEY).fillna({"sum_x": 0.0, "sum_x2": 0.0, "n": 0})
    typical_value = d["market"].map(typical).fillna(0.0).to_numpy()
    sum_x = d["sum_x"].to_numpy() + 0.5 * typical_value
    sum_x2 = d["sum_x2"].to_numpy() + 0.5 * typical_value ** 2
    cost = card["total_cost"].astype(float).to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(sum_x / cost)
        se2 = sum_x2 / sum_x ** 2
    ok = (cost > 0) & (sum_x > 0)
    return pd.DataFrame({"y": np.where(ok, y, np.nan), "se2": np.where(ok, se2, np.nan)}, index=card.index)


def shrink_roi(card: pd.DataFrame, order_values: pd.DataFrame) -> pd.DataFrame:
    """Posterior expected ROI, its interval and how far it was pulled toward the tier (0 = not at all)."""
    obs = log_roi_observations(card, order_values)
    usable = obs["y"].notna()
    z = stats.norm.ppf((1 + INTERVAL) / 2)
    out = pd.DataFrame(index=card.index, columns=["roi_prior", "roi_expected", "roi_lo", "roi_hi", "roi_shrinkage"],
                       dtype=float)

    def prior(mask: pd.Series) -> tuple[float, float]:
        y, se2 = obs.loc[mask, "y"], obs.loc[mask, "se2"]
        w = 1 / se2
        mu = float((w * y).sum() / w.sum())
        # DerSimonian-Laird between-creator variance.
        q = float((w * (y - mu) ** 2).sum())
        c = float(w.sum() - (w ** 2).sum() / w.sum())
        tau2 = max((q - (len(y) - 1)) / c, 0.01) if c > 0 else 0.01
        w_star = 1 / (se2 + tau2)
        return float((w_star * y).sum() / w_star.sum()), tau2

    overall = prior(usable) if usable.any() else (0.0, 1.0)
    for tier, mask in _groups(card, usable).items():
        members = (card["tier"].fillna("unknown") == tier) & usable
        mu, tau2 = prior(mask & usable) if mask is not None else overall
        y, se2 = obs.loc[members, "y"], obs.loc[members, "se2"]
        shrink = se2 / (se2 + tau2)
        mean = shrink * mu + (1 - shrink) * y
        var = shrink * tau2  # = 1 / (1/tau2 + 1/se2)
        out.loc[members, "roi_prior"] = np.exp(mu + tau2 / 2)
        out.loc[members, "roi_expected"] = np.exp(mean + var / 2)
        out.loc[members, "roi_lo"] = np.exp(mean - z * np.sqrt(var))
        out.loc[members, "roi_hi"] = np.exp(mean + z * np.sqrt(var))
        out.loc[members, "roi_shrinkage"] = shrink
    return out


def has_roi_evidence(card: pd.DataFrame, rules: EvidenceRules = EvidenceRules()) -> pd.Series:
    """Enough seen to judge ROI: several videos and enough clicks, or enough orders."""
    return ((card["videos"] >= rules.min_videos) & (card["product_clicks"] >= rules.min_product_clicks)) | (
        card["orders"] >= rules.min_orders)


def recommend(card: pd.DataFrame, fake_flagged: pd.Series, rules: EvidenceRules = EvidenceRules()) -> pd.DataFrame:
    """scale / keep / renegotiate / drop with a reason key; needs roi_* and break_even_roi columns.

    The first rule that applies wins, so every recommendation has exactly one stated reason.
    """
    evidence = has_roi_evidence(card, rules)
    recs, reasons = [], []
    for i, r in card.iterrows():
        be = r["break_even_roi"]
        if fake_flagged.get(i, False):
            rec, why = "drop", "cr_reason_fake_audience"
        elif r["total_cost"] <= 0:
            rec, why = "keep", "cr_reason_no_cost"
        elif pd.isna(r["roi_expected"]) or pd.isna(be):
            rec, why = "keep", "cr_reason_needs_evidence"
        elif r["roi_lo"] >= be and evidence[i] and not r["under_delivered"]:
            rec, why = "scale", "cr_reason_confidently_profitable"
        elif r["roi_hi"] < be and evidence[i]:
            rec, why = "drop", "cr_reason_confidently_loss"
        elif r["under_delivered"]:
            rec, why = "renegotiate", "cr_reason_under_delivered"
        elif r["roi_expected"] < be and evidence[i]:
            rec, why = "renegotiate", "cr_reason_expected_below_break_even"
        elif not evidence[i]:
            rec, why = "keep", "cr_reason_needs_evidence"
        else:
            rec, why = "keep", "cr_reason_profitable_uncertain"
        recs.append(rec)
        reasons.append(why)
    return pd.DataFrame({"recommendation": recs, "reason": reasons, "roi_evidence": evidence}, index=card.index)
