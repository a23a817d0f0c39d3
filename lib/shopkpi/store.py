"""The per-client store: Parquet tables under data/<client>/store/<table>/, read with DuckDB.

A commit writes new Parquet files next to the old ones and then replaces one small
manifest file atomically (os.replace), so a reader, or an ingestion killed at any
point, always sees the previous complete store or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
import uuid
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from shopkpi import paths
from shopkpi.errors import NoDataError, ShopkpiError
from shopkpi.periods import Period, latest_complete_week_before

MANIFEST = "manifest.json"
STAGING = ".staging"


class Store:
    def __init__(self, client: str):
        self.client = paths.check_client_name(client)
        self.root = paths.store_dir(client)

    # -- reading -----------------------------------------------------------------
    def manifest(self) -> dict:
        path = self.root / MANIFEST
        if not path.exists():
            return {"version": 0, "tables": {}}
        return json.loads(path.read_text(encoding="utf-8"))

    def tables(self) -> list[str]:
        return sorted(self.manifest()["tables"])

    def table_path(self, table: str) -> Path:
        entry = self.manifest()["tables"].get(table)
        if entry is None:
            raise NoDataError(f"client {self.client!r} has no {table!r} table yet; run `shopkpi ingest --client {self.client}`")
        return self.root / entry["file"]

    def read(self, table: str) -> pa.Table:
        return pq.read_table(self.table_path(table))

    def has(self, table: str) -> bool:
        return table in self.manifest()["tables"]

    def connect(self) -> duckdb.DuckDBPyConnection:
        """In-memory DuckDB with one view per stored table."""
        con = duckdb.connect()
        for table, entry in self.manifest()["tables"].items():
            file = str(self.root / entry["file"]).replace("'", "''")
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{file}')")
        return con

    # -- writing -----------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self):
        """One writer per client at a time."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ShopkpiError(f"another ingestion is writing the store of {self.client!r}; try again when it ends") from None
            yield self

    @contextlib.contextmanager
    def staging(self):
        """A scratch folder under the store (same file system, so staged files move into place), removed
        afterwards. Call it holding the lock: folders left by a killed run are removed first. Nothing in it
        is part of the store until `commit` moves it in and swaps the manifest."""
        base = self.root / STAGING
        if base.exists():
            for stale in base.iterdir():
                if stale.is_dir():
                    shutil.rmtree(stale, ignore_errors=True)
                else:
                    stale.unlink(missing_ok=True)
        folder = base / uuid.uuid4().hex[:12]
        folder.mkdir(parents=True)
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def commit(self, updates: dict[str, pa.Table | Path]) -> None:
        """Replace the given tables in one atomic step.

        A table is given as Arrow, or as a Parquet file already written (under `staging()`) in its exact
        schema, which is moved into place; the manifest swap stays the only commit point.
        """
        manifest = self.manifest()
        old_files = []
        version = manifest["version"] + 1
        for table, data in updates.items():
            folder = self.root / table
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{table}/part-{version:06d}-{uuid.uuid4().hex[:8]}.parquet"
            tmp = self.root / (name + ".tmp")
            if isinstance(data, Path):
                os.replace(data, tmp)
                rows = pq.ParquetFile(tmp).metadata.num_rows
            else:
                pq.write_table(data, tmp, compression="zstd")
                rows = data.num_rows
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.root / name)
            if table in manifest["tables"]:
                old_files.append(manifest["tables"][table]["file"])
            manifest["tables"][table] = {"file": name, "rows": rows}
        manifest["version"] = version
        manifest["committed_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        tmp_manifest = self.root / (MANIFEST + ".tmp")
        tmp_manifest.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        with open(tmp_manifest, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_manifest, self.root / MANIFEST)
        # Files of the version just replaced stay until the next commit, so a reader that opened it
        # (a notebook, the dashboard) keeps working; older ones go now.
        keep = {e["file"] for e in manifest["tables"].values()} | set(old_files)
        for table in manifest["tables"]:
            for stale in (self.root / table).glob("part-*.parquet"):
                if f"{table}/{stale.name}" not in keep:
                    stale.unlink(missing_ok=True)
        for leftover in self.root.glob("*/*.tmp"):
            leftover.unlink(missing_ok=True)


def last_order_date(params) -> dt.date:
    """Last local date with paid orders, over all the client's markets."""
    store = Store(params.client)
    if not store.has("order_lines"):
        raise NoDataError(f"no orders ingested for client {params.client!r}; run `shopkpi ingest --client {params.client}`")
    con = store.connect()
    last = con.execute("SELECT max(paid_local_date) FROM order_lines").fetchone()[0]
    if last is None:
        raise NoDataError(f"client {params.client!r} has no paid orders in the store")
    return last


def latest_complete_week(params) -> Period:
    """The last week every recently selling market's orders cover completely (the export times decide, see coverage)."""
    from shopkpi.coverage import data_coverage, latest_complete

    last_order_date(params)  # a clear error when there are no orders at all
    return latest_complete_week_before(latest_complete(data_coverage(Store(params.client).connect(), params)))
