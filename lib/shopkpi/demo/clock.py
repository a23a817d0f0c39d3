"""Local wall-clock time helpers: all demo times are int64 local seconds since 1970-01-01 00:00."""

from __future__ import annotations

import datetime as dt

import numpy as np

DAY = 86_400
HOUR = 3_600
# Share of orders per local hour (evening peak, as on TikTok Shop).
HOUR_WEIGHTS = np.array([1.0, 0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 1.5, 2.0, 2.3, 2.5, 2.8, 3.2, 3.0, 2.7, 2.6, 2.7, 3.0,
                         3.5, 4.2, 4.6, 4.5, 3.6, 2.2])
HOUR_PROBS = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()


def epoch_day(date: dt.date) -> int:
    return (date - dt.date(1970, 1, 1)).days


def day_start(start_date: dt.date, day_index: np.ndarray | int) -> np.ndarray:
    return (epoch_day(start_date) + np.asarray(day_index, dtype=np.int64)) * DAY


def day_index(start_date: dt.date, local_seconds: np.ndarray) -> np.ndarray:
    return np.asarray(local_seconds, dtype=np.int64) // DAY - epoch_day(start_date)


def random_time_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds after local midnight following the order-hour profile."""
    hours = rng.choice(24, size=n, p=HOUR_PROBS)
    return hours * HOUR + rng.integers(0, HOUR, size=n)


def seconds_to_date(local_seconds: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(local_seconds // DAY))


def _uk_spring_gaps(years: range) -> np.ndarray:
    starts = []
    for year in years:
        last_sunday = max(dt.date(year, 3, d) for d in range(25, 32) if dt.date(year, 3, d).weekday() == 6)
        starts.append(epoch_day(last_sunday) * DAY + HOUR)  # 01:00 local does not exist
    return np.array(starts, dtype=np.int64)


def fix_dst_gap(local_seconds: np.ndarray, market: str) -> np.ndarray:
    """Move times that fall into the UK spring-forward hour (which never exists locally) one hour on."""
    secs = np.asarray(local_seconds, dtype=np.int64).copy()
    if market != "UK" or secs.size == 0:
        return secs
    for gap in _uk_spring_gaps(range(2020, 2035)):
        inside = (secs >= gap) & (secs < gap + HOUR)
        secs[inside] += HOUR
    return secs
