"""`shopkpi bench dashboard`: time until a client's overview figure is visible, three ways, in one run.

- ours: the dashboard as readers get it, through the gate, drawn on the server by shopkpi's Voila template
  (preheated kernels);
- stock: the same notebook and kernels with Voila's default lab template (outputs drawn by JupyterLab's
  JavaScript in the browser), opened on Voila directly;
- static: the static HTML export of the same period (no server, no kernel), the floor.

Opened in headless Chromium, one new page per view; medians of the views after the first.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Callable

from shopkpi.app import serve
from shopkpi.app.pdf import BROWSER_FLAGS, chromium

CHROMIUM_FLAGS = BROWSER_FLAGS + ["--disable-quic"]
FIGURE = '[data-kpi="gmv_net"] .value'


def _serve(client: str, template: str, log: Path) -> tuple[serve.DashboardServer, str]:
    server = serve.start([client], log=log, template=template)
    try:
        server.wait_until_serving(timeout=120)
    except RuntimeError:
        server.stop()
        raise
    if template == serve.TEMPLATE:
        return server, server.link(client)
    gate = server.gate  # the stock template needs Voila's own static files: open Voila itself
    return server, (f"http://127.0.0.1:{gate.upstream_port}/?token={gate.upstream_token}"
                    f"&client={client}&key={serve.client_token(client)}")


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
    """First-figure times of the client's overview: ours, Voila's stock template, and the static export."""
    from playwright.sync_api import sync_playwright

    browser_path = chromium()
    if not browser_path:
        raise RuntimeError("bench dashboard needs Debian's chromium (apt-get install chromium)")
    static = _static_export(client)
    if static is None:
        raise RuntimeError(f"no static export for {client!r}: run `shopkpi run --client {client}` first")
    results = {}
    with tempfile.TemporaryDirectory(prefix="shopkpi-dash-bench-") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=browser_path, args=CHROMIUM_FLAGS, headless=True)
        for name, template in (("stock", "lab"), ("ours", serve.TEMPLATE)):
            server, url = _serve(client, template, Path(tmp) / f"{name}.log")
            try:
                time.sleep(pause)  # the preheated kernels are ready, as for a reader arriving after the start
                first, later = _views(browser, url, views, pause)
            finally:
                server.stop()
            results[name] = {"first_s": first, "median_s": statistics.median(later), "views": later}
            say(f"  {name:<9} first {first:5.2f}s  later views {', '.join(f'{v:.2f}' for v in later)}")
        first, later = _views(browser, static.as_uri(), views, 0)
        results["static"] = {"first_s": first, "median_s": statistics.median(later), "views": later}
        say(f"  {'static':<9} first {first:5.2f}s  later views {', '.join(f'{v:.2f}' for v in later)}")
        browser.close()
    results["ratio_to_static"] = results["ours"]["median_s"] / results["static"]["median_s"]
    results["ratio_stock_to_ours"] = results["stock"]["median_s"] / results["ours"]["median_s"]
    say(f"\n{'':<48}{'first s':>9}{'median s':>10}")
    rows = [("ours", f"overview of {client!r}, shopkpi template + gate"), ("stock", "same page, Voila's lab template"),
            ("static", "static HTML export (no kernel)")]
    for name, label in rows:
        say(f"{label:<48}{results[name]['first_s']:>9.2f}{results[name]['median_s']:>10.2f}")
    say(f"ours / static: {results['ratio_to_static']:.2f}x; stock / ours: {results['ratio_stock_to_ours']:.2f}x; "
        f"target: ours <= 1.0 s median")
    return results


def _static_export(client: str) -> Path | None:
    """The newest static export of the client's dashboard (written by `shopkpi run` and the batch)."""
    from shopkpi import paths

    found = sorted(paths.client_outputs_dir(client).glob("*/dashboard_*.html"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None
