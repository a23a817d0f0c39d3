"""Every pipeline notebook executed by papermill on a small demo client, checked against its inputs."""

from __future__ import annotations

import datetime as dt
import html
import json

import nbformat
import pytest

from shopkpi import paths
from shopkpi.app.runner import PIPELINE

pytestmark = pytest.mark.notebook


def test_pipeline_runs_every_notebook(demo_run):
    results = {r.notebook: r for r in demo_run["results"]}
    assert list(results) == PIPELINE + ["08_review_report.en"]  # the demo asks for an English review too
    for name, result in results.items():
        assert result.status == "ok", f"{name}: {result.error}"
        assert result.output.exists() and result.html.exists()
        nb = nbformat.read(result.output, as_version=4)
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert not errors


def test_outputs_land_in_the_client_period_folder(demo_run):
    out = paths.period_outputs_dir("demo", demo_run["period"])
    for name in PIPELINE:
        assert (out / f"{name}.ipynb").exists() and (out / f"{name}.html").exists()
    assert (out / f"dashboard_demo_{demo_run['period']}.html").exists()  # the pipeline writes the e-mail copy
    for artifact in ["ingest.json", "clean.json", "kpis.json", "figures/daily_net_gmv.png"]:
        assert (out / "artifacts" / artifact).exists(), artifact


def test_review_is_rendered_in_both_languages_and_the_artifact_keeps_the_clients(demo_run):
    out = paths.period_outputs_dir("demo", demo_run["period"])
    assert "周度经营复盘" in (out / "08_review_report.html").read_text(encoding="utf-8")
    assert "Weekly business review" in (out / "08_review_report.en.html").read_text(encoding="utf-8")
    kpis = json.loads((out / "artifacts" / "kpis.json").read_text(encoding="utf-8"))
    assert kpis["language"] == "zh"


def test_html_reports_have_no_code(demo_run):
    html = (paths.period_outputs_dir("demo", demo_run["period"]) / "08_review_report.html").read_text(encoding="utf-8")
    assert "build_weekly_report" not in html and "resolve_run" not in html
    assert "周度经营复盘" in html  # demo client's language is zh


def test_period_is_the_latest_complete_week(demo_run):
    end = demo_run["summary"].end_date
    period = paths.check_period_name(demo_run["period"])
    from shopkpi.periods import latest_complete_week_before

    assert period == latest_complete_week_before(end).name


def test_row_accounting_artifact_balances(demo_run):
    data = json.loads((paths.artifacts_dir("demo", demo_run["period"]) / "ingest.json").read_text(encoding="utf-8"))
    assert data["row_accounting"] and all(r["unaccounted"] == 0 for r in data["row_accounting"])
    assert sum(r["rows_in"] for r in data["row_accounting"]) >= demo_run["summary"].order_lines


def test_unknown_parameter_is_refused_before_running(demo_run):
    from shopkpi.errors import ParamsError
    from shopkpi.app.runner import execute

    with pytest.raises(ParamsError, match="unknown parameter"):
        execute("08_review_report", {"client": "demo", "period": demo_run["period"], "languag": "en"},
                paths.period_outputs_dir("demo", demo_run["period"]) / "never.ipynb")


def test_english_report_renders(demo_run):
    """The pipeline's English review (report.also_in) has no Chinese left in it."""
    text = (paths.period_outputs_dir("demo", demo_run["period"]) / "08_review_report.en.html").read_text(encoding="utf-8")
    assert "Weekly business review" in text and "周度" not in text


def _independent_net_by_market(raw_dir, start, end) -> dict:
    """Net GMV and orders per market straight from the raw CSVs with pandas: a second implementation."""
    import datetime as dt
    import re
    from decimal import Decimal

    import pandas as pd

    frames = []
    for path in sorted(raw_dir.glob("*/orders/*.csv")):
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig").iloc[1:]  # row 2 describes
        df["export"] = path.name  # names carry the export time: later name, later state
        frames.append(df)
    lines = pd.concat(frames)
    # An order is as its newest export shows it: all its lines from the latest file that holds it.
    lines = lines[lines["export"] == lines.groupby("Order ID")["export"].transform("max")]
    lines = lines.drop_duplicates(["Order ID", "SKU ID"], keep="first")
    lines = lines[lines["Order ID"].str.fullmatch(r"\d{18,19}") & lines["Quantity"].str.fullmatch(r"\d+")]

    def valid_date(text):
        try:
            return dt.datetime.strptime(text.strip(), "%d/%m/%Y %H:%M:%S")
        except ValueError:
            return None

    lines = lines[lines["Created Time"].map(valid_date).notna()]
    money = lambda s: Decimal(re.sub(r"[^0-9.\-]", "", s) or "0")  # noqa: E731
    lines["paid_day"] = lines["Paid Time"].map(lambda s: valid_date(s).date() if valid_date(s) else None)
    orders = lines.groupby("Order ID").agg(
        country=("Country", "first"), status=("Order Status", "first"), paid_day=("paid_day", "first"),
        note=("Seller Note", "first"), buyer=("Buyer Username", "first"),
        amount=("Order Amount", lambda s: money(s.iloc[0])), refund=("Order Refund Amount", lambda s: money(s.iloc[0])),
        after=("SKU Subtotal After Discount", lambda s: sum(map(money, s))))
    real = (~orders["status"].isin(["Canceled", "Unpaid"]) & orders["paid_day"].notna()
            & ~orders["note"].str.contains(r"(?i)test|sample|replacement") & ~orders["buyer"].str.startswith("test")
            & (orders["after"] > 0))
    counted = orders[real & orders["paid_day"].between(start, end)]
    market = {"United Kingdom": "UK", "Thailand": "TH"}
    return {market[c]: (sum(g["amount"] - g["refund"]), len(g)) for c, g in counted.groupby("country")}


