"""Large CSV exports are read in chunks and staged as Parquet: the store must be the same as reading them whole.

The streaming threshold and the chunk size are forced tiny (SHOPKPI_STREAM_BYTES, SHOPKPI_STREAM_CHUNK_ROWS) so a
file of a few thousand rows spans several chunks; each test ingests the same files once streamed and once whole,
each into its own workspace with the same salt, and compares every stored table.
"""

import csv
import io
from pathlib import Path

import pytest

from shopkpi import paths
from shopkpi.bench.ingest import write_orders_export
from shopkpi.ingest import pipeline
from shopkpi.ingest.pipeline import ingest, row_accounting
from shopkpi.params import load_client_params
from shopkpi.store import STAGING, Store

from conftest import make_workspace

CHUNK = 1000
LINES = 4500


@pytest.fixture(scope="module")
def export_rows(tmp_path_factory) -> list[list[str]]:
    """Header + 4,500 UK order lines (two per order, 7 s apart), as the bench writes them."""
    path = write_orders_export(tmp_path_factory.mktemp("export") / "orders.csv", LINES, seed=3)
    return list(csv.reader(open(path, encoding="utf-8", newline="")))


def _write(path: Path, rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


class Twins:
    """Two workspaces with one client `demo` sharing a salt: one ingests streamed, the other whole."""

    def __init__(self, root: Path, monkeypatch):
        self.monkeypatch = monkeypatch
        self.roots = {mode: make_workspace(root / mode) for mode in ("streamed", "whole")}
        self.chunks = 0
        # Same salt in both, so buyer hashes compare.
        self._use("streamed")
        salt = pipeline.client_salt("demo")
        self._use("whole")
        paths.salt_file("demo").parent.mkdir(parents=True, exist_ok=True)
        paths.salt_file("demo").write_bytes(salt)

    def _use(self, mode: str) -> None:
        self.monkeypatch.setenv(paths.WORKSPACE_ENV, str(self.roots[mode]))
        if mode == "streamed":
            self.monkeypatch.setenv(pipeline.STREAM_BYTES_ENV, "1")
            self.monkeypatch.setenv(pipeline.STREAM_CHUNK_ROWS_ENV, str(CHUNK))
        else:
            self.monkeypatch.delenv(pipeline.STREAM_BYTES_ENV, raising=False)
            self.monkeypatch.delenv(pipeline.STREAM_CHUNK_ROWS_ENV, raising=False)

    def ingest(self, mode: str, *files: Path):
        self._use(mode)
        real = pipeline.iter_csv_chunks

        def counted(*args, **kw):
            for chunk in real(*args, **kw):
                self.chunks += mode == "streamed"
                yield chunk

        with self.monkeypatch.context() as patch:
            patch.setattr(pipeline, "iter_csv_chunks", counted)
            report = ingest("demo", load_client_params("demo"), list(files))
        assert not report.failed, report.summary_lines()
        return report

    def both(self, *files: Path):
        whole = self.ingest("whole", *files)
        streamed = self.ingest("streamed", *files)
        assert [(f.rows_in, f.rows_kept, f.rows_quarantined, f.rows_excluded) for f in streamed.files] == \
               [(f.rows_in, f.rows_kept, f.rows_quarantined, f.rows_excluded) for f in whole.files]
        return streamed

    def table(self, mode: str, name: str):
        self._use(mode)
        return Store("demo").read(name)

    def tables(self, mode: str) -> list[str]:
        self._use(mode)
        return Store("demo").tables()

    def assert_same_store(self) -> None:
        names = self.tables("streamed")
        assert names == self.tables("whole")
        for name in names:
            streamed, whole = self.table("streamed", name), self.table("whole", name)
            assert streamed.schema == whole.schema, name
            a, b = streamed.to_pylist(), whole.to_pylist()
            if name == "files":
                a = [{k: v for k, v in r.items() if k != "ingested_at"} for r in a]
                b = [{k: v for k, v in r.items() if k != "ingested_at"} for r in b]
            if name == "quarantine":  # grouped per column within each chunk; the records are the same
                a = sorted(a, key=lambda r: (r["file_id"], r["source_row"]))
                b = sorted(b, key=lambda r: (r["file_id"], r["source_row"]))
            assert a == b, name


@pytest.fixture
def twins(tmp_path, monkeypatch):
    return Twins(tmp_path, monkeypatch)


def _records(name, table):
    return [(r["source_row"], r["column"] if name == "quarantine" else r["rule"]) for r in table.to_pylist()]


def test_a_clean_file_in_chunks_stores_what_the_whole_file_stores(twins, export_rows, tmp_path):
    file = _write(tmp_path / "in" / "orders.csv", export_rows)
    [result] = twins.both(file).files
    assert twins.chunks == 5  # 4,500 rows in chunks of 1,000
    assert (result.rows_in, result.rows_kept, result.rows_quarantined, result.rows_excluded) == (LINES, LINES, 0, 0)
    twins.assert_same_store()
    lines = twins.table("streamed", "order_lines")
    assert lines.num_rows == LINES and sorted(lines["source_row"].to_pylist()) == list(range(2, LINES + 2))
    # One export_as_of for the whole file (its latest event), not each chunk's own.
    assert len(set(lines["export_as_of"].to_pylist())) == 1
    assert not list((paths.store_dir("demo") / STAGING).iterdir())  # staging removed


def test_bad_rows_in_later_chunks_are_quarantined_on_their_true_rows(twins, export_rows, tmp_path):
    rows = [list(r) for r in export_rows]
    header = rows[0]
    order_id, created, shipped = header.index("Order ID"), header.index("Created Time"), header.index("Shipped Time")
    rows.insert(2201, rows[2201] + ["extra", "cells"])  # a ragged row on spreadsheet row 2202, chunk 3
    rows[2500][order_id] = "5.76E+17"  # spreadsheet row 2501, chunk 3
    rows[3100][created] = "31/02/2026 20:00:00"  # impossible date, chunk 4
    rows[1001] = ["This export lists every order line of the shop", "one row per SKU", "see the help centre"] + [""] * (len(header) - 3)
    for r in rows[3001:3801]:  # chunk 4 written in another layout: quarantined, the file's layout is not switched
        r[shipped] = "2026-01-01 " + r[shipped][-8:]
    rows.append(["Total of 4501 results"] + [""] * (len(header) - 1))  # footer at the end
    file = _write(tmp_path / "in" / "orders.csv", rows)
    [result] = twins.both(file).files
    assert twins.chunks > 4
    twins.assert_same_store()
    quarantine = dict((row, column) for row, column in _records("quarantine", twins.table("streamed", "quarantine")))
    assert quarantine[2501] == "Order ID"
    assert quarantine[3101] == "Created Time"
    assert quarantine[2202] == "(row)"
    assert quarantine[1002] == "Order ID"  # prose in a later chunk is not the file's description row
    assert all(quarantine[r] == "Shipped Time" for r in range(3002, 3802) if r not in (3101,))
    excluded = _records("excluded", twins.table("streamed", "excluded"))
    assert excluded == [(len(rows), "footer_row")]
    files = twins.table("streamed", "files").to_pylist()[0]
    assert files["timestamp_format"] == "%d/%m/%Y %H:%M:%S"
    assert result.rows_in == result.rows_kept + result.rows_quarantined + result.rows_excluded == len(rows) - 1


def test_a_newer_overlapping_export_in_chunks_updates_states(twins, export_rows, tmp_path):
    header = export_rows[0]
    status, delivered = header.index("Order Status"), header.index("Delivered Time")
    older = _write(tmp_path / "in" / "older.csv", [header] + export_rows[1:3001])
    newer_rows = [list(r) for r in export_rows[1501:]]
    for r in newer_rows:
        r[status], r[delivered] = "Delivered", "10/01/2026 10:00:00"
    newer_rows = [r for i, r in enumerate(newer_rows) if i != 10]  # a line removed from an order in the newer export
    newer = _write(tmp_path / "in" / "newer.csv", [header] + newer_rows)
    twins.both(older)
    [result] = twins.both(newer).files
    twins.assert_same_store()
    lines = twins.table("streamed", "order_lines")
    newer_id = _file_id(twins, "newer.csv")
    from_newer = [r for r in lines.to_pylist() if r["file_id"] == newer_id]
    assert len(from_newer) == len(newer_rows) and all(r["order_status"] == "Delivered" for r in from_newer)
    excluded = twins.table("streamed", "excluded").to_pylist()
    superseded = [e for e in excluded if e["rule"] == "superseded_by_newer_export"]
    assert len(superseded) == 1500  # every overlapping line of the older export, including the removed one
    assert lines.num_rows == LINES - 1
    twins._use("streamed")
    assert all(r["unaccounted"] == 0 for r in row_accounting("demo").to_pylist())


def _file_id(twins, name):
    return next(f["file_id"] for f in twins.table("streamed", "files").to_pylist() if f["source_file"].endswith(name))


def test_a_failure_during_the_streaming_merge_leaves_the_previous_store(twins, export_rows, tmp_path, monkeypatch):
    first = _write(tmp_path / "in" / "first.csv", [export_rows[0]] + export_rows[1:2001])
    twins.ingest("streamed", first)
    store = Store("demo")
    before = {name: store.read(name).to_pylist() for name in store.tables()}
    manifest = store.manifest()
    second = _write(tmp_path / "in" / "second.csv", [export_rows[0]] + export_rows[1001:])
    real = pipeline._write_query

    def dying(con, sql, schema, path, *args, **kw):
        real(con, sql, schema, path, *args, **kw)
        raise KeyboardInterrupt("killed during the merge")

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(pipeline, "_write_query", dying)
        twins.ingest("streamed", second)
    store = Store("demo")
    assert store.manifest() == manifest
    assert {name: store.read(name).to_pylist() for name in store.tables()} == before
    assert not list((paths.store_dir("demo") / STAGING).iterdir())
    # and the next run stores the file
    [result] = twins.ingest("streamed", second).files
    assert result.status == "ingested" and Store("demo").read("order_lines").num_rows == LINES


def test_staging_left_by_a_killed_run_is_removed_and_never_read(twins, export_rows, tmp_path):
    twins._use("streamed")
    stale = paths.store_dir("demo") / STAGING / "killed"
    stale.mkdir(parents=True)
    (stale / "00001-x.parquet").write_bytes(b"half a file")
    twins.ingest("streamed", _write(tmp_path / "in" / "orders.csv", export_rows[:1500]))
    assert not stale.exists()
    assert Store("demo").read("order_lines").num_rows == 1499


def test_fast_time_formatting_is_strftime():
    """The round-trip check that catches rolled-over dates (31/02) formats by lookup; it must be strftime's text."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from shopkpi.ingest.values import format_time

    seconds = np.random.default_rng(5).integers(-2_000_000_000, 4_000_000_000, 20_000)
    times = pa.concat_arrays([pa.array(seconds, pa.int64()).cast(pa.timestamp("s")),
                              pa.array([None, 0, 43199, 43200, 46800, 86399], pa.timestamp("s"))])
    for fmt in ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y %I:%M:%S %p", "%Y/%m/%d",
                "%d-%m-%Y", "%Y-%m-%dT%H:%M", "%d.%m.%Y %%"]:
        assert format_time(times, fmt).equals(pc.strftime(times, format=fmt)), fmt


def test_a_file_unreadable_in_a_later_chunk_fails_alone(twins, export_rows, tmp_path):
    import threading

    _write(tmp_path / "in" / "good.csv", export_rows[:1200])
    bad = _write(tmp_path / "in" / "bad.csv", export_rows[:1] + export_rows[1500:])
    data = bad.read_bytes()
    bad.write_bytes(data[:-20_000] + b"\xff\xfe\xfd" + data[-20_000:])  # invalid UTF-8 in the last chunk
    twins._use("streamed")
    report = ingest("demo", load_client_params("demo"), [tmp_path / "in"])
    status = {Path(f.source_file).name: f for f in report.files}
    assert status["bad.csv"].status == "failed" and "bad.csv" in status["bad.csv"].message
    assert "utf-8" in status["bad.csv"].message and "after row" in status["bad.csv"].message
    assert status["good.csv"].status == "ingested" and Store("demo").read("order_lines").num_rows == 1199
    assert not [t for t in threading.enumerate() if t.name == "shopkpi-read"]
