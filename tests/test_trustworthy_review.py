"""The review a boss can trust: periods to date, like-for-like comparisons, refusals, one set of figures everywhere,
A4 PDFs with page numbers and a Chinese text without raw keys."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess

import pytest

from shopkpi import paths
from shopkpi.money import money
from shopkpi.periods import covered_window, month_of, parse_period, same_days


def _kpis(period: str) -> dict:
    return json.loads((paths.artifacts_dir("demo", period) / "kpis.json").read_text(encoding="utf-8"))


def _direct_net_gmv(start: dt.date, end: dt.date) -> dict[str, tuple[float, int]]:
    """Net GMV (local currency) and orders per market summed straight from the clean views, not through report.py."""
    from shopkpi.clean import connect_clean

    con = connect_clean("demo")
    rows = con.execute("""
        SELECT market, sum(order_amount - coalesce(order_refund_amount, 0)), count(*)
        FROM clean_orders WHERE exclusion_reason IS NULL AND paid_local_date BETWEEN ? AND ? GROUP BY 1""", [start, end]).fetchall()
    return {m: (float(g), int(n)) for m, g, n in rows}


def _last_complete_day() -> dt.date:
    """The orders' last complete local day, from the export times the store recorded (computed here, not by coverage.py)."""
    from zoneinfo import ZoneInfo

    from shopkpi.params import load_client_params
    from shopkpi.store import Store

    zones = {m.code: m.timezone for m in load_client_params("demo").markets}
    con = Store("demo").connect()
    days = []
    for market, as_of in con.execute("SELECT market, max(export_as_of) FROM order_lines GROUP BY 1").fetchall():
        days.append(as_of.astimezone(ZoneInfo(zones[market])).date() - dt.timedelta(days=1))
    return min(days)


@pytest.fixture(scope="module")
def partial_month(demo_run_session):
    """The review of the month the demo data ends in (not over yet), run once for this module."""
    from conftest import workspace_env
    from shopkpi.app.runner import run_pipeline

    with workspace_env(demo_run_session["root"]):
        through = _last_complete_day()
        month = month_of(through)
        name, results = run_pipeline("demo", month.name, notebooks=["02_clean", "07_kpi_targets", "08_review_report"])
        return {"period": name, "through": through, "results": results}


def test_a_month_not_over_is_titled_to_date_and_compared_like_for_like(partial_month, demo_run):
    assert all(r.status == "ok" for r in partial_month["results"]), [(r.notebook, r.error) for r in partial_month["results"]]
    p, through = parse_period(partial_month["period"]), partial_month["through"]
    assert through < p.end, "the demo must end inside a month for this test"
    k = _kpis(p.name)
    assert (k["complete"], k["window_end"], k["days"]) == (False, through.isoformat(), (through - p.start).days + 1)
    out = paths.period_outputs_dir("demo", p.name)
    zh = (out / "08_review_report.html").read_text(encoding="utf-8")
    en = (out / "08_review_report.en.html").read_text(encoding="utf-8")
    assert f"{p.name} 至今（{p.start} – {through}，{k['days']}/{p.days}天）" in zh
    assert f"{p.name} to date ({p.start} – {through}, {k['days']} of {p.days} days)" in en
    # 环比: the same number of days of the previous month, never all of it.
    previous = same_days(covered_window(p, through), p.previous())
    assert [dt.date.fromisoformat(d) for d in k["previous_window"]] == [previous.start, previous.end]
    direct = _direct_net_gmv(previous.start, previous.end)
    by_market = {m["market"]: m for m in k["previous_by_market"]}
    for market, (gmv, orders) in direct.items():
        assert by_market[market]["gmv_net_local"] == pytest.approx(gmv, abs=0.005)
        assert by_market[market]["orders"] == orders
    # This month's figures stop at the last complete day: the partial day after it is not counted.
    now = _direct_net_gmv(p.start, through)
    for m in k["by_market"]:
        assert m["gmv_net_local"] == pytest.approx(now[m["market"]][0], abs=0.005)


def test_the_daily_chart_stops_at_the_last_complete_day(partial_month, demo_run):
    from shopkpi.params import resolve_run
    from shopkpi.report import build_weekly_report

    report = build_weekly_report(resolve_run("demo", partial_month["period"], "en"))
    assert report.daily["day"].max().date() == partial_month["through"]


@pytest.mark.parametrize("period", ["2024-W10", "2031-12"])
def test_a_period_without_data_is_refused_with_the_data_range(demo_run, period):
    from shopkpi.app.runner import run_pipeline

    _, results = run_pipeline("demo", period, notebooks=["08_review_report"])
    assert [r.status for r in results][0] == "needs_data"
    assert "no orders in " + period in results[0].error and "run from" in results[0].error


