"""`shopkpi bench batch`: many small demo clients through the batch with 1 and with 2 workers, side by side.

Reports the speedup, each notebook's papermill overhead (wall time minus the time its cells ran) and each
client's overhead (wall time minus the ingest and every cell of every notebook: kernel starts, papermill,
HTML rendering, the static export and the manifest). Medians, since the machine is shared.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

import nbformat

from shopkpi import paths


def _workspace(root: Path, clients: int, scale: float, say: Callable[[str], None]) -> list[str]:
    from shopkpi.demo import generate_demo_client

    shutil.copytree(paths.PROJECT_ROOT / "params" / "targets", root / "params" / "targets", dirs_exist_ok=True)
    template = (paths.PROJECT_ROOT / "params" / "demo.yaml").read_text(encoding="utf-8")
    names = [f"bench{i:02d}" for i in range(clients)]
    say(f"generating one demo client at scale {scale} and copying its exports to {clients} clients in {root}")
    generate_demo_client(root / "data" / names[0], seed=7, scale=scale)
    for name in names:
        (root / "params" / f"{name}.yaml").write_text(template.replace("client: demo", f"client: {name}"), encoding="utf-8")
        if name != names[0]:
            shutil.copytree(root / "data" / names[0] / "raw", root / "data" / name / "raw")
    return names


def _cell_seconds(notebook: Path) -> float:
    nb = nbformat.read(notebook, as_version=4)
    return sum(float(c.metadata.get("papermill", {}).get("duration") or 0) for c in nb.cells)


def _one_pass(names: list[str], workers: int, say) -> dict:
    from shopkpi.app.batch import run_batch

    for name in names:  # every pass starts from raw exports, as a Monday run does
        shutil.rmtree(paths.client_outputs_dir(name), ignore_errors=True)
        shutil.rmtree(paths.client_data_dir(name) / "store", ignore_errors=True)
    started = time.perf_counter()
    runs = run_batch(names, workers=workers, force=True)
    wall = time.perf_counter() - started
    failed = [r for r in runs if r.status != "ok"]
    if failed:
        raise RuntimeError(f"bench batch: {len(failed)} client(s) failed, e.g. {failed[0].client}: {failed[0].error}")
    notebook_overheads, client_overheads = [], []
    for run in runs:
        out = paths.period_outputs_dir(run.client, run.period)
        cells = 0.0
        for row in run.notebooks:
            spent = _cell_seconds(out / f"{row['notebook']}.ipynb")
            cells += spent
            notebook_overheads.append(row["seconds"] - spent)
        client_overheads.append(run.seconds - run.ingest_seconds - cells)
    say(f"  {workers} worker(s): {wall:.1f}s for {len(names)} clients")
    return {"workers": workers, "wall_s": wall, "per_client_s": statistics.median(r.seconds for r in runs),
            "client_overhead_s": statistics.median(client_overheads),
            "notebook_overhead_s": statistics.median(notebook_overheads)}


def bench_batch(clients: int = 20, scale: float = 0.02, keep: Path | None = None, say=print) -> dict:
    root = keep or Path(tempfile.mkdtemp(prefix="shopkpi-bench-batch-"))
    old = os.environ.get(paths.WORKSPACE_ENV)
    os.environ[paths.WORKSPACE_ENV] = str(root)
    try:
        names = _workspace(root, clients, scale, say)
        one, two = _one_pass(names, 1, say), _one_pass(names, 2, say)
    finally:
        if old is None:
            os.environ.pop(paths.WORKSPACE_ENV, None)
        else:
            os.environ[paths.WORKSPACE_ENV] = old
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)
    speedup = one["wall_s"] / two["wall_s"]
    say(f"\n{'workers':>7} {'batch s':>9} {'median client s':>16} {'client overhead s':>18} {'notebook overhead s':>20}")
    for r in (one, two):
        say(f"{r['workers']:>7} {r['wall_s']:>9.1f} {r['per_client_s']:>16.1f} {r['client_overhead_s']:>18.1f} "
            f"{r['notebook_overhead_s']:>20.2f}")
    say(f"speedup with 2 workers: {speedup:.2f}x (target >= 1.8x); client overhead with 1 worker "
        f"{one['client_overhead_s']:.1f}s (target <= 5s) on {os.cpu_count()} cores")
    return {"clients": clients, "scale": scale, "one_worker": one, "two_workers": two, "speedup": speedup}
