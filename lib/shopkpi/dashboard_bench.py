"""`shopkpi bench dashboard`: time to the first figure of a client's Voila page, beside a minimal Voila page.

Both pages are served the same way (one Voila server each, a preheated kernel, the same flags) and
opened in headless Chromium; the reference page shows one ipywidgets.HTML and imports nothing else,
so the ratio is what our page costs above Voila's own floor on this machine. Medians of later views.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

import nbformat

from shopkpi import serve
from shopkpi.pdf import BROWSER_FLAGS, chromium

CHROMIUM_FLAGS = BROWSER_FLAGS + ["--disable-quic"]
REFERENCE_SOURCE = 'import ipywidgets\nipywidgets.HTML(\'<div data-kpi="gmv_net"><span class="value">1</span></div>\')'
FIGURE = '[data-kpi="gmv_net"] .value'


def _reference_page(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('client: str = ""', metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(REFERENCE_SOURCE)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / "reference.ipynb"
    nbformat.write(nb, path)
    return path


def _serve(client: str, page: Path | None, log: Path):
    process, url, _ = serve.start(client, token="bench", log=log, page=page)
    try:
        serve.wait_until_serving(url.split("?")[0] + "api/status", process, log, timeout=120)
    except RuntimeError:
        process.kill()
        raise
    return process, url


def _views(browser, url: str, views: int, pause: float) -> tuple[float, list[float]]:
    def one() -> float:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        started = time.perf_counter()
        page.goto(url)
        page.locator(FIGURE).first.wait_for(timeout=120_000)
        seconds = time.perf_counter() - started
        page.close()
        return seconds

    first = one()
    later = []
    for _ in range(views):
        time.sleep(pause)  # lets Voila preheat the next kernel, as between two readers
        later.append(one())
    return first, later


def bench_dashboard(client: str = "demo", views: int = 5, pause: float = 6.0, say: Callable[[str], None] = print) -> dict:
    """First-figure times of the client's page and of the reference page, alternating servers."""
    from playwright.sync_api import sync_playwright

    browser_path = chromium()
    if not browser_path:
        raise RuntimeError("bench dashboard needs Debian's chromium (apt-get install chromium)")
    results = {}
    with tempfile.TemporaryDirectory(prefix="shopkpi-dash-bench-") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_path, args=CHROMIUM_FLAGS, headless=True)
        for name, page in (("reference", _reference_page(Path(tmp))), ("ours", None)):
            process, url = _serve(client, page, Path(tmp) / f"{name}.log")
            try:
                time.sleep(pause)  # the preheated kernel is ready, as for a reader arriving after the start
                first, later = _views(browser, url, views, pause)
            finally:
                serve.stop(process)
            results[name] = {"first_s": first, "median_s": statistics.median(later), "views": later}
            say(f"  {name:<9} first {first:5.2f}s  later views {', '.join(f'{v:.2f}' for v in later)}")
        static = _static_export(client)
        if static:
            first, later = _views(browser, static.as_uri(), views, 0)
            results["static"] = {"first_s": first, "median_s": statistics.median(later), "views": later}
        browser.close()
    results["ratio"] = results["ours"]["median_s"] / results["reference"]["median_s"]
    say(f"\n{'':<40}{'first s':>9}{'median s':>10}")
    rows = [("reference", "minimal Voila widget page"), ("ours", f"Voila dashboard of {client!r}"),
            ("static", "static HTML export (no kernel)")]
    for name, label in rows:
        if name in results:
            say(f"{label:<40}{results[name]['first_s']:>9.2f}{results[name]['median_s']:>10.2f}")
    say(f"ratio ours / reference (medians): {results['ratio']:.2f}x; target: first figure <= 1.5 s")
    return results


def _static_export(client: str) -> Path | None:
    """The newest static export of the client's dashboard (written by `shopkpi run` and the batch)."""
    from shopkpi import paths

    found = sorted(paths.client_outputs_dir(client).glob("*/dashboard_*.html"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None
