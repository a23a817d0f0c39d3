"""Creator follower snapshots (one row per creator per date) -> `creator_snapshots`."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from shopkpi.ingest.columns import typed_columns
from shopkpi.ingest.headers import HeaderMatch
from shopkpi.ingest.importers import Importer, register
from shopkpi.ingest.kinds.video_data import build_rows, creator_handles
from shopkpi.ingest.readers import RawTable
from shopkpi.ingest.rows import (
    PROVENANCE,
    ImportContext,
    Parsed,
    Problems,
    column_of,
    excluded_table,
    market_reference,
    non_data_rows,
    provenance_columns,
)
from shopkpi.ingest.values import clean_text

COUNTS = ["followers", "total_likes", "total_videos"]


def creator_snapshots_schema() -> pa.Schema:
    return pa.schema([("creator", pa.string()), ("snapshot_date", pa.date32()), ("market", pa.string()),
                      *[(c, pa.int64()) for c in COUNTS]] + PROVENANCE)


def creator_markets(values: pa.Array, ctx: ImportContext) -> tuple[pa.Array, pa.Array]:
    """Market code per row from a Market/Country cell; (codes, unrecognised non-empty cells).

    A creator may sit outside the client's markets, so any market known to markets.yaml is kept.
    Empty cells take --market, else the client's only market.
    """
    names = {name.casefold(): code for code, ref in market_reference().items() for name in [code, *ref["country_names"]]}
    text = clean_text(values)
    found = pc.take(pa.array(list(names.values())), pc.index_in(pc.utf8_lower(text), pa.array(list(names))))
    unknown = pc.and_(pc.is_valid(text), pc.is_null(found))
    client = [m.code for m in ctx.params.markets]
    fallback = ctx.market_hint or (client[0] if len(client) == 1 else None)
    if fallback:
        found = pc.if_else(pc.is_null(text), pa.scalar(fallback, pa.string()), found)
    return found, unknown


def parse_creator_snapshots(raw: RawTable, match: HeaderMatch, ctx: ImportContext) -> Parsed:
    n = raw.records.num_rows
    skip, skip_rule = non_data_rows(raw, match.mapping["creator"])
    problems = Problems(raw, match, skip)
    out, _ = typed_columns(raw, match, ctx, problems, {"snapshot_date": "date", **{c: "count" for c in COUNTS}},
                           pa.nulls(n, pa.string()), required=("snapshot_date", "followers"))
    out["creator"] = creator_handles(column_of(raw, match, "creator"))
    problems.note(pc.is_null(out["creator"]), "creator", "required value is empty", column_of(raw, match, "creator"))
    out["market"], unknown = creator_markets(column_of(raw, match, "country"), ctx)
    problems.note(unknown, "country", "not a market code or country name known to markets.yaml", column_of(raw, match, "country"))
    last = pc.max(out["snapshot_date"]).as_py()
    as_of = dt.datetime.combine(last, dt.time(), dt.timezone.utc) if last else None
    out |= provenance_columns(raw, ctx, as_of)
    rows = build_rows(CREATOR_SNAPSHOTS.schema, out, skip, problems)
    return Parsed(rows, problems.table(ctx), excluded_table(raw, ctx, skip, skip_rule),
                  sorted(set(rows.column("market").drop_null().to_pylist())), None)


CREATOR_SNAPSHOTS = register(Importer(kind="creator_snapshots", table="creator_snapshots", key=("creator", "snapshot_date"),
                                      schema=creator_snapshots_schema(), parse=parse_creator_snapshots))
