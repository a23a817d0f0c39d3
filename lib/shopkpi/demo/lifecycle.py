"""Order lifecycle: payment, cancellation, dispatch (business days), delivery, refunds, and status as of a time."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from shopkpi.demo.clock import DAY, HOUR, epoch_day, fix_dst_gap
from shopkpi.demo.formats import NO_TIME
from shopkpi.demo.markets import MARKET_CODES, MARKETS

UNPAID_ABANDON = 0.015
BUYER_CANCEL = 0.03
SELLER_CANCEL = 0.0045
REFUND = 0.03
REFUND_SELLER_FAULT_SHARE = 0.2
BASE_LATE_DISPATCH = 0.012
PLANTED_LATE_DISPATCH = 0.15
BASE_MISSING_TRACKING = 0.002
PLANTED_MISSING_TRACKING = 0.12
UNPAID_TIMEOUT = 24 * HOUR
COMPLETE_AFTER_DELIVERY = 7 * DAY
BUYER_CANCEL_REASONS = ["No longer needed", "Need to change delivery address", "Found a better price elsewhere",
                        "Ordered by mistake", "Delivery time is too long"]
SELLER_CANCEL_REASONS = ["Out of stock", "Pricing error", "Unable to deliver to this address"]
SELLER_CANCEL_P = [0.7, 0.15, 0.15]
SYSTEM_CANCEL_REASON = "Payment overdue"
SELLER_FAULT_RETURN_REASONS = ["Damaged item", "Wrong item sent", "Item not as described", "Missing parts"]
BUYER_RETURN_REASONS = ["No longer needed", "Changed my mind", "Doesn't fit my space", "Bought by mistake"]


@dataclass
class PlantedWeeks:
    """Local Monday dates of planted shop-health breaches."""

    late_dispatch: dict[str, dt.date]  # market -> week start
    missing_tracking: dict[str, dt.date]


def _to_date64(local_seconds: np.ndarray) -> np.ndarray:
    return (np.asarray(local_seconds) // DAY).astype("datetime64[D]")


def _date64_to_seconds(d: np.ndarray) -> np.ndarray:
    return d.astype(np.int64) * DAY


def _in_week(local_seconds: np.ndarray, monday: dt.date) -> np.ndarray:
    d = np.asarray(local_seconds) // DAY
    start = epoch_day(monday)
    return (d >= start) & (d < start + 7)


def dispatch_deadline(paid_ts: np.ndarray) -> np.ndarray:
    """End of the 2nd business day after payment (weekend payments roll to Monday first)."""
    paid = np.where(paid_ts == NO_TIME, 0, paid_ts)
    due = np.busday_offset(_to_date64(paid), 2, roll="forward")
    return np.where(paid_ts == NO_TIME, NO_TIME, _date64_to_seconds(due) + DAY - 1)


def delivery_deadline(paid_ts: np.ndarray) -> np.ndarray:
    paid = np.where(paid_ts == NO_TIME, 0, paid_ts)
    due = np.busday_offset(_to_date64(paid), 6, roll="forward")
    return np.where(paid_ts == NO_TIME, NO_TIME, _date64_to_seconds(due) + DAY - 1)


def simulate(rng: np.random.Generator, orders: pd.DataFrame, planted: PlantedWeeks) -> pd.DataFrame:
    """Fate and timestamps per order (local seconds; NO_TIME where an event never happens)."""
    n = len(orders)
    created = orders["created_ts"].to_numpy()
    channel = orders["channel"].to_numpy()
    market = orders["market"].to_numpy()
    is_sample = channel == "sample"
    is_test = channel == "test"
    regular = ~(is_sample | is_test)
    u = rng.random(n)
    unpaid = regular & (channel == "organic") & (u < UNPAID_ABANDON)
    buyer_cancel = regular & ~unpaid & (u >= UNPAID_ABANDON) & (u < UNPAID_ABANDON + BUYER_CANCEL)
    seller_cancel = regular & (u >= UNPAID_ABANDON + BUYER_CANCEL) & (u < UNPAID_ABANDON + BUYER_CANCEL + SELLER_CANCEL)
    test_cancel = is_test
    paid_delay = np.clip(rng.lognormal(np.log(90), 1.0, size=n), 30, 2 * HOUR).astype(np.int64)
    paid = np.where(unpaid, NO_TIME, created + paid_delay)

    # Dispatch in business days from payment; a planted week has many late dispatches.
    p_late = np.full(n, BASE_LATE_DISPATCH)
    for mk, monday in planted.late_dispatch.items():
        p_late[(market == mk) & _in_week(np.where(unpaid, 0, paid), monday)] = PLANTED_LATE_DISPATCH
    late = rng.random(n) < p_late
    k_days = np.where(late, rng.choice([3, 4, 5], size=n, p=[0.6, 0.3, 0.1]),
                      rng.choice([0, 1, 2], size=n, p=[0.45, 0.42, 0.13]))
    paid_safe = np.where(unpaid, created, paid)
    rts_date = np.busday_offset(_to_date64(paid_safe), k_days, roll="forward")
    rts = _date64_to_seconds(rts_date) + rng.integers(9 * HOUR, 18 * HOUR, size=n)
    rts = np.where(rts <= paid_safe, paid_safe + rng.integers(HOUR // 2, 4 * HOUR, size=n), rts)
    shipped = rts + rng.integers(2 * HOUR, 30 * HOUR, size=n)
    transit = np.zeros(n, dtype=np.int64)
    for mk in MARKET_CODES:
        sel = market == mk
        transit[sel] = 1 + rng.poisson(MARKETS[mk]["transit_days_mean"] - 1, size=int(sel.sum()))
    delivered = (shipped // DAY + transit) * DAY + rng.integers(9 * HOUR, 20 * HOUR, size=n)
    delivered = np.maximum(delivered, shipped + 6 * HOUR)

    cancel = np.full(n, NO_TIME, dtype=np.int64)
    cancel[unpaid] = created[unpaid] + UNPAID_TIMEOUT
    window = np.minimum(rts - paid_safe, 20 * HOUR)
    bc = buyer_cancel | test_cancel
    cancel[bc] = paid_safe[bc] + (rng.uniform(0.05, 0.9, size=n) * window).astype(np.int64)[bc]
    cancel[seller_cancel] = paid_safe[seller_cancel] + (
        rng.uniform(0.2, 0.95, size=n) * np.maximum(rts - paid_safe, HOUR)).astype(np.int64)[seller_cancel]
    canceled = unpaid | bc | seller_cancel
    cancel_by = np.full(n, "", dtype=object)
    cancel_by[unpaid] = "System"
    cancel_by[bc] = "Buyer"
    cancel_by[seller_cancel] = "Seller"
    cancel_reason = np.full(n, "", dtype=object)
    cancel_reason[unpaid] = SYSTEM_CANCEL_REASON
    cancel_reason[bc] = np.array(BUYER_CANCEL_REASONS, dtype=object)[rng.integers(0, len(BUYER_CANCEL_REASONS), size=n)][bc]
    cancel_reason[test_cancel] = "Ordered by mistake"
    cancel_reason[seller_cancel] = np.array(SELLER_CANCEL_REASONS, dtype=object)[
        rng.choice(len(SELLER_CANCEL_REASONS), size=n, p=SELLER_CANCEL_P)][seller_cancel]

    for arr in (rts, shipped, delivered):
        arr[canceled] = NO_TIME
    tracking_p = np.full(n, BASE_MISSING_TRACKING)
    for mk, monday in planted.missing_tracking.items():
        tracking_p[(market == mk) & _in_week(np.where(canceled, 0, shipped), monday)] = PLANTED_MISSING_TRACKING
    tracking_missing = (rng.random(n) < tracking_p) & ~canceled

    refund = regular & ~canceled & (rng.random(n) < REFUND)
    refund_ts = np.where(refund, delivered + rng.integers(1 * DAY, 12 * DAY, size=n), NO_TIME)
    seller_fault = refund & (rng.random(n) < REFUND_SELLER_FAULT_SHARE)
    refund_reason = np.full(n, "", dtype=object)
    refund_reason[refund & ~seller_fault] = np.array(BUYER_RETURN_REASONS, dtype=object)[
        rng.integers(0, len(BUYER_RETURN_REASONS), size=n)][refund & ~seller_fault]
    refund_reason[seller_fault] = np.array(SELLER_FAULT_RETURN_REASONS, dtype=object)[
        rng.integers(0, len(SELLER_FAULT_RETURN_REASONS), size=n)][seller_fault]

    out = pd.DataFrame({
        "paid_ts": paid, "rts_ts": rts, "shipped_ts": shipped, "delivered_ts": delivered,
        "completed_ts": np.where(canceled, NO_TIME, delivered + COMPLETE_AFTER_DELIVERY),
        "cancel_ts": cancel, "cancel_by": cancel_by, "cancel_reason": cancel_reason,
        "refund_ts": refund_ts, "refund_reason": refund_reason, "refund_seller_fault": seller_fault,
        "tracking_missing": tracking_missing, "late_dispatch_drawn": late & ~canceled,
        "dispatch_deadline": np.where(canceled, NO_TIME, dispatch_deadline(paid)),
    })
    for col in ("paid_ts", "rts_ts", "shipped_ts", "delivered_ts", "cancel_ts", "refund_ts"):
        values = out[col].to_numpy().copy()
        for mk in MARKET_CODES:
            sel = market == mk
            values[sel] = fix_dst_gap(values[sel], mk)
        out[col] = values
    return out


def status_as_of(orders: pd.DataFrame | dict[str, np.ndarray], asof: int) -> dict[str, np.ndarray]:
    """Order Status / Substatus / return state as a Seller Center export taken at local time `asof`."""
    paid = np.asarray(orders["paid_ts"])
    n = len(paid)
    rts = np.asarray(orders["rts_ts"])
    shipped = np.asarray(orders["shipped_ts"])
    delivered = np.asarray(orders["delivered_ts"])
    completed = np.asarray(orders["completed_ts"])
    cancel = np.asarray(orders["cancel_ts"])
    refund = np.asarray(orders["refund_ts"])
    status = np.full(n, "Completed", dtype=object)
    sub = np.full(n, "Completed", dtype=object)
    conds = [
        (cancel <= asof, "Canceled", "Canceled"),
        (paid > asof, "Unpaid", "Unpaid"),
        (rts > asof, "To ship", "Awaiting shipment"),
        (shipped > asof, "To ship", "Awaiting collection"),
        ((delivered > asof) & (asof - shipped < DAY), "Shipped", "In transit"),
        (delivered > asof, "In transit", "In transit"),
        (completed > asof, "Delivered", "Delivered"),
    ]
    decided = np.zeros(n, dtype=bool)
    for cond, s, ss in conds:
        pick = cond & ~decided
        status[pick] = s
        sub[pick] = ss
        decided |= pick
    canceled = cancel <= asof
    refunded = (refund <= asof) & ~canceled
    return {"status": status, "substatus": sub, "canceled": canceled, "refunded": refunded}


def visible(ts: np.ndarray, asof: int) -> np.ndarray:
    """Timestamps not yet happened at `asof` are blank in the export."""
    return np.where(np.asarray(ts) <= asof, ts, NO_TIME)
