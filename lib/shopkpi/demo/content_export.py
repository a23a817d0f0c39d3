"""Content-side files: Video Data, LIVE sessions, the content team's tagging sheet, follower snapshots, comments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from shopkpi.demo import formats as fmt
from shopkpi.demo.ads import AdSet
from shopkpi.demo.clock import DAY
from shopkpi.demo.content import VideoSet, completion_rate
from shopkpi.demo.live import LiveSet
from shopkpi.demo.markets import MARKET_CODES, MARKETS
from shopkpi.demo.orders import OrderBook
from shopkpi.demo.texts import comments_for
from shopkpi.demo.writers import write_csv, write_xlsx

VIDEO_HEADER = ["Video ID", "Video title", "Video link", "Creator name", "Post time", "Duration", "Product ID",
                "Product name", "GMV", "Orders", "Items sold", "Views", "Likes", "Comments", "Shares", "Saves",
                "Avg. watch time", "Watched full video (%)", "Product impressions", "Product clicks", "CTR"]
LIVE_HEADER = ["Creator", "LIVE ID", "LIVE title", "Start time", "Duration", "Attributed GMV", "Attributed orders",
               "Attributed items sold", "24h LIVE GMV", "Viewers", "Views", "ACU", "PCU",
               "Avg. viewing duration per viewer", "Product impressions", "Product clicks", "CTR", "CTOR",
               "New followers", "Likes", "Comments", "Shares"]
TAG_HEADER = ["Video ID", "Hook type", "Script structure", "BGM/sound", "Format", "Presenter", "Language",
              "Experiment", "Tagged by", "Editor"]
# The agency's video editors per market. A video's editor follows from its index (no draw from the generator's
# streams, so adding the column changes no other generated value); every fifth video came from the creator as is.
EDITORS = {"UK": ("Mia", "Tom"), "TH": ("Ploy", "Nat", "Fah")}
TAG_FEATURES = [("Hook type", "hook"), ("Script structure", "script"), ("BGM/sound", "bgm"), ("Format", "format"),
                ("Presenter", "presenter"), ("Language", "language")]


def video_metrics(rng: np.random.Generator, vs: VideoSet, ad_set: AdSet, book: OrderBook, skus: pd.DataFrame,
                  asof: int) -> pd.DataFrame:
    """One row per video x product as exported at `asof` (organic + paid views, attributed orders)."""
    v = vs.videos
    age = np.maximum(0, (asof - v["post_ts"].to_numpy()) / DAY)
    maturity = 1 - np.exp(-(age + 0.5) / 2)
    organic = np.floor(v["views_final"].to_numpy() * maturity).astype(np.int64)
    paid = ad_set.daily.groupby("ad_idx")[["video_views", "clicks"]].sum()
    paid = paid.join(ad_set.ads.set_index("ad_idx")["video_idx"]).groupby("video_idx").sum()
    paid_views = paid["video_views"].reindex(v["video_idx"]).fillna(0).to_numpy().astype(np.int64)
    paid_clicks = paid["clicks"].reindex(v["video_idx"]).fillna(0).to_numpy().astype(np.int64)
    fake = v["is_fake_creator"].to_numpy()
    n = len(v)
    like_rate = np.where(fake, rng.uniform(0.15, 0.25, size=n), rng.lognormal(np.log(0.06), 0.3, size=n))
    # Bought engagement: per fake account, comments either far too few or far too many for the likes.
    comment_rate = np.where(fake, np.where(v["creator_idx"].to_numpy() % 2 == 0, 0.0002, 0.02),
                            rng.lognormal(np.log(0.0035), 0.4, size=n))
    share_rate = np.where(fake, 0.0005, rng.lognormal(np.log(0.004), 0.4, size=n))
    save_rate = np.where(fake, 0.001, rng.lognormal(np.log(0.005), 0.4, size=n))
    eng_views = organic + 0.3 * paid_views
    v_out = pd.DataFrame({
        "video_idx": v["video_idx"].to_numpy(),
        "views": organic + paid_views,
        "views_organic": organic,
        "views_paid": paid_views,
        "likes": rng.poisson(eng_views * like_rate),
        "comments": rng.poisson(eng_views * comment_rate),
        "shares": rng.poisson(eng_views * share_rate),
        "saves": rng.poisson(eng_views * save_rate),
        "completion": np.clip(completion_rate(v["duration_s"].to_numpy()) * rng.lognormal(0, 0.15, size=n), 0.005, 0.95),
        "imp_ratio": rng.uniform(0.45, 0.8, size=n),
        "abbreviate": rng.random(n) < 0.3,
    })
    v_out["avg_watch_s"] = v["duration_s"].to_numpy() * (0.3 + 0.55 * v_out["completion"].to_numpy()) * rng.lognormal(0, 0.1, size=n)

    # Attributed orders (video and Spark Ads on the video), by product.
    orders, lines = book.orders, book.lines
    ok = lines["order_key"].to_numpy()
    chan = orders["channel"].to_numpy()[ok]
    vid = orders["video_idx"].to_numpy()[ok]
    sel = np.isin(chan, ["creator_video", "ads"]) & (vid >= 0)
    att = pd.DataFrame({"video_idx": vid[sel], "product_idx": skus["product_idx"].to_numpy()[lines["sku_idx"].to_numpy()[sel]],
                        "order_key": ok[sel], "qty": lines["qty"].to_numpy()[sel], "gmv": lines["after"].to_numpy()[sel]})
    agg = att.groupby(["video_idx", "product_idx"]).agg(orders=("order_key", "nunique"), items=("qty", "sum"),
                                                        gmv=("gmv", "sum")).reset_index()
    rows = vs.rows.merge(agg, on=["video_idx", "product_idx"], how="left").fillna({"orders": 0, "items": 0, "gmv": 0})
    rows = rows.merge(v_out, on="video_idx")
    mat = maturity[rows["video_idx"].to_numpy()]
    is_main = rows["is_main"].to_numpy()
    paid_main = np.where(is_main, paid_clicks[rows["video_idx"].to_numpy()], 0)
    clicks = np.floor(rows["clicks_final"].to_numpy() * mat).astype(np.int64) + paid_main
    clicks = np.maximum(clicks, rows["orders"].to_numpy().astype(np.int64))
    impressions = np.round((rows["views_organic"].to_numpy() * rows["share"].to_numpy()
                            + np.where(is_main, rows["views_paid"].to_numpy(), 0)) * rows["imp_ratio"].to_numpy())
    rows["product_clicks"] = clicks
    rows["product_impressions"] = np.maximum(impressions.astype(np.int64), clicks)
    rows["orders"] = rows["orders"].astype(np.int64)
    rows["items"] = rows["items"].astype(np.int64)
    rows["gmv"] = rows["gmv"].astype(np.int64)
    return rows


def write_video_files(root: Path, rows: pd.DataFrame, vs: VideoSet, creators: pd.DataFrame, skus: pd.DataFrame,
                      progress: Callable[[str], None]) -> dict[str, int]:
    counts: dict[str, int] = {}
    v = vs.videos.set_index("video_idx")
    handles = creators.set_index("creator_idx")["handle"]
    prod = skus.groupby("product_idx").first()
    post_ts = v["post_ts"].to_numpy()[rows["video_idx"].to_numpy()]
    month = (post_ts // DAY).astype("datetime64[D]").astype("datetime64[M]")
    for market in MARKET_CODES:
        msel = v["market"].to_numpy()[rows["video_idx"].to_numpy()] == market
        months = np.unique(month[msel])
        for k, mo in enumerate(months, start=1):
            sel = msel & (month == mo)
            r = rows[sel]
            r = r.iloc[np.lexsort((~r["is_main"].to_numpy(), v["video_id"].to_numpy()[r["video_idx"].to_numpy()],
                                   -post_ts[sel]))]
            vi = r["video_idx"].to_numpy()
            h = handles.reindex(v["creator_idx"].to_numpy()[vi]).to_numpy()
            vid = v["video_id"].to_numpy()[vi]
            symbol = MARKETS[market]["currency_symbol"]
            frame = pd.DataFrame({
                "Video ID": vid,
                "Video title": v["caption"].to_numpy()[vi],
                "Video link": "https://www.tiktok.com/@" + h + "/video/" + vid,
                "Creator name": h,
                "Post time": fmt.timestamps(v["post_ts"].to_numpy()[vi], "ymd_hm"),
                "Duration": fmt.duration_mmss(v["duration_s"].to_numpy()[vi]),
                "Product ID": prod[f"product_id_{market}"].to_numpy()[r["product_idx"].to_numpy()],
                "Product name": prod["product_name"].to_numpy()[r["product_idx"].to_numpy()],
                "GMV": fmt.money_symbol(r["gmv"].to_numpy(), symbol),
                "Orders": fmt.integers(r["orders"].to_numpy()),
                "Items sold": fmt.integers(r["items"].to_numpy()),
                "Views": fmt.counts_sometimes_abbreviated(r["views"].to_numpy(), r["abbreviate"].to_numpy()),
                "Likes": fmt.counts_sometimes_abbreviated(r["likes"].to_numpy(), r["abbreviate"].to_numpy()),
                "Comments": fmt.integers(r["comments"].to_numpy()),
                "Shares": fmt.integers(r["shares"].to_numpy()),
                "Saves": fmt.integers(r["saves"].to_numpy()),
                "Avg. watch time": fmt.seconds_short(r["avg_watch_s"].to_numpy()),
                "Watched full video (%)": fmt.percent(r["completion"].to_numpy()),
                "Product impressions": fmt.integers(r["product_impressions"].to_numpy()),
                "Product clicks": fmt.integers(r["product_clicks"].to_numpy()),
                "CTR": fmt.percent(np.divide(r["product_clicks"].to_numpy(), r["product_impressions"].to_numpy(),
                                             out=np.zeros(len(r)), where=r["product_impressions"].to_numpy() > 0)),
            })
            rel = f"{market}/videos/Video Data {str(mo)}.csv"
            counts[rel] = write_csv(root / rel, VIDEO_HEADER, frame, encoding="utf-8-sig")
            progress(f"videos: {market} {k}/{len(months)} files")
    return counts


def live_metrics(ls: LiveSet, book: OrderBook, asof: int) -> pd.DataFrame:
    """Per session: attributed (in-session, net of cancels/returns) and 24h (gross) GMV from the order book."""
    from shopkpi.demo.lifecycle import status_as_of

    orders, lines = book.orders, book.lines
    live_orders = orders[orders["live_idx"].to_numpy() >= 0]
    st = status_as_of(live_orders, asof)
    lo = pd.DataFrame({"order_key": live_orders.index.to_numpy(), "live_idx": live_orders["live_idx"].to_numpy(),
                       "post": live_orders["post_live"].to_numpy(), "canceled": st["canceled"], "refunded": st["refunded"]})
    ln = lines[np.isin(lines["order_key"].to_numpy(), lo["order_key"].to_numpy())].merge(lo, on="order_key")
    net_line = ~ln["canceled"].to_numpy() & ~(ln["refunded"].to_numpy() & (ln["return_qty"].to_numpy() > 0))
    in_session = ~ln["post"].to_numpy()
    ln["gmv_net"] = np.where(in_session & net_line, ln["after"].to_numpy(), 0)
    ln["items_net"] = np.where(in_session & net_line, ln["qty"].to_numpy(), 0)
    per = ln.groupby("live_idx").agg(gmv_net=("gmv_net", "sum"), items_net=("items_net", "sum"), gmv_24h=("after", "sum"))
    kept_lines = ln[in_session & net_line].groupby("order_key").size()
    lo["net_order"] = lo["order_key"].isin(kept_lines.index)
    orders_net = lo.groupby("live_idx")["net_order"].sum()
    s = ls.sessions.set_index("live_idx")
    out = s.join(per).join(orders_net.rename("orders_net")).fillna({"gmv_net": 0, "items_net": 0, "gmv_24h": 0, "orders_net": 0})
    return out.reset_index()


def write_live_files(root: Path, lm: pd.DataFrame, start_date: dt.date, end_date: dt.date,
                     progress: Callable[[str], None]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for k, market in enumerate(MARKET_CODES, start=1):
        s = lm[lm["market"] == market].sort_values("start_ts", ascending=False)
        symbol = MARKETS[market]["currency_symbol"]
        clicks = s["clicks_n"].to_numpy()
        frame = pd.DataFrame({
            "Creator": s["host"].to_numpy(),
            "LIVE ID": s["live_id"].to_numpy(),
            "LIVE title": s["title"].to_numpy(),
            "Start time": fmt.timestamps(s["start_ts"].to_numpy(), "ymd_hm"),
            "Duration": fmt.duration_hms(s["duration_s"].to_numpy()),
            "Attributed GMV": fmt.money_symbol(s["gmv_net"].to_numpy().astype(np.int64), symbol),
            "Attributed orders": fmt.integers(s["orders_net"].to_numpy().astype(np.int64)),
            "Attributed items sold": fmt.integers(s["items_net"].to_numpy().astype(np.int64)),
            "24h LIVE GMV": fmt.money_symbol(s["gmv_24h"].to_numpy().astype(np.int64), symbol),
            "Viewers": fmt.integers(s["viewers_n"].to_numpy()),
            "Views": fmt.integers(s["views_n"].to_numpy()),
            "ACU": fmt.integers(s["acu_n"].to_numpy()),
            "PCU": fmt.integers(s["pcu_n"].to_numpy()),
            "Avg. viewing duration per viewer": fmt.duration_ms(s["avg_view_s"].round().to_numpy()),
            "Product impressions": fmt.integers(s["impressions_n"].to_numpy()),
            "Product clicks": fmt.integers(clicks),
            "CTR": fmt.percent(np.divide(clicks, s["impressions_n"].to_numpy(), out=np.zeros(len(s)),
                                         where=s["impressions_n"].to_numpy() > 0)),
            "CTOR": fmt.percent(np.divide(s["orders_net"].to_numpy(), clicks, out=np.zeros(len(s)), where=clicks > 0)),
            "New followers": fmt.integers(s["new_followers_n"].to_numpy()),
            "Likes": fmt.integers(s["likes_n"].to_numpy()),
            "Comments": fmt.integers(s["comments_n"].to_numpy()),
            "Shares": fmt.integers(s["shares_n"].to_numpy()),
        })
        rel = (f"{market}/live/LIVE sessions {start_date.strftime('%Y%m%d')}-{end_date.strftime('%Y%m%d')}.csv")
        counts[rel] = write_csv(root / rel, LIVE_HEADER, frame, encoding="utf-8-sig")
        progress(f"LIVE: {k}/{len(MARKET_CODES)} files")
    return counts


def _messy(rng: np.random.Generator, values: np.ndarray) -> np.ndarray:
    """Humans typing labels: some blank, some with odd casing or trailing spaces."""
    out = values.astype(object).copy()
    u = rng.random(len(out))
    variants = rng.integers(0, 4, size=len(out))
    for i in np.flatnonzero((u >= 0.04) & (u < 0.14)).tolist():
        val = str(out[i])
        out[i] = [val.title(), val.upper(), val + " ", " " + val.capitalize()][int(variants[i])]
    out[u < 0.04] = None
    return out


def video_editors(videos: pd.DataFrame) -> list[str | None]:
    """Each video's editor, derived from its index and market only; None for videos not edited in-house."""
    return [None if idx % 5 == 4 else EDITORS[market][idx % len(EDITORS[market])]
            for idx, market in zip(videos["video_idx"].tolist(), videos["market"].tolist())]


