"""Ingest a client's files: detect each kind, parse, merge into the store, account for every row."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import queue
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from shopkpi import paths
from shopkpi.errors import InputFileError, ShopkpiError
from shopkpi.ingest.headers import UnknownKindError, detect_kind
from shopkpi.ingest.importers import Importer, all_importers, importer_for
from shopkpi.ingest.kinds import sales_lines
from shopkpi.ingest.readers import RaggedRows, csv_layout, iter_csv_chunks, read_any, read_csv
from shopkpi.ingest.rows import (
    EXCLUDED_SCHEMA,
    QUARANTINE_SCHEMA,
    RECONCILIATION_SCHEMA,
    ImportContext,
)
from shopkpi.params import ClientParams
from shopkpi.store import Store

# .xlsm is read as a workbook; its macros are never run (openpyxl does not execute VBA).
SUPPORTED_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".gz"}

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
    status: str  # ingested | already_ingested | failed | unsupported | refused (a link, .xls) | skipped (not an export)
    kind: str | None = None
    rows_in: int = 0
    rows_kept: int = 0
    rows_quarantined: int = 0
    rows_excluded: int = 0
    message: str = ""
    # Headers of the file that are not read, each with why ("not a known column", "same column as ..."),
    # money-like ones marked: a fee column Seller Center adds must not vanish without a word.
    ignored_headers: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    client: str
    files: list[FileResult] = field(default_factory=list)
    # Seconds per stage (read, parse, stage, merge, commit...) and the process's peak memory (MB) after each.
    timings: dict[str, float] = field(default_factory=dict)
    peak_mb: dict[str, float] = field(default_factory=dict)

    def timed(self, stage: str, seconds: float) -> None:
        self.timings[stage] = self.timings.get(stage, 0.0) + seconds
        self.peak_mb[stage] = peak_memory_mb()

    @property
    def failed(self) -> list[FileResult]:
        """Files not stored: unreadable ones and ones of no known layout (a renamed header must not pass silently)."""
        return [f for f in self.files if f.status in ("failed", "unsupported", "refused")]

    def summary_lines(self) -> list[str]:
        lines = []
        for f in self.files:
            counts = f"in {f.rows_in:>8,}  kept {f.rows_kept:>8,}  quarantined {f.rows_quarantined:>5,}  excluded {f.rows_excluded:>6,}"
            detail = counts + (f"  ({f.message})" if f.message else "") if f.status == "ingested" else f.message
            lines.append(f"{f.status:<16} {f.kind or '-':<8} {printable(f.source_file)}: "
                         + "\n      ".join(printable(part) for part in str(detail).splitlines() or [""]))
            if f.ignored_headers:
                lines.append(f"{'':<25} {len(f.ignored_headers)} header(s) not read: {'; '.join(f.ignored_headers)}")
        return lines


def printable(text: str) -> str:
    """One line for a summary: a newline or other control character in a file name cannot forge another line."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(text))


