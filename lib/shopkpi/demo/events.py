"""Per-market sales calendar (mega sales, paydays, holidays) and daily demand multipliers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np


def black_friday(year: int) -> dt.date:
    """Day after US Thanksgiving (fourth Thursday of November); UK retail uses the same day."""
    first = dt.date(year, 11, 1)
    first_thursday = 1 + (3 - first.weekday()) % 7
    return dt.date(year, 11, first_thursday + 21 + 1)


def _event(name: str, dates: list[dt.date], mult: float, dip: float | None = None, hangover: float | None = None,
           dip_days: int = 2, hangover_days: int = 2) -> dict[str, Any]:
    ev: dict[str, Any] = {"name": name, "dates": [d.isoformat() for d in dates], "multiplier": mult}
    if dip is not None:
        start = dates[0]
        ev["pre_event_dip"] = {
            "dates": [(start - dt.timedelta(days=k)).isoformat() for k in range(dip_days, 0, -1)],
            "multiplier": dip,
        }
    if hangover is not None:
        end = dates[-1]
        ev["post_event_hangover"] = {
            "dates": [(end + dt.timedelta(days=k)).isoformat() for k in range(1, hangover_days + 1)],
            "multiplier": hangover,
        }
    return ev


def _uk_events(year: int) -> list[dict[str, Any]]:
    bf = black_friday(year)
    d = dt.date
    return [
        _event("New Year Sale", [d(year, 1, 1), d(year, 1, 2)], 1.3),
        _event("Deals For You Days", [d(year, 7, 8), d(year, 7, 9), d(year, 7, 10)], 1.5, dip=0.9),
        _event("9.9 Sale", [d(year, 9, 9)], 1.4),
        _event("11.11 Singles Day", [d(year, 11, 11)], 2.0, dip=0.9, hangover=0.85),
        _event("Black Friday week lead-up", [bf - dt.timedelta(days=k) for k in range(4, 0, -1)], 1.25),
        _event("Black Friday", [bf], 2.6),
        _event("Cyber Monday", [bf + dt.timedelta(days=3)], 1.7, hangover=0.85),
        _event("12.12 Sale", [d(year, 12, 12)], 1.5),
        _event("Christmas Eve", [d(year, 12, 24)], 0.7),
        _event("Christmas Day", [d(year, 12, 25)], 0.35),
        _event("Boxing Day", [d(year, 12, 26)], 1.4),
    ]


_TH_DOUBLE_DAYS = {1: 1.8, 2: 1.6, 3: 1.8, 4: 1.6, 5: 1.8, 6: 2.0, 7: 2.0, 8: 2.0, 9: 2.6, 10: 2.4, 11: 3.2, 12: 2.8}


def _th_events(year: int) -> list[dict[str, Any]]:
    d = dt.date
    events: list[dict[str, Any]] = []
    for month, mult in _TH_DOUBLE_DAYS.items():
        big = mult >= 2.4
        events.append(_event(f"{month}.{month} Sale", [d(year, month, month)], mult,
                             dip=0.85 if big else None, hangover=0.85 if big else None))
        events.append(_event("Mid-month Sale", [d(year, month, 15)], 1.2))
        events.append(_event("Payday Sale", [d(year, month, 25), d(year, month, 26)], 1.5))
    events.append(_event("Black Friday", [black_friday(year)], 1.5))
    events.append(_event("Songkran holiday", [d(year, 4, 13), d(year, 4, 14), d(year, 4, 15)], 0.6))
    return events


def market_events(market: str, first_day: dt.date, last_day: dt.date) -> list[dict[str, Any]]:
    """Events whose dates (or dip/hangover days) touch [first_day, last_day], sorted by first date."""
    builder = _uk_events if market == "UK" else _th_events
    out = []
    for year in range(first_day.year - 1, last_day.year + 2):
        for ev in builder(year):
            touched = list(ev["dates"])
            for key in ("pre_event_dip", "post_event_hangover"):
                if key in ev:
                    touched += ev[key]["dates"]
            if any(first_day.isoformat() <= t <= last_day.isoformat() for t in touched):
                out.append(ev)
    out.sort(key=lambda e: (e["dates"][0], e["name"]))
    return out


def daily_multipliers(events: list[dict[str, Any]], first_day: dt.date, n_days: int) -> np.ndarray:
    """Product of all event effects per day (peaks, pre-event dips and hangovers)."""
    mult = np.ones(n_days)
    base = np.datetime64(first_day.isoformat(), "D")

    def apply(dates: list[str], factor: float) -> None:
        idx = (np.array(dates, dtype="datetime64[D]") - base).astype(np.int64)
        idx = idx[(idx >= 0) & (idx < n_days)]
        mult[idx] *= factor

    for ev in events:
        apply(ev["dates"], ev["multiplier"])
        for key in ("pre_event_dip", "post_event_hangover"):
            if key in ev:
                apply(ev[key]["dates"], ev[key]["multiplier"])
    return mult


def mega_sale_days(events: list[dict[str, Any]], first_day: dt.date, n_days: int, min_mult: float = 1.9) -> np.ndarray:
    """Boolean per day: a big campaign peak (used for discount depth and content pushes)."""
    flag = np.zeros(n_days, dtype=bool)
    base = np.datetime64(first_day.isoformat(), "D")
    for ev in events:
        if ev["multiplier"] >= min_mult:
            idx = (np.array(ev["dates"], dtype="datetime64[D]") - base).astype(np.int64)
            flag[idx[(idx >= 0) & (idx < n_days)]] = True
    return flag
