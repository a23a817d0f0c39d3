"""The content team's hand-filled tagging sheet (one row per video) -> `content_tags`."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc

from shopkpi.ingest.columns import typed_columns
from shopkpi.ingest.headers import HeaderMatch
from shopkpi.ingest.importers import Importer, register
from shopkpi.ingest.kinds.video_data import build_rows
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
from shopkpi.ingest.values import clean_text

TAGS = ["hook_type", "script_structure", "sound", "format", "presenter", "language"]
_EXPERIMENT = r"^(?P<experiment>[^:]+?)\s*:\s*(?P<variant>[^:]+)$"


def content_tags_schema() -> pa.Schema:
    return pa.schema([("video_id", pa.string()), *[(t, pa.string()) for t in TAGS],
                      ("experiment_id", pa.string()), ("experiment_variant", pa.string()), ("tagged_by", pa.string()),
                      ("editor", pa.string())]
                     + PROVENANCE)


def normalise_tag(values: pa.Array) -> pa.Array:
    """People type "Question ", "QUESTION" and "question": one label. Blank cells stay null."""
    return clean_text(pc.replace_substring_regex(pc.utf8_lower(clean_text(values)), r"\s+", " "))


def sheet_saved_at(raw: RawTable) -> dt.datetime | None:
    """When the workbook was last saved: the sheet has no dates, and a later save must win."""
    try:
        with open(raw.path, "rb") as fh:
            if fh.read(4) != b"PK\x03\x04":
                return None
        from openpyxl import load_workbook

        workbook = load_workbook(raw.path, read_only=True)
        saved = workbook.properties.modified
        workbook.close()
    except Exception:  # a missing date only weakens the newest-wins order; the rows are fine
        return None
    return saved.replace(tzinfo=dt.timezone.utc) if saved and saved.tzinfo is None else saved


def parse_content_tags(raw: RawTable, match: HeaderMatch, ctx: ImportContext) -> Parsed:
    n = raw.records.num_rows
    skip, skip_rule = non_data_rows(raw, match.mapping["video_id"])
    problems = Problems(raw, match, skip)
    no_market = pa.nulls(n, pa.string())  # tags describe a video, whatever its market
    out, _ = typed_columns(raw, match, ctx, problems, {"video_id": "id"}, no_market, required=("video_id",))
    for tag in TAGS:
        out[tag] = normalise_tag(column_of(raw, match, tag))
    experiment = normalise_tag(column_of(raw, match, "experiment"))
    parts = pc.extract_regex(experiment, _EXPERIMENT)
    problems.note(pc.and_(pc.is_valid(experiment), pc.is_null(parts)), "experiment",
                  "not an experiment and variant like cover-test-03:A", column_of(raw, match, "experiment"))
    out["experiment_id"] = clean_text(pc.struct_field(parts, "experiment"))
    # Variants are letters by convention ("A"/"B"): upper-case so "a" and "A" are one arm.
    out["experiment_variant"] = pc.utf8_upper(clean_text(pc.struct_field(parts, "variant")))
    out["tagged_by"] = clean_text(column_of(raw, match, "tagged_by"))
    # Who edited the video (credited on the video editor's scorecard): a name, kept as written, not a tag.
    out["editor"] = clean_text(column_of(raw, match, "editor"))
    out |= provenance_columns(raw, ctx, sheet_saved_at(raw))
    rows = build_rows(CONTENT_TAGS.schema, out, skip, problems)
    return Parsed(rows, problems.table(ctx), excluded_table(raw, ctx, skip, skip_rule), [], None)


CONTENT_TAGS = register(Importer(kind="content_tags", table="content_tags", key=("video_id",),
                                 schema=content_tags_schema(), parse=parse_content_tags))
