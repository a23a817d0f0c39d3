"""Sales-event calendar per market (data/events/<MARKET>.yaml) and uplifts estimated from the client's history.

The calendar holds dates only. Each event key's uplift is the ratio of the units sold on its days to the
units expected from the SKU's local level and weekday pattern, pooled over the market's SKUs, with a
bootstrap interval over SKUs. Mega sales also get the two days before (pre) and after (post) as their own
effects, since buyers wait for and recover from them. A `closed` event (the shop takes no orders) is
not estimated: its multiplier is 0, and its days teach the models nothing about base demand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd
import yaml

from shopkpi.errors import ShopkpiError
from shopkpi.restock.demand import Panel, local_level, weekday_factors

SHOULDER_DAYS = 2
LEVEL_HALF_WINDOW = 14
# Pseudo-units at ratio 1: an event seen on little volume is pulled towards no effect.
PRIOR_UNITS = 2.0
BOOTSTRAP = 200
COLUMNS = ["market", "key", "name", "kind", "date", "uncertain", "role", "effect"]


def calendar_markets() -> list[str]:
    folder = resources.files("shopkpi.data").joinpath("events")
    return sorted(f.name.removesuffix(".yaml") for f in folder.iterdir() if f.name.endswith(".yaml"))


def _read_market(market: str) -> list[dict]:
    file = resources.files("shopkpi.data").joinpath("events").joinpath(f"{market}.yaml")
    if not file.is_file():
        return []
    data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    if data.get("market") != market:
        raise ShopkpiError(f"data/events/{market}.yaml: `market:` says {data.get('market')!r}")
    rows = []
    for i, event in enumerate(data.get("events") or [], start=1):
        missing = {"key", "name", "kind", "dates"} - set(event)
        if missing:
            raise ShopkpiError(f"data/events/{market}.yaml: event {i} lacks {sorted(missing)}")
        rows.append({**event, "market": market})
    return rows


def load_calendar(markets: list[str], extra_events=()) -> pd.DataFrame:
    """One row per market x event day, plus pre/post shoulder days around mega sales."""
    events = [e for m in markets for e in _read_market(m)]
    events += [{**e.model_dump(), "market": e.market} for e in extra_events if e.market in markets]
    rows = []
    for e in events:
        for day in e["dates"]:
            day = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
            rows.append({"market": e["market"], "key": e["key"], "name": e["name"], "kind": e["kind"], "date": day,
                         "uncertain": bool(e.get("uncertain", False)), "role": "event", "effect": e["key"]})
    days = pd.DataFrame(rows, columns=COLUMNS)
    if days.empty:
        return days
    taken = set(zip(days["market"], days["date"]))
    shoulders = []
    for (market, key), group in days[days["kind"] == "mega_sale"].groupby(["market", "key"]):
        dates = sorted(group["date"])
        runs = [[dates[0]]]
        for d in dates[1:]:
            runs[-1].append(d) if (d - runs[-1][-1]).days <= 1 else runs.append([d])
        for run in runs:
            for k in range(1, SHOULDER_DAYS + 1):
                for role, day in (("pre", run[0] - dt.timedelta(days=k)), ("post", run[-1] + dt.timedelta(days=k))):
                    if (market, day) not in taken:
                        first = group.iloc[0]
                        shoulders.append({"market": market, "key": key, "name": first["name"], "kind": first["kind"],
                                          "date": day, "uncertain": bool(group["uncertain"].any()), "role": role,
                                          "effect": f"{key}:{role}"})
    # Two mega sales days apart share shoulder days: each day gets one shoulder effect, the earlier event's.
    shoulders = pd.DataFrame(shoulders, columns=COLUMNS).sort_values(["market", "date", "role"])  # post < pre
    shoulders = shoulders.drop_duplicates(["market", "date"])
    days = pd.concat([days, shoulders], ignore_index=True)
    return days.drop_duplicates(["market", "date", "effect"]).sort_values(["market", "date", "effect"]).reset_index(drop=True)


def closed_dates(calendar: pd.DataFrame, market: str) -> set[dt.date]:
    """The market's dates on which the calendar says the shop was (or will be) closed."""
    if calendar.empty:
        return set()
    return set(calendar.loc[(calendar["market"] == market) & (calendar["kind"] == "closed"), "date"])


@dataclass
class EventModel:
    """Estimated uplift per market x effect, weekday factors, and the calendar they apply to."""

    calendar: pd.DataFrame
    uplifts: pd.DataFrame
    weekday: dict[str, np.ndarray]

    def multipliers(self, market: str, dates: pd.DatetimeIndex) -> np.ndarray:
        """Product of the uplifts of every effect on each date (1 where none)."""
        out = np.ones(len(dates))
        cal = self.calendar[self.calendar["market"] == market]
        if cal.empty:
            return out
        up = self.uplifts[self.uplifts["market"] == market].set_index("effect")["uplift"]
        pos = pd.Series(np.arange(len(dates)), index=dates.date)
        for row in cal.itertuples():
            if row.date in pos.index and row.effect in up.index:
                out[pos[row.date]] *= up[row.effect]
        return out

    def weekday_of(self, market: str, dates: pd.DatetimeIndex) -> np.ndarray:
        return self.weekday.get(market, np.ones(7))[dates.day_of_week.to_numpy()]


