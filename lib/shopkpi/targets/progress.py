"""Attainment, pace and the target tree: explicit targets, top-down splits, stage templates, bottom-up gaps."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd
import yaml

from shopkpi.periods import Period, parse_period
from shopkpi.targets.actuals import node_mask, with_node_columns
from shopkpi.targets.catalogue import KPIS, check_kpi
from shopkpi.targets.config import DECLARED_ROLES, TargetItem, TargetsConfig

NODE_FIELDS = ("market", "shop", "team", "role", "person")

Z95 = 1.959964


@lru_cache(maxsize=None)
def stage_templates() -> dict:
    return yaml.safe_load(resources.files("shopkpi.data").joinpath("target_templates.yaml").read_text(encoding="utf-8"))


def _level(item) -> str:
    return ("person" if item.person else "role" if item.role else "team" if item.team else "shop" if item.shop
            else "market" if item.market else "company")


def node_name(market: str | None, team: str | None, person: str | None, shop: str | None = None,
              role: str | None = None) -> str:
    return " / ".join(part for part in (market, shop, team or role, person) if part) or "company"


def item_mask(actuals: pd.DataFrame, item, config: TargetsConfig) -> pd.Series:
    return node_mask(actuals, item.market, item.team, item.person, shop=item.shop, role=item.role, config=config)


def _sum(actuals: pd.DataFrame, kpi: str, start: dt.date, end: dt.date, mask: pd.Series) -> tuple[float, float]:
    rows = actuals[mask & (actuals["kpi"] == kpi) & (actuals["day"] >= start) & (actuals["day"] <= end)]
    return float(rows["num"].sum()), float(rows["den"].sum())


def actual_value(actuals: pd.DataFrame, kpi: str, start: dt.date, end: dt.date, mask: pd.Series) -> float | None:
    num, den = _sum(actuals, kpi, start, end, mask)
    if KPIS[kpi].ratio:
        return num / den if den else None
    return num


def _daily(actuals: pd.DataFrame, kpi: str, start: dt.date, end: dt.date, mask: pd.Series) -> pd.Series:
    rows = actuals[mask & (actuals["kpi"] == kpi) & (actuals["day"] >= start) & (actuals["day"] <= end)]
    days = pd.date_range(start, end, freq="D").date
    return rows.groupby("day")["num"].sum().reindex(days, fill_value=0.0)


def pace(actuals: pd.DataFrame, kpi: str, period: Period, as_of: dt.date, mask: pd.Series, target: float,
         window_days: int) -> dict:
    """Run-rate projection to the period end with a 95% interval, and the daily amount still needed.

    The rate is the mean day of the last `window_days` (so a mega-sale day does not dominate);
    the interval treats the remaining days as independent draws with that window's spread.
    """
    so_far = actual_value(actuals, kpi, period.start, as_of, mask)
    remaining = (period.end - as_of).days
    out = {"actual": so_far, "remaining_days": remaining, "projection": so_far, "projection_low": so_far,
           "projection_high": so_far, "needed_per_day": None}
    if KPIS[kpi].ratio or remaining <= 0:
        return out
    # Days before the data begins are unknown, not zero sales.
    window_start = max(as_of - dt.timedelta(days=window_days - 1), actuals["day"].min())
    history = _daily(actuals, kpi, window_start, as_of, mask)
    mean, sd = float(history.mean()), float(history.std(ddof=1)) if len(history) > 1 else 0.0
    spread = Z95 * sd * np.sqrt(remaining)
    out.update(projection=so_far + mean * remaining, projection_low=max(so_far, so_far + mean * remaining - spread),
               projection_high=so_far + mean * remaining + spread,
               needed_per_day=max(0.0, (target - so_far) / remaining), run_rate_per_day=mean)
    return out


def status(target: float, row: dict) -> str:
    if row["actual"] is None:
        return "no_data"
    if row["remaining_days"] <= 0 or KPIS[row["kpi"]].ratio:
        return "met" if row["actual"] >= target else "missed" if row["remaining_days"] <= 0 else "behind"
    if row["actual"] >= target:
        return "met"
    if row["projection_low"] >= target:
        return "on_track"
    return "off_pace" if row["projection_high"] < target else "at_risk"


def _template_items(config: TargetsConfig, periods: list[Period]) -> list[TargetItem]:
    if not config.stage:
        return []
    template = stage_templates()[config.stage]["targets"]
    # `per: day` is a daily amount (e.g. watch hours a day): the period's target is that amount times its days.
    return [TargetItem(period=p.name, kpi=entry["kpi"], value=entry["value"] * (p.days if entry["per"] == "day" else 1))
            for p in periods for entry in template if entry["per"] in (p.kind, "any", "day")]


def _reference_window(period: Period, as_of: dt.date, first_day: dt.date) -> tuple[dt.date, dt.date]:
    """The same period a year earlier when history covers it (seasonality), else the 28 days before it."""
    try:
        last_year = (period.start.replace(year=period.start.year - 1), period.end.replace(year=period.end.year - 1))
    except ValueError:  # 29 February
        last_year = (period.start - dt.timedelta(days=365), period.end - dt.timedelta(days=365))
    if last_year[0] >= first_day:
        return last_year
    end = min(period.start - dt.timedelta(days=1), as_of)
    return end - dt.timedelta(days=27), end


def _children(rule, config: TargetsConfig, actuals: pd.DataFrame) -> list[tuple[dict, pd.Series]]:
    """A split's children: each node and the rows under it."""
    blank = dict.fromkeys(NODE_FIELDS)
    if rule.to == "market":
        return [({**blank, "market": m}, actuals["market"] == m) for m in sorted(actuals["market"].dropna().unique())]
    if rule.to == "shop":
        return [({**blank, "market": rule.market, "shop": s.name}, (actuals["market"] == rule.market) & (actuals["shop"] == s.name))
                for s in config.shops if s.market == rule.market]
    parent = node_mask(actuals, rule.market, rule.team, None, role=rule.role, config=config)
    if rule.role in DECLARED_ROLES:
        names = [p.name for p in config.role_people(rule.role) if not rule.market or rule.role != "operator"
                 or rule.market in p.markets]
    else:
        names = sorted(set(actuals.loc[parent, "owner" if rule.role else "person"]) - {""})
    return [({**blank, "market": rule.market, "team": rule.team, "role": rule.role, "person": name},
             node_mask(actuals, rule.market, rule.team, name, role=rule.role, config=config)) for name in names]