def write_tagging_sheet(root: Path, rng: np.random.Generator, vs: VideoSet, fixed_time: dt.datetime) -> dict[str, int]:
    v = vs.videos.sort_values("post_ts")
    rows: list[list[Any]] = [TAG_HEADER]
    cols = {label: _messy(rng, v[feature].to_numpy()) for label, feature in TAG_FEATURES}
    taggers = np.array(["AL", "MK", "PS", "JT", "NW"], dtype=object)[rng.integers(0, 5, size=len(v))]
    exp = v["experiment"].to_numpy()
    editors = video_editors(v)
    for i in range(len(v)):
        rows.append([v["video_id"].iloc[i]] + [cols[label][i] for label, _ in TAG_FEATURES]
                    + [exp[i] if exp[i] else None, taggers[i], editors[i]])
    rel = "content/content_tagging.xlsx"
    write_xlsx(root / rel, [("Tags", rows)], fixed_time=fixed_time,
               column_widths={"A": 22, "B": 14, "C": 18, "D": 18, "E": 14, "F": 12, "G": 10, "H": 18, "J": 10})
    return {rel: len(rows) - 1}


def write_follower_snapshots(root: Path, snaps: pd.DataFrame) -> dict[str, int]:
    frame = pd.DataFrame({
        "Snapshot date": snaps["snapshot_date"].to_numpy(),
        "Creator username": snaps["handle"].to_numpy(),
        "Market": snaps["market"].to_numpy(),
        "Followers": snaps["followers"].to_numpy(),
        "Total likes": snaps["total_likes"].to_numpy(),
    })
    rel = "creators/creator_follower_snapshots.csv"
    return {rel: write_csv(root / rel, list(frame.columns), frame)}


