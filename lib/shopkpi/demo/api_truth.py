"""The demo's orders as the Open API holds them at the end of the history (truth for the fake Partner API).

One row per SKU line, order fields repeated, times as UTC Unix seconds (the API's convention), money in
minor units. Written from the same order book as the Orders exports, without the exports' dirt, so an API
sync and an export ingestion of the demo must agree on every order.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from shopkpi.demo.formats import NO_TIME
from shopkpi.demo.lifecycle import status_as_of
from shopkpi.demo.markets import MARKET_CODES, MARKETS
from shopkpi.demo.orders import OrderBook

FILE = "api_orders.parquet"
# The API's order status enum for each export status the demo writes (Order object, 202309 [api-spec]).
API_STATUS = {"Unpaid": "UNPAID", "To ship": "AWAITING_SHIPMENT", "Shipped": "IN_TRANSIT", "In transit": "IN_TRANSIT",
              "Delivered": "DELIVERED", "Completed": "COMPLETED", "Canceled": "CANCELLED"}
SUBSTATUS = {"Awaiting collection": "AWAITING_COLLECTION"}


def utc_seconds(local_seconds: np.ndarray, tz: str) -> pd.array:
    """Local wall-clock seconds -> UTC Unix seconds (missing where NO_TIME); an autumn repeated hour takes its first pass."""
    secs = np.asarray(local_seconds, dtype=np.int64)
    out = pd.array(np.zeros(secs.shape, dtype=np.int64), dtype="Int64")
    present = secs != NO_TIME
    local = pd.DatetimeIndex(pd.to_datetime(secs[present], unit="s")).tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
    out[present] = local.as_unit("s").asi8
    out[~present] = pd.NA
    return out


def write(truth_dir: Path, book: OrderBook, skus: pd.DataFrame, asof_local: int) -> Path:
    """Every order's final state (as of `asof_local`, local seconds per market) -> truth/api_orders.parquet."""
    o, ln = book.orders, book.lines
    parts = []
    for m_idx, market in enumerate(MARKET_CODES):
        tz = MARKETS[market]["tz"]
        orders = o[o["m_idx"].to_numpy() == m_idx]
        orders = orders[orders["created_ts"].to_numpy() <= asof_local]
        st = status_as_of(orders, asof_local)
        fields = {"order_key": orders.index.to_numpy(), "order_id": orders["order_id"].to_numpy().astype(str),
                  "market": market, "currency": MARKETS[market]["currency"],
                  "status": [SUBSTATUS.get(sub, API_STATUS[s]) for s, sub in zip(st["status"], st["substatus"])],
                  "canceled": st["canceled"], "refunded": st["refunded"]}
        for name in ("created", "paid", "rts", "shipped", "delivered", "completed", "cancel", "refund"):
            local = orders[f"{name}_ts"].to_numpy()
            fields[f"{name}_time"] = utc_seconds(np.where(local <= asof_local, local, NO_TIME), tz)
        # An order's update time: its latest event, completion included (the status changes then).
        events = pd.DataFrame({n: fields[f"{n}_time"] for n in ("created", "paid", "rts", "shipped", "delivered", "completed",
                                                                 "cancel", "refund")})
        fields["update_time"] = events.max(axis=1).astype("int64")
        for name in ("order_amount", "ship_after", "ship_original", "ship_seller_disc", "ship_platform_disc", "taxes",
                     "small_order_fee"):
            fields[name] = orders[name].to_numpy().astype(np.int64)
        paid = ~pd.isna(fields["paid_time"])
        fields["refund_amount"] = np.where(st["canceled"] & paid, orders["order_amount"].to_numpy(),
                                           np.where(st["refunded"], orders["refund_amount_on_return"].to_numpy(), 0))
        channel = orders["channel"].to_numpy()
        fields["is_sample_order"] = channel == "sample"
        fields["seller_note"] = np.where(channel == "test", "TEST ORDER - do not ship", "")
        fields["cancel_reason"] = np.where(st["canceled"], orders["cancel_reason"].to_numpy(),
                                           np.where(st["refunded"], orders["refund_reason"].to_numpy(), "")).astype(str)
        fields["payment_method"] = orders["payment_method"].to_numpy().astype(str)
        fields["shipping_provider"] = np.where(paid, orders["shipping_provider"].to_numpy(), "").astype(str)
        fields["tracking_id"] = np.where(~pd.isna(fields["rts_time"]), orders["tracking_id"].to_numpy(), "").astype(str)
        fields["package_id"] = np.where(paid, orders["package_id"].to_numpy(), "").astype(str)
        fields["buyer_id"] = np.where(channel == "sample", orders["sample_handle"].to_numpy(),
                                      orders["customer_idx"].to_numpy().astype(str)).astype(str)
        parts.append(pd.DataFrame(fields))
    orders = pd.concat(parts, ignore_index=True)
    lines = ln[ln["order_key"].isin(orders["order_key"])]
    sku = lines["sku_idx"].to_numpy()
    market_of = orders.set_index("order_key")["market"]
    line_market = market_of.reindex(lines["order_key"]).to_numpy()
    sku_id = np.where(line_market == "UK", skus["sku_id_UK"].to_numpy()[sku], skus["sku_id_TH"].to_numpy()[sku])
    line_frame = pd.DataFrame({
        "order_key": lines["order_key"].to_numpy(), "line_no": lines["line_no"].to_numpy(), "sku_id": sku_id.astype(str),
        "seller_sku": skus["seller_sku"].to_numpy()[sku], "product_name": skus["product_name"].to_numpy()[sku],
        "variation": skus["variation"].to_numpy()[sku], "category": skus["tiktok_category"].to_numpy()[sku],
        "quantity": lines["qty"].to_numpy().astype(np.int64), "return_quantity": lines["return_qty"].to_numpy().astype(np.int64),
        "unit_price": lines["unit_price"].to_numpy().astype(np.int64), "before": lines["before"].to_numpy().astype(np.int64),
        "platform_disc": lines["platform_disc"].to_numpy().astype(np.int64),
        "seller_disc": lines["seller_disc"].to_numpy().astype(np.int64), "after": lines["after"].to_numpy().astype(np.int64),
    })
    table = line_frame.merge(orders, on="order_key").drop(columns="order_key")
    table.loc[~table["refunded"], "return_quantity"] = 0
    path = Path(truth_dir) / FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    table.sort_values(["market", "update_time", "order_id", "line_no"]).to_parquet(path, index=False)
    return path


