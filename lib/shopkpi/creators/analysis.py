"""The whole creator review for one run: scorecard with shrinkage and recommendations, fake screen, LIVE review."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from shopkpi.creators import fake_audience, live
from shopkpi.creators.costs import KEY, has_table
from shopkpi.creators.returns import order_values
from shopkpi.creators.scorecard import build_scorecard, tier_benchmarks
from shopkpi.creators.shrinkage import EvidenceRules, recommend, shrink_cvr, shrink_roi
from shopkpi.creators.window import Window
from shopkpi.errors import NoDataError


@dataclass
class CreatorReview:
    window: Window
    reporting_currency: str
    scorecard: pd.DataFrame  # one row per creator, ranked on expected ROI
    tiers: pd.DataFrame
    screen: pd.DataFrame  # screened creators with rules, anomaly score and flag
    live_sessions: pd.DataFrame
    live_hosts: pd.DataFrame
    live_slots: pd.DataFrame
    best_slots: pd.DataFrame
    live_funnel: pd.DataFrame
    notes: dict = field(default_factory=dict)


def to_reporting(card: pd.DataFrame, params, on: dt.date, columns: list[str]) -> pd.DataFrame:
    """`<col>_rc` in the reporting currency at the rate in force on `on` (window end)."""
    rates = {c: params.fx_rate(c, on)[0] for c in card["currency"].dropna().unique()}
    rate = card["currency"].map(rates).astype(float)
    return card.assign(**{f"{c}_rc": card[c].astype(float) * rate for c in columns})


def review(con: duckdb.DuckDBPyConnection, client: str, params, window: Window,
           rules: EvidenceRules = EvidenceRules(), screen_rules: fake_audience.ScreenRules = fake_audience.ScreenRules()
           ) -> CreatorReview:
    """Everything the notebook shows and the artifact stores; `con` must come from `connect_clean`."""
    if not has_table(con, "affiliate_orders"):
        raise NoDataError("the store has no `affiliate_orders` table: ingest the Affiliate orders export first")
    card, notes = build_scorecard(con, client, window)
    if card.empty:
        raise NoDataError(f"no creator cost or affiliate order between {window.start} and {window.end}")
    card = card.join(shrink_roi(card, order_values(con, window))).join(shrink_cvr(card))
    if has_table(con, "video_products"):
        screened = fake_audience.screen(fake_audience.creator_signals(con, window), screen_rules)
    else:
        screened = pd.DataFrame(columns=KEY + fake_audience.FEATURES + ["views", "n_rules", "reasons", "anomaly_score",
                                                                        "anomaly_percentile", "flagged"])
    flags = card[KEY].merge(screened[KEY + ["flagged"]], on=KEY, how="left")["flagged"].fillna(False).astype(bool)
    flags.index = card.index
    card = card.join(recommend(card, flags, rules))
    card["fake_flagged"] = flags
    card["screened"] = card[KEY].merge(screened[KEY].assign(s=True), on=KEY, how="left")["s"].fillna(False).to_numpy()
    card = to_reporting(card, params, window.end, ["total_cost", "gmv_net", "gmv_gross", "gross_profit", "commission",
                                                   "fixed_fees", "sample_cost", "ad_spend", "cost_per_order"])
    card = card.sort_values(["roi_expected", "total_cost"], ascending=[False, False], na_position="last")
    card["rank"] = np.arange(1, len(card) + 1)
    if has_table(con, "live_sessions"):
        s = live.sessions(con, window)
        hosts, slots = live.by_host(s), live.by_slot(s, ("market", "currency", "host", "slot"))
        best, funnel = live.best_slots(s), live.funnel(s)
    else:
        s = hosts = slots = best = funnel = pd.DataFrame()
    notes["rules"] = {"min_videos": rules.min_videos, "min_product_clicks": rules.min_product_clicks,
                      "min_orders": rules.min_orders}
    return CreatorReview(window, params.reporting_currency, card.reset_index(drop=True), tier_benchmarks(card),
                         screened, s, hosts, slots, best, funnel, notes)


def review_for_run(ctx, days: int | None = None) -> tuple[CreatorReview, object]:
    """The review for a notebook run: the `days` to the period end (default 90); also the data's as-of time."""
    from shopkpi.clean import connect_clean
    from shopkpi.creators.window import DEFAULT_DAYS, window_to

    con = connect_clean(ctx.client)
    window = window_to(ctx.period, days or DEFAULT_DAYS)
    result = review(con, ctx.client, ctx.params, window)
    as_of = con.sql("SELECT strftime(timezone('UTC', max(export_as_of)), '%Y-%m-%dT%H:%M:%SZ') FROM affiliate_orders").fetchall()[0][0]
    return result, as_of
