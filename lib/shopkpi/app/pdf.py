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
               "h1, h2, h3 { break-after: avoid; } "
               # Small tables stay whole; a heading travels with what follows it; headers never wrap a character a line.
               "@media print { tr { break-inside: avoid; } .jp-OutputArea-child:has(table):not(:has(tr:nth-child(16))) "
               "{ break-inside: avoid; } th { word-break: keep-all; white-space: normal; } td { white-space: nowrap !important; } "
               ".jp-Cell:has(h1, h2, h3) { break-after: avoid; } } "
               "@page { size: A4; margin: 14mm 12mm 16mm 12mm; "
               "@bottom-left { content: FOOTER; font: 8pt sans-serif; color: #555; } "
               "@bottom-right { content: counter(page) ' / ' counter(pages); font: 8pt sans-serif; color: #555; } }</style>")


def _css_string(text: str) -> str:
    """`text` as a CSS string literal (quotes, backslashes and line breaks escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("<", "\\3C ") + '"'


def review_footer(artifacts_dir: Path, language: str) -> str:
    """"数据截至 … · 生成于 …" for every page of the review PDF, from the review's own kpis.json."""
    import json

    from shopkpi.dictionary import t

    file = Path(artifacts_dir) / "kpis.json"
    if not file.exists():
        return ""
    k = json.loads(file.read_text(encoding="utf-8"))
    days = sorted({r["complete_through"] for r in k.get("data_as_of", []) if r["kind"] == "orders" and r["complete_through"]})
    as_of = t("data_as_of_line", language, parts=f"{t('coverage_orders', language)} {days[0]}" if days else "–")
    generated = t("generated_at_footer", language, generated=str(k.get("generated_at", ""))[:16].replace("T", " "))
    return f"{k.get('display_name', '')} · {k.get('period', '')} · {as_of} · {generated}"


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def print_pdf(html: Path, pdf: Path | None = None, footer: str = "") -> Path:
    """Print `html` to `pdf` (default: beside it) on A4 with `footer` and page numbers on every page;
    raises ShopkpiError when no browser is installed or printing fails."""
    browser = chromium()
    if not browser:
        raise ShopkpiError("no PDF: Chromium is not installed (Debian: apt-get install chromium)")
    html = Path(html).resolve()
    pdf = Path(pdf) if pdf else html.with_suffix(".pdf")
    tmp = pdf.with_name(pdf.stem + ".tmp.pdf")
    # A copy beside the original, so relative links still resolve, with the print style added.
    printable = html.with_name(html.stem + ".print.html")
    text = html.read_text(encoding="utf-8")
    style = PRINT_STYLE.replace("FOOTER", _css_string(footer))
    printable.write_text(text.replace("</head>", style + "</head>", 1), encoding="utf-8")
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
