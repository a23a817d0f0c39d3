"""Monday-morning batch: the notebook pipeline for many clients in parallel, one failure isolated.

Runs on Dask: a LocalCluster sized to the machine by default, or an existing cluster with
--scheduler, through the same code path. Each client writes a run manifest; a client whose
parameters, code and inputs are unchanged since its last good run is skipped (--force redoes it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from shopkpi import __version__, artifacts, paths
from shopkpi.errors import ParamsError, ShopkpiError

MANIFEST = "manifest.json"


@dataclass
class ClientRun:
    client: str
    period: str = ""
    status: str = "failed"  # ok | failed | skipped
    seconds: float = 0.0
    notebooks: list[dict] = field(default_factory=list)
    error: str = ""
    ingest_seconds: float = 0.0


def all_clients() -> list[str]:
    return sorted(p.stem for p in paths.params_dir().glob("*.yaml"))


def code_version() -> str:
    """Package version plus the git commit (and '-dirty') when run from a checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=paths.PROJECT_ROOT, capture_output=True,
                              text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=paths.PROJECT_ROOT,
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return __version__
    return f"{__version__}+{head}{'-dirty' if dirty else ''}" if head else __version__


def input_hashes(client: str) -> dict[str, str]:
    """Content hash of every raw file, by path relative to the client's raw folder."""
    from shopkpi.ingest.pipeline import discover, file_sha256

    raw = paths.raw_dir(client)
    if not raw.exists():
        return {}
    return {str(p.relative_to(raw)): file_sha256(p)[:20] for p in discover([raw])}


def _params_hash(client: str, parameters: dict) -> str:
    """The client's params, the targets file they name, and the run parameters: a change in any re-runs the client."""
    from shopkpi.params import load_client_params

    text = paths.params_file(client).read_bytes() + json.dumps(parameters, sort_keys=True).encode()
    targets_file = load_client_params(client).targets_file
    if targets_file:
        text += (paths.params_dir() / targets_file).read_bytes()
    return hashlib.sha256(text).hexdigest()[:20]


def _unchanged(manifest_path: Path, fingerprint: dict) -> bool:
    if not manifest_path.exists():
        return False
    try:
        previous = json.loads(manifest_path.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return previous.get("status") == "ok" and all(previous.get(k) == v for k, v in fingerprint.items())


def run_client(client: str, period: str = "", language: str = "", force: bool = False, timeout: int = 900,
               notebooks: list[str] | None = None) -> ClientRun:
    """Ingest new exports, then run the pipeline notebooks (or only `notebooks`); never raises (failures are reported)."""
    from shopkpi.ingest.pipeline import ingest
    from shopkpi.params import load_client_params, resolve_run
    from shopkpi.app.runner import error_line, run_pipeline
    from shopkpi.store import Store

    started = time.perf_counter()
    run = ClientRun(client)
    try:
        params = load_client_params(client)
        ingest(client, params)  # new files only; a bad file is reported by 01_ingest and fails the run
        run.ingest_seconds = time.perf_counter() - started
        ctx = resolve_run(client, period, language)
        run.period = ctx.period.name
        parameters = {"client": client, "period": ctx.period.name, "language": ctx.language}
        if notebooks:  # a partial run is its own fingerprint: the next full run is never skipped because of it
            parameters["notebooks"] = list(notebooks)
        fingerprint = {"params_hash": _params_hash(client, parameters), "code_version": code_version(),
                       "input_hashes": input_hashes(client)}
        manifest_path = ctx.outputs_dir / MANIFEST
        if not force and _unchanged(manifest_path, fingerprint):
            run.status, run.seconds = "skipped", time.perf_counter() - started
            return run
        base = {"client": client, "period": ctx.period.name, "parameters": parameters, **fingerprint,
                "started_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
        # Written first with status "running": a run killed midway is never mistaken for a complete one.
        artifacts.write_json(manifest_path, {**base, "status": "running"})
        _, results = run_pipeline(client, ctx.period.name, ctx.language, notebooks=notebooks, timeout=timeout)
        run.notebooks = [{"notebook": r.notebook, "status": r.status, "seconds": round(r.seconds, 2), "error": r.error,
                          "attempts": r.attempts}
                         for r in results]
        ok = all(r.status != "failed" for r in results) and set(notebooks or _pipeline()) <= {r.notebook for r in results}
        run.status = "ok" if ok else "failed"
        run.error = next((r.error for r in results if r.status == "failed"), "")
        row_counts = {t: e["rows"] for t, e in Store(client).manifest()["tables"].items()}
        from shopkpi.app.static_export import export_file

        if ok and export_file(client, ctx.period.name).exists():
            base["static_dashboard"] = export_file(client, ctx.period.name).name
        run.seconds = time.perf_counter() - started
        artifacts.write_json(manifest_path, {**base, "status": run.status, "row_counts": row_counts,
                                             "notebooks": run.notebooks, "seconds": round(run.seconds, 2),
                                             "ingest_seconds": round(run.ingest_seconds, 2),
                                             "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")})
    except Exception as exc:  # one client's failure must not stop the others
        run.error = error_line(exc) if not isinstance(exc, ShopkpiError) else str(exc).splitlines()[0][:300]
        run.seconds = time.perf_counter() - started
    return run


def _pipeline() -> list[str]:
    from shopkpi.app.runner import PIPELINE

    return PIPELINE


def local_cluster(workers: int, env: dict):
    """A LocalCluster with no dashboard: Dask's scheduler and workers start an unauthenticated HTTP server
    (status pages, /info, /metrics) even with dashboard_address=None; here it serves no route, on loopback only."""
    import dask
    from dask.distributed import LocalCluster

    with dask.config.set({"distributed.scheduler.http.routes": [], "distributed.worker.http.routes": []}):
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                            worker_dashboard_address=None, silence_logs=40, env=env)


