"""Shop-health thresholds by region and date, read from data/health_thresholds.csv.

A market belongs to a region (data/health_rules.yaml). A row with a market applies only to
that market and wins over its region's row; a row applies to a week when it is in force on
the week's last day (blank valid_from / valid_to mean open-ended).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from shopkpi.errors import ShopkpiError

THRESHOLDS_FILE = "health_thresholds.csv"
RULES_FILE = "health_rules.yaml"
COMPARATORS = {"<", "<=", ">", ">="}
COLUMNS = ["region", "market", "metric", "comparator", "threshold", "warning_level", "valid_from", "valid_to",
           "platform_window", "source", "tag", "confirmed", "note"]


class ThresholdTableError(ShopkpiError):
    """data/health_thresholds.csv or data/health_rules.yaml is malformed; names the row and column."""


@dataclass(frozen=True)
class Threshold:
    region: str
    market: str  # "" = the whole region
    metric: str
    comparator: str
    threshold: float
    warning_level: float
    valid_from: dt.date | None
    valid_to: dt.date | None
    platform_window: str
    source: str
    tag: str
    confirmed: bool
    note: str

    @property
    def higher_is_better(self) -> bool:
        return self.comparator in (">", ">=")

    def breached(self, value: float) -> bool:
        """True when the value is on the wrong side of the threshold."""
        return {"<": value >= self.threshold, "<=": value > self.threshold,
                ">": value <= self.threshold, ">=": value < self.threshold}[self.comparator]

    def at_risk(self, value: float) -> bool:
        """Inside the threshold but past the warning level."""
        if self.breached(value):
            return False
        return value <= self.warning_level if self.higher_is_better else value >= self.warning_level

    def shortfall(self, value: float) -> float:
        """How far the value is past the threshold on the bad side (negative: inside the threshold)."""
        return self.threshold - value if self.higher_is_better else value - self.threshold

    def in_force(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)

    def to_dict(self) -> dict:
        return {"region": self.region, "market": self.market or None, "metric": self.metric, "comparator": self.comparator,
                "threshold": self.threshold, "warning_level": self.warning_level, "valid_from": self.valid_from,
                "valid_to": self.valid_to, "platform_window": self.platform_window, "source": self.source,
                "tag": self.tag, "confirmed": self.confirmed, "note": self.note}


def _data_text(name: str) -> str:
    return resources.files("shopkpi.data").joinpath(name).read_text(encoding="utf-8")


@cache
def health_rules() -> dict:
    """The order-reading rules of the monitor (SLA days, seller-fault reasons, regions...)."""
    return yaml.safe_load(_data_text(RULES_FILE))


def _date(value: str, row: int, column: str) -> dt.date | None:
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ThresholdTableError(f"data/{THRESHOLDS_FILE}, row {row}, column {column!r}: {value!r} is not a date (YYYY-MM-DD)") from None


def _float(value: str, row: int, column: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ThresholdTableError(f"data/{THRESHOLDS_FILE}, row {row}, column {column!r}: {value!r} is not a number") from None


def parse_thresholds(text: str) -> list[Threshold]:
    """Rows of a thresholds table (CSV text); each bad cell is reported by row and column."""
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames != COLUMNS:
        raise ThresholdTableError(f"data/{THRESHOLDS_FILE}: header must be {COLUMNS}, got {reader.fieldnames}")
    regions = set(health_rules()["regions"].values())
    out = []
    for row_no, row in enumerate(reader, start=2):
        if row["region"] not in regions:
            raise ThresholdTableError(f"data/{THRESHOLDS_FILE}, row {row_no}, column 'region': {row['region']!r} is not one of {sorted(regions)}")
        if row["comparator"] not in COMPARATORS:
            raise ThresholdTableError(f"data/{THRESHOLDS_FILE}, row {row_no}, column 'comparator': {row['comparator']!r} is not one of {sorted(COMPARATORS)}")
        if row["confirmed"] not in ("yes", "no"):
            raise ThresholdTableError(f"data/{THRESHOLDS_FILE}, row {row_no}, column 'confirmed': use yes or no, got {row['confirmed']!r}")
        item = Threshold(
            region=row["region"], market=row["market"].strip(), metric=row["metric"].strip(), comparator=row["comparator"],
            threshold=_float(row["threshold"], row_no, "threshold"), warning_level=_float(row["warning_level"], row_no, "warning_level"),
            valid_from=_date(row["valid_from"], row_no, "valid_from"), valid_to=_date(row["valid_to"], row_no, "valid_to"),
            platform_window=row["platform_window"], source=row["source"], tag=row["tag"], confirmed=row["confirmed"] == "yes",
            note=row["note"])
        # The warning level must sit on the safe side of the threshold, or "at risk" would never be reachable.
        if item.breached(item.warning_level):
            raise ThresholdTableError(f"data/{THRESHOLDS_FILE}, row {row_no}, column 'warning_level': {item.warning_level} is past the threshold {item.comparator} {item.threshold}")
        if item.valid_from and item.valid_to and item.valid_to < item.valid_from:
            raise ThresholdTableError(f"data/{THRESHOLDS_FILE}, row {row_no}: valid_to is before valid_from")
        out.append(item)
    return out


@cache
def thresholds() -> tuple[Threshold, ...]:
    return tuple(parse_thresholds(_data_text(THRESHOLDS_FILE)))


def region_of(market: str) -> str:
    regions = health_rules()["regions"]
    if market not in regions:
        raise ThresholdTableError(f"market {market!r} has no shop-health region in data/{RULES_FILE} (regions: {regions})")
    return regions[market]


def resolve(market: str, metric: str, day: dt.date, table: tuple[Threshold, ...] | list[Threshold] | None = None) -> Threshold | None:
    """The threshold in force for a market's metric on a day, or None when the table has none."""
    table = thresholds() if table is None else table
    region = region_of(market)
    candidates = [r for r in table if r.region == region and r.metric == metric and r.market in ("", market) and r.in_force(day)]
    specific = [r for r in candidates if r.market == market]
    chosen = specific or [r for r in candidates if r.market == ""]
    if len(chosen) > 1:
        raise ThresholdTableError(f"data/{THRESHOLDS_FILE}: {len(chosen)} rows for {market} {metric} are in force on {day}; make their dates not overlap")
    return chosen[0] if chosen else None
