"""The review report as PDF: headless Chromium prints the code-free HTML (the browser the tests already need)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from shopkpi.errors import ShopkpiError

# Headless Chromium as the tests and benchmarks run it too: no sandbox (containers), nothing fetched in the background.
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
FLAGS = BROWSER_FLAGS + ["--no-pdf-header-footer", "--run-all-compositor-stages-before-draw", "--virtual-time-budget=10000"]
TIMEOUT_S = 120
# JupyterLab's print style keeps each output on one page, so a long list of target lines moved whole to the
# next page and left the first one blank below its heading; lists and tables may break, figures never do.
# Wide tables get a scroll bar on screen; on paper they shrink to the page instead of being cut off.
# Cells without output (exports hide the code) and the notebook's bottom padding take no paper: content that
# ended just above a page's foot once pushed them onto a blank last page.
PRINT_STYLE = ("<style>@media print { .jp-OutputArea-child { break-inside: auto; } img { break-inside: avoid; } "
               ".jp-OutputArea-output { overflow: visible !important; } table { font-size: 0.78em; } "
               ".jp-Notebook, .jp-Cell { padding-left: 0 !important; padding-right: 0 !important; } } "
               ".jp-CodeCell:not(:has(.jp-OutputArea-output)) { display: none; } "
               ".jp-Notebook, .jp-Cell:last-child { padding-bottom: 0 !important; margin-bottom: 0 !important; } "
               "h1, h2, h3 { break-after: avoid; } @page { margin: 12mm; }</style>")


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def print_pdf(html: Path, pdf: Path | None = None) -> Path:
    """Print `html` to `pdf` (default: beside it); raises ShopkpiError when no browser is installed or printing fails."""
    browser = chromium()
    if not browser:
        raise ShopkpiError("no PDF: Chromium is not installed (Debian: apt-get install chromium)")
    html = Path(html).resolve()
    pdf = Path(pdf) if pdf else html.with_suffix(".pdf")
    tmp = pdf.with_name(pdf.stem + ".tmp.pdf")
    # A copy beside the original, so relative links still resolve, with the print style added.
    printable = html.with_name(html.stem + ".print.html")
    text = html.read_text(encoding="utf-8")
    printable.write_text(text.replace("</head>", PRINT_STYLE + "</head>", 1), encoding="utf-8")
    # Its own profile folder: parallel runs in a batch must not share a browser profile.
    try:
        with tempfile.TemporaryDirectory(prefix="shopkpi-chromium-") as profile:
            done = subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={tmp}", printable.as_uri()],
                                  capture_output=True, timeout=TIMEOUT_S)
    finally:
        printable.unlink(missing_ok=True)
    if done.returncode != 0 or not tmp.exists() or tmp.stat().st_size == 0:
        tmp.unlink(missing_ok=True)
        raise ShopkpiError(f"no PDF for {html.name}: Chromium exited with {done.returncode}")
    os.replace(tmp, pdf)
    return pdf
