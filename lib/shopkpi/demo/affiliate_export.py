"""Seller Center Affiliate orders export: one file per market per month, plain header, plain-decimal money."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from shopkpi.demo import formats as fmt
from shopkpi.demo.clock import DAY
from shopkpi.demo.formats import NO_TIME
from shopkpi.demo.lifecycle import status_as_of, visible
from shopkpi.demo.markets import MARKET_CODES, MARKETS
from shopkpi.demo.orders import OrderBook
from shopkpi.demo.writers import write_csv

HEADER = [
    "Order ID", "Product ID", "Product Name", "SKU ID", "Price", "Payment Amount", "Currency", "Quantity",
    "Fully returned or refunded", "Payment method", "Order Status", "Platform", "Creator Username", "Content Type",
    "Content ID", "commission model", "Standard commission rate", "Est. Commission Base",
    "Est. standard commission payment", "Actual Commission Base", "Actual Commission Payment",
    "Shop Ads commission rate", "Est. Shop Ads commission payment", "Actual Shop Ads commission payment",
    "Est. co-funded creator bonus", "Actual co-funded creator bonus", "Time Created", "Payment time",
    "Order Delivery Time", "Time Commission Paid",
]
AFFILIATE_CHANNELS = ["creator_video", "creator_showcase", "creator_live", "ads"]
SETTLE_AFTER_DELIVERY = 14 * DAY
COMMISSION_PAID_AFTER_DELIVERY = 15 * DAY


def affiliate_lines(book: OrderBook, creators: pd.DataFrame, videos: pd.DataFrame, sessions: pd.DataFrame,
                    asof: int) -> pd.DataFrame:
    """Commission state per affiliate SKU line as of `asof` (also used for creator ROI truth)."""
    orders, lines = book.orders, book.lines
    chan_line = orders["channel"].to_numpy()[lines["order_key"].to_numpy()]
    sel = np.isin(chan_line, AFFILIATE_CHANNELS) & (orders["creator_idx"].to_numpy()[lines["order_key"].to_numpy()] >= 0)
    ln = lines[sel].reset_index(drop=True)
    o = orders.iloc[ln["order_key"].to_numpy()].reset_index(drop=True)
    st = status_as_of(o, asof)
    returned_line = st["refunded"] & (ln["return_qty"].to_numpy() > 0)
    fully = st["canceled"] | returned_line
    cr = creators.set_index("creator_idx").loc[o["creator_idx"].to_numpy()]
    chan = o["channel"].to_numpy()
    is_ads = chan == "ads"
    rate = cr["commission_rate"].to_numpy()
    ads_rate = np.where(is_ads, cr["shop_ads_commission_rate"].to_numpy(), 0.0)
    base = ln["after"].to_numpy()
    est_std = np.where(is_ads, 0, np.round(base * rate)).astype(np.int64)
    est_ads = np.round(base * ads_rate).astype(np.int64)
    delivered = o["delivered_ts"].to_numpy()
    settled = (delivered != NO_TIME) & (delivered <= asof - SETTLE_AFTER_DELIVERY) & ~fully
    content_type = np.where(chan == "creator_live", "LIVE", np.where(chan == "creator_showcase", "Showcase", "Video"))
    vid = videos.set_index("video_idx")["video_id"]
    lid = sessions.set_index("live_idx")["live_id"]
    content_id = np.where(chan == "creator_live", lid.reindex(o["live_idx"]).fillna("").to_numpy(),
                          np.where(chan == "creator_showcase", "", vid.reindex(o["video_idx"]).fillna("").to_numpy()))
    return pd.DataFrame({
        "order_key": ln["order_key"].to_numpy(), "sku_idx": ln["sku_idx"].to_numpy(), "qty": ln["qty"].to_numpy(),
        "market": o["market"].to_numpy(), "creator_idx": o["creator_idx"].to_numpy(), "handle": cr["handle"].to_numpy(),
        "commission_model": cr["commission_model"].to_numpy(), "rate": rate, "ads_rate": ads_rate,
        "price": ln["unit_price"].to_numpy(), "base": base, "fully": fully, "settled": settled,
        "est_std": est_std, "est_ads": est_ads,
        "actual_std": np.where(settled, est_std, 0), "actual_ads": np.where(settled, est_ads, 0),
        "status": st["status"], "content_type": content_type, "content_id": content_id, "channel": chan,
        "created_ts": o["created_ts"].to_numpy(), "paid_ts": o["paid_ts"].to_numpy(),
        "delivered_ts": delivered, "order_id": o["order_id"].to_numpy(), "payment_method": o["payment_method"].to_numpy(),
        "month": (o["created_ts"].to_numpy() // DAY).astype("datetime64[D]").astype("datetime64[M]"),
    })


def write_affiliate_files(root: Path, aff: pd.DataFrame, skus: pd.DataFrame, asof: int,
                          progress: Callable[[str], None]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for market in MARKET_CODES:
        mdf = aff[aff["market"] == market]
        months = np.unique(mdf["month"].to_numpy())
        for k, month in enumerate(months, start=1):
            part = mdf[mdf["month"] == month]
            part = part.iloc[np.lexsort((part["sku_idx"].to_numpy(), part["order_id"].to_numpy(),
                                         -part["created_ts"].to_numpy()))]
            mo = np.datetime64(str(month)[:7], "M")
            first = str(mo.astype("datetime64[D]")).replace("-", "")
            last = str((mo + 1).astype("datetime64[D]") - 1).replace("-", "")
            rel = f"{market}/affiliate/affiliate_orders_{first}-{last}.csv"
            counts[rel] = write_csv(root / rel, HEADER, _frame(part, skus, market, asof))
            progress(f"affiliate orders: {market} {k}/{len(months)} files")
    return counts


def _rate(values: np.ndarray) -> np.ndarray:
    return fmt._map_unique(np.round(values * 100, 1), lambda v: f"{v:g}%")


def _frame(a: pd.DataFrame, skus: pd.DataFrame, market: str, asof: int) -> pd.DataFrame:
    sku = a["sku_idx"].to_numpy()
    settled = a["settled"].to_numpy()
    fully = a["fully"].to_numpy()
    known = settled | fully  # refunded/cancelled rows show an actual commission of zero
    money = fmt.money_plain
    blank = np.full(len(a), "", dtype=object)

    def actual(values: np.ndarray) -> np.ndarray:
        return np.where(known, money(np.where(settled, values, 0)), blank)

    paid_at = np.where(settled, a["delivered_ts"].to_numpy() + COMMISSION_PAID_AFTER_DELIVERY, NO_TIME)
    return pd.DataFrame({
        "Order ID": a["order_id"].to_numpy(),
        "Product ID": skus[f"product_id_{market}"].to_numpy()[sku],
        "Product Name": skus["product_name"].to_numpy()[sku],
        "SKU ID": skus[f"sku_id_{market}"].to_numpy()[sku],
        "Price": money(a["price"].to_numpy()),
        "Payment Amount": money(a["base"].to_numpy()),
        "Currency": np.full(len(a), MARKETS[market]["currency"], dtype=object),
        "Quantity": fmt.integers(a["qty"].to_numpy()),
        "Fully returned or refunded": np.where(fully, "Yes", "No").astype(object),
        "Payment method": a["payment_method"].to_numpy(),
        "Order Status": a["status"].to_numpy(),
        "Platform": np.full(len(a), "TikTok", dtype=object),
        "Creator Username": a["handle"].to_numpy(),
        "Content Type": a["content_type"].to_numpy(),
        "Content ID": a["content_id"].to_numpy(),
        "commission model": a["commission_model"].to_numpy(),
        "Standard commission rate": _rate(a["rate"].to_numpy()),
        "Est. Commission Base": money(a["base"].to_numpy()),
        "Est. standard commission payment": money(a["est_std"].to_numpy()),
        "Actual Commission Base": actual(a["base"].to_numpy()),
        "Actual Commission Payment": actual(a["est_std"].to_numpy()),
        "Shop Ads commission rate": _rate(a["ads_rate"].to_numpy()),
        "Est. Shop Ads commission payment": money(a["est_ads"].to_numpy()),
        "Actual Shop Ads commission payment": actual(a["est_ads"].to_numpy()),
        "Est. co-funded creator bonus": money(np.zeros(len(a), dtype=np.int64)),
        "Actual co-funded creator bonus": actual(np.zeros(len(a), dtype=np.int64)),
        "Time Created": fmt.timestamps(a["created_ts"].to_numpy()),
        "Payment time": fmt.timestamps(visible(a["paid_ts"].to_numpy(), asof)),
        "Order Delivery Time": fmt.timestamps(visible(a["delivered_ts"].to_numpy(), asof)),
        "Time Commission Paid": fmt.timestamps(paid_at),
    })