def test_a_period_without_a_complete_day_is_refused_and_coverage_reads_export_times():
    import pandas as pd

    from shopkpi.coverage import _complete_through
    from shopkpi.errors import ParamsError

    # Exported 09:30 Bangkok time on 11-19: 11-18 is the last complete day, whatever the last order's date.
    bangkok = pd.Timestamp("2026-11-19 02:30", tz="UTC")
    assert _complete_through(dt.date(2026, 11, 19), bangkok, "Asia/Bangkok", event=True) == dt.date(2026, 11, 18)
    # Exported 23:30 UTC on 11-18 is already 11-19 in Bangkok: all of 11-18 is in, even with no order after noon.
    late = pd.Timestamp("2026-11-18 23:30", tz="UTC")
    assert _complete_through(dt.date(2026, 11, 18), late, "Asia/Bangkok", event=True) == dt.date(2026, 11, 18)
    assert _complete_through(dt.date(2026, 11, 18), late, "Europe/London", event=True) == dt.date(2026, 11, 17)
    # Sparse events (LIVE sessions): days after the last session up to the export are complete, just empty.
    assert _complete_through(dt.date(2026, 11, 8), bangkok, "Asia/Bangkok", event=True) == dt.date(2026, 11, 18)
    # Day rows (Ads Manager) end on their last day; no export time: an event export's last day may be partial.
    assert _complete_through(dt.date(2026, 11, 15), bangkok, "Asia/Bangkok", event=False) == dt.date(2026, 11, 15)
    assert _complete_through(dt.date(2026, 11, 15), None, None, event=True) == dt.date(2026, 11, 14)
    with pytest.raises(ParamsError, match="no complete day yet"):
        covered_window(parse_period("2026-W47"), dt.date(2026, 11, 15))
    assert covered_window(parse_period("2026-W47"), dt.date(2026, 11, 18)).days == 3


def test_the_dashboard_opens_on_the_latest_complete_period(partial_month, demo_run):
    from shopkpi.app import dashboard

    periods = dashboard.available_periods("demo")
    assert partial_month["period"] in periods
    opening = dashboard.default_period("demo")
    assert _kpis(opening)["complete"] and opening != partial_month["period"]


def _consistency(period: str) -> None:
    """Net GMV, orders and AOV per market: the same in kpis.json, the review (zh, en), the dashboard, 02_clean and targets."""
    from shopkpi.app import dashboard

    k = _kpis(period)
    out = paths.period_outputs_dir("demo", period)
    review = {lang: (out / name).read_text(encoding="utf-8") for lang, name in (("zh", "08_review_report.html"),
                                                                                 ("en", "08_review_report.en.html"))}
    clean = json.loads((paths.artifacts_dir("demo", period) / "clean.json").read_text(encoding="utf-8"))
    targets = json.loads((paths.artifacts_dir("demo", period) / "targets.json").read_text(encoding="utf-8"))
    operators = {r["market"]: r for r in targets["leaderboards"]["operator"]}
    clean_rows = {m["market"]: m for m in clean["by_market"]}
    for m in k["by_market"]:
        market, cur = m["market"], m["currency"]
        shown = [money(m["gmv_net_local"], cur), money(m["aov_local"], cur)]
        for lang, text in review.items():
            for figure in shown:
                assert figure in text, (period, lang, market, figure)
        page = dashboard.overview_html("demo", period, market=market)
        assert f'data-kpi="gmv_net" data-currency="{cur}"' in page
        assert f'<div class="value">{money(m["gmv_net_local"], cur)}</div>' in page
        assert f'<div class="value">{m["orders"]:,}</div>' in page
        assert f'<div class="value">{money(m["aov_local"], cur)}</div>' in page
        # The same cents (DuckDB's parallel sums may differ in the 13th digit, never in what anyone reads).
        assert clean_rows[market]["gmv_net"] == pytest.approx(m["gmv_net"], abs=0.005) and clean_rows[market]["orders"] == m["orders"]
        assert operators[market]["gmv_net"] == pytest.approx(m["gmv_net"], abs=0.005)
        assert operators[market]["orders"] == m["orders"]
        assert operators[market]["aov"] == pytest.approx(m["aov"], abs=1e-6)
    total = dashboard.overview_html("demo", period)
    assert money(k["total"]["gmv_net"], k["reporting_currency"]) in total


def test_the_same_figures_everywhere_for_a_week(demo_run):
    _consistency(demo_run["period"])


def test_the_same_figures_everywhere_for_a_month_to_date(partial_month, demo_run):
    _consistency(partial_month["period"])


