"""Run the notebook pipeline for one client and period with papermill, and render HTML."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from shopkpi import paths
from shopkpi.errors import ParamsError
from shopkpi.params import resolve_run

# Dependency order: each stage may read the artifacts of the stages before it; notebooks within
# a stage are independent. A failure in the first two stages stops the run (everything reads the
# store they vouch for); a failed analysis does not stop the others, and the review notes its absence.
STAGES = [["01_ingest"], ["02_clean"], ["03_content", "04_creators", "05_restock", "06_shop_health", "07_kpi_targets", "09_profit"],
          ["08_review_report"]]
BLOCKING_STAGES = 2
PIPELINE = [name for stage in STAGES for name in stage]
REVIEW = "08_review_report"
RUN_PARAMETERS = {"client", "period", "language"}
KERNEL = "python3"
CELL_TIMEOUT_S = 900
KERNEL_START_RETRIES = 2  # ZMQ/port races when many kernels start at once
DEAD_KERNEL_RETRIES = 1  # a kernel killed mid-run (OOM killer, operator) gets one fresh try; notebooks are re-runnable


@dataclass
class NotebookResult:
    notebook: str
    status: str  # ok | failed | needs_data (the notebook said which exports it needs)
    seconds: float
    output: Path
    html: Path | None = None
    error: str = ""
    attempts: int = 1


def notebook_path(name: str) -> Path:
    path = paths.notebooks_dir() / f"{name}.ipynb"
    if not path.exists():
        known = sorted(p.stem for p in paths.notebooks_dir().glob("*.ipynb"))
        raise ParamsError(f"no notebook {name!r}; known notebooks: {', '.join(known)}")
    return path


def check_parameters(path: Path, parameters: dict) -> None:
    """Refuse names the notebook does not declare (papermill would only warn)."""
    import papermill

    declared = set(papermill.inspect_notebook(str(path)))
    unknown = set(parameters) - declared
    if unknown:
        raise ParamsError(f"{path.name}: unknown parameter(s) {sorted(unknown)}; it declares {sorted(declared)}")


def render_html(notebook: Path, html: Path) -> Path:
    """Static HTML without code, for stakeholders and e-mail."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    node = nbformat.read(notebook, as_version=4)
    for cell in node.cells:
        # Warnings and logs (stderr: matplotlib's "Glyph missing", library paths) are for the analyst's notebook,
        # not for the stakeholder's page.
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    body, _ = exporter.from_notebook_node(node)
    tmp = html.with_name(html.name + ".tmp")
    tmp.write_text(body, encoding="utf-8")
    os.replace(tmp, html)
    return html


def _is_kernel_start_failure(exc: Exception) -> bool:
    text = f"{type(exc).__name__}: {exc}"
    return any(s in text for s in ("Kernel didn't respond", "Kernel died before replying", "ZMQError", "Address already in use"))


def _ipc_kernel_manager():
    """A kernel manager on IPC sockets in a private temp folder: no TCP ports to race for in parallel runs."""
    import tempfile
    import uuid

    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            folder = Path(tempfile.gettempdir()) / "shopkpi-kernels"
            folder.mkdir(mode=0o700, exist_ok=True)
            super().__init__(transport="ipc", ip=str(folder / uuid.uuid4().hex[:12]), **kwargs)

    return IPCKernelManager


def _is_dead_kernel(exc: Exception) -> bool:
    return type(exc).__name__ == "DeadKernelError" or str(exc).strip() == "Kernel died"


class NotebookFailed(Exception):
    """A notebook failed after `attempts` tries; `cause` is the last error."""

    def __init__(self, cause: Exception, attempts: int):
        super().__init__(str(cause))
        self.cause, self.attempts = cause, attempts


def execute(name: str, parameters: dict, output: Path, timeout: int = CELL_TIMEOUT_S) -> int:
    """Run one notebook with papermill; returns the number of attempts it took (raises NotebookFailed)."""
    import papermill

    source = notebook_path(name)
    check_parameters(source, parameters)
    starts = deaths = 0
    while True:
        try:
            papermill.execute_notebook(
                str(source), str(output), parameters=parameters, kernel_name=KERNEL, cwd=str(source.parent),
                execution_timeout=timeout, start_timeout=120, progress_bar=False, log_output=False,
                kernel_manager_class=_ipc_kernel_manager(),
            )
            return 1 + starts + deaths
        except Exception as exc:  # papermill wraps kernel errors in several types
            if starts < KERNEL_START_RETRIES and _is_kernel_start_failure(exc):
                starts += 1
                time.sleep(starts)
            elif deaths < DEAD_KERNEL_RETRIES and _is_dead_kernel(exc):
                deaths += 1
            else:
                raise NotebookFailed(exc, 1 + starts + deaths) from exc


def error_line(exc: Exception) -> str:
    """The one line a summary table shows: the notebook's own exception, not papermill's wrapper."""
    if isinstance(exc, NotebookFailed):
        line = error_line(exc.cause)
        return line if exc.attempts == 1 else f"{line} (after {exc.attempts} attempts)"
    if _is_dead_kernel(exc):
        return "DeadKernelError: the kernel died (killed or out of memory)"
    if getattr(exc, "ename", None):
        return one_line(f"{exc.ename}: {exc.evalue}")[:300]
    lines = str(exc).strip().splitlines()
    return (lines[-1] if lines else type(exc).__name__)[:300]


