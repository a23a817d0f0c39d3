"""Planted truths: assembled into truth/truth.json (never written under raw/)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopkpi.demo import shop_health
from shopkpi.demo.ads import AdSet
from shopkpi.demo.catalog import category_table
from shopkpi.demo.content import VideoSet, effects_truth
from shopkpi.demo.demand import EXPECTED_QTY, QTY_PROBS, QTY_VALUES, WEEKLY_PROFILE, DemandModel, demand_formula
from shopkpi.demo.events import daily_multipliers
from shopkpi.demo.formats import NO_TIME
from shopkpi.demo.lifecycle import PlantedWeeks
from shopkpi.demo.live import LiveSet
from shopkpi.demo.markets import BRAND, MARKET_CODES, public_market_constants
from shopkpi.demo.orders import OrderBook

ROI_FORMULAS = {
    "currency": "creator's market currency (GBP for UK, THB for TH), amounts in major units",
    "attributed_net_gmv": "sum of SKU Subtotal After Discount over the creator's affiliate lines (Video, LIVE, "
                          "Showcase and Spark-Ads-on-their-video orders) that are not cancelled or returned as of end_date+1",
    "commission": "sum over those non-returned lines of standard commission (non-ads orders: base x Standard "
                  "commission rate) + Shop Ads commission (ads orders: base x Shop Ads commission rate)",
    "fixed_fees": "fixed fee per video x min(videos posted, contract videos promised)",
    "sample_cost": "sum over the creator's sample orders of units x landed cost + shipping fee absorbed by the seller",
    "ad_spend": "Spark Ads cost on the creator's videos",
    "total_cost": "commission + fixed_fees + sample_cost + ad_spend",
    "cogs": "units of non-returned attributed lines x landed cost",
    "roi": "attributed_net_gmv / total_cost (null when total_cost is 0)",
    "profit_roi": "(attributed_net_gmv - cogs - total_cost) / total_cost",
}

FORMATS = {
    "orders": {
        "kind": "Seller Center > Orders > Export (OrderSKUList)",
        "path": "raw/<MARKET>/orders/All order-YYYY-MM-DD-HH_MM.csv (name = download time = as-of snapshot time)",
        "encoding": "UTF-8 with BOM, comma separated, minimal quoting",
        "rows": "row 1 header, row 2 English field descriptions, then one row per SKU line (newest order first)",
        "order_level_columns_repeat_per_line": ["Shipping Fee After Discount", "Original Shipping Fee",
                                                "Shipping Fee Seller Discount", "Shipping Fee Platform Discount",
                                                "Payment platform discount", "Taxes", "Small Order Fee", "Order Amount",
                                                "Order Refund Amount", "Weight(kg)"],
        "timestamps": "DD/MM/YYYY HH:MM:SS local time (UK Europe/London, TH Asia/Bangkok); empty when not yet happened",
        "money": "UK: plain decimals '12.99'; TH: 'THB 1,299.00' (currency text + thousands separators)",
        "ids": "Order ID 18 digits (UK starts 57, TH 58); SKU ID, Product ID and Package ID 19 digits",
        "windows": "one file per market per calendar month, starting 7 days before the month (overlap repeats rows);"
                   " split into parts when above 15,000 rows; each file is a snapshot as of the next day ~09:00",
        "order_amount": "sum(SKU Subtotal After Discount) + Shipping Fee After Discount + Taxes (+ Small Order Fee TH);"
                        " Taxes are 0 (VAT included in prices); Payment platform discount is always 0",
        "statuses": "Order Status in {Unpaid, To ship, Shipped, In transit, Delivered, Completed, Canceled};"
                    " Substatus in {Unpaid, Awaiting shipment, Awaiting collection, In transit, Delivered, Completed,"
                    " Canceled}; refunds keep the lifecycle status and set Cancelation/Return Type = Return/Refund,"
                    " Order Refund Amount > 0, Sku Quantity of return > 0 on returned lines (shipping refunded only"
                    " on full returns); cancelled paid orders have Order Refund Amount = Order Amount",
        "cancel_by_reason": "Cancel By/Cancel Reason hold the return initiator and reason for Return/Refund orders",
        "pii_columns": ["Buyer Username", "Recipient", "Phone #", "Zipcode", "Detail Address",
                        "Additional address information", "House Name or Number", "Delivery Instruction", "State",
                        "City", "Province", "District", "Buyer Message"],
        "sample_orders": "Seller Note 'Free sample for creator @handle', SKU Seller Discount = 100%, Payment Method"
                         " 'Free sample', Buyer Username = creator handle",
        "test_orders": "Seller Note 'TEST ORDER - do not ship', Buyer Username test_buyer_0N, cancelled by Buyer",
    },
    "affiliate_orders": {
        "path": "raw/<MARKET>/affiliate/affiliate_orders_YYYYMMDD-YYYYMMDD.csv (by order creation month)",
        "rows": "plain header (no description row); one row per affiliate SKU line; as of end_date+1 10:00",
        "money": "plain decimals in local currency; rates like '12%'",
        "timestamps": "DD/MM/YYYY HH:MM:SS local",
        "settlement": "Actual* columns empty until settled (delivered > 14 days before as-of); cancelled/returned lines"
                      " have Fully returned or refunded = Yes and Actual* = 0.00",
        "ads_orders": "Spark Ads orders on a creator video: Content Type Video, Est. standard commission payment 0.00,"
                      " Shop Ads commission rate > 0",
        "content_id": "Video ID for Video, LIVE ID for LIVE, empty for Showcase",
    },
    "ads": {
        "path": "raw/<MARKET>/ads/<shop> Custom report YYYYMMDD-YYYYMMDD.csv (one per calendar quarter)",
        "rows": "header with currency-suffixed money columns, daily rows per ad, last row 'Total of N results'",
        "totals": "additive columns (Cost, Impressions, Clicks, Conversions, video views, Complete payment,"
                  " Complete payment value) equal column sums; ratio columns recomputed from totals; Reach and"
                  " Frequency totals '-'",
        "dates": "By Day YYYY-MM-DD (ad account timezone = shop timezone)",
        "percent": "'1.23%'",
        "complete_payment": "count and GMV (SKU Subtotal After Discount, all statuses) of ads-attributed orders"
                            " created that day; Ad name = 'Spark | @handle | <video id>'",
    },
    "video_data": {
        "path": "raw/<MARKET>/videos/Video Data YYYY-MM.csv (by posting month), UTF-8 with BOM",
        "rows": "one row per video x product; Views/Likes/Comments/Shares/Saves/Avg. watch time/Watched full video"
                " repeat on each product row of a video; GMV/Orders/Items sold/Product impressions/Product clicks/CTR"
                " are per product",
        "as_of": "cumulative as of end_date+1; young videos are still accumulating",
        "gmv": "sum of SKU Subtotal After Discount of orders attributed to the video (organic video + Spark Ads),"
               " including cancelled and refunded orders; '£1,205.33' / '฿1,205.00'",
        "views": "organic + paid (Spark Ads video views); sometimes abbreviated '12.3K' / '1.2M'",
        "post_time": "YYYY-MM-DD HH:MM local",
        "duration": "M:SS",
        "avg_watch_time": "'8.2s'",
        "percent": "'23.41%'; CTR = Product clicks / Product impressions",
    },
    "live": {
        "path": "raw/<MARKET>/live/LIVE sessions YYYYMMDD-YYYYMMDD.csv, UTF-8 with BOM",
        "start_time": "YYYY-MM-DD HH:MM local", "duration": "'2h13m05s'", "avg_viewing_duration": "'1m28s' or '45s'",
        "money": "'£1,234.56' / '฿12,345.00'",
        "attributed": "orders created during the session, excluding cancelled orders and returned lines",
        "24h_live_gmv": "all orders created from start to end + 24 h incl. cancelled/refunded; >= Attributed GMV;"
                        " never add it to GMV",
        "ctor": "Attributed orders / Product clicks",
    },
    "shop_health": {
        "path": "raw/<MARKET>/shop_health/Shop performance - <shop>.xlsx",
        "layout": "row 1 'Shop: ...', row 2 'Date range: DD/MM/YYYY - DD/MM/YYYY', row 3 header, weekly rows",
        "week": "'DD/MM/YYYY - DD/MM/YYYY' (Monday-Sunday local)",
        "percent": "strings '3.21%'",
    },
    "inventory": {
        "stock_plan": "raw/inventory/Stock plan <end_date>.xlsx, header row 1, one row per SKU x warehouse; Inbound"
                      " ETA is an Excel date (blank when nothing inbound); costs numeric",
        "stock_history": "raw/inventory/stock_history_daily.csv: Date YYYY-MM-DD, On hand = end of day units,"
                         " Received units, Stockout 1 when the SKU was out of stock all day",
    },
    "content_tagging": {
        "path": "raw/content/content_tagging.xlsx (sheet 'Tags')",
        "quirks": "typed by humans: ~4% blank cells per feature column, ~10% odd casing/leading or trailing spaces;"
                  " Experiment like 'cover-test-03:A'",
    },
    "creators": {
        "follower_snapshots": "raw/creators/creator_follower_snapshots.csv, 4 snapshots per creator (ISO dates)",
        "comments": "raw/creators/video_comments_sample.csv: sampled comments for a subset of videos",
    },
}


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return None if np.isnan(obj) else float(obj)
    if isinstance(obj, float):
        return None if np.isnan(obj) else obj
    if isinstance(obj, (dt.date, dt.datetime)):
        return obj.isoformat()
    return obj


def write(path: Path, truth: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_jsonable(truth), ensure_ascii=False, indent=1, allow_nan=False) + "\n", encoding="utf-8")


def day_to_date(start_date: dt.date, day: int) -> str:
    return (start_date + dt.timedelta(days=int(day))).isoformat()


def ts_to_iso(ts: int) -> str | None:
    if ts == NO_TIME:
        return None
    return (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(ts))).isoformat()


def table(df: pd.DataFrame) -> dict[str, Any]:
    """Compact column/rows form for large tables."""
    return {"columns": list(df.columns), "rows": df.values.tolist()}


def creator_roi(creators: pd.DataFrame, aff: pd.DataFrame, book_orders: pd.DataFrame, book_lines: pd.DataFrame,
                skus: pd.DataFrame, videos: pd.DataFrame, ads: pd.DataFrame, ads_daily: pd.DataFrame) -> pd.DataFrame:
    landed = np.where(aff["market"].to_numpy() == "UK", skus["landed_cents_UK"].to_numpy()[aff["sku_idx"].to_numpy()],
                      skus["landed_cents_TH"].to_numpy()[aff["sku_idx"].to_numpy()])
    kept = ~aff["fully"].to_numpy()
    a = pd.DataFrame({
        "creator_idx": aff["creator_idx"].to_numpy(),
        "gmv_net": np.where(kept, aff["base"].to_numpy(), 0),
        "gmv_gross": aff["base"].to_numpy(),
        "commission": np.where(kept, aff["est_std"].to_numpy() + aff["est_ads"].to_numpy(), 0),
        "cogs": np.where(kept, aff["qty"].to_numpy() * landed, 0),
        "orders": aff["order_key"].to_numpy(),
    })
    per = a.groupby("creator_idx").agg(gmv_net=("gmv_net", "sum"), gmv_gross=("gmv_gross", "sum"),
                                       commission=("commission", "sum"), cogs=("cogs", "sum"),
                                       orders=("orders", "nunique"))
    o, ln = book_orders, book_lines
    samples = o[o["channel"] == "sample"]
    s_lines = ln[np.isin(ln["order_key"].to_numpy(), samples.index.to_numpy())]
    s_m = o["market"].to_numpy()[s_lines["order_key"].to_numpy()]
    s_cost = s_lines["qty"].to_numpy() * np.where(s_m == "UK", skus["landed_cents_UK"].to_numpy()[s_lines["sku_idx"].to_numpy()],
                                                  skus["landed_cents_TH"].to_numpy()[s_lines["sku_idx"].to_numpy()])
    s_df = pd.DataFrame({"creator_idx": o["creator_idx"].to_numpy()[s_lines["order_key"].to_numpy()],
                         "units": s_lines["qty"].to_numpy(), "cost": s_cost})
    ship = samples.groupby("creator_idx")["ship_seller_disc"].sum()
    s_agg = s_df.groupby("creator_idx").agg(sample_units=("units", "sum"), sample_goods=("cost", "sum"))
    n_videos = videos.groupby("creator_idx").size()
    spend = ads_daily.groupby("ad_idx")["cost_cents"].sum()
    spend = pd.Series(spend.to_numpy(), index=ads.set_index("ad_idx").loc[spend.index, "creator_idx"].to_numpy())
    spend = spend.groupby(level=0).sum()
    c = creators.set_index("creator_idx")
    out = pd.DataFrame(index=c.index)
    out = out.join(per).join(s_agg).fillna(0)
    out["sample_cost"] = out["sample_goods"] + ship.reindex(out.index).fillna(0)
    out["videos"] = n_videos.reindex(out.index).fillna(0).astype(int)
    out["fixed_fees"] = c["fixed_fee_cents"] * np.minimum(out["videos"], c["contract_videos"])
    out["ad_spend"] = spend.reindex(out.index).fillna(0)
    out["total_cost"] = out["commission"] + out["fixed_fees"] + out["sample_cost"] + out["ad_spend"]
    tc = out["total_cost"].to_numpy().astype(float)
    out["roi"] = np.where(tc > 0, out["gmv_net"] / np.where(tc > 0, tc, 1), np.nan)
    out["profit_roi"] = np.where(tc > 0, (out["gmv_net"] - out["cogs"] - tc) / np.where(tc > 0, tc, 1), np.nan)
    return out.reset_index()




@dataclass
class TruthInputs:
    """Everything the generator planted, as handed to `assemble`."""

    summary: dict[str, Any]
    skus: pd.DataFrame
    demand: DemandModel
    events: dict[str, list[dict[str, Any]]]
    creators: pd.DataFrame
    videos: VideoSet
    live: LiveSet
    live_metrics: pd.DataFrame
    ads: AdSet
    book: OrderBook
    affiliate: pd.DataFrame
    health: dict[str, pd.DataFrame]
    planted: PlantedWeeks
    planted_response: dict[str, dt.date]
    spells: pd.DataFrame
    upcoming: list[dict[str, Any]]
    dirt_rows: list[dict[str, Any]]
    status_changes: list[dict[str, Any]]
    excess: np.ndarray
    commented: list[str]
    snapshots: pd.DataFrame
    order_files: list[Any]
    channel_shares: dict[str, float]
    organic_floor: float
    smooth_days: int
    version: str


def assemble(x: TruthInputs) -> dict[str, Any]:
    """Build the truth.json document from everything the generator planted."""
    summary = x.summary
    start = dt.date.fromisoformat(summary["start_date"])
    end = dt.date.fromisoformat(summary["end_date"])
    skus, demand, events, creators, vs, _live, ad_set = x.skus, x.demand, x.events, x.creators, x.videos, x.live, x.ads
    book, aff, lm, health, planted, spells = x.book, x.affiliate, x.live_metrics, x.health, x.planted, x.spells
    excess, snaps, order_files = x.excess, x.snapshots, x.order_files
    lam_hist = demand.history()
    o, ln = book.orders, book.lines
    dd = day_to_date

    catalog = [{
        "seller_sku": r.seller_sku, "product_name": r.product_name, "variation": r.variation,
        "category": r.category, "category_code": r.category_code, "tiktok_category": r.tiktok_category,
        "sku_id": {"UK": r.sku_id_UK, "TH": r.sku_id_TH}, "product_id": {"UK": r.product_id_UK, "TH": r.product_id_TH},
        "unit_price": {"UK": r.price_cents_UK / 100, "TH": r.price_cents_TH / 100}, "unit_cost_cny": r.unit_cost_cny,
        "landed_cost": {"UK": r.landed_cents_UK / 100, "TH": r.landed_cents_TH / 100}, "weight_kg": r.weight_kg,
        "launch_date": dd(start, r.launch_day) if r.launch_day >= 0 else None,
        "is_new": bool(r.is_new), "is_intermittent": bool(r.is_intermittent),
    } for r in skus.itertuples()]

    fut_dates = [dd(start, demand.n_hist + k) for k in range(demand.n_future)]
    demand_rows = []
    fut = demand.future()
    for r in demand.params.itertuples():
        m = MARKET_CODES.index(r.market)
        sk = skus.iloc[r.sku_idx]
        demand_rows.append({
            "seller_sku": sk["seller_sku"], "market": r.market, "sku_id": sk[f"sku_id_{r.market}"],
            "base_level_lines_per_day": round(r.base_level_lines_per_day, 6),
            "trend_log_slope_per_year": round(r.trend_log_slope_per_year, 6),
            "yearly_amplitude": round(r.yearly_amplitude, 6), "yearly_peak_day_of_year": r.yearly_peak_day_of_year,
            "event_sensitivity_exponent": round(r.event_sensitivity_exponent, 6),
            "launch_date": dd(start, sk["launch_day"]) if sk["launch_day"] >= 0 else None,
            "is_new": bool(sk["is_new"]), "is_intermittent": bool(sk["is_intermittent"]),
            "history_expected_lines": round(float(lam_hist[r.sku_idx, m].sum()), 3),
            "history_clip_excess_lines": round(float(excess[r.sku_idx, m].sum()), 3),
            "future_expected_lines": np.round(fut[r.sku_idx, m], 4).tolist(),
            "future_expected_units": np.round(fut[r.sku_idx, m] * EXPECTED_QTY, 4).tolist(),
        })

    cr_roi = creator_roi(creators, aff, o, ln, skus, vs.videos, ad_set.ads, ad_set.daily)
    snap_wide = snaps.pivot(index="handle", columns="snapshot_date", values="followers")
    creators_out = []
    for r in creators.merge(cr_roi, on="creator_idx").itertuples():
        cur = 100.0
        creators_out.append({
            "handle": r.handle, "market": r.market, "followers": int(r.followers_final),
            "followers_real": int(r.followers_real), "tier": r.tier, "is_fake": bool(r.is_fake),
            "fake_signals": ["bought followers (jump between snapshots)", "bought views x8 (views/followers high)",
                             "likes/views ~3x normal", "comments/likes far off (too few or too many, per account)",
                             "duplicate generic comments", "CTR x0.2 and CTOR x0.4 (bots do not buy)",
                             "always paid a fixed fee priced on bought followers"] if r.is_fake else [],
            "follower_jump_after_snapshot": (sorted(snap_wide.columns)[int(r.jump_snapshot) - 1]
                                             if r.is_fake else None),
            "true_conversion_multiplier": round(float(r.conv_mult), 4),
            "commission_rate": float(r.commission_rate), "shop_ads_commission_rate": float(r.shop_ads_commission_rate),
            "commission_model": r.commission_model, "fixed_fee_per_video": r.fixed_fee_cents / cur,
            "contract_videos_promised": int(r.contract_videos), "videos_posted": int(r.videos),
            "sample_units_received": int(r.sample_units),
            "attributed_orders": int(r.orders), "attributed_gross_gmv": round(r.gmv_gross / cur, 2),
            "attributed_net_gmv": round(r.gmv_net / cur, 2), "commission": round(r.commission / cur, 2),
            "fixed_fees": round(r.fixed_fees / cur, 2), "sample_cost": round(r.sample_cost / cur, 2),
            "ad_spend": round(r.ad_spend / cur, 2), "cogs": round(r.cogs / cur, 2),
            "total_cost": round(r.total_cost / cur, 2),
            "roi": None if np.isnan(r.roi) else round(float(r.roi), 4),
            "profit_roi": None if np.isnan(r.profit_roi) else round(float(r.profit_roi), 4),
        })

    v = vs.videos
    boosted = set(ad_set.ads["video_idx"].tolist())
    video_truth = pd.DataFrame({
        "video_id": v["video_id"], "market": v["market"],
        "creator": creators.set_index("creator_idx")["handle"].reindex(v["creator_idx"]).to_numpy(),
        "hook": v["hook"], "script": v["script"], "bgm": v["bgm"], "format": v["format"],
        "presenter": v["presenter"], "language": v["language"], "weekday": v["weekday"],
        "duration_s": v["duration_s"], "category_code": v["category_code"], "experiment": v["experiment"],
        "boosted": [i in boosted for i in v["video_idx"]], "fake_creator": v["is_fake_creator"],
        "mu_views": v["mu_views"].round(2), "ctr": v["ctr"].round(6), "ctor": v["ctor"].round(6),
        "views_final_organic": v["views_final"],
    })
    effects = effects_truth()
    effects["view_scale_per_market"] = vs.view_scale
    effects["experiments"] = vs.experiments
    effects["videos"] = table(video_truth)

    ads_daily = ad_set.daily.groupby("ad_idx").agg(cost=("cost_cents", "sum"), complete_payment=("complete_payment", "sum"),
                                                   value=("payment_value", "sum"), video_views=("video_views", "sum"))
    boosted_out = []
    for a in ad_set.ads.itertuples():
        d = ads_daily.loc[a.ad_idx]
        boosted_out.append({
            "ad_id": a.ad_id, "ad_name": a.ad_name, "campaign_name": a.campaign_name, "ad_group_name": a.ad_group_name,
            "market": a.market, "video_id": a.video_id, "creator": a.handle, "start_date": dd(start, a.start_day),
            "end_date": dd(start, a.end_day), "spend": round(d["cost"] / 100, 2),
            "complete_payment": int(d["complete_payment"]), "complete_payment_value": round(d["value"] / 100, 2),
            "paid_video_views": int(d["video_views"]), "true_roas_target": round(float(a.roas_target), 4),
        })

    def dirt_orders(channel: str) -> list[dict[str, Any]]:
        sel = o[o["channel"] == channel]
        out = []
        for r in sel.itertuples():
            lines_ = ln[ln["order_key"] == r.Index]
            out.append({
                "order_id": r.order_id, "market": r.market, "created": ts_to_iso(r.created_ts),
                "seller_sku": skus["seller_sku"].iloc[int(lines_["sku_idx"].iloc[0])], "units": int(lines_["qty"].sum()),
                "creator": r.sample_handle or None, "buyer_username": r.sample_handle or r.test_buyer,
                "files": [f.rel_path for f in order_files
                          if f.market == r.market and f.first_day <= r.day <= f.last_day],
            })
        return out

    tests, samples = dirt_orders("test"), dirt_orders("sample")
    health_out = {}
    for m, df in health.items():
        health_out[m] = table(df)
    planted_list = []
    for m, monday in planted.late_dispatch.items():
        row = health[m][health[m]["week_start"] == monday.isoformat()].iloc[0]
        planted_list.append({"market": m, "metric": "late_dispatch_rate", "week_start": monday.isoformat(),
                             "true_rate": float(row["late_dispatch_rate"]), "numerator": int(row["ldr_num"]),
                             "denominator": int(row["ldr_den"]), "threshold": "<= 4%",
                             "cause": "warehouse staffing gap: 15% of orders paid that week dispatched 3-5 business days late"})
    for m, monday in planted.missing_tracking.items():
        row = health[m][health[m]["week_start"] == monday.isoformat()].iloc[0]
        planted_list.append({"market": m, "metric": "valid_tracking_rate", "week_start": monday.isoformat(),
                             "true_rate": float(row["valid_tracking_rate"]), "numerator": int(row["vtr_num"]),
                             "denominator": int(row["vtr_den"]), "threshold": ">= 95%",
                             "cause": "carrier integration outage: 12% of orders shipped that week have no Tracking ID"})
    for m, monday in x.planted_response.items():
        row = health[m][health[m]["week_start"] == monday.isoformat()].iloc[0]
        planted_list.append({"market": m, "metric": "response_rate_12h", "week_start": monday.isoformat(),
                             "true_rate": float(row["response_rate_12h"]), "threshold": ">= 85%",
                             "cause": "chat backlog (synthetic, not computable from orders)"})

    channel_counts = o.groupby(["market", "channel"]).size().unstack(fill_value=0)
    lines_by_channel = ln.assign(market=o["market"].to_numpy()[ln["order_key"]], channel=o["channel"].to_numpy()[ln["order_key"]]) \
        .groupby(["market", "channel"]).size().unstack(fill_value=0)

    return {
        "generator": {"name": "shopkpi.demo", "version": x.version, "seed": summary["seed"], "scale": summary["scale"],
                      "start_date": start.isoformat(), "end_date": end.isoformat(),
                      "exports_as_of": (end + dt.timedelta(days=1)).isoformat() + "T10:00 local (non-order exports)",
                      "brand": BRAND},
        "summary": {k: v for k, v in summary.items() if k not in ("files", "truth_path")},
        "markets": public_market_constants(),
        "formats": FORMATS,
        "files": summary["files"],
        "catalog": {"categories": category_table(), "skus": catalog},
        "demand": {
            "formula": demand_formula(),
            "unit": "order lines per day (all created orders incl. later cancelled); units = lines * E[quantity]",
            "quantity_distribution": {str(q): float(p) for q, p in zip(QTY_VALUES, QTY_PROBS)},
            "expected_quantity_per_line": EXPECTED_QTY,
            "weekly_profile_monday_first": {m: WEEKLY_PROFILE[m].tolist() for m in MARKET_CODES},
            "channel_decomposition": "attributed channels (videos, LIVE, ads) carry their expected lines; organic ="
                                     f" max(total - smooth{x.smooth_days}(attributed), {x.organic_floor} * total), where"
                                     f" smooth{x.smooth_days} is a centred {x.smooth_days}-day moving average. Where it exceeds"
                                     f" {1 - x.organic_floor:.2f} * total (viral spikes) realised demand exceeds the"
                                     " formula: see history_clip_excess_lines",
            "clip_excess_share_of_history": round(float(excess.sum() / lam_hist.sum()), 6),
            "stockouts": "past spells censor all sales of the SKU in that market on those days (see stockouts)",
            "future_dates": fut_dates,
            "future_event_multiplier_by_market": {
                m: np.round(daily_multipliers(events[m], start, demand.n_hist + demand.n_future)[demand.n_hist:], 4).tolist()
                for m in MARKET_CODES},
            "skus": demand_rows,
        },
        "events": events,
        "channels": {
            "definitions": {
                "organic": "product card / shop tab / search", "creator_video": "creator video (affiliate)",
                "creator_showcase": "creator showcase (affiliate, no content id)", "creator_live": "creator LIVE",
                "seller_live": "shop's own LIVE account", "ads": "Spark Ads on a creator video (affiliate with Shop Ads"
                " commission)", "sample": "free sample to a creator", "test": "staff test order",
            },
            "target_expected_line_shares": x.channel_shares,
            "orders_by_market_and_channel": {m: channel_counts.loc[m].to_dict() for m in channel_counts.index},
            "lines_by_market_and_channel": {m: lines_by_channel.loc[m].to_dict() for m in lines_by_channel.index},
        },
        "content_effects": effects,
        "creators": {"roi_formulas": ROI_FORMULAS, "tiers": "KOC <10k, C 10k-50k, B 50k-250k, A 250k-1M, S >=1M"
                     " (by shown followers)", "list": creators_out,
                     "comment_sample_video_ids": x.commented},
        "live_sessions": [{
            "live_id": r.live_id, "market": r.market, "host": r.host, "seller_hosted": bool(r.seller_host),
            "start": ts_to_iso(r.start_ts), "duration_s": int(r.duration_s),
            "attributed_gmv": round(r.gmv_net / 100, 2), "gmv_24h": round(r.gmv_24h / 100, 2),
            "attributed_orders": int(r.orders_net),
        } for r in lm.itertuples()],
        "ads": {"boosted_videos": boosted_out,
                "spend_per_video": {b["video_id"]: b["spend"] for b in boosted_out},
                "budget_scale": ad_set.budget_scale,
                "note": "boosted videos were chosen among the best early performers (selection bias)"},
        "shop_health": {"thresholds": {k: f"{op} {thr}" for k, (op, thr) in shop_health.THRESHOLDS.items()},
                        "definitions": shop_health.DEFINITIONS, "planted": planted_list,
                        "not_breached_weeks": {m: {k: df.loc[~df[f"breach_{k}"], "week_start"].tolist()
                                                   for k in shop_health.THRESHOLDS} for m, df in health.items()},
                        "weeks": health_out},
        "dirt": {"malformed_rows": x.dirt_rows, "test_orders": tests, "sample_orders": samples,
                 "status_changes": x.status_changes,
                 "notes": "malformed rows replace the clean row in one file; the same line may be clean in an"
                          " overlapping file (clean_copy_in_files). data_row is 0-based after the description row."},
        "stockouts": {
            "past_spells": [{
                "seller_sku": skus["seller_sku"].iloc[sp.sku_idx], "market": sp.market,
                "sku_id": skus[f"sku_id_{sp.market}"].iloc[sp.sku_idx],
                "start_date": dd(start, sp.start_day), "end_date": dd(start, sp.end_day),
                "expected_lost_units": round(float(lam_hist[sp.sku_idx, sp.m_idx, sp.start_day:sp.end_day + 1].sum()
                                                   * EXPECTED_QTY), 3),
            } for sp in spells.itertuples()],
            "upcoming": [{
                "seller_sku": skus["seller_sku"].iloc[u["sku_idx"]], "market": u["market"],
                "sku_id": skus[f"sku_id_{u['market']}"].iloc[u["sku_idx"]], "on_hand": u["on_hand"],
                "inbound_qty": u["inbound_qty"],
                "inbound_eta": (end + dt.timedelta(days=u["inbound_eta_offset_days"])).isoformat(),
                "expected_stockout_date": (end + dt.timedelta(days=u["expected_stockout_offset_days"])).isoformat(),
                "expected_units_short_before_inbound": u["expected_units_short_before_inbound"],
            } for u in x.upcoming],
            "note": "other SKUs are stocked to cover expected demand until their inbound lands (x1.25) and the 13-week"
                    " horizon (x1.15)",
        },
    }