def test_the_same_figures_everywhere_for_two_weeks(demo_run):
    from shopkpi.app.runner import run_pipeline

    week = parse_period(demo_run["period"])
    period = f"{week.previous().name}-W{week.name[-2:]}"
    _, results = run_pipeline("demo", period, notebooks=["02_clean", "07_kpi_targets", "08_review_report"])
    assert all(r.status == "ok" for r in results), [(r.notebook, r.error) for r in results]
    _consistency(period)


def _pdf_text(pdf) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def _allowed_words(period: str) -> set[str]:
    """ASCII words the Chinese review may show: names and products from the data, SKUs, file names, units, acronyms."""
    from shopkpi.params import load_client_params

    folder = paths.artifacts_dir("demo", period)
    words: set[str] = set()

    def add(text) -> None:
        text = str(text or "")  # whole tokens, and their letter runs (a PDF line may break "order-2026" at the hyphen)
        words.update(re.findall(r"[A-Za-z][A-Za-z0-9_.\-]*", text) + re.findall(r"[A-Za-z]+", text))

    params = load_client_params("demo")
    add(params.display_name)
    add(params.report.account_lead)
    for person in params.targets.people:
        add(person.name)
    data_fields = {"creator", "person", "product_name", "seller_sku", "warehouse", "source_file", "experiment_id", "example",
                   "live_title", "campaign_name",
                   "column"}  # a quarantined column is named as the export's header names it
    for file in folder.glob("*.json"):
        def walk(node):
            if isinstance(node, dict):
                for key, value in node.items():
                    if key in data_fields:
                        add(value)
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)
        walk(json.loads(file.read_text(encoding="utf-8")))
    return words


# Units, market codes, acronyms and product names of the platform that the Chinese review keeps in English.
GLOSSARY = {"USD", "GBP", "THB", "UK", "TH", "GMV", "SKU", "ROAS", "ROI", "LIVE", "UTC", "FDR", "CTR", "AOV", "AI", "PDF",
            "Seller", "Center", "Data", "Compass", "Ads", "Manager", "Max", "Spark", "Video", "XLSX", "CSV", "row", "csv",
            "xlsx", "data", "health_thresholds.csv", "TikTok", "Shop", "K", "ABC", "XYZ", "ETS", "Croston", "SBA", "TSB",
            "GBM", "MOQ", "BGM", "ID", "Excel", "E",  # E: 1.23E+17, how Excel mangles an Order ID
             "A", "B", "S", "C", "D", "X", "Y", "Z", "W", "Q", "Luma", "Home", "demo"}


def test_the_pdfs_are_a4_paginated_and_the_chinese_one_has_no_raw_keys(demo_run):
    if not shutil.which("pdftotext"):
        raise RuntimeError("pdftotext is needed (poppler-utils; .ci/run installs it)")
    out = paths.period_outputs_dir("demo", demo_run["period"])
    allowed = _allowed_words(demo_run["period"]) | GLOSSARY
    for name in ("08_review_report.pdf", "08_review_report.en.pdf"):
        info = subprocess.run(["pdfinfo", str(out / name)], capture_output=True, text=True, check=True).stdout
        pages = int(re.search(r"Pages:\s+(\d+)", info)[1])
        assert "(A4)" in info, info
        text = _pdf_text(out / name)
        for page in range(1, pages + 1):
            assert re.search(rf"\b{page}\s*/\s*{pages}\b", text), f"{name}: no page number {page} / {pages}"
        assert ("数据截至" if ".en" not in name else "Data as of") in text and "UTC" in text
    zh = _pdf_text(out / "08_review_report.pdf")
    words = set(re.findall(r"[A-Za-z][A-Za-z0-9_.\-]*[A-Za-z0-9]|[A-Za-z]", zh))
    raw = sorted(w for w in words if w not in allowed and not re.fullmatch(r"[A-Z]{2,5}(-[A-Z0-9]+)+|\d.*|[WQ]\d+", w))
    assert not raw, f"ASCII words in the Chinese review that are not units, SKUs or names: {raw}"


def test_the_first_page_leads_with_the_executive_summary(demo_run):
    out = paths.period_outputs_dir("demo", demo_run["period"])
    first = subprocess.run(["pdftotext", "-l", "1", str(out / "08_review_report.pdf"), "-"], capture_output=True, text=True,
                           check=True).stdout
    k = _kpis(demo_run["period"])
    for needle in ("经营摘要", "环比", "同比", money(k["total"]["gmv_net"], k["reporting_currency"]), "净GMV较上一周期相同天数变化",
                   "个目标", "负责人"):
        assert needle in first, needle