def test_report_figures_trace_to_the_raw_exports(demo_run):
    import datetime as dt

    kpis = json.loads((paths.artifacts_dir("demo", demo_run["period"]) / "kpis.json").read_text(encoding="utf-8"))
    start, end = (dt.date.fromisoformat(kpis[k]) for k in ("period_start", "period_end"))
    expected = _independent_net_by_market(paths.raw_dir("demo"), start, end)
    reported = {m["market"]: (m["gmv_net_local"], m["orders"]) for m in kpis["by_market"]}
    assert set(reported) == set(expected) == {"UK", "TH"}
    for market, (net, orders) in expected.items():
        assert reported[market][1] == orders, market
        assert reported[market][0] == pytest.approx(float(net), abs=0.005), market


def test_store_matches_the_planted_dirt(demo_run):
    """Against the generator's truth: every malformed row quarantined where it was planted, and nothing else;
    test and sample orders flagged; an older export's state never wins over a newer one."""
    from shopkpi.clean import connect_clean
    from shopkpi.store import Store

    truth = json.loads(paths.truth_file("demo").read_text(encoding="utf-8"))["dirt"]
    store = Store("demo")
    quarantined = {(q["source_file"], q["source_row"], q["column"])
                   for q in store.read("quarantine").to_pylist() if q["source_file"].split("/")[1] == "orders"}
    planted = {(m["file"], m["file_line_number"], m["column"]) for m in truth["malformed_rows"]}
    assert planted and quarantined == planted

    con = connect_clean("demo")
    reasons = dict(con.execute("SELECT order_id, exclusion_reason FROM clean_orders").fetchall())
    assert {reasons[o["order_id"]] for o in truth["test_orders"] if o["order_id"] in reasons} == {"test_order"}
    assert {reasons[o["order_id"]] for o in truth["sample_orders"] if o["order_id"] in reasons} == {"sample_order"}

    stored = set(con.execute("SELECT DISTINCT order_id, source_file FROM order_lines").fetchall())
    changed = {(row[0], change["older_file"]) for change in truth["status_changes"] for row in change["rows"]}
    assert changed and not changed & stored  # no line of a changed order comes from its older export


def test_every_dashboard_page_renders_from_the_run_and_none_is_an_error(demo_run):
    from shopkpi.app import dashboard

    period = demo_run["period"]
    for name in dashboard.PAGES:
        page = dashboard.page_html("demo", name, period)
        assert f'data-page="{name}"' in page, name
        assert "This page cannot be shown" not in page, name


def test_review_page_says_what_each_analysis_found(demo_run):
    from shopkpi import review

    period = demo_run["period"]
    page = review.review_page_html("demo", period)
    found = review.load_artifacts(paths.artifacts_dir("demo", period))
    assert all(found.values()), [name for name, payload in found.items() if payload is None]
    from shopkpi.params import load_client_params

    params = load_client_params("demo")
    sections = dict(review.review_sections("zh", found, params))
    assert {"review_targets", "review_health", "review_alerts", "review_content", "review_creators", "review_restock"} <= set(sections)
    for line in [s for lines in sections.values() for s in lines]:
        assert html.escape(line) in page
    assert "未生成的分析" not in page  # every analysis ran
    assert "下一步行动" in page and "未对账 0 行" in page  # next actions; every ingested row accounted for
    for action in review.next_actions("zh", found, params):
        assert html.escape(action) in page
    assert "负责人" in page and "经营摘要" in page and "数据截至" in page


