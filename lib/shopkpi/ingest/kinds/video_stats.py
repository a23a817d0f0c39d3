"""Scraped public video statistics (one row per video per scrape) -> `video_stats`.

Two real layouts are covered by the aliases: tiktok_vn_2025 (abbreviated counts "541.2K",
"MM:SS" durations, text times whose zone the source does not document) and tiktok_us_2020
(plain counts, lengths in seconds, Unix post times, hashtags as a Python-list literal).
Such files have no shop and no market: the market is --market or null, and `time_zone` says
which zone the local times are in, "unknown" when nobody knows.
"""

from __future__ import annotations

import ast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shopkpi.ingest.columns import typed_columns
from shopkpi.ingest.headers import HeaderMatch
from shopkpi.ingest.importers import Importer, register
from shopkpi.ingest.kinds.video_data import (
    UTC,
    WALL_CLOCK,
    abbreviated,
    build_rows,
    creator_handles,
)
from shopkpi.ingest.readers import RawTable
from shopkpi.ingest.rows import (
    PROVENANCE,
    ImportContext,
    Parsed,
    Problems,
    column_of,
    excluded_table,
    non_data_rows,
    provenance_columns,
)
from shopkpi.ingest.values import (
    clean_text,
    parse_count,
    parse_duration,
    parse_timestamp,
)

UNKNOWN_ZONE = "unknown"
UNDATED = "undated"
COUNTS = ["creator_followers", "creator_total_likes", "creator_total_videos", "views", "likes", "comments", "shares", "saves"]
VIDEO_COUNTS = ["views", "likes", "comments", "shares", "saves"]
TEXT = ["caption", "video_url", "sound_title", "sound_author", "crawl_list"]
# ISO-like only: a scraped file gives no market to tell 03/04 (day first) from 03/04 (month first).
TEXT_LAYOUTS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]
_UNIX_SECONDS = r"^[0-9]{9,10}$"
_TAG_TRIM = "'\"#\u200b\u200c\u200d\u2028\u2060\ufeff\u00ad\u00a0\t\r\n "


def video_stats_schema() -> pa.Schema:
    return pa.schema([
        ("video_id", pa.string()), ("snapshot", pa.string()), ("market", pa.string()), ("time_zone", pa.string()),
        ("creator", pa.string()), ("creator_followers", pa.int64()), ("creator_total_likes", pa.int64()),
        ("creator_total_videos", pa.int64()), ("caption", pa.string()),
        ("posted_local_time", WALL_CLOCK), ("posted_at", UTC), ("scraped_local_time", WALL_CLOCK), ("scraped_at", UTC),
        ("duration_s", pa.float64()),
        *[(c, pa.int64()) for c in VIDEO_COUNTS], ("counts_rounded", pa.bool_()),
        ("hashtags", pa.list_(pa.string())), ("video_url", pa.string()),
        ("music_id", pa.string()), ("sound_title", pa.string()), ("sound_author", pa.string()),
        ("sound_uses", pa.int64()), ("sound_is_original", pa.bool_()), ("crawl_list", pa.string()),
    ] + PROVENANCE)


def _zone(ctx: ImportContext) -> str | None:
    """The --market's time zone when that market is one of the client's; else no zone is known."""
    codes = {m.code for m in ctx.params.markets}
    return ctx.params.market(ctx.market_hint).timezone if ctx.market_hint in codes else None