def run_batch(clients: list[str], period: str = "", language: str = "", *, workers: int | None = None,
              scheduler: str | None = None, force: bool = False, timeout: int = 900, notebooks: list[str] | None = None,
              progress: Callable[[str], None] | None = None) -> list[ClientRun]:
    """Run many clients on Dask (LocalCluster unless `scheduler` names a running cluster)."""
    from dask.distributed import Client, as_completed

    from shopkpi.app.runner import check_notebooks

    check_notebooks(notebooks)
    for client in clients:
        paths.check_client_name(client)
        if not paths.params_file(client).exists():
            raise ParamsError(f"no params file for client {client!r} ({paths.params_file(client)})")
    env = {paths.WORKSPACE_ENV: str(paths.workspace_root())}
    cluster = None
    if scheduler:
        dask_client = Client(scheduler)
    else:
        workers = workers or os.cpu_count() or 1
        cluster = local_cluster(workers, env)
        dask_client = Client(cluster)
    try:
        # Workers of an existing cluster get the workspace from the task itself.
        futures = [dask_client.submit(_run_in_workspace, env, c, period, language, force, timeout, notebooks, key=f"client-{c}", pure=False)
                   for c in clients]
        runs = []
        for done, future in enumerate(as_completed(futures), 1):
            run = future.result()
            runs.append(run)
            if progress:
                progress(f"[{done}/{len(clients)}] {run.client:<20} {run.status:<8} {run.seconds:6.1f}s {run.error[:80]}")
        return sorted(runs, key=lambda r: r.client)
    finally:
        dask_client.close()
        if cluster is not None:
            cluster.close()


def _run_in_workspace(env: dict, client: str, period: str, language: str, force: bool, timeout: int,
                      notebooks: list[str] | None) -> ClientRun:
    os.environ.update(env)
    return run_client(client, period, language, force, timeout, notebooks)


def summary_table(runs: list[ClientRun]) -> str:
    from shopkpi.app.runner import one_line

    lines = [f"{'client':<20} {'period':<9} {'notebook':<20} {'status':<10} {'seconds':>8}  error"]
    for run in runs:
        rows = run.notebooks or [{"notebook": "-", "status": run.status, "seconds": run.seconds, "error": run.error}]
        for row in rows:
            tries = f" (attempt {row['attempts']})" if row.get("attempts", 1) > 1 else ""
            error = one_line(row["error"])
            lines.append(f"{run.client:<20} {run.period:<9} {row['notebook']:<20} "
                         f"{row['status'] if run.status != 'skipped' else 'skipped':<10} {row['seconds']:>8.1f}  {error}{tries}")
    return "\n".join(lines)


def write_batch_log(runs: list[ClientRun], folder: Path) -> Path:
    """The batch's own record, next to the outputs; names and counts only, no client data."""
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return artifacts.write_json(folder / f"batch-{stamp}.json", {"runs": [asdict(r) for r in runs]})
