"""Weekly shop performance metrics computed from the order book, with planted breaches, as Seller Center XLSX."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopkpi.demo.clock import DAY, epoch_day
from shopkpi.demo.formats import NO_TIME
from shopkpi.demo.lifecycle import delivery_deadline
from shopkpi.demo.markets import MARKET_CODES, MARKETS
from shopkpi.demo.orders import OrderBook
from shopkpi.demo.writers import write_xlsx

THRESHOLDS = {
    "late_dispatch_rate": ("<=", 0.04),
    "seller_fault_cancellation_rate": ("<=", 0.025),
    "valid_tracking_rate": (">=", 0.95),
    "on_time_delivery_rate": (">=", 0.80),
    "response_rate_12h": (">=", 0.85),
    "seller_fault_return_rate": ("<", 0.01),
}
HEADER = ["Week", "Orders", "Late Dispatch Rate", "Seller Fault Cancellation Rate", "Valid Tracking Rate",
          "On-Time Delivery Rate", "12h Response Rate", "24h Response Rate", "Negative Review Rate",
          "Seller-fault Return Rate"]
DEFINITIONS = {
    "week": "local Monday-Sunday; orders exclude sample and test orders",
    "late_dispatch_rate": "orders paid in the week and not cancelled, whose RTS Time is after the end of the 2nd"
                          " business day (Mon-Fri) after Paid Time (weekend payments roll to Monday first)",
    "seller_fault_cancellation_rate": "orders paid in the week cancelled with Cancel By = Seller / orders paid in the week",
    "valid_tracking_rate": "orders shipped in the week (Shipped Time) with a Tracking ID / orders shipped in the week",
    "on_time_delivery_rate": "orders delivered in the week within 6 business days of payment / orders delivered in the week",
    "seller_fault_return_rate": "orders delivered in the week later refunded for a seller-fault reason (Damaged item,"
                                " Wrong item sent, Item not as described, Missing parts) / orders delivered in the week",
    "response_rates_and_negative_review_rate": "chat/review metrics: not computable from orders; synthetic, with one"
                                               " planted 12h response breach",
}


def weeks(start_date: dt.date, end_date: dt.date) -> list[dt.date]:
    first = start_date + dt.timedelta(days=(7 - start_date.weekday()) % 7)
    out = []
    while first + dt.timedelta(days=6) <= end_date:
        out.append(first)
        first += dt.timedelta(days=7)
    return out


def compute(book: OrderBook, start_date: dt.date, end_date: dt.date, rng: np.random.Generator,
            planted_response: dict[str, dt.date]) -> dict[str, pd.DataFrame]:
    o = book.orders[~book.orders["channel"].isin(["sample", "test"])]
    mondays = weeks(start_date, end_date)
    out: dict[str, pd.DataFrame] = {}
    for market in MARKET_CODES:
        om = o[o["market"] == market]
        paid = om["paid_ts"].to_numpy()
        canceled = om["cancel_by"].to_numpy() != ""
        rts = om["rts_ts"].to_numpy()
        shipped = om["shipped_ts"].to_numpy()
        delivered = om["delivered_ts"].to_numpy()
        deadline = om["dispatch_deadline"].to_numpy()
        late = ~canceled & (rts > deadline)
        on_time = (delivered != NO_TIME) & (delivered <= delivery_deadline(paid))
        has_tracking = om["tracking_id"].to_numpy() != ""
        sf_return = om["refund_seller_fault"].to_numpy()
        seller_cancel = om["cancel_by"].to_numpy() == "Seller"
        rows = []
        for monday in mondays:
            a, b = epoch_day(monday) * DAY, (epoch_day(monday) + 7) * DAY
            in_paid = (paid >= a) & (paid < b)
            in_ship = (shipped >= a) & (shipped < b)
            in_deliv = (delivered >= a) & (delivered < b)
            r24 = float(np.clip(rng.normal(0.965, 0.012), 0.9, 0.995))
            r12 = float(np.clip(r24 - abs(rng.normal(0.04, 0.015)), 0.86, 0.99))
            if planted_response.get(market) == monday:
                r12 = 0.812
            rows.append({
                "week_start": monday.isoformat(),
                "orders_paid": int(in_paid.sum()),
                "ldr_num": int((in_paid & late).sum()), "ldr_den": int((in_paid & ~canceled).sum()),
                "sfcr_num": int((in_paid & seller_cancel).sum()), "sfcr_den": int(in_paid.sum()),
                "vtr_num": int((in_ship & has_tracking).sum()), "vtr_den": int(in_ship.sum()),
                "otdr_num": int((in_deliv & on_time).sum()), "otdr_den": int(in_deliv.sum()),
                "sfrr_num": int((in_deliv & sf_return).sum()), "sfrr_den": int(in_deliv.sum()),
                "response_rate_12h": round(r12, 4), "response_rate_24h": round(r24, 4),
                "negative_review_rate": round(float(np.clip(rng.normal(0.009, 0.003), 0.001, 0.02)), 4),
            })
        df = pd.DataFrame(rows)
        for key, num, den in (("late_dispatch_rate", "ldr_num", "ldr_den"),
                              ("seller_fault_cancellation_rate", "sfcr_num", "sfcr_den"),
                              ("valid_tracking_rate", "vtr_num", "vtr_den"),
                              ("on_time_delivery_rate", "otdr_num", "otdr_den"),
                              ("seller_fault_return_rate", "sfrr_num", "sfrr_den")):
            default = 1.0 if key in ("valid_tracking_rate", "on_time_delivery_rate") else 0.0
            df[key] = np.where(df[den] > 0, df[num] / df[den].clip(lower=1), default).round(6)
        for key, (op, thr) in THRESHOLDS.items():
            col = df[key]
            df[f"breach_{key}"] = {"<=": col > thr, "<": col >= thr, ">=": col < thr}[op]
        out[market] = df
    return out


def write_files(root: Path, metrics: dict[str, pd.DataFrame], start_date: dt.date, end_date: dt.date,
                fixed_time: dt.datetime) -> dict[str, int]:
    counts: dict[str, int] = {}
    for market in MARKET_CODES:
        df = metrics[market]
        rows: list[list[Any]] = [
            [f"Shop: {MARKETS[market]['shop_name']}"],
            [f"Date range: {start_date.strftime('%d/%m/%Y')} - {end_date.strftime('%d/%m/%Y')}"],
            HEADER,
        ]
        for r in df.itertuples():
            monday = dt.date.fromisoformat(r.week_start)
            sunday = monday + dt.timedelta(days=6)
            rows.append([
                f"{monday.strftime('%d/%m/%Y')} - {sunday.strftime('%d/%m/%Y')}", int(r.orders_paid),
                _pct(r.late_dispatch_rate), _pct(r.seller_fault_cancellation_rate), _pct(r.valid_tracking_rate),
                _pct(r.on_time_delivery_rate), _pct(r.response_rate_12h), _pct(r.response_rate_24h),
                _pct(r.negative_review_rate), _pct(r.seller_fault_return_rate),
            ])
        rel = f"{market}/shop_health/Shop performance - {MARKETS[market]['shop_name']}.xlsx"
        write_xlsx(root / rel, [("Performance", rows)], fixed_time=fixed_time, column_widths={"A": 26})
        counts[rel] = len(rows) - 3
    return counts


def _pct(x: float) -> str:
    return f"{x * 100:.2f}%"
