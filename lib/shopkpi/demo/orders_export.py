"""Seller Center 'All orders' (OrderSKUList) CSV exports: overlapping monthly windows, snapshot statuses, dirt."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopkpi.demo import formats as fmt
from shopkpi.demo.clock import DAY, HOUR, epoch_day
from shopkpi.demo.lifecycle import status_as_of, visible
from shopkpi.demo.markets import MARKET_CODES, MARKETS
from shopkpi.demo.orders import OrderBook, take
from shopkpi.demo.writers import write_csv

MAX_RECORDS = 15_000
OVERLAP_DAYS = 7

_DESCRIPTIONS = {
    "Order ID": "Platform unique order ID.",
    "Order Status": "Current order status.",
    "Order Substatus": "Current order substatus.",
    "Cancelation/Return Type": "The filed to explain the order is in cancellation or in return/refund.",
    "Normal or Pre-order": "Whether the order is a normal order or a pre-order.",
    "SKU ID": "Platform SKU ID.",
    "Seller SKU": "Seller sku input by the seller in the product system.",
    "Product Name": "Product name.",
    "Variation": "SKU variation.",
    "Quantity": "SKU sold quantity in the order.",
    "Sku Quantity of return": "SKU returned quantity in the order.",
    "SKU Unit Original Price": "1 SKU original price.",
    "SKU Subtotal Before Discount": "It equals to SKU Unit Original Price * Sku Quantity.",
    "SKU Platform Discount": "Total platform discount in this SKU ID.",
    "SKU Seller Discount": "Total seller discount in this SKU ID.",
    "SKU Subtotal After Discount": "It equals to SKU Subtotal Before Discount - SKU Platform Discount - SKU Seller Discount.",
    "Shipping Fee After Discount": "Shipping fee paid by the buyer after discounts.",
    "Original Shipping Fee": "Shipping fee before any discount.",
    "Shipping Fee Seller Discount": "Shipping fee discount funded by the seller.",
    "Shipping Fee Platform Discount": "Shipping fee discount funded by the platform.",
    "Payment platform discount": "Discount funded by the payment platform.",
    "Taxes": "Taxes charged on the order.",
    "Small Order Fee": "Fee charged to the buyer for orders below the minimum order value.",
    "Order Amount": "Total amount paid by the buyer for the order.",
    "Order Refund Amount": "Total amount refunded to the buyer for the order.",
    "Created Time": "Time the order was created.",
    "Paid Time": "Time the order was paid.",
    "RTS Time": "Time the order was marked ready to ship.",
    "Shipped Time": "Time the package was collected by the carrier.",
    "Delivered Time": "Time the package was delivered.",
    "Cancelled Time": "Time the order was cancelled.",
    "Cancel By": "Who initiated the cancellation or return.",
    "Cancel Reason": "Reason for the cancellation or return.",
    "Fulfillment Type": "Who fulfils the order.",
    "Warehouse Name": "Warehouse shipping the order.",
    "Tracking ID": "Carrier tracking number.",
    "Delivery Option Type": "Type of delivery option.",
    "Delivery Option": "Delivery option chosen by the buyer.",
    "Shipping Provider Name": "Carrier delivering the package.",
    "Buyer Message": "Message left by the buyer.",
    "Buyer Username": "Buyer's TikTok username.",
    "Recipient": "Recipient name.",
    "Phone #": "Recipient phone number.",
    "Country": "Recipient country.",
    "State": "Recipient state or county.",
    "Province": "Recipient province.",
    "District": "Recipient district.",
    "City": "Recipient city.",
    "Zipcode": "Recipient postal code.",
    "Detail Address": "Recipient street address.",
    "Additional address information": "Additional address details.",
    "House Name or Number": "House name or number.",
    "Delivery Instruction": "Delivery instruction from the buyer.",
    "Payment Method": "Payment method used by the buyer.",
    "Weight(kg)": "Package weight in kilograms.",
    "Product Category": "Product category.",
    "Package ID": "Platform package ID.",
    "Seller Note": "Note added by the seller.",
    "Checked Status": "Whether the order has been checked by the seller.",
    "Checked Marked by": "Seller account that marked the order as checked.",
    "Shipping Information": "Shipping information.",
}

US_COLUMNS = [
    "Order ID", "Order Status", "Order Substatus", "Cancelation/Return Type", "Normal or Pre-order", "SKU ID",
    "Seller SKU", "Product Name", "Variation", "Quantity", "Sku Quantity of return", "SKU Unit Original Price",
    "SKU Subtotal Before Discount", "SKU Platform Discount", "SKU Seller Discount", "SKU Subtotal After Discount",
    "Shipping Fee After Discount", "Original Shipping Fee", "Shipping Fee Seller Discount",
    "Shipping Fee Platform Discount", "Payment platform discount", "Retail Delivery Fee", "Taxes", "Order Amount",
    "Order Refund Amount", "Created Time", "Paid Time", "RTS Time", "Shipped Time", "Delivered Time",
    "Cancelled Time", "Cancel By", "Cancel Reason", "Fulfillment Type", "Warehouse Name", "Tracking ID",
    "Delivery Option Type", "Delivery Option", "Shipping Provider Name", "Buyer Message", "Buyer Username",
    "Recipient", "Phone #", "Country", "State", "City", "Zipcode", "Detail Address",
    "Additional address information", "House Name or Number", "Delivery Instruction", "Payment Method",
    "Weight(kg)", "Product Category", "Package ID", "Seller Note", "Shipping Information",
]
UK_COLUMNS = [c for c in US_COLUMNS if c != "Retail Delivery Fee"]
TH_COLUMNS = [
    "Order ID", "Order Status", "Order Substatus", "Cancelation/Return Type", "Normal or Pre-order", "SKU ID",
    "Seller SKU", "Product Name", "Variation", "Quantity", "Sku Quantity of return", "SKU Unit Original Price",
    "SKU Subtotal Before Discount", "SKU Platform Discount", "SKU Seller Discount", "SKU Subtotal After Discount",
    "Shipping Fee After Discount", "Original Shipping Fee", "Shipping Fee Seller Discount",
    "Shipping Fee Platform Discount", "Taxes", "Small Order Fee", "Order Amount", "Order Refund Amount",
    "Created Time", "Paid Time", "RTS Time", "Shipped Time", "Delivered Time", "Cancelled Time", "Cancel By",
    "Cancel Reason", "Fulfillment Type", "Warehouse Name", "Tracking ID", "Delivery Option",
    "Shipping Provider Name", "Buyer Message", "Buyer Username", "Recipient", "Phone #", "Zipcode", "Country",
    "Province", "District", "Detail Address", "Additional address information", "Payment Method", "Weight(kg)",
    "Product Category", "Package ID", "Seller Note", "Checked Status", "Checked Marked by",
]
COLUMNS = {"UK": UK_COLUMNS, "TH": TH_COLUMNS}
LINE_LEVEL = ["SKU ID", "Seller SKU", "Product Name", "Variation", "Quantity", "Sku Quantity of return",
              "SKU Unit Original Price", "SKU Subtotal Before Discount", "SKU Platform Discount",
              "SKU Seller Discount", "SKU Subtotal After Discount", "Product Category"]
ORDER_LEVEL_MONEY = ["Shipping Fee After Discount", "Original Shipping Fee", "Shipping Fee Seller Discount",
                     "Shipping Fee Platform Discount", "Taxes", "Order Amount", "Order Refund Amount"]
_NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four"}
DIRT_KINDS = ["order_id_scientific", "impossible_date", "non_numeric_quantity"]


@dataclass
class OrderFile:
    market: str
    rel_path: str
    first_day: int  # history day indices, inclusive
    last_day: int
    asof: int  # local seconds
    line_idx: np.ndarray = field(default_factory=lambda: np.array([], dtype=np.int64))


def plan_files(book: OrderBook, start_date: dt.date, n_hist: int, rng: np.random.Generator) -> list[OrderFile]:
    """Monthly windows reaching 7 days into the previous month; split where a window exceeds 15,000 rows."""
    files: list[OrderFile] = []
    dates = np.datetime64(start_date.isoformat(), "D") + np.arange(n_hist)
    months = np.unique(dates.astype("datetime64[M]"))
    line_order = book.lines["order_key"].to_numpy()
    line_day = book.orders["day"].to_numpy()[line_order]
    line_m = book.orders["m_idx"].to_numpy()[line_order]
    for m, market in enumerate(MARKET_CODES):
        per_day = np.bincount(line_day[line_m == m], minlength=n_hist)
        for month in months:
            first = int((month.astype("datetime64[D]") - dates[0]).astype(np.int64))
            last = int(((month + 1).astype("datetime64[D]") - dates[0]).astype(np.int64)) - 1
            w_first, w_last = max(0, first - OVERLAP_DAYS), min(n_hist - 1, last)
            rows = int(per_day[w_first:w_last + 1].sum())
            parts = max(1, -(-rows // (MAX_RECORDS - 500)))
            bounds = _split_days(per_day[w_first:w_last + 1], parts)
            asof_base = (epoch_day(start_date) + w_last + 1) * DAY + 9 * HOUR + int(rng.integers(0, 50)) * 60
            for k, (a, b) in enumerate(bounds):
                asof = asof_base + k * 2 * 60
                stamp = fmt.timestamps(np.array([asof]), "ymd_hm")[0]
                name = f"All order-{stamp[:10]}-{stamp[11:13]}_{stamp[14:16]}.csv"
                files.append(OrderFile(market, f"{market}/orders/{name}", w_first + a, w_first + b, asof))
    for f in files:
        mi = MARKET_CODES.index(f.market)
        f.line_idx = np.flatnonzero((line_m == mi) & (line_day >= f.first_day) & (line_day <= f.last_day))
    return files


def _split_days(per_day: np.ndarray, parts: int) -> list[tuple[int, int]]:
    if parts == 1:
        return [(0, len(per_day) - 1)]
    cum = np.cumsum(per_day)
    cuts = [int(np.searchsorted(cum, cum[-1] * i / parts)) for i in range(1, parts)]
    edges = [0] + [c + 1 for c in cuts] + [len(per_day)]
    return [(edges[i], edges[i + 1] - 1) for i in range(parts) if edges[i] <= edges[i + 1] - 1]


def plan_dirt(rng: np.random.Generator, book: OrderBook, files: list[OrderFile], scale: float) -> list[dict[str, Any]]:
    """Pick lines to corrupt (one file each) the way Excel round-trips and manual edits do."""
    orders, lines = book.orders, book.lines
    plan = []
    n_per_market = max(3, int(round(12 * scale ** 0.5)))
    chan = orders["channel"].to_numpy()[lines["order_key"].to_numpy()]
    for market in MARKET_CODES:
        mfiles = [i for i, f in enumerate(files) if f.market == market]
        m_lines = np.flatnonzero((orders["market"].to_numpy()[lines["order_key"].to_numpy()] == market)
                                 & (chan == "organic"))
        chosen: set[int] = set()
        for j in range(n_per_market):
            kind = DIRT_KINDS[j % len(DIRT_KINDS)]
            pool = m_lines
            if kind == "non_numeric_quantity":
                pool = m_lines[lines["qty"].to_numpy()[m_lines] >= 2]
            pool = np.setdiff1d(pool, np.fromiter(chosen, dtype=np.int64))
            if len(pool) == 0:
                continue
            li = int(rng.choice(pool))
            chosen.add(li)
            day = int(orders["day"].to_numpy()[lines["order_key"].to_numpy()[li]])
            holding = [i for i in mfiles if files[i].first_day <= day <= files[i].last_day]
            fi = int(rng.choice(holding))
            plan.append({"line": li, "file_index": fi, "kind": kind, "others": [i for i in holding if i != fi]})
    return plan


def write_order_files(root: Path, book: OrderBook, skus: pd.DataFrame, files: list[OrderFile],
                      dirt_plan: list[dict[str, Any]], progress: Callable[[str], None]) -> tuple[dict[str, int], list, list]:
    """Write every file; return (row counts, dirt records, per-file order snapshots for status-change truth)."""
    counts: dict[str, int] = {}
    dirt_records: list[dict[str, Any]] = []
    snapshots: list[pd.DataFrame] = []
    by_file: dict[int, list[dict[str, Any]]] = {}
    for d in dirt_plan:
        by_file.setdefault(d["file_index"], []).append(d)
    arrays = book.arrays()
    sku_arrays = {c: skus[c].to_numpy(dtype=object) if skus[c].dtype != np.int64 else skus[c].to_numpy()
                  for c in skus.columns}
    for market in MARKET_CODES:
        idx = [i for i, f in enumerate(files) if f.market == market]
        for n_done, i in enumerate(idx, start=1):
            f = files[i]
            frame, snap, line_order = _file_frame(arrays, sku_arrays, f)
            for d in by_file.get(i, []):
                dirt_records.append(_apply_dirt(frame, line_order, d, book, files))
            encoding = "utf-8-sig"
            header = COLUMNS[market]
            counts[f.rel_path] = write_csv(root / f.rel_path, header, frame, pre_rows=[[_DESCRIPTIONS[c] for c in header]],
                                           encoding=encoding)
            snapshots.append(snap.assign(file=f.rel_path, asof=f.asof))
            progress(f"orders: {market} {n_done}/{len(idx)} files")
    return counts, dirt_records, snapshots


def _file_frame(arrays: tuple, skus: dict[str, np.ndarray], f: OrderFile) -> tuple[dict[str, np.ndarray], pd.DataFrame, np.ndarray]:
    """Formatted rows of one export (newest first), its per-order snapshot, and the book line of each row."""
    market = f.market
    mk = MARKETS[market]
    orders_a, lines_a, customers_a = arrays
    okeys = lines_a["order_key"][f.line_idx]
    # Seller Center lists newest orders first, lines of an order together.
    sort = np.lexsort((lines_a["line_no"][f.line_idx], orders_a["order_id"][okeys], -orders_a["created_ts"][okeys]))
    lines = take(lines_a, f.line_idx[sort])
    o = take(orders_a, okeys[sort])
    n = len(sort)
    st = status_as_of(o, f.asof)
    canceled, refunded = st["canceled"], st["refunded"]
    paid_visible = o["paid_ts"] <= f.asof
    refund_cents = np.where(canceled & paid_visible, o["order_amount"],
                            np.where(refunded, o["refund_amount_on_return"], 0))
    money = (lambda c: fmt.money_plain(c)) if market == "UK" else (lambda c: fmt.money_code(c, "THB"))
    sku = lines["sku_idx"]
    cancel_type = np.where(canceled, "Cancel", np.where(refunded, "Return/Refund", "")).astype(object)
    cancel_by = np.where(canceled, o["cancel_by"], np.where(refunded, "Buyer", "")).astype(object)
    cancel_reason = np.where(canceled, o["cancel_reason"],
                             np.where(refunded, o["refund_reason"], "")).astype(object)
    chan = o["channel"]
    cust = customers_a[market]
    ci = np.maximum(o["customer_idx"], 0)
    is_sample, is_test = chan == "sample", chan == "test"

    def person(col: str, sample_value: Any = None, test_value: Any = "") -> np.ndarray:
        vals = cust[col][ci].astype(object)
        if sample_value is not None:
            vals = np.where(is_sample, sample_value, vals)
        return np.where(is_test, test_value, vals)

    seller_note = np.where(is_sample, "Free sample for creator @" + o["sample_handle"].astype(object),
                           np.where(is_test, "TEST ORDER - do not ship", "")).astype(object)
    rts_visible = o["rts_ts"] <= f.asof
    cols: dict[str, np.ndarray] = {
        "Order ID": o["order_id"],
        "Order Status": st["status"],
        "Order Substatus": st["substatus"],
        "Cancelation/Return Type": cancel_type,
        "Normal or Pre-order": np.full(n, "Normal", dtype=object),
        "SKU ID": skus[f"sku_id_{market}"][sku],
        "Seller SKU": skus["seller_sku"][sku],
        "Product Name": skus["product_name"][sku],
        "Variation": skus["variation"][sku],
        "Quantity": fmt.integers(lines["qty"]),
        "Sku Quantity of return": fmt.integers(np.where(refunded, lines["return_qty"], 0)),
        "SKU Unit Original Price": money(lines["unit_price"]),
        "SKU Subtotal Before Discount": money(lines["before"]),
        "SKU Platform Discount": money(lines["platform_disc"]),
        "SKU Seller Discount": money(lines["seller_disc"]),
        "SKU Subtotal After Discount": money(lines["after"]),
        "Shipping Fee After Discount": money(o["ship_after"]),
        "Original Shipping Fee": money(o["ship_original"]),
        "Shipping Fee Seller Discount": money(o["ship_seller_disc"]),
        "Shipping Fee Platform Discount": money(o["ship_platform_disc"]),
        "Payment platform discount": money(np.zeros(n, dtype=np.int64)),
        "Taxes": money(o["taxes"]),
        "Small Order Fee": money(o["small_order_fee"]),
        "Order Amount": money(o["order_amount"]),
        "Order Refund Amount": money(refund_cents),
        "Created Time": fmt.timestamps(o["created_ts"]),
        "Paid Time": fmt.timestamps(visible(o["paid_ts"], f.asof)),
        "RTS Time": fmt.timestamps(visible(o["rts_ts"], f.asof)),
        "Shipped Time": fmt.timestamps(visible(o["shipped_ts"], f.asof)),
        "Delivered Time": fmt.timestamps(visible(o["delivered_ts"], f.asof)),
        "Cancelled Time": fmt.timestamps(np.where(canceled, o["cancel_ts"], fmt.NO_TIME)),
        "Cancel By": cancel_by,
        "Cancel Reason": cancel_reason,
        "Fulfillment Type": np.full(n, "Fulfillment by seller", dtype=object),
        "Warehouse Name": np.full(n, mk["warehouse"], dtype=object),
        "Tracking ID": np.where(rts_visible, o["tracking_id"], "").astype(object),
        "Delivery Option Type": np.full(n, "Standard", dtype=object),
        "Delivery Option": np.full(n, "Standard shipping" if market == "UK" else "Standard Delivery", dtype=object),
        "Shipping Provider Name": np.where(paid_visible, o["shipping_provider"], "").astype(object),
        "Buyer Message": np.where(is_sample | is_test, "", o["buyer_message"]).astype(object),
        "Buyer Username": np.where(is_sample, o["sample_handle"],
                                   np.where(is_test, o["test_buyer"], cust["username"][ci])).astype(object),
        "Recipient": person("recipient", test_value="Test Account"),
        "Phone #": person("phone"),
        "Country": np.full(n, mk["country"], dtype=object),
        "Zipcode": person("zipcode"),
        "Detail Address": person("detail_address"),
        "Additional address information": person("additional_address"),
        "Payment Method": o["payment_method"],
        "Weight(kg)": fmt.decimals(o["weight_kg"], 2),
        "Product Category": skus["tiktok_category"][sku],
        "Package ID": np.where(paid_visible, o["package_id"], "").astype(object),
        "Seller Note": seller_note,
        "Shipping Information": np.full(n, "", dtype=object),
    }
    if market == "UK":
        cols.update({
            "State": person("state"), "City": person("city"),
            "House Name or Number": person("house_name"), "Delivery Instruction": person("delivery_instruction"),
        })
    else:
        checked = np.isin(st["status"], ["Completed", "Delivered"]) & (o["day"] % 3 == 0)
        cols.update({
            "Province": person("province"), "District": person("district"),
            "Checked Status": np.where(checked, "Checked", "Unchecked").astype(object),
            "Checked Marked by": np.where(checked, "lumahome_ops01", "").astype(object),
        })
    frame = {c: np.asarray(cols[c], dtype=object) for c in COLUMNS[market]}
    first_line = lines["line_no"] == 0
    snap = pd.DataFrame({
        "order_key": okeys[sort][first_line],
        "status": st["status"][first_line],
        "return_type": cancel_type[first_line],
        "refund_cents": refund_cents[first_line],
    })
    return frame, snap, f.line_idx[sort]


def _apply_dirt(frame: dict[str, np.ndarray], line_order: np.ndarray, d: dict[str, Any], book: OrderBook,
               files: list[OrderFile]) -> dict[str, Any]:
    row = int(np.flatnonzero(line_order == d["line"])[0])
    kind = d["kind"]
    if kind == "order_id_scientific":
        column = "Order ID"
        original = frame[column][row]
        value = f"{int(original):.14E}"
    elif kind == "impossible_date":
        column = "Created Time"
        original = frame[column][row]
        value = f"31/02/{original[6:10]} {original[11:]}"
    else:
        column = "Quantity"
        original = frame[column][row]
        value = _NUMBER_WORDS[int(original)]
    frame[column] = frame[column].copy()
    frame[column][row] = value
    line = book.lines.iloc[d["line"]]
    order = book.orders.iloc[int(line["order_key"])]
    return {
        "kind": kind,
        "market": order["market"],
        "file": files[d["file_index"]].rel_path,
        "data_row": row,
        "file_line_number": row + 3,
        "column": column,
        "written_value": value,
        "original_value": original,
        "order_id": order["order_id"],
        "sku_id": frame["SKU ID"][row],
        "sku_line": int(line["line_no"]),
        "clean_copy_in_files": [files[i].rel_path for i in d["others"]],
    }


def status_changes(snapshots: list[pd.DataFrame], book: OrderBook) -> list[dict[str, Any]]:
    """Orders whose exported state differs between two files (the newer file is the truth)."""
    snaps = pd.concat(snapshots, ignore_index=True)
    snaps["state"] = np.where(snaps["return_type"] != "", snaps["status"] + " + " + snaps["return_type"], snaps["status"])
    snaps = snaps.sort_values(["order_key", "asof", "file"], kind="stable")
    prev = snaps.groupby("order_key").shift(1)
    changed = prev["state"].notna() & ((prev["state"] != snaps["state"]) | (prev["refund_cents"] != snaps["refund_cents"]))
    rows = snaps[changed].assign(older_file=prev.loc[changed, "file"], older_state=prev.loc[changed, "state"])
    rows = rows.assign(order_id=book.orders["order_id"].to_numpy()[rows["order_key"].to_numpy()])
    out = []
    for (older, newer), grp in rows.groupby(["older_file", "file"], sort=True):
        out.append({
            "older_file": older,
            "newer_file": newer,
            "columns": ["order_id", "older_state", "newer_state"],
            "rows": grp[["order_id", "older_state", "state"]].values.tolist(),
        })
    return out
