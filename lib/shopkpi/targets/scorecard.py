"""Role leaderboards with points from params, and the same scorecard for outsourced vendors."""

from __future__ import annotations

import pandas as pd

from shopkpi.periods import Period
from shopkpi.targets.config import TargetsConfig

TEAM_KPIS = {"creators": ["creator_gmv", "videos_posted", "new_creators"], "live": ["live_gmv", "live_hours"]}


def _period_totals(actuals: pd.DataFrame, period: Period, team: str) -> pd.DataFrame:
    rows = actuals[(actuals["team"] == team) & (actuals["person"] != "") & (actuals["kpi"].isin(TEAM_KPIS[team]))
                   & (actuals["day"] >= period.start) & (actuals["day"] <= period.end)]
    wide = rows.pivot_table(index=["market", "person"], columns="kpi", values="num", aggfunc="sum", fill_value=0.0)
    return wide.reindex(columns=TEAM_KPIS[team], fill_value=0.0).reset_index()


def leaderboard(actuals: pd.DataFrame, evaluated: pd.DataFrame, config: TargetsConfig, period: Period, team: str) -> pd.DataFrame:
    """People of a team ranked by points in the period; targets reached earn the attainment bonus."""
    board = _period_totals(actuals, period, team)
    rules = config.points
    board["points"] = 0.0
    if "videos_posted" in board:
        board["points"] += rules.video_posted * board["videos_posted"]
    if "new_creators" in board:
        board["points"] += rules.new_creator * board["new_creators"]
    if "live_hours" in board:
        board["points"] += rules.live_hour * board["live_hours"]
    board["targets"] = 0
    board["targets_met"] = 0
    if not evaluated.empty:
        personal = evaluated[(evaluated["level"] == "person") & (evaluated["team"] == team)]
        for person_key, group in personal.groupby(["market", "person"]):
            met = int((group["attainment"].fillna(0) >= 1).sum())
            hit = (board["market"] == person_key[0]) & (board["person"] == person_key[1])
            if not hit.any():  # a person with a target and no activity still belongs on the board
                board.loc[len(board)] = {**{c: 0 for c in board.columns}, "market": person_key[0], "person": person_key[1]}
                hit = (board["market"] == person_key[0]) & (board["person"] == person_key[1])
            board.loc[hit, "targets"] = len(group)
            board.loc[hit, "targets_met"] = met
            board.loc[hit, "points"] += rules.attainment_bonus * met
    sort = ["points", TEAM_KPIS[team][0]]
    board = board.sort_values(sort, ascending=False).reset_index(drop=True)
    board.insert(0, "rank", range(1, len(board) + 1))
    return board


def vendor_scorecard(actuals: pd.DataFrame, config: TargetsConfig, period: Period) -> pd.DataFrame:
    """Each vendor's creators and hosts summed on the in-house KPIs, next to everyone not under a vendor."""
    creators = _period_totals(actuals, period, "creators")
    live = _period_totals(actuals, period, "live")
    rows = []
    assigned_c, assigned_h = set(), set()
    for vendor in config.vendors:
        assigned_c |= set(vendor.creators)
        assigned_h |= set(vendor.hosts)
        rows.append(_vendor_row(vendor.name, creators[creators["person"].isin(vendor.creators)],
                                live[live["person"].isin(vendor.hosts)], len(vendor.creators) + len(vendor.hosts)))
    if config.vendors:
        rows.append(_vendor_row("", creators[~creators["person"].isin(assigned_c)], live[~live["person"].isin(assigned_h)], None))
    return pd.DataFrame(rows)


def _vendor_row(name: str, creators: pd.DataFrame, live: pd.DataFrame, contracted: int | None) -> dict:
    active = int((creators["videos_posted"] > 0).sum() + (live["live_hours"] > 0).sum()) if len(creators) + len(live) else 0
    gmv = float(creators["creator_gmv"].sum() + live["live_gmv"].sum())
    videos = float(creators["videos_posted"].sum())
    return {"vendor": name, "people": contracted, "active_people": active, "gmv": gmv, "videos_posted": videos,
            "live_hours": float(live["live_hours"].sum()), "gmv_per_video": gmv / videos if videos else None}