def one_line(text: str) -> str:
    """A summary-table cell: a multi-line error on one line."""
    return " ".join(str(text).split())


def mark_failed(output: Path, error: str) -> None:
    """Put the failure at the top of the kept notebook: a killed kernel leaves `papermill.exception: None` and
    unrun cells that look completed, so whoever opens it must read first that it did not finish."""
    import nbformat

    if not output.exists():
        return
    try:
        node = nbformat.read(output, as_version=4)
    except Exception:  # noqa: BLE001 - a half-written notebook: leave it as it is
        return
    if node.cells and "shopkpi-run-failed" in node.cells[0].get("metadata", {}).get("tags", []):
        return
    cell = nbformat.v4.new_code_cell(source="# This run did not finish; see the error below.",
                                     metadata={"tags": ["shopkpi-run-failed"]})
    cell.outputs = [nbformat.v4.new_output("error", ename="RunFailed", evalue=error, traceback=[error])]
    node.cells.insert(0, cell)
    node.metadata.setdefault("papermill", {})["exception"] = True
    nbformat.write(node, output)


def _run_one(name: str, parameters: dict, out_dir: Path, suffix: str, timeout: int,
             progress: Callable[[str], None] | None) -> NotebookResult:
    output = out_dir / f"{name}{suffix}.ipynb"
    if progress:
        progress(f"running {name}{suffix} for {parameters['client']} {parameters['period']} ...")
    started = time.perf_counter()
    try:
        attempts = execute(name, parameters, output, timeout)
    except Exception as exc:
        # A stage whose exports are not in the store yet is not a failure of the run: it says what to ingest.
        status = "needs_data" if getattr(getattr(exc, "cause", exc), "ename", "") == "NoDataError" else "failed"
        if status == "failed":
            mark_failed(output, error_line(exc))
        return NotebookResult(name + suffix, status, time.perf_counter() - started, output, error=error_line(exc),
                              attempts=getattr(exc, "attempts", 1))
    html = render_html(output, out_dir / f"{name}{suffix}.html")
    note = ""
    if name == REVIEW:
        from shopkpi.errors import ShopkpiError
        from shopkpi.app.pdf import print_pdf, review_footer
        from shopkpi.params import load_client_params

        language = parameters.get("language") or load_client_params(parameters["client"]).language
        try:
            print_pdf(html, footer=review_footer(out_dir / "artifacts", language))
        except (ShopkpiError, OSError, subprocess.TimeoutExpired) as exc:  # the HTML stands; say why there is no PDF
            note = str(exc)
            if progress:
                progress(note)
    return NotebookResult(name + suffix, "ok", time.perf_counter() - started, output, html, error=note, attempts=attempts)


def check_notebooks(notebooks: list[str] | None) -> list[str] | None:
    """`notebooks` as given, when every name is a pipeline notebook; otherwise a ParamsError naming the pipeline."""
    unknown = [n for n in notebooks or [] if n not in PIPELINE]
    if unknown:
        raise ParamsError(f"not pipeline notebooks: {', '.join(unknown)}; the pipeline is {', '.join(PIPELINE)}")
    return notebooks


def run_pipeline(client: str, period: str = "", language: str = "", notebooks: list[str] | None = None,
                 progress: Callable[[str], None] | None = None, timeout: int = CELL_TIMEOUT_S,
                 workers: int = 1) -> tuple[str, list[NotebookResult]]:
    """Run the stages in order (`workers` notebooks of one stage at a time), then the review in its other languages."""
    from concurrent.futures import ThreadPoolExecutor

    ctx = resolve_run(client, period, language)
    # The kernel resolves paths from the same workspace as this process.
    os.environ[paths.WORKSPACE_ENV] = str(paths.workspace_root())
    out_dir = ctx.outputs_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    parameters = {"client": ctx.client, "period": ctx.period.name, "language": ctx.language}
    wanted = check_notebooks(notebooks) or PIPELINE
    results: list[NotebookResult] = []
    for number, stage in enumerate(STAGES):
        names = [n for n in stage if n in wanted]
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            results += list(pool.map(lambda n: _run_one(n, parameters, out_dir, "", timeout, progress), names))
        if number < BLOCKING_STAGES and any(r.status == "failed" for r in results):
            return ctx.period.name, results
    if REVIEW in wanted:
        if any(r.notebook == REVIEW and r.status == "ok" for r in results):
            from shopkpi.app.static_export import export_dashboard

            export_dashboard(ctx.client, ctx.period.name)  # the e-mail copy of the dashboard, from the same artifacts
        for other in ctx.params.report.also_in:
            if other != ctx.language:
                results.append(_run_one(REVIEW, {**parameters, "language": other}, out_dir, f".{other}", timeout, progress))
        if ctx.params.notify and any(r.notebook == REVIEW and r.status == "ok" for r in results):
            from shopkpi.notify import push

            push(ctx.client, ctx.period.name, progress=progress)  # records each channel's outcome; never raises
    return ctx.period.name, results
