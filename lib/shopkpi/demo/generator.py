"""Orchestrates the demo client: plan, simulate, write raw exports, write truth.json, return a summary."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopkpi.demo import (
    affiliate_export, ads_export, api_truth, content_export, contracts_export, inventory, orders_export, settlement_export,
    shop_health, truth,
)
from shopkpi.demo.ads import draw_delivery_and_orders, plan_ads, scale_budgets
from shopkpi.demo.ads import expected_lines as ads_expected_lines
from shopkpi.demo.catalog import build_catalog
from shopkpi.demo.clock import DAY, HOUR, epoch_day
from shopkpi.demo.content import (
    add_captions, build_videos, draw_counts, draw_orders, expected_lines, product_demand, scale_views,
    variant_tables,
)
from shopkpi.demo.creators import build_creators, follower_snapshots, snapshot_dates
from shopkpi.demo.demand import FUTURE_DAYS, build_demand
from shopkpi.demo.events import daily_multipliers, market_events, mega_sale_days
from shopkpi.demo.lifecycle import PlantedWeeks
from shopkpi.demo.live import build_sessions, draw_metrics_and_orders, scale_viewers
from shopkpi.demo.live import expected_lines as live_expected_lines
from shopkpi.demo.markets import MARKET_CODES
from shopkpi.demo.orders import attributed_orders, combine, finalise, organic_orders, sample_orders, test_orders
from shopkpi.demo.texts import live_titles

VERSION = "1.0"
HISTORY_DAYS = 400
# Shares of expected order lines per market carried by each attributed channel (the rest is organic).
CHANNEL_SHARES = {"creator_video": 0.28, "live": 0.07, "ads": 0.04}
ORGANIC_FLOOR = 0.15
SMOOTH_DAYS = 29
_STREAMS = ["catalog", "demand", "creators", "videos", "live", "ads", "spells", "orders", "finalise", "files",
            "dirt", "video_export", "tagging", "comments", "snapshots", "health", "stock", "captions", "settlement"]


@dataclass
class DemoSummary:
    """What was generated; `files` maps paths relative to raw/ to data row counts."""

    files: dict[str, int]
    order_lines: int
    unique_order_lines: int
    orders: int
    skus: int
    creators: int
    videos: int
    live_sessions: int
    markets: list[str]
    start_date: dt.date
    end_date: dt.date
    seed: int = 42
    scale: float = 1.0
    truth_path: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["start_date"] = self.start_date.isoformat()
        out["end_date"] = self.end_date.isoformat()
        return out


def sizes(scale: float) -> dict[str, int]:
    """Entity counts: volume scales linearly, catalogue and content sublinearly."""
    return {
        "skus": max(24, int(round(150 * scale ** 0.3))),
        "creators": max(30, int(round(300 * scale ** 0.4))),
        "videos": max(120, int(round(5000 * scale ** 0.6))),
        "live_sessions": max(10, int(round(150 * scale ** 0.5))),
        "powered_pairs": max(6, int(round(40 * scale ** 0.5))),
        "underpowered_pairs": 6 if scale >= 0.25 else 3,
    }


def _calendar(start: dt.date, n_days: int) -> tuple[dict, dict, dict]:
    last = start + dt.timedelta(days=n_days - 1)
    events = {m: market_events(m, start, last) for m in MARKET_CODES}
    mult = {m: daily_multipliers(events[m], start, n_days) for m in MARKET_CODES}
    mega = {m: mega_sale_days(events[m], start, n_days) for m in MARKET_CODES}
    return events, mult, mega


def planned_order_lines(scale: float = 1.0, *, seed: int = 42, end_date: dt.date = dt.date(2026, 11, 18)) -> float:
    """Expected unique order lines over the history without writing anything (before stock-out censoring)."""
    rngs = np.random.default_rng(seed).spawn(len(_STREAMS))
    rng = dict(zip(_STREAMS, rngs))
    start = end_date - dt.timedelta(days=HISTORY_DAYS)
    n_hist = HISTORY_DAYS + 1
    _, mult, _ = _calendar(start, n_hist + FUTURE_DAYS)
    skus = build_catalog(rng["catalog"], sizes(scale)["skus"], n_hist)
    demand = build_demand(rng["demand"], skus, mult, start, n_hist, scale)
    return float(demand.history().sum())


def generate_demo_client(
    client_dir: Path,
    *,
    seed: int = 42,
    scale: float = 1.0,
    end_date: dt.date = dt.date(2026, 11, 18),
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Write a deterministic fake client (raw exports + truth) under client_dir."""
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale!r}")
    say = progress or (lambda _msg: None)
    client_dir = Path(client_dir)
    raw, truth_dir = client_dir / "raw", client_dir / "truth"
    for d in (raw, truth_dir):
        if d.exists():
            shutil.rmtree(d)
    raw.mkdir(parents=True)
    rng = dict(zip(_STREAMS, np.random.default_rng(seed).spawn(len(_STREAMS))))
    n = sizes(scale)
    start = end_date - dt.timedelta(days=HISTORY_DAYS)
    n_hist = HISTORY_DAYS + 1
    asof_final = (epoch_day(end_date) + 1) * DAY + 10 * HOUR
    fixed_time = dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time(10, 0))

    say("planning catalogue, demand and calendar")
    events, mult, mega = _calendar(start, n_hist + FUTURE_DAYS)
    skus = build_catalog(rng["catalog"], n["skus"], n_hist)
    demand = build_demand(rng["demand"], skus, mult, start, n_hist, scale)
    creators = build_creators(rng["creators"], n["creators"])
    prod_lam = product_demand(skus, demand.lam)
    variants = variant_tables(skus, demand.history())
    hist_total = {m: float(demand.history()[:, i].sum()) for i, m in enumerate(MARKET_CODES)}

    say("planning videos, LIVE sessions and ads")
    video_target = {m: CHANNEL_SHARES["creator_video"] * t for m, t in hist_total.items()}
    vs = build_videos(rng["videos"], n["videos"], creators, skus, prod_lam, mega, start, n_hist,
                      {"cover-test-03": n["powered_pairs"], "caption-test-07": n["underpowered_pairs"]}, video_target)
    add_captions(rng["captions"], vs, skus)
    scale_views(vs, variants.count, n_hist, video_target)
    draw_counts(rng["videos"], vs)
    ls = build_sessions(rng["live"], n["live_sessions"], creators, prod_lam, mega, start, n_hist)
    scale_viewers(ls, variants.count, {m: CHANNEL_SHARES["live"] * t for m, t in hist_total.items()})
    ad_set = plan_ads(rng["ads"], vs, creators, skus, mega, start, n_hist)
    scale_budgets(ad_set, skus, prod_lam, {m: CHANNEL_SHARES["ads"] * t for m, t in hist_total.items()})

    say("simulating orders")
    shape = (len(skus), len(MARKET_CODES), n_hist)
    attributed = (expected_lines(vs, variants, shape) + live_expected_lines(ls, variants, shape)
                  + ads_expected_lines(ad_set, variants, shape))
    lam_hist = demand.history()
    # Carve attributed demand out of organic over a +-14 day window: LIVE and video spikes stay visible
    # while each SKU's monthly totals still follow the demand formula.
    carved = _smooth_days(attributed, SMOOTH_DAYS)
    lam_org = np.maximum(lam_hist - carved, ORGANIC_FLOOR * lam_hist)
    excess = np.maximum(carved - (1 - ORGANIC_FLOOR) * lam_hist, 0)
    spells = inventory.plan_past_spells(rng["spells"], demand, skus, scale)
    for sp in spells.itertuples():
        lam_org[sp.sku_idx, sp.m_idx, sp.start_day:sp.end_day + 1] = 0
    r = rng["orders"]
    video_orders = draw_orders(r, vs, variants, start, n_hist)
    live_orders = draw_metrics_and_orders(r, ls, variants, start, n_hist)
    ads_orders = draw_delivery_and_orders(r, ad_set, variants, start)
    live_host = ls.sessions.set_index("live_idx")
    live_orders["creator_idx"] = live_host["creator_idx"].reindex(live_orders["live_idx"]).to_numpy()
    live_channel = np.where(live_host["seller_host"].reindex(live_orders["live_idx"]).to_numpy(), "seller_live",
                            "creator_live")
    parts = [
        organic_orders(r, lam_org, start),
        attributed_orders(video_orders, np.where(video_orders["showcase"], "creator_showcase", "creator_video")),
        attributed_orders(live_orders, live_channel),
        attributed_orders(ads_orders, "ads"),
        sample_orders(r, creators, vs.videos, skus, prod_lam, start, n_hist),
        test_orders(r, skus, lam_hist, start, n_hist, scale),
    ]
    orders, lines = combine(parts, spells)
    planted = PlantedWeeks(
        late_dispatch={"TH": _monday(end_date - dt.timedelta(weeks=15))},
        missing_tracking={"UK": _monday(end_date - dt.timedelta(weeks=23))},
    )
    planted_response = {"TH": _monday(end_date - dt.timedelta(weeks=9))}
    book = finalise(rng["finalise"], orders, lines, skus, creators, mega, mult, planted, start)
    ads_export.attach_conversions(ad_set, book)

    counts: dict[str, int] = {}
    order_files = orders_export.plan_files(book, start, n_hist, rng["files"])
    dirt_plan = orders_export.plan_dirt(rng["dirt"], book, order_files, scale)
    c, dirt_rows, snapshots = orders_export.write_order_files(raw, book, skus, order_files, dirt_plan, say)
    counts.update(c)
    order_lines_written = sum(c.values())
    status_changes = orders_export.status_changes(snapshots, book)
    api_truth.write(truth_dir, book, skus, asof_final)

    aff = affiliate_export.affiliate_lines(book, creators, vs.videos, ls.sessions, asof_final)
    counts.update(affiliate_export.write_affiliate_files(raw, aff, skus, asof_final, say))
    settled = settlement_export.assign_statements(
        settlement_export.settlement_lines(rng["settlement"], book, skus, aff, asof_final), asof_final)
    c, payouts = settlement_export.write_statement_files(raw, settled, skus, asof_final, fixed_time, say)
    api_truth.write_statements(truth_dir, settled, skus, payouts)
    counts.update(c)
    counts.update(ads_export.write_ads_files(raw, ad_set, start, n_hist, say))
    vrows = content_export.video_metrics(rng["video_export"], vs, ad_set, book, skus, asof_final)
    counts.update(content_export.write_video_files(raw, vrows, vs, creators, skus, say))
    ls.sessions["title"] = live_titles(rng["live"], len(ls.sessions), ls.sessions["market"].to_numpy(),
                                       _event_names(events, start, ls.sessions))
    lm = content_export.live_metrics(ls, book, asof_final)
    counts.update(content_export.write_live_files(raw, lm, start, end_date, say))
    say("content tagging, creators, shop health, inventory")
    counts.update(content_export.write_tagging_sheet(raw, rng["tagging"], vs, fixed_time))
    snaps = follower_snapshots(rng["snapshots"], creators, snapshot_dates(start, end_date))
    counts.update(content_export.write_follower_snapshots(raw, snaps))
    counts.update(contracts_export.write_contracts(raw, creators, fixed_time))
    c, commented = content_export.write_comments(raw, rng["comments"], vs, vrows, skus)
    counts.update(c)
    health = shop_health.compute(book, start, end_date, rng["health"], planted_response)
    counts.update(shop_health.write_files(raw, health, start, end_date, fixed_time))
    positions, upcoming = inventory.plan_positions(rng["stock"], demand, skus, spells, scale)
    units = inventory.realised_units(book, len(skus), n_hist)
    history = inventory.stock_history(rng["stock"], units, skus, spells, positions)
    counts.update(inventory.write_inventory_files(raw, skus, positions, history, start, end_date, fixed_time))

    say("writing truth.json")
    summary = DemoSummary(
        files=dict(sorted(counts.items())), order_lines=order_lines_written, unique_order_lines=len(book.lines),
        orders=len(book.orders), skus=len(skus), creators=len(creators), videos=len(vs.videos),
        live_sessions=len(ls.sessions), markets=list(MARKET_CODES), start_date=start, end_date=end_date,
        seed=seed, scale=scale, truth_path=str(truth_dir / "truth.json"),
    )
    inputs = truth.TruthInputs(
        summary=summary.to_dict(), skus=skus, demand=demand, events=events, creators=creators, videos=vs,
        live=ls, live_metrics=lm, ads=ad_set, book=book, affiliate=aff, health=health, planted=planted,
        planted_response=planted_response, spells=spells, upcoming=upcoming, dirt_rows=dirt_rows,
        status_changes=status_changes, excess=excess, commented=commented, snapshots=snaps,
        order_files=order_files, channel_shares=CHANNEL_SHARES, organic_floor=ORGANIC_FLOOR, smooth_days=SMOOTH_DAYS,
        version=VERSION,
    )
    document = truth.assemble(inputs)
    document["profit"] = settlement_export.profit_truth(settled, skus, payouts, asof_final)
    truth.write(truth_dir / "truth.json", document)
    say("done")
    return summary


def _smooth_days(values: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average along the last axis that keeps each series' total."""
    kernel = np.ones(width) / width
    flat = values.reshape(-1, values.shape[-1])
    out = np.array([np.convolve(row, kernel, mode="same") for row in flat]).reshape(values.shape)
    kept = out.sum(axis=-1, keepdims=True)
    total = values.sum(axis=-1, keepdims=True)
    return out * np.divide(total, kept, out=np.ones_like(total), where=kept > 0)


def _monday(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


def _event_names(events: dict, start: dt.date, sessions: pd.DataFrame) -> list[str]:
    by_day: dict[tuple[str, str], str] = {}
    for m, evs in events.items():
        for ev in evs:
            if ev["multiplier"] >= 1.4:
                for d in ev["dates"]:
                    by_day.setdefault((m, d), ev["name"].replace(" Sale", ""))
    return [by_day.get((m, (start + dt.timedelta(days=int(d))).isoformat()), "")
            for m, d in zip(sessions["market"], sessions["day"])]