def top_down_items(config: TargetsConfig, explicit: list[TargetItem], actuals: pd.DataFrame, as_of: dt.date) -> list[dict]:
    """Children targets from each split rule: the parent's value times the child's historical share."""
    out = []
    actuals = with_node_columns(actuals)
    first_day = actuals["day"].min()
    for rule in config.split:
        to_person = rule.to == "person"
        parent = next((i for i in explicit if i.period == rule.period and i.kpi == rule.kpi
                       and i.market == (rule.market if rule.to != "market" else None) and i.shop is None
                       and i.team == (rule.team if to_person else None) and i.role == (rule.role if to_person else None)
                       and i.person is None), None)
        if parent is None:
            continue
        period = parse_period(rule.period)
        start, end = _reference_window(period, as_of, first_day)
        window = (actuals["kpi"] == rule.kpi) & (actuals["day"] >= start) & (actuals["day"] <= end)
        children = _children(rule, config, actuals)
        shares = pd.Series([float(actuals.loc[window & mask, "num"].sum()) for _, mask in children], dtype=float)
        shares = shares[shares > 0]
        if shares.sum() <= 0:
            continue
        for i, value in (shares / shares.sum()).items():
            out.append({"period": rule.period, "kpi": rule.kpi, "value": parent.value * value, **children[i][0],
                        "source": "top_down", "basis": f"{start}..{end}"})
    return out