def scraped_times(source: pa.Array, zone: str | None, problems: Problems, name: str
                  ) -> tuple[pa.Array, pa.Array, pa.Array, str | None]:
    """Text or Unix-seconds times -> (local wall clock, UTC or null, row is Unix, layout used).

    Unix seconds are an instant (UTC); text is a wall clock in `zone`, and has no UTC time
    when the zone is unknown.
    """
    text = clean_text(source)
    unix = pc.fill_null(pc.match_substring_regex(text, _UNIX_SECONDS), False)
    from_unix = pc.if_else(unix, text, pa.scalar(None, pa.string())).cast(pa.int64()).cast(UTC)
    words = pc.if_else(unix, pa.scalar(None, pa.string()), text)
    # Parsed "as UTC" only to read the wall clock; the real zone is applied below when known.
    as_written, failed, layout = parse_timestamp(words, TEXT_LAYOUTS, "UTC")
    problems.note(failed, name, f"not a date-time ({' or '.join(TEXT_LAYOUTS)}) or Unix seconds", source)
    if zone:
        local = pc.coalesce(as_written.cast(WALL_CLOCK), pc.local_timestamp(from_unix.cast(pa.timestamp("s", tz=zone))))
        utc = pc.assume_timezone(local, timezone=zone, ambiguous="earliest", nonexistent="earliest").cast(UTC)
    else:
        local = pc.coalesce(as_written.cast(WALL_CLOCK), from_unix.cast(WALL_CLOCK))
        utc = from_unix
    return local, utc, unix, layout