STATEMENTS_FILE = "api_statements.parquet"
STATEMENT_MONEY = ["settlement", "revenue", "before", "seller_disc", "item", "item_refund", "platform_disc", "total_fees",
                   "commission_fee", "transaction_fee", "affiliate_commission", "ship_paid", "ship_platform", "ship_actual",
                   "ship_refund", "payment", "pay_refund"]


def write_statements(truth_dir: Path, settled: pd.DataFrame, skus: pd.DataFrame, payouts: list[dict]) -> Path:
    """The weekly statements the demo's income-statement workbooks hold, one row per order x SKU transaction.

    Statement ids, amounts (minor units), reserves and payouts are those of the workbooks, so an API sync
    of finance and an ingestion of the workbooks must store the same settlement rows and payouts."""
    rows = settled[settled["settled"]].copy()
    code = rows["market"].to_numpy()
    rows["statement_id"] = code + pd.to_datetime(rows["statement_week"]).dt.strftime("%Y%m%d").to_numpy() + "01"
    rows["sku_id"] = np.where(code == "UK", skus["sku_id_UK"].to_numpy()[rows["sku_idx"].to_numpy()],
                              skus["sku_id_TH"].to_numpy()[rows["sku_idx"].to_numpy()]).astype(str)
    rows["currency"] = [MARKETS[m]["currency"] for m in code]
    # The statement closes at the end of its UTC week (the workbook's "Statement date" is that Sunday).
    rows["statement_time"] = (pd.to_datetime(rows["statement_week"]) + pd.Timedelta(days=7)).astype("datetime64[s]").astype("int64") - 1
    rows["created_time"] = rows["created_utc"].astype("datetime64[s]").astype("int64")
    rows["settled_time"] = rows["settled_utc"].astype("datetime64[s]").astype("int64")
    paid = pd.DataFrame(payouts).set_index("statement_id")
    rows["reserve"] = (rows["statement_id"].map(paid["reserve"]) * 100).round().astype("int64")
    rows["withdrawal"] = (rows["statement_id"].map(paid["withdrawal"]) * 100).round().astype("int64")
    keep = ["statement_id", "market", "currency", "statement_time", "order_id", "sku_id", "qty", "created_time", "settled_time",
            *STATEMENT_MONEY, "reserve", "withdrawal"]
    out = rows[keep].sort_values(["market", "statement_time", "settled_time", "order_id", "sku_id"], kind="stable")
    path = Path(truth_dir) / STATEMENTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    out.astype({c: "int64" for c in STATEMENT_MONEY}).to_parquet(path, index=False)
    return path
