"""`shopkpi bench ingest`: a big Orders export through ingestion, measured beside a reference in the same run.

Each measurement runs in its own subprocess so its peak memory (VmHWM) is its own.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from shopkpi.demo.orders_export import UK_COLUMNS

# The same UK layout the demo client writes.
ORDER_HEADER = UK_COLUMNS
TIME_COLUMNS = ["Created Time", "Paid Time", "RTS Time", "Shipped Time", "Delivered Time", "Cancelled Time"]


def write_orders_export(path: Path, lines: int, seed: int = 1) -> Path:
    """A UK-layout orders export of `lines` SKU lines (about 330 bytes a line), written in chunks."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    chunk = 500_000
    start = np.datetime64("2026-01-01T00:00:00")
    with open(path, "wb") as fh:
        fh.write((",".join(f'"{h}"' if "," in h else h for h in ORDER_HEADER) + "\n").encode())
        for offset in range(0, lines, chunk):
            n = min(chunk, lines - offset)
            idx = np.arange(offset, offset + n)
            order_no = idx // 2  # two SKU lines per order
            qty = rng.integers(1, 4, n)
            price = np.round(rng.uniform(3, 60, n), 2)
            created = start + (order_no * 7).astype("timedelta64[s]")
            uk = pd.DatetimeIndex(created).strftime("%d/%m/%Y %H:%M:%S").to_numpy(dtype=str)
            subtotal = np.round(qty * price, 2)
            columns = {h: np.full(n, "", dtype=object) for h in ORDER_HEADER}
            columns["Order ID"] = np.char.add("57", np.char.zfill((order_no + 10**14).astype(str), 16))
            columns["Order Status"] = np.where(rng.random(n) < 0.05, "Canceled", "Completed")
            columns["SKU ID"] = np.char.add("17", np.char.zfill((idx % 2 + order_no % 150 * 2).astype(str), 17))
            columns["Seller SKU"] = np.char.add("LH-", (order_no % 150).astype(str))
            columns["Product Name"] = np.full(n, "Silicone lid set, 6 pieces")
            columns["Quantity"] = qty.astype(str)
            columns["Sku Quantity of return"] = np.full(n, "0")
            columns["SKU Unit Original Price"] = np.char.mod("%.2f", price)
            for h in ["SKU Subtotal Before Discount", "SKU Subtotal After Discount"]:
                columns[h] = np.char.mod("%.2f", subtotal)
            for h in ["SKU Platform Discount", "SKU Seller Discount", "Shipping Fee Seller Discount",
                      "Shipping Fee Platform Discount", "Payment platform discount", "Taxes", "Order Refund Amount"]:
                columns[h] = np.full(n, "0.00")
            columns["Shipping Fee After Discount"] = np.full(n, "1.99")
            columns["Original Shipping Fee"] = np.full(n, "2.99")
            columns["Order Amount"] = np.char.mod("%.2f", subtotal * 2 + 1.99)
            columns["Created Time"] = uk
            columns["Paid Time"] = uk
            columns["Shipped Time"] = uk
            columns["Country"] = np.full(n, "United Kingdom")
            columns["Buyer Username"] = np.char.add("buyer_", (order_no % 50_000).astype(str))
            columns["Recipient"] = np.full(n, "J. Smith")
            columns["Phone #"] = np.full(n, "(+44)7700900123")
            columns["Tracking ID"] = np.char.add("TT", order_no.astype(str))
            table = pa.table({h: pa.array(columns[h].astype(str)) for h in ORDER_HEADER})
            buffer = pa.BufferOutputStream()
            pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False))
            fh.write(buffer.getvalue().to_pybytes())
    return path


# Above this many lines the reference reads in batches (pyarrow.csv.open_csv): read_csv would need the whole
# file in memory (about 1.1 GB per million lines), more than the machine has at 20M.
STREAMING_REFERENCE_LINES = 5_000_000


def _reference(path: str, streaming: bool) -> tuple[int, dict]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    types = {c: pa.timestamp("s") for c in TIME_COLUMNS}
    convert = pacsv.ConvertOptions(column_types=types, timestamp_parsers=["%d/%m/%Y %H:%M:%S"], strings_can_be_null=True)
    if streaming:
        reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=1 << 24), convert_options=convert)
        return sum(batch.num_rows for batch in reader), {}
    return pacsv.read_csv(path, convert_options=convert).num_rows, {}