def evaluate(config: TargetsConfig, actuals: pd.DataFrame, report_period: Period,
             complete_through: dt.date | None = None) -> pd.DataFrame:
    """Every target whose period overlaps the report period, evaluated as of the report period's end or the data's
    last complete day, whichever is first (a day still being exported would count as a slow day)."""
    actuals = with_node_columns(actuals)
    as_of = report_period.end
    last_data = complete_through if complete_through is not None else actuals["day"].max()
    as_of = min(as_of, last_data) if last_data is not None else as_of
    overlapping = [i for i in config.items if parse_period(i.period).start <= report_period.end
                   and parse_period(i.period).end >= report_period.start]
    periods = sorted({parse_period(i.period) for i in overlapping} | {report_period})
    rows = [dict(i.model_dump(), source="explicit", basis="") for i in overlapping]
    def key_of(r: dict) -> tuple:
        return (r["period"], r["kpi"], *(r.get(f) for f in NODE_FIELDS))

    explicit_keys = {key_of(r) for r in rows}
    for derived in top_down_items(config, overlapping, actuals, as_of) + [
            dict(i.model_dump(), source="template", basis=config.stage) for i in _template_items(config, periods)]:
        key = key_of(derived)
        if key not in explicit_keys:
            explicit_keys.add(key)
            rows.append(derived)
    results = []
    for r in rows:
        item = TargetItem(**{k: r.get(k) for k in ("period", "kpi", "value", *NODE_FIELDS)})
        check_kpi(item.kpi, _level(item), item.team, item.role)
        period = parse_period(item.period)
        mask = item_mask(actuals, item, config)
        evaluated_to = min(as_of, period.end)
        p = pace(actuals, item.kpi, period, evaluated_to, mask, item.value, config.pace_window_days)
        row = {**dict.fromkeys(NODE_FIELDS), **r, "level": _level(item),
               "node": node_name(item.market, item.team, item.person, item.shop, item.role),
               "period_kind": period.kind, "period_start": period.start, "period_end": period.end,
               "as_of": evaluated_to, "target": item.value, **p}
        row["attainment"] = (row["actual"] / item.value) if (row["actual"] is not None and item.value) else None
        row["elapsed_share"] = ((evaluated_to - period.start).days + 1) / period.days
        # A target whose period has not begun by the data's last complete day: not started, not "behind".
        row["status"] = "not_started" if evaluated_to < period.start else status(item.value, row)
        results.append(row)
    df = pd.DataFrame(results)
    if df.empty:
        return df
    tree = df[list(NODE_FIELDS)].fillna("")
    df["depth"] = (tree != "").sum(axis=1) - ((tree["team"] != "") & (tree["role"] != ""))
    order = [f"_{f}" for f in NODE_FIELDS]
    df = df.assign(**{f"_{f}": tree[f] for f in NODE_FIELDS})
    return (df.sort_values(["period_start", "period_kind", "kpi", *order])
              .drop(columns=order).reset_index(drop=True))


def _child_groups(parent, additive: pd.DataFrame) -> list[pd.DataFrame]:
    """The groups of targets directly under a parent that add up to it: a market's shops, its teams, a team's or
    role's persons. A role is not a share of its market (an operator's KPIs are the whole market's), so a market's
    role targets are not summed against it."""
    def same(*fields) -> pd.Series:
        return np.logical_and.reduce([additive[f].fillna("") == (getattr(parent, f) or "") for f in fields])

    if parent.level == "company":
        return [additive[additive.level == "market"]]
    if parent.level == "market":
        return [additive[(additive.level == "shop") & same("market")], additive[(additive.level == "team") & same("market")]]
    if parent.level in ("team", "role"):
        return [additive[(additive.level == "person") & same("market", "team", "role")]]
    return []


def bottom_up_gaps(evaluated: pd.DataFrame) -> pd.DataFrame:
    """Parents whose children carry targets: the children's sum against the parent's target."""
    if evaluated.empty:
        return evaluated
    rows = []
    additive = evaluated[~evaluated["kpi"].map(lambda k: KPIS[k].ratio)]
    for parent in additive.itertuples():
        for children in _child_groups(parent, additive):
            children = children[(children.period == parent.period) & (children.kpi == parent.kpi)]
            if children.empty:
                continue
            total = float(children["target"].sum())
            rows.append({"period": parent.period, "kpi": parent.kpi, "node": parent.node, "target": parent.target,
                         "children": len(children), "children_sum": total, "gap": parent.target - total,
                         "sources": ", ".join(sorted(set(children["source"])))})
    return pd.DataFrame(rows)