def write_comments(root: Path, rng: np.random.Generator, vs: VideoSet, rows: pd.DataFrame,
                   skus: pd.DataFrame) -> tuple[dict[str, int], list[str]]:
    """Comment samples for a subset of videos: every fake creator's video plus ~12% of the others."""
    v = vs.videos
    comments = rows.groupby("video_idx")["comments"].first().reindex(v["video_idx"]).to_numpy()
    prod = skus.groupby("product_idx").first()
    pick = (v["is_fake_creator"].to_numpy() | (rng.random(len(v)) < 0.12)) & (comments > 0)
    out_v, out_t, out_ts = [], [], []
    for i in np.flatnonzero(pick).tolist():
        n = int(min(comments[i], 40))
        p = int(v["main_product"].iloc[i])
        texts = comments_for(rng, n, bool(v["is_fake_creator"].iloc[i]), v["language"].iloc[i],
                             prod["product_name"].iloc[p], prod["category"].iloc[p])
        post = int(v["post_ts"].iloc[i])
        ts = np.sort(post + rng.integers(60, 3 * DAY, size=n))
        out_v += [v["video_id"].iloc[i]] * n
        out_t += texts
        out_ts += ts.tolist()
    frame = pd.DataFrame({"Video ID": out_v, "Comment": out_t,
                          "Comment time": fmt.timestamps(np.array(out_ts, dtype=np.int64), "ymd_hm")})
    rel = "creators/video_comments_sample.csv"
    return {rel: write_csv(root / rel, list(frame.columns), frame, encoding="utf-8-sig")}, sorted(set(out_v))


__all__ = ["video_metrics", "write_video_files", "live_metrics", "write_live_files", "write_tagging_sheet", "video_editors",
           "write_follower_snapshots", "write_comments"]