def peak_memory_mb() -> float:
    """This process's peak resident memory. VmHWM (Linux) starts afresh at exec, unlike ru_maxrss, which
    keeps the parent's peak in a child process."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


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


def walk_inputs(inputs: list[Path]) -> tuple[list[Path], list[tuple[Path, str, str]]]:
    """Files to ingest, and every other entry met with (path, status, reason): nothing is skipped silently.

    Inside a folder, symbolic links and special files are refused (a link could bring another client's
    export into this client's store), hidden and Office lock files are skipped, legacy .xls is refused
    with what to do, and files of other types are listed as skipped.
    """
    found: list[Path] = []
    other: list[tuple[Path, str, str]] = []
    for item in inputs:
        item = Path(item)
        if item.is_dir():  # the folder asked for is walked even when it is itself a link (the user chose it)
            inside: list[Path] = []
            for root, dirs, files in os.walk(item, followlinks=False):
                for name in sorted(dirs):
                    if (Path(root) / name).is_symlink():
                        other.append((Path(root) / name, "refused", "a symbolic link to a folder: not followed; "
                                      "copy the files into raw/ instead"))
                for name in files:
                    _sort_entry(Path(root) / name, inside, other)
            found += sorted(inside)  # the order rglob gave: by path
        elif item.exists():
            _sort_entry(item, found, other, explicit=True)
        else:
            raise ShopkpiError(f"{item}: no such file or folder")
    return found, other


def _sort_entry(path: Path, found: list[Path], other: list, explicit: bool = False) -> None:
    import stat

    info = path.lstat()
    suffix = path.suffix.lower()
    if stat.S_ISLNK(info.st_mode) and not explicit:
        other.append((path, "refused", "a symbolic link: not followed (it could bring another client's export in); "
                      "copy the file into raw/ instead"))
    elif not stat.S_ISREG(path.stat().st_mode):
        other.append((path, "refused", "not a regular file (a pipe, socket or device): not read"))
    elif path.name.startswith((".", "~$")):
        other.append((path, "skipped", "hidden or temporary (Office lock) file"))
    elif suffix == ".xls":
        other.append((path, "refused", "a legacy Excel 97-2003 workbook (.xls) cannot be read safely: open it in Excel "
                      "and save it as .xlsx (Excel Workbook), then ingest again"))
    elif suffix in SUPPORTED_SUFFIXES:
        found.append(path)
    else:
        other.append((path, "skipped", f"not an export type that is read ({suffix or 'no suffix'}); read: "
                      f"{', '.join(sorted(SUPPORTED_SUFFIXES))}"))


def discover(inputs: list[Path]) -> list[Path]:
    """The files ingestion reads from `inputs` (see walk_inputs for what it leaves out and why)."""
    return walk_inputs(inputs)[0]


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
    if not store.has(table):
        return _empty(schema)
    stored = store.read(table)
    # A column a newer shopkpi reads (e.g. the settlement's SKU ID) is empty in rows stored before it.
    for name in (n for n in schema.names if n not in stored.column_names):
        stored = stored.append_column(name, pa.nulls(stored.num_rows, schema.field(name).type))
    return stored.select(schema.names).cast(schema)


# Files at least this large (bytes) are read in chunks of STREAM_CHUNK_ROWS records and staged as Parquet,
# so memory stays bounded whatever the file's size; both can be set in the environment (tests force tiny chunks).
STREAM_BYTES_ENV, STREAM_CHUNK_ROWS_ENV, MERGE_MEMORY_ENV = "SHOPKPI_STREAM_BYTES", "SHOPKPI_STREAM_CHUNK_ROWS", "SHOPKPI_MERGE_MEMORY"
DEFAULT_STREAM_BYTES = 256 << 20
DEFAULT_CHUNK_ROWS = 500_000
DEFAULT_MERGE_MEMORY = "1500MB"
# Kinds whose importer gives the same rows chunk by chunk as for the whole file: its per-file facts are
# the timestamp layouts (FileFacts), the description row (RawTable.offset) and export_as_of (the latest of
# its chunks'). Other kinds read a large file whole, as before.
STREAMABLE_KINDS = {"orders"}
_BATCH_ROWS = 100_000


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ShopkpiError(f"{name}={value!r} must be a whole number") from None
    if number < 1:
        raise ShopkpiError(f"{name}={value!r} must be at least 1")
    return number


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _connect(staging: Path) -> duckdb.DuckDBPyConnection:
    """DuckDB that spills to the store's staging folder instead of growing past its memory limit."""
    con = duckdb.connect()
    spill = staging / "duckdb-spill"
    spill.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET temp_directory = {_quoted(spill)}")
    con.execute(f"SET memory_limit = '{os.environ.get(MERGE_MEMORY_ENV, DEFAULT_MERGE_MEMORY)}'")
    return con


def _write_query(con: duckdb.DuckDBPyConnection, sql: str, schema: pa.Schema, path: Path) -> int:
    """Stream a query's result into a Parquet file of exactly `schema` (the store's types, as pq.write_table
    of that schema gives), one batch in memory at a time."""
    rows = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for batch in con.sql(sql).to_arrow_reader(_BATCH_ROWS):
            writer.write_table(pa.Table.from_batches([batch]).cast(schema))
            rows += batch.num_rows
    return rows


def _concat_parquet(target: Path, schema: pa.Schema, pieces: list[pa.Table | Path]) -> Path:
    """Arrow tables and Parquet files, in order, into one Parquet file, one batch in memory at a time."""
    with pq.ParquetWriter(target, schema, compression="zstd") as writer:
        for piece in pieces:
            batches = pq.ParquetFile(piece).iter_batches(_BATCH_ROWS) if isinstance(piece, Path) else [piece]
            for batch in batches:
                writer.write_table(pa.Table.from_batches([batch]).cast(schema) if isinstance(batch, pa.RecordBatch)
                                   else batch.cast(schema))
    return target


def _merge(store: Store, importer: Importer, items: list["_Staged"], files_with_quarantine: set[str], run: int,
           staging: Path) -> tuple[Path, Path]:
    """Union stored and staged rows and keep, per group, the rows of its newest export.

    Newest = the export holding the group's latest event (row event times), then the later ingestion
    run, then the later export date. A row missing from that export is gone (removed from the order),
    unless that export had quarantined rows: then it may only be unreadable there, and the newest
    readable copy is kept. Every row not kept is returned as excluded, with its rule.

    Everything runs in DuckDB over Parquet (the stored table and each file's staged rows) with a memory
    limit and spilling, and the results are streamed to Parquet: (kept rows, excluded rows) files.
    """
    con = _connect(staging)
    if store.has(importer.table):
        con.execute(f"CREATE VIEW existing_rows AS SELECT * FROM read_parquet({_quoted(store.table_path(importer.table))})")
    else:
        con.register("existing_rows", _empty(importer.schema))
    con.register("quarantined_files", pa.table({"file_id": pa.array(sorted(files_with_quarantine), pa.string())}))
    # A file read in chunks: its rows take the file's export_as_of (the latest of its chunks'); all staged rows this run.
    facts = [(i.ctx.file_id, i.as_of) for i in items if i.chunks > 1]
    con.register("file_facts", pa.table({"fid": pa.array([f for f, _ in facts], pa.string()),
                                         "as_of": pa.array([a for _, a in facts], pa.timestamp("s", tz="UTC"))}))
    staged = ", ".join(_quoted(i.rows_file) for i in items)
    con.execute(f"""
        CREATE VIEW staged_rows AS
        SELECT s.* REPLACE (coalesce(f.as_of, s.export_as_of) AS export_as_of, {int(run)}::BIGINT AS ingest_run)
        FROM read_parquet([{staged}]) s LEFT JOIN file_facts f ON s.file_id = f.fid
    """)
    key = ", ".join(f'"{k}"' for k in importer.key)
    as_text = lambda cols: " || '/' || ".join(f'coalesce(CAST("{c}" AS VARCHAR), \'\')' for c in cols)  # noqa: E731
    group = as_text(importer.group_key or importer.key)
    event = f"greatest({', '.join(importer.event_columns)})" if importer.event_columns else "export_as_of"
    # The decision needs only keys, provenance and event times: a narrow table, joined back to the rows at the end.
    # (file_id, source_row) names one input row.
    con.execute(f"""
        CREATE VIEW all_rows AS SELECT * FROM existing_rows UNION ALL BY NAME SELECT * FROM staged_rows;
        CREATE TEMP TABLE slim AS
        SELECT file_id, source_row, source_file, ingest_run, export_as_of, {key}, {group} AS group_id, {event} AS row_event
        FROM all_rows
    """)
    con.execute(f"""
        CREATE TEMP TABLE candidates AS
        SELECT group_id AS c_group, file_id AS c_file, max(source_file) AS c_source_file, max(row_event) AS c_newest_event,
               max(ingest_run) AS c_run, max(export_as_of) AS c_as_of, count(DISTINCT {as_text(importer.key)}) AS c_keys
        FROM slim GROUP BY group_id, file_id;
        -- At the same latest event, the export holding more of the group's lines wins: a truncated re-download
        -- (cut after an order's first line) must not delete the lines it lost.
        CREATE TEMP TABLE winners AS
        SELECT c_group AS group_id, c_file AS winner_id, c_source_file AS winner_file, c_newest_event AS winner_event,
               c_run AS winner_run
        FROM candidates
        QUALIFY row_number() OVER (PARTITION BY c_group ORDER BY c_newest_event DESC NULLS LAST, c_keys DESC,
                                   c_run DESC NULLS LAST, c_as_of DESC NULLS LAST, c_source_file DESC) = 1
    """)
    keep = "rank_in_key = 1 AND (from_winner OR (NOT key_in_winner AND winner_incomplete))"
    con.execute(f"""
        CREATE TEMP TABLE decided AS
        SELECT file_id, source_file, source_row, {keep} AS keep, from_winner, fewer_lines, winner_file, {as_text(importer.key)} AS record_key
        FROM (
            SELECT *, bool_or(from_winner) OVER (PARTITION BY {key}) AS key_in_winner FROM (
                SELECT r.*, w.winner_file, r.file_id = w.winner_id AS from_winner,
                       r.file_id <> w.winner_id AND c.c_newest_event IS NOT DISTINCT FROM w.winner_event
                         AND r.ingest_run > w.winner_run AS fewer_lines,
                       w.winner_id IN (SELECT file_id FROM quarantined_files) AS winner_incomplete,
                       row_number() OVER (PARTITION BY {key} ORDER BY r.file_id = w.winner_id DESC, r.row_event DESC NULLS LAST,
                                          r.ingest_run DESC NULLS LAST, r.export_as_of DESC NULLS LAST, r.source_row) AS rank_in_key
                FROM slim r JOIN winners w USING (group_id) JOIN candidates c ON c.c_group = r.group_id AND c.c_file = r.file_id))
    """)
    columns = ", ".join(f'r."{c}"' for c in importer.schema.names)
    kept_path = staging / f"{importer.table}.kept.parquet"
    written = _write_query(con, f"""
        SELECT {columns} FROM all_rows r SEMI JOIN (SELECT file_id, source_row FROM decided WHERE keep) d
        ON r.file_id = d.file_id AND r.source_row = d.source_row ORDER BY {", ".join(f'r."{k}"' for k in importer.key)}
    """, importer.schema, kept_path)
    [(expected,)] = con.execute("SELECT count(*) FROM decided WHERE keep").fetchall()
    if written != expected:
        raise ShopkpiError(f"{importer.table}: merging wrote {written:,} rows for {expected:,} kept; "
                           "(file_id, source_row) must name one row; nothing was written")
    dropped_path = staging / f"{importer.table}.dropped.parquet"
    _write_query(con, """
        SELECT file_id, source_file, source_row,
               CASE WHEN from_winner THEN 'duplicate_within_file' WHEN fewer_lines THEN 'fewer_lines_than_stored'
                    ELSE 'superseded_by_newer_export' END AS rule,
               record_key, 'kept: ' || winner_file AS detail
        FROM decided WHERE NOT keep ORDER BY file_id, source_row
    """, EXCLUDED_SCHEMA, dropped_path)
    con.close()
    return kept_path, dropped_path


def ingest(client: str, params: ClientParams, inputs: list[Path] | None = None, *,
           market_hint: str | None = None, progress: Callable[[str], None] | None = None) -> IngestReport:
    """Ingest files (default: data/<client>/raw/) into the client's store.

    Every file is parsed first (its kept rows staged as Parquet under the store); then each table gets
    one merge and the store one atomic commit, so a run costs one rewrite per table however many files
    arrive, and a file that cannot be read is reported while the others are stored.
    """
    inputs = inputs or [paths.raw_dir(client)]
    report = IngestReport(client)
    store = Store(client)
    salt = client_salt(client)
    files, others = walk_inputs(inputs)
    for path, status, reason in others:
        report.files.append(FileResult(_display_name(path, client), status, message=reason))
    with store.locked(), store.staging() as staging:
        known = set(store.read("files").column("file_id").to_pylist()) if store.has("files") else set()
        staged: list[_Staged] = []
        for number, path in enumerate(files, 1):
            name = _display_name(path, client)
            if progress:
                progress(f"[{number}/{len(files)}] {name}")
            started = time.perf_counter()
            file_id = file_sha256(path)[:20]
            report.timed("hash", time.perf_counter() - started)
            if file_id in known:
                report.files.append(FileResult(name, "already_ingested", message="same content ingested before; nothing changes"))
                continue
            ctx = ImportContext(params=params, file_id=file_id, source_file=name, salt=salt, market_hint=market_hint)
            target = staging / f"{number:05d}-{file_id}.parquet"
            try:
                item = _parse_one(path, ctx, target, report)
            except Exception as exc:  # noqa: BLE001 - a file that cannot be stored is reported, the others go on
                report.files.append(_failure(name, path, exc))
                target.unlink(missing_ok=True)
                continue
            if isinstance(item, FileResult):
                report.files.append(item)
                continue
            staged.append(item)
            report.files.append(item.result)
            known.add(file_id)
        if staged:
            if progress:
                progress(f"merging {sum(i.result.rows_kept for i in staged):,} rows into the store ...")
            _commit(store, staged, staging, report)
    return report


# Headers that name money: a fee or total column the importer does not know is worth an alias.
_MONEY_WORDS = re.compile(r"(?i)(fee|amount|price|revenue|cost|commission|discount|tax|gmv|payment|refund|settle|subtotal|"
                          r"income|payout|reserve|voucher|coupon|rebate|adjust|ajust|subsidy|金额|费|佣金|收入|退款|税|价)")


def ignored_headers(match, headers: list[str]) -> list[str]:
    """Every header of the file that is not read, with the reason; money-like ones marked "[money]"."""
    from shopkpi.ingest.headers import shown_header

    notes = []
    position = {h: i for i, h in reversed(list(enumerate(headers)))}
    for header in match.unmatched:
        mark = " [money]" if _MONEY_WORDS.search(header) else ""
        notes.append(f"{shown_header(header, position.get(header, 0))}{mark} (not a known column)")
    for aside, kept, canonical in match.set_aside:
        notes.append(f"{aside!r} (same column {canonical} as {kept!r}, which is read)")
    return notes


def _failure(name: str, path: Path, exc: Exception) -> FileResult:
    if isinstance(exc, UnknownKindError):
        return FileResult(name, "unsupported", message=f"{path}: {exc}")
    if isinstance(exc, InputFileError):
        return FileResult(name, "failed", message=str(exc))
    # A defect or an unforeseen value: fail this file, keep the others.
    return FileResult(name, "failed", message=f"{path}: could not be read ({type(exc).__name__}: {exc})")


@dataclass
class _Staged:
    importer: Importer
    ctx: ImportContext
    file_row: pa.Table
    result: FileResult
    rows_file: Path  # the file's kept rows, staged as Parquet in the importer's schema
    quarantine: pa.Table
    excluded: pa.Table
    reconciliation: pa.Table
    chunks: int  # 1: read whole
    as_of: object  # the latest export_as_of of its chunks


def _streams(path: Path) -> bool:
    """A plain CSV large enough to be read in chunks."""
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic == b"PK\x03\x04" or magic[:2] == b"\x1f\x8b":
        return False
    return path.stat().st_size >= _env_int(STREAM_BYTES_ENV, DEFAULT_STREAM_BYTES)


def _parse_one(path: Path, ctx: ImportContext, target: Path, report: IngestReport) -> _Staged | FileResult:
    started = time.perf_counter()
    layout = csv_layout(path) if _streams(path) else None
    raw = None if layout else read_any(path)
    report.timed("read", time.perf_counter() - started)
    client_kinds = [spec for spec in [sales_lines.kind_spec(ctx.params)] if spec]
    match = detect_kind(layout.headers if layout else raw.headers, client_kinds)
    importer = importer_for(match.kind)
    if importer is None:
        return FileResult(ctx.source_file, "unsupported", kind=match.kind,
                          message=f"{match.kind} files are recognised but not imported yet")
    if match.duplicated:
        raise InputFileError(path, match.ambiguity(layout.headers if layout else raw.headers), row=1)
    if layout and importer.kind not in STREAMABLE_KINDS:
        layout, raw = None, read_csv(path)
    if layout:
        chunk_rows = _env_int(STREAM_CHUNK_ROWS_ENV, DEFAULT_CHUNK_ROWS)
        try:
            parts = _parse_chunks(_prefetched(iter_csv_chunks(layout, chunk_rows)), importer, match, ctx, target, report)
        except RaggedRows:
            # A row with the wrong number of cells: read again exactly (still chunk by chunk) so row numbers stay true.
            ctx.facts.timestamp_formats.clear()
            parts = _parse_chunks(_prefetched(iter_csv_chunks(layout, chunk_rows, exact=True)), importer, match, ctx, target, report)
        encoding = layout.encoding
    else:
        parts = _parse_chunks([raw], importer, match, ctx, target, report)
        encoding = raw.encoding
    rows_in, kept, quarantine, excluded, markets, timestamp_format, as_of, reconciliation, chunks = parts
    ignored = ignored_headers(match, layout.headers if layout else raw.headers)
    file_row = pa.table({
        "file_id": [ctx.file_id], "source_file": [ctx.source_file], "kind": [importer.kind], "table": [importer.table],
        "markets": [",".join(markets)], "encoding": [encoding], "timestamp_format": [timestamp_format],
        "rows_in": [rows_in], "rows_kept": [kept], "rows_quarantined": [quarantine.num_rows],
        "rows_excluded": [excluded.num_rows], "ignored_headers": [" | ".join(ignored)],
        "ingested_at": [dt.datetime.now(dt.timezone.utc).replace(microsecond=0)],
    }, schema=FILES_SCHEMA)
    result = FileResult(ctx.source_file, "ingested", importer.kind, rows_in, kept, quarantine.num_rows, excluded.num_rows,
                        ignored_headers=ignored,
                        message="an .xlsm workbook: read without its macros" if path.suffix.lower() == ".xlsm" else "")
    return _Staged(importer, ctx, file_row, result, target, quarantine, excluded, reconciliation, chunks, as_of)


def _prefetched(chunks):
    """Read the next chunk in a thread while this one is parsed: pyarrow reads without holding the GIL, so
    reading and parsing overlap on two cores. One chunk waits at most, so memory stays bounded; an error
    in reading (RaggedRows, a bad byte) is raised here, in order."""
    ready: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    end = object()

    def read() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        ready.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(end)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            ready.put(exc)

    reader = threading.Thread(target=read, name="shopkpi-read", daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not end:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while reader.is_alive():  # let a reader blocked on a full queue see the stop
            with contextlib.suppress(queue.Empty):
                ready.get_nowait()
            reader.join(0.05)


def _parse_chunks(chunks, importer: Importer, match, ctx: ImportContext, target: Path, report: IngestReport) -> tuple:
    """Parse a file chunk by chunk with its importer, appending the kept rows to `target` (Parquet);
    quarantine and excluded records (small) stay in memory."""
    rows_in = kept = 0
    quarantine, excluded, reconciliation = [], [], []
    markets: set[str] = set()
    timestamp_format, as_of, count = None, None, 0
    with pq.ParquetWriter(target, importer.schema, compression="snappy") as writer, contextlib.ExitStack() as stack:
        if hasattr(chunks, "close"):
            stack.callback(chunks.close)  # a chunk that fails to parse stops the reader thread too
        started = time.perf_counter()
        for raw in chunks:
            report.timed("read", time.perf_counter() - started)
            started = time.perf_counter()
            parsed = importer.parse(raw, match, ctx)
            report.timed("parse", time.perf_counter() - started)
            started = time.perf_counter()
            n = raw.records.num_rows
            if n != parsed.rows.num_rows + parsed.quarantine.num_rows + parsed.excluded.num_rows:
                raise ShopkpiError(f"{raw.path}: row accounting does not balance in rows {raw.first_row:,}-"
                                   f"{raw.first_row + n - 1:,}; nothing was written")
            writer.write_table(parsed.rows if parsed.rows.schema == importer.schema else parsed.rows.cast(importer.schema))
            rows_in, kept, count = rows_in + n, kept + parsed.rows.num_rows, count + 1
            quarantine.append(parsed.quarantine)
            excluded.append(parsed.excluded)
            reconciliation.append(parsed.reconciliation_table(ctx, importer.kind))
            markets |= set(parsed.markets)
            timestamp_format = timestamp_format or parsed.timestamp_format
            chunk_as_of = parsed.export_as_of
            if chunk_as_of is None and "export_as_of" in parsed.rows.column_names and parsed.rows.num_rows:
                chunk_as_of = pc.max(parsed.rows.column("export_as_of")).as_py()
            if chunk_as_of is not None:
                as_of = chunk_as_of if as_of is None else max(as_of, chunk_as_of)
            report.timed("stage", time.perf_counter() - started)
            started = time.perf_counter()
    return (rows_in, kept, pa.concat_tables(quarantine).cast(QUARANTINE_SCHEMA), pa.concat_tables(excluded).cast(EXCLUDED_SCHEMA),
            sorted(markets), timestamp_format, as_of, pa.concat_tables(reconciliation), count)


def _commit(store: Store, staged: list[_Staged], staging: Path, report: IngestReport) -> None:
    """One merge per table and one atomic commit for everything parsed in this run."""
    updates: dict[str, pa.Table | Path] = {}
    dropped_files = []
    run = store.manifest()["version"] + 1
    stored_files = _stored(store, "files", FILES_SCHEMA)
    with_quarantine = {f for f, q in zip(stored_files["file_id"].to_pylist(), stored_files["rows_quarantined"].to_pylist()) if q}
    with_quarantine |= {i.ctx.file_id for i in staged if i.quarantine.num_rows}
    started = time.perf_counter()
    for importer in {id(i.importer): i.importer for i in staged}.values():
        kept, dropped = _merge(store, importer, [i for i in staged if i.importer is importer], with_quarantine, run, staging)
        updates[importer.table] = kept
        dropped_files.append(dropped)
    report.timed("merge", time.perf_counter() - started)
    started = time.perf_counter()
    files_sql = ", ".join(_quoted(p) for p in dropped_files)
    dropped_per_file = dict(duckdb.sql(f"SELECT file_id, count(*) FROM read_parquet([{files_sql}]) GROUP BY 1").fetchall())
    for item in staged:
        # Rows of this run's files that lost to a newer export are excluded, not kept.
        moved = dropped_per_file.get(item.ctx.file_id, 0)
        item.result.rows_kept -= moved
        item.result.rows_excluded += moved
        for column, value in (("rows_kept", item.result.rows_kept), ("rows_excluded", item.result.rows_excluded)):
            position = FILES_SCHEMA.get_field_index(column)
            item.file_row = item.file_row.set_column(position, FILES_SCHEMA.field(column), pa.array([value], pa.int64()))
    updates["quarantine"] = pa.concat_tables([_stored(store, "quarantine", QUARANTINE_SCHEMA)] + [i.quarantine for i in staged])
    # The excluded table can be as long as a whole re-ingested export (every row superseded): streamed, never
    # loaded. In order: what was stored, this run's non-data rows, this run's superseded and duplicate rows.
    updates["excluded"] = _concat_parquet(
        staging / "excluded.parquet", EXCLUDED_SCHEMA,
        ([store.table_path("excluded")] if store.has("excluded") else []) + [i.excluded for i in staged] + dropped_files)
    updates["files"] = pa.concat_tables([_stored(store, "files", FILES_SCHEMA)] + [i.file_row for i in staged])
    updates["reconciliation"] = pa.concat_tables([_stored(store, "reconciliation", RECONCILIATION_SCHEMA)] +
                                                 [i.reconciliation for i in staged])
    store.commit(updates)
    report.timed("commit", time.perf_counter() - started)


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
