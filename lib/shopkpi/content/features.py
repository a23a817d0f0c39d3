"""One analysis row per video: funnel counts, tags, caption features, timing, creator size, paid flag, product.

Shop videos come from `video_products` (Video Data export); public scraped videos from `video_stats`.
Nothing is dropped here: rows a model cannot use are dropped (and counted) by that model.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from shopkpi.errors import NoDataError
from shopkpi.ingest.kinds.content_tags import TAGS
from shopkpi.ingest.kinds.video_data import VIDEOS_BY_VIDEO_SQL

# Tag columns as analysed; `sound` is the BGM.
TAG_FEATURES = list(TAGS)
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# Follower tiers (common TikTok agency convention); lower bounds.
TIERS = [(0, "nano"), (10_000, "micro"), (100_000, "mid"), (1_000_000, "macro")]
# Ages at export (days): views and orders keep arriving for about two weeks after posting.
AGE_BINS = [0, 1, 3, 7, 14, np.inf]
AGE_LABELS = ["0-1d", "1-3d", "3-7d", "7-14d", "14d+"]
_HASHTAG = re.compile(r"#[^\s#]+")
# Call-to-action words in the markets' languages (en, th, vi); matched case-insensitively.
_CTA = re.compile(r"link|shop|buy|grab|tap|order|basket|cart|bag|ตะกร้า|สั่ง|ซื้อ|กด|mua|giỏ|đặt hàng", re.IGNORECASE)
_QUESTION = re.compile(r"[?？]")
_EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B50\u2B06\u2194-\u21AA]")
_THAI = re.compile("[\u0E00-\u0E7F]")
_VIETNAMESE = re.compile("[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)


def tier_of(followers: pd.Series) -> pd.Series:
    """Creator tier from follower count (nano < 10k <= micro < 100k <= mid < 1M <= macro)."""
    bounds = [b for b, _ in TIERS] + [np.inf]
    return pd.cut(followers, bounds, right=False, labels=[name for _, name in TIERS]).astype("string")


def caption_features(caption: pd.Series) -> pd.DataFrame:
    """Hashtag count, call to action, question, emoji, length and script language of each caption."""
    text = caption.fillna("").astype(str)
    body = text.str.replace(_HASHTAG, "", regex=True)
    language = np.where(text.str.contains(_THAI), "th", np.where(text.str.contains(_VIETNAMESE), "vi",
                        np.where(body.str.strip() == "", "none", "latin")))
    return pd.DataFrame({
        "hashtag_count": text.str.count(_HASHTAG.pattern),
        "has_cta": body.str.contains(_CTA),
        "has_question": body.str.contains(_QUESTION),
        "has_emoji": text.str.contains(_EMOJI),
        "caption_chars": body.str.strip().str.len(),
        "caption_language": language,
    }, index=caption.index)


def _table_exists(con, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()[0][0])


def _followers_at_post(con, videos: pd.DataFrame) -> pd.Series:
    """The creator's follower snapshot nearest the post date (either side); null when the creator has none."""
    if not _table_exists(con, "creator_snapshots") or videos.empty:
        return pd.Series(np.nan, index=videos.index)
    con.register("_posts", videos[["video_id", "creator", "posted_local_date"]])
    nearest = con.sql("""
        SELECT p.video_id, arg_min(s.followers, abs(date_diff('day', s.snapshot_date, p.posted_local_date))) AS followers
        FROM _posts p JOIN creator_snapshots s ON s.creator = p.creator
        GROUP BY p.video_id
    """).df()
    con.unregister("_posts")
    return videos["video_id"].map(nearest.set_index("video_id")["followers"]).astype(float)


def _paid(con) -> pd.DataFrame:
    """Spark Ads per video: the ad name ends with the video id ("Spark | @handle | 7415730620064436416")."""
    if not _table_exists(con, "ad_stats"):
        return pd.DataFrame(columns=["video_id", "paid_views", "ad_cost", "ad_first_day"])
    return con.sql("""
        SELECT regexp_extract(ad_name, '([0-9]{15,20})\\s*$', 1) AS video_id, sum(video_views) AS paid_views,
               CAST(sum(cost) AS DOUBLE) AS ad_cost, min(report_date) AS ad_first_day
        FROM ad_stats WHERE regexp_matches(ad_name, '[0-9]{15,20}\\s*$') GROUP BY 1
    """).df()


def _main_products(con) -> pd.DataFrame:
    """Each video's main product (most clicks): category and median selling price from affiliate and order lines."""
    has_lines = _table_exists(con, "order_lines") and _table_exists(con, "affiliate_orders")
    product_info = """
        SELECT a.product_id, mode(o.product_category) AS category, median(CAST(a.price AS DOUBLE)) AS price
        FROM affiliate_orders a LEFT JOIN order_lines o ON o.order_id = a.order_id AND o.sku_id = a.sku_id
        GROUP BY a.product_id
    """ if has_lines else "SELECT NULL::VARCHAR AS product_id, NULL::VARCHAR AS category, NULL::DOUBLE AS price WHERE false"
    return con.sql(f"""
        WITH main AS (
            SELECT video_id, arg_max(product_id, coalesce(product_clicks, 0)) AS product_id
            FROM video_products GROUP BY video_id
        )
        SELECT m.video_id, m.product_id AS main_product_id, p.category, p.price
        FROM main m LEFT JOIN ({product_info}) p USING (product_id)
    """).df()


