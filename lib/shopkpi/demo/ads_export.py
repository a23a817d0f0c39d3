"""TikTok Ads Manager custom report: daily rows per ad, currency-suffixed headers, 'Total of N results' footer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from shopkpi.demo import formats as fmt
from shopkpi.demo.ads import AdSet
from shopkpi.demo.markets import MARKET_CODES, MARKETS
from shopkpi.demo.orders import OrderBook
from shopkpi.demo.writers import write_csv


def header(currency: str) -> list[str]:
    c = currency
    return [
        "By Day", "Campaign name", "Ad group name", "Ad name", "Ad ID", "Primary status", "Date Created", "Currency",
        f"Cost ({c})", f"CPC (destination) ({c})", f"CPM ({c})", "Impressions", "Clicks (destination)",
        "Clicks (all)", "CTR (destination)", "Reach", "Frequency", "Conversions", f"Cost per conversion ({c})", "CVR",
        "Video views", "2-second video views", "6-second video views", "Video views at 25%", "Video views at 50%",
        "Video views at 75%", "Video views at 100%", "100% video view rate", "Average play time per video view",
        "Complete payment", "Complete payment value", f"Cost per complete payment ({c})", "Complete payment ROAS",
    ]


ADDITIVE = ["Cost", "Impressions", "Clicks (destination)", "Clicks (all)", "Conversions", "Video views",
            "2-second video views", "6-second video views", "Video views at 25%", "Video views at 50%",
            "Video views at 75%", "Video views at 100%", "Complete payment", "Complete payment value"]


def attach_conversions(ad_set: AdSet, book: OrderBook) -> None:
    """Complete payment (count) and value per ad-day from the ads-driven orders actually in the order book."""
    orders, lines = book.orders, book.lines
    ads_orders = orders[orders["channel"] == "ads"]
    value = np.bincount(lines["order_key"].to_numpy(), weights=lines["after"].to_numpy(), minlength=len(orders))
    key = pd.DataFrame({"ad_idx": ads_orders["ad_idx"].to_numpy(), "day": ads_orders["day"].to_numpy(),
                        "value": value[ads_orders.index.to_numpy()].round().astype(np.int64), "n": 1})
    agg = key.groupby(["ad_idx", "day"], as_index=False)[["n", "value"]].sum()
    daily = ad_set.daily.drop(columns=[c for c in ("complete_payment", "payment_value") if c in ad_set.daily])
    daily = daily.merge(agg, on=["ad_idx", "day"], how="left")
    daily["complete_payment"] = daily["n"].fillna(0).astype(np.int64)
    daily["payment_value"] = daily["value"].fillna(0).astype(np.int64)
    daily["clicks"] = np.maximum(daily["clicks"].to_numpy(), daily["complete_payment"].to_numpy())
    ad_set.daily = daily.drop(columns=["n", "value"])


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def write_ads_files(root: Path, ad_set: AdSet, start_date: dt.date, n_hist: int,
                    progress: Callable[[str], None]) -> dict[str, int]:
    counts: dict[str, int] = {}
    ads, daily = ad_set.ads, ad_set.daily
    dates = np.datetime64(start_date.isoformat(), "D") + daily["day"].to_numpy()
    quarter = dates.astype("datetime64[M]").astype(np.int64) // 3
    last_day = n_hist - 1
    for market in MARKET_CODES:
        cur = MARKETS[market]["currency"]
        m_sel = daily["m_idx"].to_numpy() == MARKET_CODES.index(market)
        quarters = np.unique(quarter[m_sel])
        for k, q in enumerate(quarters, start=1):
            sel = m_sel & (quarter == q)
            d = daily[sel]
            a = ads.set_index("ad_idx").loc[d["ad_idx"].to_numpy()]
            order = np.lexsort((a["ad_name"].to_numpy(), a["campaign_name"].to_numpy(), d["day"].to_numpy()))
            d = d.iloc[order].reset_index(drop=True)
            a = a.iloc[order].reset_index(drop=True)
            q_first = np.datetime64(f"{1970 + q // 4}-{(q % 4) * 3 + 1:02d}-01", "D")
            q_last = (np.datetime64(f"{1970 + q // 4}-{(q % 4) * 3 + 1:02d}", "M") + 3).astype("datetime64[D]") - 1
            first = max(q_first, np.datetime64(start_date.isoformat(), "D"))
            last = min(q_last, np.datetime64(start_date.isoformat(), "D") + last_day)
            rel = (f"{market}/ads/{MARKETS[market]['shop_name']} Custom report "
                   f"{str(first).replace('-', '')}-{str(last).replace('-', '')}.csv")
            frame, total = _frame(d, a, cur, start_date, last_day)
            counts[rel] = write_csv(root / rel, header(cur), frame, post_rows=[total])
            progress(f"ads: {market} {k}/{len(quarters)} files")
    return counts


def _frame(d: pd.DataFrame, a: pd.DataFrame, cur: str, start_date: dt.date, last_day: int) -> tuple[pd.DataFrame, list[str]]:
    cost = d["cost_cents"].to_numpy()
    impr = d["impressions"].to_numpy()
    clicks = d["clicks"].to_numpy()
    conv = d["complete_payment"].to_numpy()
    views = d["video_views"].to_numpy()
    p100 = d["views_p100"].to_numpy()
    value = d["payment_value"].to_numpy()
    play = d["avg_play_s"].to_numpy()
    day = np.datetime64(start_date.isoformat(), "D") + d["day"].to_numpy()
    created = np.datetime64(start_date.isoformat(), "D") + a["start_day"].to_numpy()
    frame = pd.DataFrame({
        "By Day": day.astype(str).astype(object),
        "Campaign name": a["campaign_name"].to_numpy(),
        "Ad group name": a["ad_group_name"].to_numpy(),
        "Ad name": a["ad_name"].to_numpy(),
        "Ad ID": a["ad_id"].to_numpy(),
        "Primary status": np.where(a["end_day"].to_numpy() >= last_day, "Active", "Inactive").astype(object),
        "Date Created": np.char.add(created.astype(str), " 09:30:00").astype(object),
        "Currency": np.full(len(d), cur, dtype=object),
        "Cost": fmt.money_plain(cost),
        "CPC": fmt.decimals(_ratio(cost / 100, clicks), 2),
        "CPM": fmt.decimals(_ratio(cost / 100 * 1000, impr), 2),
        "Impressions": fmt.integers(impr),
        "Clicks (destination)": fmt.integers(clicks),
        "Clicks (all)": fmt.integers(np.maximum(d["clicks_all"].to_numpy(), clicks)),
        "CTR (destination)": fmt.percent(_ratio(clicks, impr)),
        "Reach": fmt.integers(d["reach"].to_numpy()),
        "Frequency": fmt.decimals(_ratio(impr, d["reach"].to_numpy()), 2),
        "Conversions": fmt.integers(conv),
        "Cost per conversion": fmt.decimals(_ratio(cost / 100, conv), 2),
        "CVR": fmt.percent(_ratio(conv, clicks)),
        "Video views": fmt.integers(views),
        "2-second video views": fmt.integers(d["views_2s"].to_numpy()),
        "6-second video views": fmt.integers(d["views_6s"].to_numpy()),
        "Video views at 25%": fmt.integers(d["views_p25"].to_numpy()),
        "Video views at 50%": fmt.integers(d["views_p50"].to_numpy()),
        "Video views at 75%": fmt.integers(d["views_p75"].to_numpy()),
        "Video views at 100%": fmt.integers(p100),
        "100% video view rate": fmt.percent(_ratio(p100, views)),
        "Average play time per video view": fmt.decimals(play, 2),
        "Complete payment": fmt.integers(conv),
        "Complete payment value": fmt.money_plain(value),
        "Cost per complete payment": fmt.decimals(_ratio(cost / 100, conv), 2),
        "Complete payment ROAS": fmt.decimals(_ratio(value, cost), 2),
    })
    t = {c: int(d[col].sum()) for c, col in (
        ("Impressions", "impressions"), ("Clicks (destination)", "clicks"), ("Conversions", "complete_payment"),
        ("Video views", "video_views"), ("2-second video views", "views_2s"), ("6-second video views", "views_6s"),
        ("Video views at 25%", "views_p25"), ("Video views at 50%", "views_p50"), ("Video views at 75%", "views_p75"),
        ("Video views at 100%", "views_p100"), ("Complete payment", "complete_payment"))}
    t_cost = int(cost.sum())
    t_value = int(value.sum())
    t_clicks_all = int(np.maximum(d["clicks_all"].to_numpy(), clicks).sum())
    play_weighted = float((play * views).sum() / views.sum()) if views.sum() else 0.0

    def r(num: float, den: float) -> float:
        return num / den if den else 0.0

    total = [f"Total of {len(d)} results", "-", "-", "-", "-", "-", "-", cur,
             f"{t_cost / 100:.2f}", f"{r(t_cost / 100, t['Clicks (destination)']):.2f}",
             f"{r(t_cost / 100 * 1000, t['Impressions']):.2f}", str(t["Impressions"]), str(t["Clicks (destination)"]),
             str(t_clicks_all), f"{r(t['Clicks (destination)'], t['Impressions']) * 100:.2f}%", "-", "-",
             str(t["Conversions"]), f"{r(t_cost / 100, t['Conversions']):.2f}",
             f"{r(t['Conversions'], t['Clicks (destination)']) * 100:.2f}%", str(t["Video views"]),
             str(t["2-second video views"]), str(t["6-second video views"]), str(t["Video views at 25%"]),
             str(t["Video views at 50%"]), str(t["Video views at 75%"]), str(t["Video views at 100%"]),
             f"{r(t['Video views at 100%'], t['Video views']) * 100:.2f}%", f"{play_weighted:.2f}",
             str(t["Complete payment"]), f"{t_value / 100:.2f}", f"{r(t_cost / 100, t['Complete payment']):.2f}",
             f"{r(t_value, t_cost):.2f}"]
    frame.columns = header(cur)
    return frame, total
