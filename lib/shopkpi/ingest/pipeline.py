"""Ingest a client's files: detect each kind, parse, merge into the store, account for every row."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb
import pyarrow as pa

from shopkpi import paths
from shopkpi.errors import InputFileError, ShopkpiError
from shopkpi.ingest.headers import UnknownKindError, detect_kind
from shopkpi.ingest.importers import Importer, all_importers, importer_for
from shopkpi.ingest.kinds import sales_lines
from shopkpi.ingest.readers import read_any
from shopkpi.ingest.rows import (
    EXCLUDED_SCHEMA,
    QUARANTINE_SCHEMA,
    RECONCILIATION_SCHEMA,
    ImportContext,
    Parsed,
)
from shopkpi.params import ClientParams
from shopkpi.store import Store

SUPPORTED_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".gz"}

FILES_SCHEMA = pa.schema([
    ("file_id", pa.string()), ("source_file", pa.string()), ("kind", pa.string()), ("table", pa.string()),
    ("markets", pa.string()),
    ("encoding", pa.string()), ("timestamp_format", pa.string()), ("rows_in", pa.int64()),
    ("rows_kept", pa.int64()), ("rows_quarantined", pa.int64()), ("rows_excluded", pa.int64()),
    ("ignored_headers", pa.string()), ("ingested_at", pa.timestamp("s", tz="UTC")),
])


@dataclass
class FileResult:
    source_file: str
    status: str  # ingested | already_ingested | failed | unsupported
    kind: str | None = None
    rows_in: int = 0
    rows_kept: int = 0
    rows_quarantined: int = 0
    rows_excluded: int = 0
    message: str = ""


@dataclass
class IngestReport:
    client: str
    files: list[FileResult] = field(default_factory=list)

    @property
    def failed(self) -> list[FileResult]:
        """Files not stored: unreadable ones and ones of no known layout (a renamed header must not pass silently)."""
        return [f for f in self.files if f.status in ("failed", "unsupported")]

    def summary_lines(self) -> list[str]:
        lines = []
        for f in self.files:
            counts = f"in {f.rows_in:>8,}  kept {f.rows_kept:>8,}  quarantined {f.rows_quarantined:>5,}  excluded {f.rows_excluded:>6,}"
            detail = counts if f.status == "ingested" else f.message
            lines.append(f"{f.status:<16} {f.kind or '-':<8} {f.source_file}: {detail}")
        return lines


def client_salt(client: str) -> bytes:
    """Per-client salt for buyer hashes, created once and kept under data/ (outside git)."""
    path = paths.salt_file(client)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip().encode()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def discover(inputs: list[Path]) -> list[Path]:
    found = []
    for item in inputs:
        item = Path(item)
        if item.is_dir():
            found += sorted(p for p in item.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
        elif item.exists():
            found.append(item)
        else:
            raise ShopkpiError(f"{item}: no such file or folder")
    return found


def _display_name(path: Path, client: str) -> str:
    try:
        return str(path.resolve().relative_to(paths.raw_dir(client).resolve()))
    except ValueError:
        # Outside raw/: keep the parent folder so same-named files stay readable apart.
        return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def _empty(schema: pa.Schema) -> pa.Table:
    return schema.empty_table()


def _stored(store: Store, table: str, schema: pa.Schema) -> pa.Table:
    # Parquet stores second timestamps as milliseconds; cast back so tables concatenate.
    return store.read(table).cast(schema) if store.has(table) else _empty(schema)


def _merge(store: Store, importer: Importer, staged: pa.Table, files_with_quarantine: set[str]) -> tuple[pa.Table, pa.Table]:
    """Union stored and staged rows and keep, per group, the rows of its newest export.

    Newest = the export holding the group's latest event (row event times), then the later ingestion
    run, then the later export date. A row missing from that export is gone (removed from the order),
    unless that export had quarantined rows: then it may only be unreadable there, and the newest
    readable copy is kept. Every row not kept is returned as excluded, with its rule.
    """
    existing = _stored(store, importer.table, importer.schema)
    con = duckdb.connect()
    con.register("existing_rows", existing)
    con.register("staged_rows", staged)
    con.register("quarantined_files", pa.table({"file_id": pa.array(sorted(files_with_quarantine), pa.string())}))
    key = ", ".join(f'"{k}"' for k in importer.key)
    as_text = lambda cols: " || '/' || ".join(f'coalesce(CAST("{c}" AS VARCHAR), \'\')' for c in cols)  # noqa: E731
    group = as_text(importer.group_key or importer.key)
    event = f"greatest({', '.join(importer.event_columns)})" if importer.event_columns else "export_as_of"
    con.execute(f"""
        CREATE TEMP TABLE all_rows AS
        SELECT *, {group} AS group_id, {event} AS row_event
        FROM (SELECT * FROM existing_rows UNION ALL BY NAME SELECT * FROM staged_rows)
    """)
    con.execute("""
        CREATE TEMP TABLE winners AS
        SELECT group_id, file_id AS winner_id, source_file AS winner_file FROM (
            SELECT group_id, file_id, max(source_file) AS source_file, max(row_event) AS newest_event,
                   max(ingest_run) AS run, max(export_as_of) AS as_of
            FROM all_rows GROUP BY group_id, file_id)
        QUALIFY row_number() OVER (PARTITION BY group_id ORDER BY newest_event DESC NULLS LAST, run DESC NULLS LAST,
                                   as_of DESC NULLS LAST, source_file DESC) = 1
    """)
    con.execute(f"""
        CREATE TEMP TABLE ranked AS
        SELECT *, bool_or(from_winner) OVER (PARTITION BY {key}) AS key_in_winner FROM (
            SELECT r.*, w.winner_file, r.file_id = w.winner_id AS from_winner,
                   w.winner_id IN (SELECT file_id FROM quarantined_files) AS winner_incomplete,
                   row_number() OVER (PARTITION BY {key} ORDER BY r.file_id = w.winner_id DESC, r.row_event DESC NULLS LAST,
                                      r.ingest_run DESC NULLS LAST, r.export_as_of DESC NULLS LAST, r.source_row) AS rank_in_key
            FROM all_rows r JOIN winners w USING (group_id))
    """)
    keep = "rank_in_key = 1 AND (from_winner OR (NOT key_in_winner AND winner_incomplete))"
    columns = ", ".join(f'"{c}"' for c in importer.schema.names)
    kept = con.sql(f"SELECT {columns} FROM ranked WHERE {keep} ORDER BY {key}").to_arrow_table()
    record_key = as_text(importer.key)
    dropped = con.sql(f"""
        SELECT file_id, source_file, source_row,
               CASE WHEN from_winner THEN 'duplicate_within_file' ELSE 'superseded_by_newer_export' END AS rule,
               {record_key} AS record_key, 'kept: ' || winner_file AS detail
        FROM ranked WHERE NOT ({keep})
    """).to_arrow_table()
    return kept.cast(importer.schema), dropped.cast(EXCLUDED_SCHEMA)


def ingest(client: str, params: ClientParams, inputs: list[Path] | None = None, *,
           market_hint: str | None = None, progress: Callable[[str], None] | None = None) -> IngestReport:
    """Ingest files (default: data/<client>/raw/) into the client's store.

    Every file is parsed first; then each table gets one merge and the store one atomic
    commit, so a run costs one rewrite per table however many files arrive, and a file
    that cannot be read is reported while the others are stored.
    """
    inputs = inputs or [paths.raw_dir(client)]
    report = IngestReport(client)
    store = Store(client)
    salt = client_salt(client)
    files = discover(inputs)
    with store.locked():
        known = set(store.read("files").column("file_id").to_pylist()) if store.has("files") else set()
        staged: list[_Staged] = []
        for number, path in enumerate(files, 1):
            name = _display_name(path, client)
            if progress:
                progress(f"[{number}/{len(files)}] {name}")
            file_id = file_sha256(path)[:20]
            if file_id in known:
                report.files.append(FileResult(name, "already_ingested", message="same content ingested before; nothing changes"))
                continue
            ctx = ImportContext(params=params, file_id=file_id, source_file=name, salt=salt, market_hint=market_hint)
            try:
                item = _parse_one(path, ctx)
            except UnknownKindError as exc:
                report.files.append(FileResult(name, "unsupported", message=f"{path}: {exc}"))
                continue
            except InputFileError as exc:
                report.files.append(FileResult(name, "failed", message=str(exc)))
                continue
            except Exception as exc:  # a defect or an unforeseen value: fail this file, keep the others
                report.files.append(FileResult(name, "failed", message=f"{path}: could not be read ({type(exc).__name__}: {exc})"))
                continue
            if isinstance(item, FileResult):
                report.files.append(item)
                continue
            staged.append(item)
            report.files.append(item.result)
            known.add(file_id)
        if staged:
            if progress:
                progress(f"merging {sum(i.parsed.rows.num_rows for i in staged):,} rows into the store ...")
            _commit(store, staged)
    return report


@dataclass
class _Staged:
    importer: Importer
    parsed: Parsed
    ctx: ImportContext
    file_row: pa.Table
    result: FileResult


def _parse_one(path: Path, ctx: ImportContext) -> _Staged | FileResult:
    raw = read_any(path)
    client_kinds = [spec for spec in [sales_lines.kind_spec(ctx.params)] if spec]
    match = detect_kind(raw.headers, client_kinds)
    importer = importer_for(match.kind)
    if importer is None:
        return FileResult(ctx.source_file, "unsupported", kind=match.kind,
                          message=f"{match.kind} files are recognised but not imported yet")
    if match.duplicated:
        raise InputFileError(path, f"several headers map to the same column(s): {', '.join(match.duplicated)}", row=1)
    parsed = importer.parse(raw, match, ctx)
    rows_in = raw.records.num_rows
    if rows_in != parsed.rows.num_rows + parsed.quarantine.num_rows + parsed.excluded.num_rows:
        raise ShopkpiError(f"{path}: row accounting does not balance; nothing was written")
    file_row = pa.table({
        "file_id": [ctx.file_id], "source_file": [ctx.source_file], "kind": [importer.kind], "table": [importer.table],
        "markets": [",".join(parsed.markets)], "encoding": [raw.encoding], "timestamp_format": [parsed.timestamp_format],
        "rows_in": [rows_in], "rows_kept": [parsed.rows.num_rows], "rows_quarantined": [parsed.quarantine.num_rows],
        "rows_excluded": [parsed.excluded.num_rows], "ignored_headers": [" | ".join(match.unmatched)],
        "ingested_at": [dt.datetime.now(dt.timezone.utc).replace(microsecond=0)],
    }, schema=FILES_SCHEMA)
    result = FileResult(ctx.source_file, "ingested", importer.kind, rows_in, parsed.rows.num_rows,
                        parsed.quarantine.num_rows, parsed.excluded.num_rows)
    return _Staged(importer, parsed, ctx, file_row, result)


def _commit(store: Store, staged: list[_Staged]) -> None:
    """One merge per table and one atomic commit for everything parsed in this run."""
    updates: dict[str, pa.Table] = {}
    dropped_all = []
    run = store.manifest()["version"] + 1
    stored_files = _stored(store, "files", FILES_SCHEMA)
    with_quarantine = {f for f, q in zip(stored_files["file_id"].to_pylist(), stored_files["rows_quarantined"].to_pylist()) if q}
    with_quarantine |= {i.ctx.file_id for i in staged if i.parsed.quarantine.num_rows}
    for item in staged:
        position = item.parsed.rows.schema.get_field_index("ingest_run")
        item.parsed.rows = item.parsed.rows.set_column(position, "ingest_run", pa.array([run] * item.parsed.rows.num_rows, pa.int64()))
    for importer in {id(i.importer): i.importer for i in staged}.values():
        rows = pa.concat_tables([i.parsed.rows for i in staged if i.importer is importer])
        kept, dropped = _merge(store, importer, rows, with_quarantine)
        updates[importer.table] = kept
        dropped_all.append(dropped)
    dropped = pa.concat_tables(dropped_all)
    dropped_per_file = dict(zip(*[c.to_pylist() for c in dropped.group_by("file_id").aggregate([("file_id", "count")]).columns]))
    for item in staged:
        # Rows of this run's files that lost to a newer export are excluded, not kept.
        moved = dropped_per_file.get(item.ctx.file_id, 0)
        item.result.rows_kept -= moved
        item.result.rows_excluded += moved
        for column, value in (("rows_kept", item.result.rows_kept), ("rows_excluded", item.result.rows_excluded)):
            position = FILES_SCHEMA.get_field_index(column)
            item.file_row = item.file_row.set_column(position, FILES_SCHEMA.field(column), pa.array([value], pa.int64()))
    updates["quarantine"] = pa.concat_tables([_stored(store, "quarantine", QUARANTINE_SCHEMA)] + [i.parsed.quarantine for i in staged])
    updates["excluded"] = pa.concat_tables([_stored(store, "excluded", EXCLUDED_SCHEMA)] + [i.parsed.excluded for i in staged] + [dropped])
    updates["files"] = pa.concat_tables([_stored(store, "files", FILES_SCHEMA)] + [i.file_row for i in staged])
    updates["reconciliation"] = pa.concat_tables([_stored(store, "reconciliation", RECONCILIATION_SCHEMA)] +
                                                 [i.parsed.reconciliation_table(i.ctx, i.importer.kind) for i in staged])
    store.commit(updates)


def row_accounting(client: str) -> pa.Table:
    """Per file: rows in = rows now in the store + quarantined + excluded (any reason)."""
    store = Store(client)
    con = store.connect()
    stored = [f"SELECT file_id, count(*) n FROM {i.table} GROUP BY 1" for i in all_importers() if store.has(i.table)]
    in_store = " UNION ALL ".join(stored) or "SELECT NULL::VARCHAR AS file_id, 0 AS n WHERE false"
    return con.sql(f"""
        SELECT f.source_file, f.kind, f.rows_in,
               coalesce(s.n, 0) AS in_store, coalesce(q.n, 0) AS quarantined, coalesce(e.n, 0) AS excluded,
               f.rows_in - coalesce(s.n, 0) - coalesce(q.n, 0) - coalesce(e.n, 0) AS unaccounted
        FROM files f
        LEFT JOIN (SELECT file_id, sum(n) n FROM ({in_store}) GROUP BY 1) s USING (file_id)
        LEFT JOIN (SELECT file_id, count(*) n FROM quarantine GROUP BY 1) q USING (file_id)
        LEFT JOIN (SELECT file_id, count(*) n FROM excluded GROUP BY 1) e USING (file_id)
        ORDER BY f.source_file
    """).to_arrow_table()
