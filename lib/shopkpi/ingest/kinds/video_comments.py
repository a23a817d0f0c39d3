"""Video comments (one row per comment) -> `video_comments`; commenter names are never read."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from shopkpi.ingest.columns import typed_columns
from shopkpi.ingest.headers import HeaderMatch
from shopkpi.ingest.importers import Importer, register
from shopkpi.ingest.kinds.video_data import UTC, WALL_CLOCK, build_rows
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
from shopkpi.ingest.values import clean_text, parse_timestamp

# Comment samples come from tools, not Seller Center: ISO, or day first as outside the US.
TEXT_LAYOUTS = ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S"]


def video_comments_schema() -> pa.Schema:
    return pa.schema([
        ("video_id", pa.string()), ("comment_no", pa.int64()), ("comment_text", pa.string()),
        ("comment_local_time", WALL_CLOCK), ("market", pa.string()), ("commented_at", UTC), ("comment_likes", pa.int64()),
    ] + PROVENANCE)


def numbers_within(keys: pa.Array) -> pa.Array:
    """1, 2, 3... per key in file order (the comment's place in its video's sample)."""
    series = pd.Series(keys.to_pandas())
    return pa.array(series.groupby(series, dropna=False).cumcount().to_numpy(dtype=np.int64) + 1)


def parse_video_comments(raw: RawTable, match: HeaderMatch, ctx: ImportContext) -> Parsed:
    n = raw.records.num_rows
    skip, skip_rule = non_data_rows(raw, match.mapping["video_id"])
    problems = Problems(raw, match, skip)
    out, _ = typed_columns(raw, match, ctx, problems, {"video_id": "id", "comment_likes": "count"},
                           pa.nulls(n, pa.string()), required=("video_id",))
    # Comment text is public; trimmed only, never rewritten. Empty (sticker-only) comments stay null.
    out["comment_text"] = clean_text(column_of(raw, match, "comment_text"))
    # The file has no market, and a comment's time is local to its video's market: keep the wall
    # clock; the UTC time is filled only when the market is known (--market or a one-market client).
    source = column_of(raw, match, "comment_time")
    as_utc, failed, used_format = parse_timestamp(source, TEXT_LAYOUTS, "UTC")
    problems.note(failed, "comment_time", f"not a date-time ({' or '.join(TEXT_LAYOUTS)})", source)
    out["comment_local_time"] = as_utc.cast(WALL_CLOCK)
    client = [m.code for m in ctx.params.markets]
    market = ctx.market_hint if ctx.market_hint in client else (client[0] if len(client) == 1 else None)
    out["market"] = pa.array([market] * n, pa.string())
    if market:
        local = out["comment_local_time"]
        out["commented_at"] = pc.assume_timezone(local, timezone=ctx.params.market(market).timezone,
                                                 ambiguous="earliest", nonexistent="earliest").cast(UTC)
    else:
        out["commented_at"] = pa.nulls(n, UTC)
    # Numbered before quarantined rows are dropped, so one bad row never renumbers the comments after it.
    out["comment_no"] = numbers_within(out["video_id"])
    # Without a market the wall clock read as UTC still orders exports, which is all as-of is for.
    as_of = pc.max(out["commented_at"] if market else as_utc).as_py()
    out |= provenance_columns(raw, ctx, as_of)
    rows = build_rows(VIDEO_COMMENTS.schema, out, skip, problems)
    return Parsed(rows, problems.table(ctx), excluded_table(raw, ctx, skip, skip_rule),
                  [market] if market else [], used_format)


VIDEO_COMMENTS = register(Importer(kind="video_comments", table="video_comments", key=("video_id", "comment_no"),
                                   schema=video_comments_schema(), parse=parse_video_comments))