def test_static_dashboard_export_has_every_page_and_no_code(demo_run):
    from shopkpi.app import dashboard
    from shopkpi.app.static_export import export_dashboard

    period = demo_run["period"]
    path = export_dashboard("demo", period)
    assert path.parent == paths.period_outputs_dir("demo", period)
    text = path.read_text(encoding="utf-8")
    assert "<script" not in text.lower() and "resolve_run" not in text
    for name in dashboard.PAGES:
        assert f'<section id="{name}">' in text and f'data-page="{name}"' in text
    kpis = json.loads((paths.artifacts_dir("demo", period) / "kpis.json").read_text(encoding="utf-8"))
    assert f"{kpis['total']['gmv_net']:,.2f}" in text  # the same figure as the artifact
    assert text.count("data:image/png;base64,") >= 5
    with pytest.raises(Exception, match="no report for period"):
        export_dashboard("demo", "2019-W01")


def test_market_filter_narrows_pages_that_support_it_and_says_so_elsewhere(demo_run):
    import re

    from shopkpi.app import dashboard

    period = demo_run["period"]
    kpis = json.loads((paths.artifacts_dir("demo", period) / "kpis.json").read_text(encoding="utf-8"))
    uk = next(m for m in kpis["by_market"] if m["market"] == "UK")
    overview = dashboard.page_html("demo", "overview", period, "UK")
    assert f"{uk['currency']} {uk['gmv_net_local']:,.2f}" in overview and 'data-market="UK"' in overview
    creators = dashboard.page_html("demo", "creators", period, "UK")
    shown = re.findall(r'data-creator="[^"]+"><td>\d+</td><td>[^<]+</td><td>([A-Z]+)</td>', creators)
    assert shown and set(shown) == {"UK"}
    assert "market-note" in dashboard.page_html("demo", "review", period, "UK")  # review is company-wide: it says so
    with pytest.raises(Exception, match="no market"):
        dashboard.page_html("demo", "overview", period, "FR")


def _require(tool: str, package: str):
    import os
    import shutil

    if shutil.which(tool):
        return
    if os.environ.get("CI"):
        raise RuntimeError(f"CI must render PDFs: install Debian's {package} (.ci/run does)")
    pytest.skip(f"{tool} is not installed (apt-get install {package}); CI installs it")


def _pdf_pages_are_not_blank(pdf, folder):
    import subprocess

    import numpy as np
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "30", "-png", str(pdf), str(folder / "page")], check=True, timeout=120)
    pages = sorted(folder.glob("page*.png"))
    assert pages
    for png in pages:
        pixels = np.asarray(Image.open(png).convert("L"))
        assert (pixels < 200).mean() > 0.005, f"{png.name} of {pdf.name} is blank"
    return len(pages)


def test_review_pdf_in_both_languages_has_no_blank_page(demo_run, tmp_path):
    _require("chromium", "chromium")
    _require("pdftoppm", "poppler-utils")
    out = paths.period_outputs_dir("demo", demo_run["period"])
    for name in ("08_review_report", "08_review_report.en"):
        pdf = out / f"{name}.pdf"
        assert pdf.exists() and pdf.read_bytes()[:5] == b"%PDF-"
        (tmp_path / name).mkdir()
        assert _pdf_pages_are_not_blank(pdf, tmp_path / name) >= 2


def test_review_for_two_weeks_and_a_month_in_both_languages(demo_run, tmp_path):
    """The review for a biweekly and a monthly period; its net GMV equals a direct sum over the period's local dates."""
    from shopkpi.clean import connect_clean
    from shopkpi.periods import parse_period
    from shopkpi.report import register_fx
    from shopkpi.params import load_client_params
    from shopkpi.app.runner import run_pipeline

    week = parse_period(demo_run["period"])
    for period, title in ((week.previous().name + "-W" + week.name[-2:], ("双周经营复盘", "Two-week business review")),
                          (f"{week.start.year}-{week.start.month:02d}", ("月度经营复盘", "Monthly business review"))):
        name, results = run_pipeline("demo", period, notebooks=["08_review_report"])
        assert name == period and [r.status for r in results] == ["ok", "ok"], [r.error for r in results]
        out = paths.period_outputs_dir("demo", period)
        assert title[0] in (out / "08_review_report.html").read_text(encoding="utf-8")
        assert title[1] in (out / "08_review_report.en.html").read_text(encoding="utf-8")
        kpis = json.loads((out / "artifacts" / "kpis.json").read_text(encoding="utf-8"))
        p = parse_period(period)
        con = connect_clean("demo")
        register_fx(con, load_client_params("demo"))
        expected = con.execute("""
            SELECT sum((o.order_amount - coalesce(o.order_refund_amount, 0)) * fx.rate)
            FROM clean_orders o ASOF JOIN fx ON o.currency = fx.currency AND o.paid_local_date >= fx.valid_from
            WHERE o.exclusion_reason IS NULL AND o.paid_local_date BETWEEN ? AND ?""",
            [p.start, min(p.end, dt.date.fromisoformat(kpis["window_end"]))]).fetchone()[0]
        assert kpis["period_kind"] == p.kind and abs(kpis["total"]["gmv_net"] - float(expected)) < 0.01
