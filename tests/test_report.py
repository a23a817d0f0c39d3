"""Report figures against a hand calculation on a tiny export."""

import pytest

from shopkpi.ingest.pipeline import ingest
from shopkpi.params import load_client_params, resolve_run
from shopkpi.report import build_weekly_report

from conftest import copy_fixture

GBP_2026 = 1.33  # params/demo.yaml rate in force from 2026-01-01


def week_then_monday(workspace):
    """The fixture plus one order paid the next Monday (09/11): an export taken after W45 ended, so W45 is complete
    (the fixture alone ends at 06/11 12:00:30, which makes W45 "to date" through 11-05)."""
    import csv

    file = copy_fixture("orders_uk_small.csv", workspace / "in")
    rows = list(csv.reader(open(file, encoding="utf-8-sig", newline="")))
    header, later = rows[0], list(rows[-1])
    later[header.index("Order ID")] = "576000000000000099"
    for column in ("Created Time", "Paid Time"):
        later[header.index(column)] = "09/11/2026 09:00:00"
    with open(file, "a", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerow(later)
    return file


@pytest.fixture
def report(workspace):
    ingest("demo", load_client_params("demo"), [week_then_monday(workspace)])
    return build_weekly_report(resolve_run("demo", "2026-W45", "en"))


def test_a_week_whose_export_ends_inside_it_is_to_date(workspace):
    ingest("demo", load_client_params("demo"), [copy_fixture("orders_uk_small.csv", workspace / "in")])
    partial = build_weekly_report(resolve_run("demo", "2026-W45", "en"))
    assert (partial.window.end.isoformat(), partial.window.complete) == ("2026-11-05", False)
    assert "2026-W45 to date (2026-11-02 – 2026-11-05, 4 of 7 days)" in partial.title()
    assert partial.by_market.set_index("market").loc["UK"].gmv_gross_local == pytest.approx(29.96 + 11.98)


def test_kpis_match_hand_calculation(report):
    # Fixture, week 2026-W45 (2-8 Nov): order ...001 two lines, Order Amount 29.96 once, 3 units;
    # ...002 cancelled 11.98; ...004 test order 9.98; two rows quarantined (mangled ID, 31/02).
    uk = report.by_market.set_index("market").loc["UK"]
    assert uk.gmv_gross_local == pytest.approx(29.96 + 11.98 + 9.98)
    assert uk.gmv_net_local == pytest.approx(29.96)
    assert (uk.orders, uk.units) == (1, 3)
    assert report.total["gmv_net"] == pytest.approx(29.96 * GBP_2026)
    assert report.total["aov"] == pytest.approx(29.96 * GBP_2026)
    assert report.top_skus.iloc[0].seller_sku == "LH-KIT-0001"
    assert report.top_skus.iloc[0].sku_sales == pytest.approx(19.98 * GBP_2026)


def test_bridge_closes(report):
    steps = report.bridge().iloc[:, 1].tolist()
    assert sum(steps[:-1]) == pytest.approx(steps[-1])
    assert steps[1] == pytest.approx(-11.98 * GBP_2026) and steps[2] == pytest.approx(-9.98 * GBP_2026)


def test_exclusion_counts_per_reason(report):
    counts = report.exclusions.set_index("reason")["orders"].to_dict()
    assert counts == {"cancelled": 1, "counted": 1, "test_order": 1}


def test_previous_period_without_data_reads_as_no_data(report):
    assert report.previous_total["orders"] == 0
    assert "no data" in report.summary()[0]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_label_is_translated(workspace, language):
    from shopkpi.dictionary import labels, metrics, t

    for key in list(labels()) + list(metrics()):
        assert t(key, language)


def test_orders_before_the_first_fx_rate_are_refused_not_dropped(workspace):
    from shopkpi.errors import ParamsError

    file = workspace / "params" / "demo.yaml"
    file.write_text(file.read_text(encoding="utf-8").replace("{currency: GBP, from: 2025-01-01, rate: 1.27}", "{currency: GBP, from: 2026-11-03, rate: 1.27}")
                    .replace("  - {currency: GBP, from: 2026-01-01, rate: 1.33}\n", ""), encoding="utf-8")
    ingest("demo", load_client_params("demo"), [copy_fixture("orders_uk_small.csv", workspace / "in")])
    with pytest.raises(ParamsError, match="GBP from 2026-11-02"):
        build_weekly_report(resolve_run("demo", "2026-W45", "en"))


def test_dashboard_picks_the_latest_period_by_date(workspace):
    from shopkpi import paths
    from shopkpi.app import dashboard

    for period in ("2026-W46", "2026-12", "2026-W02"):
        (paths.artifacts_dir("demo", period)).mkdir(parents=True)
        (paths.artifacts_dir("demo", period) / "kpis.json").write_text("{}")
    assert dashboard.available_periods("demo") == ["2026-W02", "2026-W46", "2026-12"]


def test_a_rate_change_inside_the_period_records_both_rates():
    import datetime as dt

    import duckdb

    from shopkpi.periods import parse_period
    from shopkpi.report import kpis_by_market

    con = duckdb.connect()
    con.execute("CREATE TABLE fx (currency VARCHAR, valid_from DATE, rate DOUBLE)")
    con.execute("INSERT INTO fx VALUES ('GBP', '2025-01-01', 1.27), ('GBP', '2026-11-16', 1.33)")
    con.execute("""CREATE TABLE clean_orders AS SELECT * FROM (VALUES
        ('1', 'UK', 'GBP', DATE '2026-11-10', NULL, 'completed', 100.0, 0.0, 1),
        ('2', 'UK', 'GBP', DATE '2026-11-20', NULL, 'completed', 100.0, 0.0, 1))
        t(order_id, market, currency, paid_local_date, exclusion_reason, status_group, order_amount, order_refund_amount, units)""")
    # The clean view's one formula of net GMV and counted refunds (clean.py), here for a hand-made table.
    con.execute("ALTER TABLE clean_orders ADD COLUMN gmv_net DOUBLE")
    con.execute("ALTER TABLE clean_orders ADD COLUMN refund_amount DOUBLE")
    con.execute("UPDATE clean_orders SET gmv_net = order_amount - order_refund_amount, refund_amount = order_refund_amount")
    [row] = kpis_by_market(con, parse_period("2026-11")).to_dict(orient="records")
    assert row["gmv_net"] == pytest.approx(100 * 1.27 + 100 * 1.33)
    assert row["fx_rates_used"] == "1.27 from 2025-01-01; 1.33 from 2026-11-16"
    assert (row["fx_rate"], row["fx_from"]) == (1.33, dt.date(2026, 11, 16))


@pytest.mark.parametrize("reason, zh", [
    ("not an 18-19 digit Order ID (Excel may have turned it into 1.23E+17); quarantined, never merged", "不是18-19位的订单号"),
    ("not a date-time in TH layout (%d/%m/%Y %H:%M:%S or %Y-%m-%d %H:%M)", "不是TH市场格式的日期时间（%d/%m/%Y %H:%M:%S or %Y-%m-%d %H:%M）"),
    ("not a whole number or count like 1.2K", "不是整数或 1.2K 这样的计数"),
    ("required value is empty", "必填值为空"),
    ("something new an importer says", "something new an importer says（导入程序的英文原文）"),
])
def test_quarantine_reasons_in_the_chinese_review(reason, zh):
    from shopkpi.review import quarantine_reason

    assert quarantine_reason(reason, "zh").startswith(zh)
    assert quarantine_reason(reason, "en") == reason


def test_every_reason_the_demo_quarantines_has_a_chinese_text(demo_store):
    from shopkpi.review import quarantine_reason
    from shopkpi.store import Store

    reasons = [r[0] for r in Store("demo").connect().execute("SELECT DISTINCT reason FROM quarantine").fetchall()]
    assert reasons and all("英文原文" not in quarantine_reason(r, "zh") for r in reasons), reasons
