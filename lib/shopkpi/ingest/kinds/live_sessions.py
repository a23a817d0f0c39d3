"""LIVE sessions export (one row per LIVE session) -> `live_sessions`."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from shopkpi.ingest.columns import local_dates, typed_columns
from shopkpi.ingest.headers import HeaderMatch
from shopkpi.ingest.importers import Importer, register
from shopkpi.ingest.kinds.video_data import (
    UTC,
    WALL_CLOCK,
    build_rows,
    creator_handles,
    latest,
    local_times,
    market_from_money,
    wall_clock,
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
from shopkpi.ingest.values import MONEY_TYPE

COUNTS = ["orders", "items_sold", "customers", "viewers", "views", "acu", "pcu", "live_impressions",
          "product_impressions", "product_clicks", "new_followers", "likes", "comments", "shares"]
SPEC = {"live_id": "id", "live_title": "text", "gmv": "money", "gmv_24h": "money", **{c: "count" for c in COUNTS},
        "duration": "duration", "avg_view_duration": "duration", "ctr": "percent", "ctor": "percent"}


def live_sessions_schema() -> pa.Schema:
    return pa.schema([
        ("live_id", pa.string()), ("market", pa.string()), ("currency", pa.string()), ("creator", pa.string()),
        ("live_title", pa.string()), ("started_at", UTC), ("ended_at", UTC), ("started_local_time", WALL_CLOCK),
        ("started_local_date", pa.date32()), ("duration_s", pa.float64()),
        ("gmv", MONEY_TYPE), ("gmv_24h", MONEY_TYPE),
        *[(c, pa.int64()) for c in COUNTS],
        ("avg_view_duration_s", pa.float64()), ("ctr", pa.float64()), ("ctor", pa.float64()),
    ] + PROVENANCE)


def parse_live_sessions(raw: RawTable, match: HeaderMatch, ctx: ImportContext) -> Parsed:
    skip, skip_rule = non_data_rows(raw, match.mapping["live_id"])
    problems = Problems(raw, match, skip)
    market, currency = market_from_money(raw, match, ctx, problems, ["gmv", "gmv_24h"])
    # "24h LIVE GMV" is every order within 24 h of the session, returns and refunds included
    # (reference 1.10): it overlaps the attributed GMV, so it stays in its own column and is
    # never added to `gmv`.
    out, _ = typed_columns(raw, match, ctx, problems, SPEC, market, required=("live_id",))
    out["duration_s"], out["avg_view_duration_s"] = out.pop("duration"), out.pop("avg_view_duration")
    out["creator"] = creator_handles(column_of(raw, match, "creator"))
    out["market"], out["currency"] = market, currency
    out["started_at"], used_format = local_times(column_of(raw, match, "start_time"), market, ctx, problems, "start_time")
    problems.note(pc.is_null(out["started_at"]), "start_time", "required value is empty", column_of(raw, match, "start_time"))
    ended, _ = local_times(column_of(raw, match, "end_time"), market, ctx, problems, "end_time")
    by_duration = pc.add(out["started_at"], pc.round(out["duration_s"]).cast(pa.int64()).cast(pa.duration("s")))
    out["ended_at"] = pc.coalesce(ended, by_duration)
    out["started_local_time"] = wall_clock(out["started_at"], market, ctx.params)
    out["started_local_date"] = local_dates(out["started_at"], market, ctx.params)
    out |= provenance_columns(raw, ctx, latest(out["started_at"], out["ended_at"]))
    rows = build_rows(LIVE_SESSIONS.schema, out, skip, problems)
    return Parsed(rows, problems.table(ctx), excluded_table(raw, ctx, skip, skip_rule),
                  sorted(set(rows.column("market").to_pylist())), used_format)


LIVE_SESSIONS = register(Importer(kind="live_sessions", table="live_sessions", key=("live_id",),
                                  schema=live_sessions_schema(), parse=parse_live_sessions))