def _ours(path: str, workspace: str) -> tuple[int, dict]:
    os.environ["SHOPKPI_WORKSPACE"] = workspace
    from shopkpi.ingest.pipeline import ingest
    from shopkpi.params import load_client_params

    report = ingest("bench", load_client_params("bench"), [Path(path)])
    [result] = report.files
    assert result.status == "ingested", result.message
    return result.rows_kept, {"stages": report.timings, "stage_peak_mb": report.peak_mb}


def _child(which: str, path: str, workspace: str, streaming: str = "0") -> None:
    from shopkpi.ingest.pipeline import peak_memory_mb

    if which == "ours":
        shutil.rmtree(Path(workspace) / "data", ignore_errors=True)
    started = time.perf_counter()
    rows, detail = _reference(path, streaming == "1") if which == "reference" else _ours(path, workspace)
    seconds = time.perf_counter() - started
    peak_mb = peak_memory_mb()
    print(json.dumps({"rows": rows, "seconds": seconds, "peak_mb": peak_mb, **detail}))


def _measure(which: str, path: Path, workspace: Path, streaming: bool) -> dict:
    out = subprocess.run([sys.executable, "-m", "shopkpi.bench.ingest", "_child", which, str(path), str(workspace), str(int(streaming))],
                         capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"bench {which} failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_ingest(lines: int = 3_000_000, repeats: int = 3, keep: Path | None = None, say=print) -> dict:
    from shopkpi import paths

    work = Path(keep or tempfile.mkdtemp(prefix="shopkpi-bench-"))
    (work / "params").mkdir(parents=True, exist_ok=True)
    template = (paths.PROJECT_ROOT / "params" / "demo.yaml").read_text(encoding="utf-8")
    (work / "params" / "bench.yaml").write_text(template.replace("client: demo", "client: bench"), encoding="utf-8")
    # The demo params name a targets file; the bench client gets the same ones.
    shutil.copytree(paths.PROJECT_ROOT / "params" / "targets", work / "params" / "targets", dirs_exist_ok=True)
    export = work / f"orders_{lines}.csv"
    if not export.exists():
        say(f"writing a {lines:,}-line orders export ...")
        write_orders_export(export, lines)
    size_mb = export.stat().st_size / 1e6
    say(f"{export} ({size_mb:,.0f} MB); {repeats} repeats each, alternating")
    streaming = lines > STREAMING_REFERENCE_LINES
    runs = {"reference": [], "ours": []}
    for i in range(repeats):
        for which in runs:
            result = _measure(which, export, work, streaming)
            runs[which].append(result)
            say(f"  run {i + 1} {which:<9} {result['seconds']:7.2f}s  peak {result['peak_mb']:7.0f} MB  rows {result['rows']:,}")
            if "stages" in result:
                say("    stages: " + ", ".join(f"{k} {v:.1f}s (peak {result['stage_peak_mb'][k]:,.0f} MB)"
                                           for k, v in result["stages"].items()))
    summary = {w: {"median_s": statistics.median(r["seconds"] for r in rs), "peak_mb": max(r["peak_mb"] for r in rs)}
               for w, rs in runs.items()}
    summary["ratio"] = summary["ours"]["median_s"] / summary["reference"]["median_s"]
    summary["lines"], summary["file_mb"], summary["streaming_reference"] = lines, size_mb, streaming
    say(f"\n{'':<28}{'median s':>10}{'rows/s':>14}{'peak MB':>10}")
    reference = "pyarrow.csv.open_csv typed" if streaming else "pyarrow.csv.read_csv typed"
    for which, label in [("reference", reference), ("ours", "shopkpi ingest (full)")]:
        s = summary[which]
        say(f"{label:<28}{s['median_s']:>10.2f}{lines / s['median_s']:>14,.0f}{s['peak_mb']:>10.0f}")
    say(f"ratio ours / reference: {summary['ratio']:.2f}x (target <= 1.5x; peak memory target < 3000 MB)")
    return summary


if __name__ == "__main__" and len(sys.argv) > 1 and sys.argv[1] == "_child":
    _child(*sys.argv[2:6])