def seconds(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """'01:05' (MM:SS), '1m5s' or a bare number of seconds ('15') -> seconds."""
    text = clean_text(values)
    bare = pc.fill_null(pc.match_substring_regex(text, r"^[0-9]+(\.[0-9]+)?$"), False)
    plain = pc.if_else(bare, text, pa.scalar(None, pa.string())).cast(pa.float64())
    parsed, _ = parse_duration(pc.if_else(bare, pa.scalar(None, pa.string()), text))
    out = pc.coalesce(plain, parsed)
    return out, pc.and_(pc.is_valid(text), pc.is_null(out))


def _decode_escaped_literals(inner: pa.Array) -> pa.Array:
    """Python-list literals write odd characters as escapes ('covid19\\xa0'): decode those few cells.

    Only cells with a backslash go through Python (9 of 30,942 in the US 2020 set).
    """
    escaped = pc.fill_null(pc.match_substring(inner, "\\"), False)
    if not pc.any(escaped).as_py():
        return inner
    decoded = []
    for cell in inner.filter(escaped).to_pylist():
        try:
            decoded.append(", ".join(str(t) for t in ast.literal_eval(f"[{cell}]")))
        except (ValueError, SyntaxError):
            decoded.append(cell)  # not a literal after all: split as written
    return pc.replace_with_mask(inner, escaped, pa.array(decoded, pa.string()))


def hashtag_lists(values: pa.Array) -> pa.Array:
    """"fyp, comedy" or "['fyp', 'comedy']" -> ["fyp", "comedy"]; TikTok tags are case-blind, so lower-case."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    text = pc.fill_null(clean_text(values), "")
    # Drop the list brackets, then split on commas; quotes and "#" are trimmed from each tag.
    inner = _decode_escaped_literals(pc.replace_substring_regex(text, r"^\[(.*)\]$", r"\1"))
    parts = pc.split_pattern_regex(inner, r"\s*,\s*")
    flat = pc.utf8_lower(pc.utf8_trim(pc.list_flatten(parts), characters=_TAG_TRIM))
    parents = pc.list_parent_indices(parts)
    keep = pc.not_equal(flat, "")
    flat, parents = flat.filter(keep), parents.filter(keep)
    counts = np.bincount(parents.to_numpy(), minlength=len(text)) if len(parents) else np.zeros(len(text), np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), flat)


def parse_video_stats(raw: RawTable, match: HeaderMatch, ctx: ImportContext) -> Parsed:
    n = raw.records.num_rows
    skip, skip_rule = non_data_rows(raw, match.mapping["video_id"])
    problems = Problems(raw, match, skip)
    no_market = pa.nulls(n, pa.string())
    out, _ = typed_columns(raw, match, ctx, problems, {"video_id": "id", **{c: "count" for c in COUNTS},
                                                      **{c: "text" for c in TEXT}}, no_market, required=("video_id",))
    out["creator"] = creator_handles(column_of(raw, match, "creator"))
    out["duration_s"], failed = seconds(column_of(raw, match, "duration"))
    problems.note(failed, "duration", "not a duration like 01:05, 1m5s or a number of seconds", column_of(raw, match, "duration"))
    uses = pc.replace_substring_regex(clean_text(column_of(raw, match, "sound_uses")), r"(?i)\s*videos?$", "")
    out["sound_uses"], failed = parse_count(uses)
    problems.note(failed, "sound_uses", "not a count like '44 videos' or '32.5K videos'", column_of(raw, match, "sound_uses"))
    flag = pc.utf8_lower(clean_text(column_of(raw, match, "sound_is_original")))
    out["sound_is_original"] = pc.if_else(pc.is_in(flag, pa.array(["true", "1", "yes"])), True,
                                          pc.if_else(pc.is_in(flag, pa.array(["false", "0", "no"])), False,
                                                     pa.scalar(None, pa.bool_())))
    problems.note(pc.and_(pc.is_valid(flag), pc.is_null(out["sound_is_original"])), "sound_is_original",
                  "not True or False", column_of(raw, match, "sound_is_original"))
    # The VN source wrote music_id through a float ("7.506832745952218e+18", last digits lost):
    # kept as the text it is, never parsed to a number and never used to join or key anything.
    out["music_id"] = clean_text(column_of(raw, match, "music_id"))
    # An empty cell means "no hashtags"; a file without the column says nothing about them.
    out["hashtags"] = (hashtag_lists(column_of(raw, match, "hashtags")) if "hashtags" in match.mapping
                       else pa.nulls(n, pa.list_(pa.string())))
    rounded = pa.array(np.zeros(n, dtype=bool))
    for name in VIDEO_COUNTS:
        rounded = pc.or_(rounded, abbreviated(column_of(raw, match, name)))
    out["counts_rounded"] = rounded

    zone = _zone(ctx)
    out["posted_local_time"], out["posted_at"], posted_unix, used_format = scraped_times(
        column_of(raw, match, "post_time"), zone, problems, "post_time")
    out["scraped_local_time"], out["scraped_at"], scraped_unix, scrape_format = scraped_times(
        column_of(raw, match, "scrape_time"), zone, problems, "scrape_time")
    if zone is None:
        # Unix seconds are UTC; any text time on the row is in a zone nobody documented.
        text_time = pc.or_(pc.and_(pc.is_valid(out["posted_local_time"]), pc.invert(posted_unix)),
                           pc.and_(pc.is_valid(out["scraped_local_time"]), pc.invert(scraped_unix)))
        only_unix = pc.and_(pc.or_(posted_unix, scraped_unix), pc.invert(text_time))
        out["time_zone"] = pc.if_else(only_unix, "UTC", UNKNOWN_ZONE)
    else:
        out["time_zone"] = pa.array([zone] * n, pa.string())
    out["market"] = pa.array([ctx.market_hint] * n, pa.string())
    # Each scrape is its own observation: a recrawl adds rows. Sources without a scrape time are
    # one "undated" observation per video, where the newest export replaces older ones.
    out["snapshot"] = pc.fill_null(pc.strftime(out["scraped_local_time"], format="%Y-%m-%d %H:%M:%S"), UNDATED)
    # With an unknown zone the wall clock still orders exports, which is all export_as_of is for.
    observed = pc.coalesce(out["scraped_local_time"], out["posted_local_time"])
    as_of = pc.max(observed).as_py() if observed.null_count < n else None
    out |= provenance_columns(raw, ctx, as_of)
    rows = build_rows(VIDEO_STATS.schema, out, skip, problems)
    return Parsed(rows, problems.table(ctx), excluded_table(raw, ctx, skip, skip_rule),
                  [ctx.market_hint] if ctx.market_hint else [], used_format or scrape_format)


VIDEO_STATS = register(Importer(kind="video_stats", table="video_stats", key=("video_id", "snapshot"),
                                schema=video_stats_schema(), parse=parse_video_stats))
