"""Reporting periods: ISO weeks (2026-W46), two-week periods (2026-W45-W46), months (2026-11), quarters.

Each market's orders are placed in a period by their local date, so a week is the
market's own natural Monday-to-Sunday week.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from shopkpi.errors import ParamsError

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_BIWEEK = re.compile(r"^(\d{4})-W(\d{2})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")


@dataclass(frozen=True, order=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    kind: Literal["week", "biweek", "month", "quarter"]
    name: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period":
        return period_containing(self.start - dt.timedelta(days=1), self.kind)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def week_of(day: dt.date) -> Period:
    year, week, _ = day.isocalendar()
    start = dt.date.fromisocalendar(year, week, 1)
    return Period(start, start + dt.timedelta(days=6), "week", f"{year}-W{week:02d}")


def biweek_ending(day: dt.date) -> Period:
    """The two ISO weeks ending with the week of `day` (a biweekly review looks back from its last week)."""
    last = week_of(day)
    first = week_of(last.start - dt.timedelta(days=7))
    return Period(first.start, last.end, "biweek", f"{first.name}-W{last.name[-2:]}")


def month_of(day: dt.date) -> Period:
    last = calendar.monthrange(day.year, day.month)[1]
    return Period(day.replace(day=1), day.replace(day=last), "month", f"{day.year}-{day.month:02d}")


def quarter_of(day: dt.date) -> Period:
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = dt.date(day.year, first_month, 1)
    end = month_of(dt.date(day.year, first_month + 2, 1)).end
    return Period(start, end, "quarter", f"{day.year}-Q{(first_month - 1) // 3 + 1}")


def period_containing(day: dt.date, kind: str) -> Period:
    return {"week": week_of, "biweek": biweek_ending, "month": month_of, "quarter": quarter_of}[kind](day)


def parse_period(text: str) -> Period:
    if m := _WEEK.match(text):
        try:
            return week_of(dt.date.fromisocalendar(int(m[1]), int(m[2]), 1))
        except ValueError:
            raise ParamsError(f"period {text!r}: week {m[2]} does not exist in {m[1]}") from None
    if m := _BIWEEK.match(text):
        try:
            first = week_of(dt.date.fromisocalendar(int(m[1]), int(m[2]), 1))
        except ValueError:
            raise ParamsError(f"period {text!r}: week {m[2]} does not exist in {m[1]}") from None
        period = biweek_ending(first.end + dt.timedelta(days=7))
        if period.name != text:
            raise ParamsError(f"period {text!r}: the two weeks must be consecutive (did you mean {period.name!r}?)")
        return period
    if m := _MONTH.match(text):
        if not 1 <= int(m[2]) <= 12:
            raise ParamsError(f"period {text!r}: month must be 01-12")
        return month_of(dt.date(int(m[1]), int(m[2]), 1))
    if m := _QUARTER.match(text):
        return quarter_of(dt.date(int(m[1]), 3 * int(m[2]) - 2, 1))
    raise ParamsError(f"period {text!r} is not valid: use an ISO week like 2026-W46, two weeks like 2026-W45-W46, a month like 2026-11 or a quarter like 2026-Q4")


def latest_complete_week_before(last_day_with_data: dt.date) -> Period:
    """The last Monday-Sunday week that ends on or before the last day with data."""
    week = week_of(last_day_with_data)
    return week if week.end == last_day_with_data else week.previous()


@dataclass(frozen=True)
class Window:
    """The days of a period the data covers: the whole period, or its first days ("to date")."""

    period: Period
    end: dt.date  # inclusive, never after period.end

    @property
    def start(self) -> dt.date:
        return self.period.start

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def complete(self) -> bool:
        return self.end >= self.period.end


def covered_window(period: Period, complete_through: dt.date) -> Window:
    """`period` up to the data's last complete day; refused when not one day of it is complete yet."""
    if complete_through < period.start:
        raise ParamsError(f"period {period.name} ({period.start} – {period.end}) has no complete day yet: "
                          f"the data is complete through {complete_through}")
    return Window(period, min(period.end, complete_through))


def same_days(window: Window, other: Period) -> Window:
    """The first `window.days` days of `other` (a like-for-like comparison for a period to date)."""
    return Window(other, min(other.end, other.start + dt.timedelta(days=window.days - 1)))


def year_before(period: Period) -> Period:
    """The same period a year earlier: the same ISO week(s) 52 weeks back, or the same month or quarter."""
    if period.kind == "week":
        return week_of(period.start - dt.timedelta(weeks=52))
    if period.kind == "biweek":
        return biweek_ending(period.end - dt.timedelta(weeks=52))
    back = period.start.replace(year=period.start.year - 1)
    return month_of(back) if period.kind == "month" else quarter_of(back)
