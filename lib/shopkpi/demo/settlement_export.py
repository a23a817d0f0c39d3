"""Income statements (Finance -> Settlements) for the demo: weekly XLSX workbooks with planted fees.

Layout: the current workbook's "Reports" (label/value pairs), "Order details" (one row per order and SKU, as
the newer statement with SKU ID and Quantity columns does [shared/reference §5.1, a Brazilian parser's column
list]) and "Reserve Details" sheets, plus "Withdrawal records" [the real-exports issue's report of current files].
Which order-level amounts (shipping, customer payment) a real SKU row carries is not known; the demo splits them
over the order's SKU rows by item value (largest remainder, in cents) and says so here.

Planted truths (in truth.json -> "profit"):
- fees are the shop's fee table (`lib/shopkpi/data/fees/fee_rates.csv`) except one planted deviation: TH
  "Beauty & Personal Care" commission is charged 1 percentage point above the table for orders created from
  2026-10-01 (a rate change the table does not know yet);
- an order settles 14 days after delivery (the affiliate export's rule), in the weekly statement whose UTC
  week holds that moment; statements exist for the last SETTLEMENT_WEEKS complete weeks;
- STUCK_PER_MARKET delivered orders never settle (held for review): they are the overdue list;
- TH statements hold back RESERVE_SHARE of each statement's total, released RESERVE_WEEKS later.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from shopkpi.demo.affiliate_export import SETTLE_AFTER_DELIVERY
from shopkpi.demo.clock import DAY
from shopkpi.demo.lifecycle import NO_TIME
from shopkpi.demo.markets import MARKET_CODES, MARKETS
from shopkpi.demo.orders import OrderBook
from shopkpi.demo.writers import write_xlsx

SETTLEMENT_WEEKS = 13
STUCK_PER_MARKET = 4
RESERVE_SHARE = {"TH": 0.03}
RESERVE_WEEKS = 4
PLANTED_DEVIATION = {"market": "TH", "category": "Beauty & Personal Care", "fee_line": "tiktok_shop_commission_fee",
                     "extra_rate": 0.01, "from": "2026-10-01"}
HEADER = [
    "Statement date", "Statement ID", "Type", "Order/adjustment ID", "Related order ID", "SKU ID", "Quantity",
    "Currency", "Order created time", "Order settled time", "Total settlement amount", "Total revenue",
    "Subtotal before discounts", "Seller discounts", "Subtotal after seller discounts",
    "Refund subtotal after seller discounts", "Platform discounts", "Total fees", "TikTok Shop commission fee",
    "Transaction fee", "Affiliate commission", "Customer shipping fee", "Platform shipping fee discount",
    "Actual shipping fee", "Refunded customer shipping fee", "Customer payment", "Customer refund",
]
_FEES = ("tiktok_shop_commission_fee", "transaction_fee")


def fee_table() -> pd.DataFrame:
    with resources.files("shopkpi.data").joinpath("fees/fee_rates.csv").open(encoding="utf-8") as fh:
        return pd.DataFrame(list(csv.DictReader(fh)))


def _rates(table: pd.DataFrame, market: str, category: np.ndarray, fee_line: str, created: np.ndarray) -> tuple[np.ndarray, str]:
    """Rate per line (most specific category row valid on the creation date) and the base it applies to."""
    rows = table[(table["market"] == market) & (table["fee_line"] == fee_line)]
    rate = np.full(len(category), np.nan)
    base = ""
    for r in sorted(rows.itertuples(), key=lambda r: 0 if r.category == "*" else len(r.category)):
        start = np.datetime64(r.valid_from, "s").astype(np.int64)
        end = np.datetime64(r.valid_to, "s").astype(np.int64) if r.valid_to else np.iinfo(np.int64).max
        hit = (created >= start) & (created < end) & ((r.category == "*") | np.char.startswith(category.astype(str), r.category))
        rate[hit] = float(r.rate)
        base = r.base
    return rate, base


def _split(amount: np.ndarray, weight: np.ndarray, order_of_line: np.ndarray, n_orders: int) -> np.ndarray:
    """Order-level cents over its lines by weight, largest remainder, so the lines add up to the order."""
    total_w = np.bincount(order_of_line, weights=weight, minlength=n_orders)
    n_lines = np.bincount(order_of_line, minlength=n_orders)
    share = np.where(total_w[order_of_line] > 0, weight / np.where(total_w[order_of_line] > 0, total_w[order_of_line], 1),
                     1.0 / n_lines[order_of_line])
    exact = amount[order_of_line] * share
    floor = np.floor(exact).astype(np.int64)
    short = amount - np.bincount(order_of_line, weights=floor, minlength=n_orders).round().astype(np.int64)
    rank = pd.Series(exact - floor).groupby(order_of_line).rank(method="first", ascending=False).to_numpy()
    return floor + (rank <= short[order_of_line]).astype(np.int64)


def settlement_lines(rng: np.random.Generator, book: OrderBook, skus: pd.DataFrame, aff: pd.DataFrame,
                     asof: int) -> pd.DataFrame:
    """Per delivered order line: what the statement says (cents, fees negative) and, for the truth, its COGS.

    Lines of orders not yet settled get the amounts they would settle at, with `settled` False."""
    orders, lines = book.orders, book.lines
    ok = lines["order_key"].to_numpy()
    o = orders.iloc[ok].reset_index(drop=True)
    keep = (o["delivered_ts"].to_numpy() != NO_TIME) & ~o["channel"].isin(["sample", "test"]).to_numpy()
    ln, o = lines[keep].reset_index(drop=True), o[keep].reset_index(drop=True)
    order_codes, order_of_line = np.unique(ln["order_key"].to_numpy(), return_inverse=True)
    n_o = len(order_codes)
    first = pd.Series(np.arange(len(ln))).groupby(order_of_line).first().to_numpy()
    oo = o.iloc[first].reset_index(drop=True)
    before, seller = ln["before"].to_numpy(), ln["seller_disc"].to_numpy()
    item = before - seller
    refunded = oo["refund_ts"].to_numpy() != NO_TIME
    returned = refunded[order_of_line] & (ln["return_qty"].to_numpy() > 0)
    full = oo["full_refund"].to_numpy() & refunded

    def split(col: str) -> np.ndarray:
        return _split(oo[col].to_numpy().astype(np.int64), item.astype(float), order_of_line, n_o)

    ship_paid, ship_platform, ship_original = split("ship_after"), split("ship_platform_disc"), split("ship_original")
    payment = _split((oo["order_amount"].to_numpy() - oo["small_order_fee"].to_numpy()).astype(np.int64),
                     item.astype(float), order_of_line, n_o)
    item_refund = np.where(returned, item, 0)
    ship_refund = np.where(full[order_of_line], ship_paid, 0)
    pay_refund = np.where(returned, ln["after"].to_numpy(), 0) + ship_refund
    market = o["market"].to_numpy()
    category = skus["tiktok_category"].to_numpy()[ln["sku_idx"].to_numpy()]
    created = o["created_ts"].to_numpy()
    bases = {"item_after_seller_discount": item - item_refund,
             "item_after_seller_discount_plus_shipping": item - item_refund + ship_paid - ship_refund,
             "customer_payment": payment - pay_refund}
    table = fee_table()
    fees = {f: np.zeros(len(ln), dtype=np.int64) for f in _FEES}
    table_fees = {f: np.zeros(len(ln)) for f in _FEES}
    dev = PLANTED_DEVIATION
    for code in MARKET_CODES:
        sel = market == code
        for fee_line in _FEES:
            rate, base_name = _rates(table, code, category[sel], fee_line, created[sel])
            if not base_name:
                continue
            rate = np.nan_to_num(rate)
            charged = rate.copy()
            if code == dev["market"] and fee_line == dev["fee_line"]:
                hit = np.char.startswith(category[sel].astype(str), dev["category"]) & (
                    created[sel] >= np.datetime64(dev["from"], "s").astype(np.int64))
                charged[hit] += dev["extra_rate"]
            base = bases[base_name][sel]
            fees[fee_line][sel] = -np.round(charged * base).astype(np.int64)
            table_fees[fee_line][sel] = -rate * base
    aff_key = pd.Series(aff["est_std"].to_numpy() + aff["est_ads"].to_numpy(),
                        index=pd.MultiIndex.from_arrays([aff["order_key"].to_numpy(), aff["sku_idx"].to_numpy()]))
    aff_key = aff_key[~aff["fully"].to_numpy()]
    commission = -aff_key.reindex(pd.MultiIndex.from_arrays([ln["order_key"].to_numpy(), ln["sku_idx"].to_numpy()])
                                  ).fillna(0).to_numpy().astype(np.int64)
    commission = np.where(returned, 0, commission)
    settle_at = o["delivered_ts"].to_numpy() + SETTLE_AFTER_DELIVERY
    stuck = np.zeros(n_o, dtype=bool)
    for code in MARKET_CODES:
        pool = np.flatnonzero((oo["market"].to_numpy() == code) & (oo["delivered_ts"].to_numpy() + SETTLE_AFTER_DELIVERY < asof - 35 * DAY)
                              & (oo["delivered_ts"].to_numpy() > asof - 70 * DAY) & ~refunded)
        stuck[rng.choice(pool, size=min(STUCK_PER_MARKET, len(pool)), replace=False)] = True
    landed = np.where(market == "UK", skus["landed_cents_UK"].to_numpy()[ln["sku_idx"].to_numpy()],
                      skus["landed_cents_TH"].to_numpy()[ln["sku_idx"].to_numpy()])
    units_kept = ln["qty"].to_numpy() - np.where(returned, ln["return_qty"].to_numpy(), 0)
    shipping = ship_paid + ship_platform - ship_original - ship_refund
    revenue = item - item_refund
    total_fees = fees["tiktok_shop_commission_fee"] + fees["transaction_fee"] + commission
    return pd.DataFrame({
        "order_key": ln["order_key"].to_numpy(), "sku_idx": ln["sku_idx"].to_numpy(), "market": market,
        "order_id": o["order_id"].to_numpy(), "qty": ln["qty"].to_numpy(), "created_ts": created,
        "paid_ts": o["paid_ts"].to_numpy(), "delivered_ts": o["delivered_ts"].to_numpy(), "settle_ts": settle_at,
        "refund_ts": o["refund_ts"].to_numpy(),
        "stuck": stuck[order_of_line],
        "before": before, "seller_disc": -seller, "item": item, "item_refund": -item_refund,
        "platform_disc": ln["platform_disc"].to_numpy(),
        "commission_fee": fees["tiktok_shop_commission_fee"], "transaction_fee": fees["transaction_fee"],
        "commission_fee_table": table_fees["tiktok_shop_commission_fee"], "transaction_fee_table": table_fees["transaction_fee"],
        "affiliate_commission": commission, "ship_paid": ship_paid, "ship_platform": ship_platform,
        "ship_actual": -ship_original, "ship_refund": -ship_refund, "payment": payment, "pay_refund": -pay_refund,
        "revenue": revenue, "shipping": shipping, "total_fees": total_fees,
        "settlement": revenue + shipping + total_fees,
        "cogs": landed * units_kept, "landed": landed, "units_kept": units_kept,
    })


def _utc(local: np.ndarray, zone: str) -> pd.DatetimeIndex:
    return (pd.to_datetime(local, unit="s").tz_localize(zone, ambiguous=True, nonexistent="shift_forward")
            .tz_convert("UTC").tz_localize(None))


def statement_weeks(end_local: int) -> list[dt.date]:
    """Mondays (UTC) of the complete statement weeks before the demo's data end."""
    last_day = dt.date(1970, 1, 1) + dt.timedelta(days=int(end_local // DAY))
    monday = last_day - dt.timedelta(days=last_day.weekday())
    return [monday - dt.timedelta(weeks=k) for k in range(SETTLEMENT_WEEKS, 0, -1)]


def assign_statements(sl: pd.DataFrame, asof: int) -> pd.DataFrame:
    """Statement week and UTC settled time per line; `settled` marks lines in a statement that exists."""
    weeks = statement_weeks(asof)
    out = sl.copy()
    utc = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    created = utc.copy()
    for code in MARKET_CODES:
        sel = out["market"].to_numpy() == code
        utc[sel] = _utc(out.loc[sel, "settle_ts"].to_numpy(), MARKETS[code]["tz"])
        created[sel] = _utc(out.loc[sel, "created_ts"].to_numpy(), MARKETS[code]["tz"])
    out["settled_utc"] = utc
    out["created_utc"] = created
    monday = (utc.dt.normalize() - pd.to_timedelta(utc.dt.day_of_week, unit="D")).dt.date
    out["statement_week"] = monday
    out["settled"] = monday.isin(weeks).to_numpy() & ~out["stuck"].to_numpy()
    return out


def write_statement_files(root: Path, sl: pd.DataFrame, skus: pd.DataFrame, asof: int, fixed_time: dt.datetime,
                          progress: Callable[[str], None]) -> tuple[dict[str, int], list[dict]]:
    """One workbook per market and statement week; returns row counts and each statement's payout truth."""
    counts: dict[str, int] = {}
    payouts: list[dict] = []
    weeks = statement_weeks(asof)
    for code in MARKET_CODES:
        cur = MARKETS[code]["currency"]
        held: dict[dt.date, list] = {}
        for n_done, monday in enumerate(weeks, start=1):
            part = sl[(sl["market"] == code) & sl["settled"] & (sl["statement_week"] == monday)]
            part = part.sort_values(["settled_utc", "order_id", "sku_idx"], kind="stable")
            sid = f"{code}{monday.strftime('%Y%m%d')}01"
            end = monday + dt.timedelta(days=6)
            total = int(part["settlement"].sum())
            sku_ids = skus[f"sku_id_{code}"].to_numpy()[part["sku_idx"].to_numpy()]

            def c(v):
                return round(int(v) / 100, 2)

            rows = [HEADER] + [
                [end.strftime("%Y/%m/%d"), sid, "Order", r.order_id, r.order_id, sku, int(r.qty), cur,
                 r.created_utc.strftime("%Y/%m/%d %H:%M:%S"), r.settled_utc.strftime("%Y/%m/%d %H:%M:%S"), c(r.settlement), c(r.revenue),
                 c(r.before), c(r.seller_disc), c(r.item), c(r.item_refund), c(r.platform_disc), c(r.total_fees),
                 c(r.commission_fee), c(r.transaction_fee), c(r.affiliate_commission), c(r.ship_paid), c(r.ship_platform),
                 c(r.ship_actual), c(r.ship_refund), c(r.payment), c(r.pay_refund)]
                for r, sku in zip(part.itertuples(), sku_ids)]
            share = RESERVE_SHARE.get(code, 0.0)
            hold = int(round(total * share))
            held[monday] = [hold]
            released_week = monday - dt.timedelta(weeks=RESERVE_WEEKS)
            release = held.get(released_week, [0])[0]
            reserve_rows = [["Reserve ID", "Statement ID", "Reserve status", "Reserve amount", "Estimated release time"]]
            if hold:
                reserve_rows.append([f"R{sid}", sid, "Held", c(-hold),
                                     (monday + dt.timedelta(weeks=RESERVE_WEEKS)).strftime("%Y/%m/%d")])
            if release:
                reserve_rows.append([f"R{code}{released_week.strftime('%Y%m%d')}01", sid, "Released", c(release), ""])
            payout = total - hold + release
            reports = [["Statement", "Income statement"], ["Time period", f"{monday:%Y/%m/%d} - {end:%Y/%m/%d}"],
                       ["Time zone", "UTC"], ["Currency", cur], ["Total settlement amount", c(total)]]
            withdrawals = [["Withdrawal ID", "Statement ID", "Withdrawal amount", "Status"],
                           [f"W{sid}", sid, c(payout), "Paid"]]
            rel = f"{code}/finance/income_statement_{monday:%Y%m%d}-{end:%Y%m%d}.xlsx"
            write_xlsx(root / rel, [("Reports", reports), ("Order details", rows), ("Reserve Details", reserve_rows),
                                    ("Withdrawal records", withdrawals)], fixed_time=fixed_time)
            counts[rel] = len(rows) - 1
            payouts.append({"market": code, "statement_id": sid, "file": rel, "currency": cur,
                            "total_settlement_amount": c(total), "reserve": c(release - hold), "withdrawal": c(payout)})
            progress(f"income statements: {code} {n_done}/{len(weeks)} files")
    return counts, payouts



def profit_truth(sl: pd.DataFrame, skus: pd.DataFrame, payouts: list[dict], asof: int, weeks: int = 10) -> dict:
    """Planted P&L per market x seller SKU x local paid ISO week (money in local currency units).

    `settled` holds lines in a statement; `unsettled` lines delivered by the data's end, with no refund after it
    (`unsettled_left_out` lists the orders whose refund comes after the data's end),
    that no statement holds yet, at the amounts they will settle at, with `fee_error_bound`: how far an estimate
    from the fee table can be off (the planted deviation, plus half a cent per fee line for rounding)."""
    paid_day = (sl["paid_ts"].to_numpy() // DAY).astype("datetime64[D]")
    iso = pd.DatetimeIndex(paid_day).isocalendar()
    week = iso["year"].astype(str).to_numpy() + "-W" + iso["week"].astype(str).str.zfill(2).to_numpy()
    d = sl.assign(week=week, seller_sku=skus["seller_sku"].to_numpy()[sl["sku_idx"].to_numpy()],
                  contribution=sl["settlement"] - sl["cogs"],
                  fee_error=(sl["commission_fee"] - sl["commission_fee_table"]).abs()
                  + (sl["transaction_fee"] - sl["transaction_fee_table"]).abs() + 1.0)
    recent = sorted(set(week))[-weeks:]
    d = d[np.isin(d["week"], recent)]
    # An estimate can only know what the export shows: delivered by the data's end, and no refund after it.
    # Exports are taken during the morning after the data's last day: what happens from its midnight on is
    # seen by some files and not others, so those lines are left out of the comparison (and listed).
    cut = (asof // DAY) * DAY
    refund_later = (d["refund_ts"] != NO_TIME) & (d["refund_ts"] >= cut)
    late = ((d["delivered_ts"] >= cut) & (d["delivered_ts"] <= asof)) | ((d["delivered_ts"] < cut) & refund_later)
    known = (d["delivered_ts"] < cut) & ~d["stuck"] & ~refund_later
    sums = ["revenue", "shipping", "commission_fee", "transaction_fee", "affiliate_commission", "settlement", "cogs", "contribution"]

    def table(part: pd.DataFrame, extra: list[str]) -> list[dict]:
        g = part.groupby(["market", "week", "seller_sku"], sort=True)[sums + extra].sum().reset_index()
        g["lines"] = part.groupby(["market", "week", "seller_sku"], sort=True).size().to_numpy()
        for c in sums + extra:
            g[c] = g[c] / 100
        return g.to_dict(orient="records")

    stuck = sl[sl["stuck"]].drop_duplicates("order_id")
    return {
        "rules": __doc__.split("Planted truths (in truth.json -> \"profit\"):")[1].strip(),
        "planted_deviation": PLANTED_DEVIATION,
        "settle_after_delivery_days": SETTLE_AFTER_DELIVERY // DAY,
        "statement_weeks": [w.isoformat() for w in statement_weeks(asof)],
        "settled": table(d[d["settled"]], []),
        "unsettled": table(d[~d["settled"] & known], ["fee_error"]),
        "unsettled_left_out": sorted(set(d.loc[~d["settled"] & late, "order_id"])),
        "stuck_orders": [{"market": r.market, "order_id": r.order_id} for r in stuck.itertuples()],
        "payouts": payouts,
    }