def event_mask(panel: Panel, calendar: pd.DataFrame) -> np.ndarray:
    """True on series-days that are any event or shoulder day of the series' market."""
    mask = np.zeros(panel.y.shape, dtype=bool)
    dates = pd.Series(np.arange(len(panel.dates)), index=panel.dates.date)
    for market, rows in panel.meta.groupby("market").groups.items():
        days = [dates[d] for d in calendar.loc[calendar["market"] == market, "date"] if d in dates.index]
        if days:
            mask[np.ix_(np.asarray(rows), days)] = True
    return mask


def fit_events(panel: Panel, calendar: pd.DataFrame, seed: int = 0) -> EventModel:
    """Estimate every effect's uplift from the panel's history (only data up to its last date)."""
    observed = ~np.isnan(panel.y)
    clean = observed & ~event_mask(panel, calendar)
    weekday = weekday_factors(panel, clean)
    wd = panel.dates.day_of_week.to_numpy()
    baseline = np.full(panel.y.shape, np.nan)
    for market, rows in panel.meta.groupby("market").groups.items():
        rows = np.asarray(rows)
        wf = weekday[market][wd]
        with np.errstate(invalid="ignore", divide="ignore"):
            level = local_level(panel.y[rows] / wf, clean[rows] & (wf > 0)[None, :], LEVEL_HALF_WINDOW)
        baseline[rows] = level * wf
    date_pos = pd.Series(np.arange(len(panel.dates)), index=panel.dates.date)
    rng = np.random.default_rng(seed)
    records = []
    for (market, effect), group in calendar.groupby(["market", "effect"], sort=True):
        rows = np.flatnonzero(panel.meta["market"].to_numpy() == market)
        first = group.iloc[0]
        record = {"market": market, "effect": effect, "key": first["key"], "role": first["role"], "name": first["name"],
                  "kind": first["kind"], "uncertain": bool(group["uncertain"].any()),
                  "next_date": None, "history_days": 0, "actual_units": 0.0, "expected_units": 0.0,
                  "uplift": np.nan, "lo": np.nan, "hi": np.nan, "source": "none"}
        future = [d for d in group["date"] if d > panel.origin]
        record["next_date"] = min(future) if future else None
        if first["kind"] == "closed":
            record.update(uplift=0.0, lo=0.0, hi=0.0, source="closed")
            records.append(record)
            continue
        hist = [date_pos[d] for d in group["date"] if d in date_pos.index]
        other = calendar[(calendar["market"] == market) & (calendar["effect"] != effect)]
        alone = [date_pos[d] for d in group["date"] if d in date_pos.index and d not in set(other["date"])]
        cols = alone or hist
        if cols and len(rows):
            y = panel.y[np.ix_(rows, cols)]
            b = baseline[np.ix_(rows, cols)]
            ok = ~np.isnan(y) & np.isfinite(b)
            act = np.where(ok, y, 0.0).sum(axis=1)
            exp = np.where(ok, b, 0.0).sum(axis=1)
            if exp.sum() > 0:
                record.update(history_days=len(cols), actual_units=float(act.sum()), expected_units=float(exp.sum()),
                              uplift=float((act.sum() + PRIOR_UNITS) / (exp.sum() + PRIOR_UNITS)), source="history")
                draws = rng.integers(0, len(rows), size=(BOOTSTRAP, len(rows)))
                ratios = (act[draws].sum(axis=1) + PRIOR_UNITS) / (exp[draws].sum(axis=1) + PRIOR_UNITS)
                record["lo"], record["hi"] = (float(q) for q in np.quantile(ratios, [0.05, 0.95]))
        records.append(record)
    uplifts = pd.DataFrame(records)
    if uplifts.empty:
        return EventModel(calendar, uplifts.reindex(columns=["market", "effect", "uplift"]), weekday)
    # An effect never seen in the history borrows the mean uplift of its kind and role in that market.
    seen = uplifts[uplifts["source"] == "history"]
    by_kind = seen.groupby(["market", "kind", "role"])["uplift"].mean()
    unseen = ~uplifts["source"].isin(["history", "closed"])
    for i in uplifts.index[unseen]:
        k = (uplifts.at[i, "market"], uplifts.at[i, "kind"], uplifts.at[i, "role"])
        if k in by_kind.index:
            uplifts.loc[i, ["uplift", "source"]] = [float(by_kind[k]), "kind_average"]
        else:
            uplifts.loc[i, ["uplift", "source"]] = [1.0, "none"]
    return EventModel(calendar, uplifts, weekday)