def shop_videos(con, period_end: dt.date) -> pd.DataFrame:
    """One row per shop video posted on or before `period_end` (local date), with every analysis feature."""
    if not _table_exists(con, "video_products"):
        raise NoDataError("the store has no `video_products` table: ingest the Video Data exports first")
    videos = con.sql(f"SELECT * FROM ({VIDEOS_BY_VIDEO_SQL}) WHERE posted_local_date <= DATE '{period_end}'").df()
    if videos.empty:
        raise NoDataError(f"no videos posted on or before {period_end} in `video_products`")
    for column in ("gmv",):
        videos[column] = videos[column].astype(float)
    if _table_exists(con, "content_tags"):
        tags = con.sql(f"SELECT video_id, {', '.join(TAGS)}, experiment_id, experiment_variant FROM content_tags").df()
        videos = videos.merge(tags, on="video_id", how="left", validate="many_to_one")
    else:
        for column in TAGS + ["experiment_id", "experiment_variant"]:
            videos[column] = pd.NA
    videos["tagged"] = videos[TAGS].notna().any(axis=1)
    videos = videos.merge(_paid(con), on="video_id", how="left", validate="many_to_one")
    videos["boosted"] = videos["paid_views"].notna()
    videos = videos.merge(_main_products(con), on="video_id", how="left", validate="one_to_one")
    videos["followers"] = _followers_at_post(con, videos)
    videos["tier"] = tier_of(videos["followers"])
    local = pd.to_datetime(videos["posted_local_time"])
    videos["post_hour"] = local.dt.hour
    videos["weekday"] = pd.Categorical(local.dt.day_name(), categories=WEEKDAYS).astype("string")
    age = (pd.to_datetime(videos["export_as_of"], utc=True) - pd.to_datetime(videos["posted_at"], utc=True))
    videos["age_days"] = age.dt.total_seconds() / 86_400
    videos["age_bin"] = pd.cut(videos["age_days"].clip(lower=0), AGE_BINS, right=False, labels=AGE_LABELS).astype("string")
    videos = pd.concat([videos, caption_features(videos["video_title"])], axis=1)
    videos["engagements"] = videos[["likes", "comments", "shares", "saves"]].fillna(0).sum(axis=1)
    # Completion rate is per video; completions = rate x views so pooled rates are recomputed from sums.
    videos["completions"] = videos["completion_rate"] * videos["views"]
    videos["category"] = videos["category"].fillna("unknown")
    videos["unit"] = "video"
    return videos.sort_values("video_id", kind="stable").reset_index(drop=True)  # same order, same folds: a re-run repeats


def public_videos(con) -> pd.DataFrame:
    """Scraped public videos (`video_stats`), one row per video at its latest snapshot, with features."""
    if not _table_exists(con, "video_stats"):
        raise NoDataError("the store has no `video_stats` table (scraped public video statistics)")
    stats = con.sql("""
        SELECT * EXCLUDE (rank) FROM (
            SELECT *, row_number() OVER (PARTITION BY video_id ORDER BY coalesce(scraped_local_time, TIMESTAMP '1970-01-01') DESC,
                                         snapshot DESC) AS rank
            FROM video_stats)
        WHERE rank = 1
    """).df()
    caption = stats["caption"].fillna("")
    # Sources without caption text (US 2020) still list hashtags: count those.
    features = caption_features(caption)
    features["hashtag_count"] = stats["hashtags"].map(lambda h: 0 if h is None else len(h))
    stats = pd.concat([stats, features], axis=1)
    stats["followers"] = stats["creator_followers"].astype(float)
    stats["tier"] = tier_of(stats["followers"])
    local = pd.to_datetime(stats["posted_local_time"])
    stats["post_hour"] = local.dt.hour
    stats["weekday"] = pd.Categorical(local.dt.day_name(), categories=WEEKDAYS).astype("string")
    stats["engagements"] = stats[["likes", "comments", "shares", "saves"]].fillna(0).sum(axis=1)
    stats["sound_original"] = stats["sound_is_original"].astype("boolean")
    scraped = pd.to_datetime(stats["scraped_local_time"])
    stats["age_days"] = (scraped - local).dt.total_seconds() / 86_400
    stats["unit"] = "video"
    return stats.sort_values("video_id", kind="stable").reset_index(drop=True)


def live_sessions(con, period_end: dt.date) -> pd.DataFrame:
    """LIVE sessions started on or before `period_end`, with the same funnel columns as videos."""
    if not _table_exists(con, "live_sessions"):
        return pd.DataFrame()
    lives = con.sql(f"""
        SELECT live_id, market, currency, creator, started_local_time, started_local_date, duration_s,
               CAST(gmv AS DOUBLE) AS gmv, orders, views, product_impressions, product_clicks, likes, comments, shares
        FROM live_sessions WHERE started_local_date <= DATE '{period_end}'
    """).df()
    lives["unit"] = "live"
    lives["start_hour"] = pd.to_datetime(lives["started_local_time"]).dt.hour
    return lives
