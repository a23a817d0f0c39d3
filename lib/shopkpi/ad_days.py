"""Ads Manager days re-aligned to each shop's calendar: the `ad_days` view.

An Ads Manager report counts days in the ad account's time zone, which agencies often set to
UTC+8 or the US while the shop counts in its market's zone. Each reported day is split over the
shop-local days it overlaps, in proportion to the hours of overlap (the report has no hours, so
spend within a day is taken as even). With both zones equal nothing moves.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

# Summable metrics are split by the overlap share; rates and unit costs are not summable and stay as reported.
SUMMABLE = ["cost", "complete_payment_value", "impressions", "clicks", "clicks_all", "conversions", "video_views",
            "video_views_2s", "video_views_6s", "video_views_p25", "video_views_p50", "video_views_p75",
            "video_views_p100", "landing_page_views", "complete_payment"]

_OFFSET = re.compile(r"(?:UTC|GMT)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)
_IANA = re.compile(r"\b([A-Z][A-Za-z]+(?:/[A-Za-z_+-]+)+)\b")


def zone_name(stated: str | None) -> str | None:
    """An IANA zone from what an export states ("(UTC+07:00) Bangkok", "Asia/Shanghai", "GMT-5"), else None."""
    if not stated:
        return None
    if (named := _IANA.search(stated)) and _known(named.group(1)):
        return named.group(1)
    if offset := _OFFSET.search(stated):
        sign, hours, minutes = offset.group(1), int(offset.group(2)), int(offset.group(3) or 0)
        if minutes == 0 and hours <= 14:
            # POSIX Etc zones count the other way round: UTC+07:00 is Etc/GMT-7.
            return "Etc/UTC" if hours == 0 else f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"
    return None


def _known(name: str) -> bool:
    try:
        ZoneInfo(name)
        return True
    except (ZoneInfoNotFoundError, ValueError):
        return False


def create_ad_days_view(con: duckdb.DuckDBPyConnection, params) -> None:
    """`ad_days`: `ad_stats` rows split over shop-local days; `account_date` keeps the reported day.

    The account's zone is the one the export states, else `markets[].ads_timezone` in params,
    else the shop's own (then nothing moves); `account_timezone_source` says which applied.
    """
    stated = [r[0] for r in con.execute("SELECT DISTINCT ad_account_timezone FROM ad_stats WHERE ad_account_timezone IS NOT NULL").fetchall()]
    con.execute("CREATE OR REPLACE TEMP TABLE _stated_zones (stated VARCHAR, zone VARCHAR)")
    if stated:
        con.executemany("INSERT INTO _stated_zones VALUES (?, ?)", [(s, zone_name(s)) for s in stated])
    con.execute("CREATE OR REPLACE TEMP TABLE _market_zones (market VARCHAR, shop_tz VARCHAR, ads_tz VARCHAR)")
    con.executemany("INSERT INTO _market_zones VALUES (?, ?, ?)",
                    [(m.code, m.timezone, m.ads_timezone) for m in params.markets])
    columns = [r[0] for r in con.execute("SELECT column_name FROM (DESCRIBE ad_stats)").fetchall()]
    split = ", ".join(f"CAST({c} AS DOUBLE) * share AS {c}" for c in SUMMABLE if c in columns)
    con.execute(f"""
        CREATE OR REPLACE VIEW ad_days AS
        WITH zoned AS (
            SELECT a.*, z.shop_tz,
                   coalesce(s.zone, z.ads_tz, z.shop_tz) AS account_tz,
                   CASE WHEN s.zone IS NOT NULL THEN 'export'
                        WHEN a.ad_account_timezone IS NOT NULL AND z.ads_tz IS NOT NULL
                          THEN 'params (export value not understood: ' || a.ad_account_timezone || ')'
                        WHEN a.ad_account_timezone IS NOT NULL
                          THEN 'shop (export value not understood: ' || a.ad_account_timezone || ')'
                        WHEN z.ads_tz IS NOT NULL THEN 'params'
                        WHEN z.shop_tz IS NOT NULL THEN 'shop'
                        ELSE 'unknown market: as reported' END AS account_timezone_source
            FROM ad_stats a
            LEFT JOIN _market_zones z USING (market)
            LEFT JOIN _stated_zones s ON s.stated = a.ad_account_timezone
        ), spans AS (
            SELECT *,
                   CASE WHEN account_tz IS NULL OR account_tz = shop_tz THEN report_date::TIMESTAMP
                        ELSE timezone(shop_tz, timezone(account_tz, report_date::TIMESTAMP)) END AS local_start,
                   CASE WHEN account_tz IS NULL OR account_tz = shop_tz THEN (report_date + 1)::TIMESTAMP
                        ELSE timezone(shop_tz, timezone(account_tz, (report_date + 1)::TIMESTAMP)) END AS local_end
            FROM zoned
        ), pieces AS (
            SELECT s.*, CAST(d AS DATE) AS shop_date,
                   epoch(least(local_end, d + INTERVAL 1 DAY) - greatest(local_start, d))
                     / epoch(local_end - local_start) AS share
            FROM spans s,
                 LATERAL (SELECT unnest(generate_series(date_trunc('day', local_start), local_end - INTERVAL 1 SECOND,
                                                        INTERVAL 1 DAY)) AS d) AS days
        )
        SELECT * EXCLUDE (report_date, shop_date, local_start, local_end, shop_tz, {', '.join(c for c in SUMMABLE if c in columns)}),
               shop_date AS report_date, report_date AS account_date, {split}
        FROM pieces WHERE share > 0
    """)
