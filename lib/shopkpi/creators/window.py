"""The analysis window: local dates up to the period end, so past periods stay reproducible."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shopkpi.errors import ShopkpiError
from shopkpi.periods import Period

DEFAULT_DAYS = 90


@dataclass(frozen=True)
class Window:
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def to_dict(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "days": self.days}


def window_to(period: Period, days: int = DEFAULT_DAYS) -> Window:
    """The `days` local dates ending on the period's last day."""
    if days < 1:
        raise ShopkpiError(f"the creator window must be at least one day, got {days}")
    return Window(period.end - dt.timedelta(days=days - 1), period.end)
