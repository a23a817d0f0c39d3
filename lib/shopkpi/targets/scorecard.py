"""Leaderboards per team and role with points from params, and the same scorecard for outsourced vendors."""

from __future__ import annotations

import pandas as pd

from shopkpi.periods import Period
from shopkpi.targets.actuals import node_mask
from shopkpi.targets.catalogue import KPIS
from shopkpi.targets.config import DECLARED_ROLES, TEAM_OF_ROLE, TargetsConfig

TEAM_KPIS = {"creators": ["creator_gmv", "videos_posted", "new_creators"], "live": ["live_gmv", "live_hours"]}
# Each board's KPIs (the first one breaks ties in points). `creators` is the affiliate creators' team; the others are roles.
BOARD_KPIS = {
    "creators": TEAM_KPIS["creators"],
    "operator": ["gmv_net", "orders", "aov", "content_cvr"],
    "video_editor": ["video_gmv", "videos_posted", "watch_hours", "content_cvr"],
    "live_host": ["live_gmv", "live_hours", "watch_hours", "content_cvr"],
    "ad_buyer": ["roas", "ad_spend"],  # ROAS first: spend is a cost, never merit on its own
}
BOARDS = tuple(BOARD_KPIS)
# Points per unit of a KPI on any board that shows it (effort), per 1,000 of GMV and per ROAS above 1.0 (outcome).
POINTS = {"videos_posted": "video_posted", "live_hours": "live_hour", "new_creators": "new_creator"}
GMV_KPIS = ("creator_gmv", "video_gmv", "live_gmv", "gmv_net")


def _in(actuals: pd.DataFrame, period: Period) -> pd.DataFrame:
    return actuals[(actuals["day"] >= period.start) & (actuals["day"] <= period.end)]


def _period_totals(actuals: pd.DataFrame, period: Period, team: str) -> pd.DataFrame:
    rows = _in(actuals, period)
    rows = rows[(rows["team"] == team) & (rows["person"] != "") & (rows["kpi"].isin(TEAM_KPIS[team]))]
    wide = rows.pivot_table(index=["market", "person"], columns="kpi", values="num", aggfunc="sum", fill_value=0.0)
    wide = wide.reindex(columns=TEAM_KPIS[team], fill_value=0.0).reset_index()
    wide.columns.name = None
    return wide


def role_totals(actuals: pd.DataFrame, config: TargetsConfig, period: Period, role: str) -> pd.DataFrame:
    """One row per person of a role: their markets and each board KPI over the period (ratios from summed parts)."""
    rows = _in(actuals, period)
    kpis = BOARD_KPIS[role]
    names = [p.name for p in config.role_people(role)]
    if role not in DECLARED_ROLES:  # editors and hosts are named by the data; declared ones without activity stay
        team = rows[(rows["team"] == TEAM_OF_ROLE[role]) & (rows["owner"] != "")]
        names += sorted(set(team["owner"]) - set(names))
    out = []
    for name in names:
        mine = rows[node_mask(rows, role=role, person=name, config=config)]
        sums = mine.groupby("kpi")[["num", "den"]].sum()
        values = {}
        for kpi in kpis:
            num, den = (float(sums.loc[kpi, "num"]), float(sums.loc[kpi, "den"])) if kpi in sums.index else (0.0, 0.0)
            values[kpi] = (num / den if den else None) if KPIS[kpi].ratio else num
        out.append({"market": ", ".join(sorted(set(mine["market"]))), "person": name, **values})
    return pd.DataFrame(out, columns=["market", "person", *kpis])


def leaderboard(actuals: pd.DataFrame, evaluated: pd.DataFrame, config: TargetsConfig, period: Period, board: str) -> pd.DataFrame:
    """People of a team or role ranked by points in the period; personal targets reached earn the attainment bonus."""
    kpis = BOARD_KPIS[board]
    table = _period_totals(actuals, period, board) if board in TEAM_KPIS else role_totals(actuals, config, period, board)
    rules = config.points
    table["points"] = 0.0
    for kpi, rule in POINTS.items():
        if kpi in table:
            table["points"] += getattr(rules, rule) * table[kpi].astype(float)
    for kpi in GMV_KPIS:
        if kpi in table:
            table["points"] += rules.gmv_per_1000 * table[kpi].astype(float).fillna(0) / 1000
    if "roas" in table:
        table["points"] += rules.roas * (table["roas"].astype(float).fillna(0) - 1).clip(lower=0)
    table["targets"] = 0
    table["targets_met"] = 0
    if not evaluated.empty:
        personal = evaluated[(evaluated["level"] == "person") & _on_board(evaluated, board)]
        for person, group in personal.groupby(personal["person"]):
            # A creator's board is per market; a role's person is one row whatever their markets.
            for market, targets in (group.groupby("market") if board in TEAM_KPIS else [(None, group)]):
                hit = table["person"] == person
                if market is not None:
                    hit &= table["market"] == market
                if not hit.any():  # a person with a target and no activity still belongs on the board
                    table.loc[len(table)] = {**{c: 0 for c in table.columns}, "market": market or "", "person": person}
                    hit = table.index == len(table) - 1
                met = int((targets["attainment"].fillna(0) >= 1).sum())
                table.loc[hit, "targets"] = len(targets)
                table.loc[hit, "targets_met"] = met
                table.loc[hit, "points"] += rules.attainment_bonus * met
    table = table.sort_values(["points", kpis[0]], ascending=False, na_position="last").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    return table


def _on_board(evaluated: pd.DataFrame, board: str) -> pd.Series:
    """Personal targets that count on a board: the role's, and for LIVE hosts also the `live` team's (the same people)."""
    role = evaluated["role"] if "role" in evaluated else pd.Series(None, index=evaluated.index)
    if board in TEAM_KPIS:
        return evaluated["team"] == board
    return (role == board) | ((evaluated["team"] == TEAM_OF_ROLE[board]) if board == "live_host" else False)


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
