"""Ads Manager days re-aligned to the shop's calendar (the `ad_days` view)."""

import csv
import datetime as dt

import pytest

from shopkpi.ad_days import zone_name
from shopkpi.clean import connect_clean
from shopkpi.ingest.pipeline import ingest
from shopkpi.params import load_client_params

from conftest import FIXTURES

PARAMS = """client: adtz
display_name: Ad time zone test
language: en
reporting_currency: THB
markets:
  - {{code: TH, currency: THB, timezone: Asia/Bangkok{ads}}}
"""


@pytest.mark.parametrize("stated, zone", [
    ("(UTC+07:00) Bangkok", "Etc/GMT-7"), ("Asia/Shanghai", "Asia/Shanghai"), ("(GMT-05:00) America/New_York", "America/New_York"),
    ("UTC", None), ("UTC+0", "Etc/UTC"), ("GMT+5:30", None), ("", None), (None, None), ("somewhere", None),
])
def test_zone_names_from_what_exports_state(stated, zone):
    assert zone_name(stated) == zone


def _store(workspace, ads_timezone=None, day_of=lambda d: d, extra_column=None):
    ads = f", ads_timezone: {ads_timezone}" if ads_timezone else ""
    (workspace / "params" / "adtz.yaml").write_text(PARAMS.format(ads=ads), encoding="utf-8")
    rows = list(csv.reader(open(FIXTURES / "ads_th_custom_report.csv", encoding="utf-8-sig", newline="")))
    for row in rows[1:-1]:
        row[0] = day_of(row[0])
    if extra_column:
        rows = [r + [v] for r, v in zip(rows, [extra_column[0]] + [extra_column[1]] * (len(rows) - 2) + [""])]
    path = workspace / "in" / "ads.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    [result] = ingest("adtz", load_client_params("adtz"), [path]).files
    assert result.status == "ingested", result.message
    return connect_clean("adtz")


def _by_day(con, column="cost"):
    return {d: round(v, 6) for d, v in con.execute(
        f"SELECT report_date, sum({column}) FROM ad_days GROUP BY 1 ORDER BY 1").fetchall()}


def test_same_zone_moves_nothing(workspace):
    con = _store(workspace)
    assert con.execute("SELECT count(*) FROM ad_days").fetchone() == con.execute("SELECT count(*) FROM ad_stats").fetchone()
    stored = {d: round(float(v), 6) for d, v in con.execute("SELECT report_date, sum(cost) FROM ad_stats GROUP BY 1").fetchall()}
    assert _by_day(con) == stored
    assert {r[0] for r in con.execute("SELECT DISTINCT account_timezone_source FROM ad_days").fetchall()} == {"shop"}


def test_los_angeles_account_days_split_over_bangkok_days(workspace):
    con = _store(workspace, ads_timezone="America/Los_Angeles")
    # 16 Nov 00:00 in Los Angeles (UTC-8) is 16 Nov 15:00 in Bangkok: 9 h of that day fall on the 16th, 15 h on the 17th.
    cost = {d: float(v) for d, v in con.execute("SELECT report_date, sum(cost) FROM ad_stats GROUP BY 1").fetchall()}
    d16, d17, d18 = dt.date(2026, 11, 16), dt.date(2026, 11, 17), dt.date(2026, 11, 18)
    expected = {d16: cost[d16] * 9 / 24, d17: cost[d16] * 15 / 24 + cost[d17] * 9 / 24,
                d18: cost[d17] * 15 / 24 + cost[d18] * 9 / 24, dt.date(2026, 11, 19): cost[d18] * 15 / 24}
    assert _by_day(con) == {d: round(v, 6) for d, v in expected.items()}
    # Totals are kept; the reported day stays beside the shop's.
    assert sum(_by_day(con, "impressions").values()) == pytest.approx(
        con.execute("SELECT sum(impressions) FROM ad_stats").fetchone()[0])
    assert con.execute("SELECT min(account_date), max(account_date) FROM ad_days").fetchone() == (d16, d18)
    assert {r[0] for r in con.execute("SELECT DISTINCT account_timezone_source FROM ad_days").fetchall()} == {"params"}


def test_daylight_saving_day_has_25_hours(workspace):
    # 1 Nov 2026: Los Angeles leaves daylight time, so the account's day lasts 25 h (14:00 to 15:00 next day in Bangkok).
    con = _store(workspace, ads_timezone="America/Los_Angeles", day_of=lambda d: "2026-11-01")
    total = float(con.execute("SELECT sum(cost) FROM ad_stats").fetchone()[0])
    assert _by_day(con) == {dt.date(2026, 11, 1): round(total * 10 / 25, 6), dt.date(2026, 11, 2): round(total * 15 / 25, 6)}


def test_zone_stated_in_the_export_wins_over_params(workspace):
    con = _store(workspace, ads_timezone="America/Los_Angeles", extra_column=("Time zone", "(UTC+08:00) Beijing"))
    # UTC+8 is one hour ahead of Bangkok: 1 h of each account day falls on the Bangkok day before.
    cost = {d: float(v) for d, v in con.execute("SELECT report_date, sum(cost) FROM ad_stats GROUP BY 1").fetchall()}
    by_day = _by_day(con)
    assert by_day[dt.date(2026, 11, 15)] == round(cost[dt.date(2026, 11, 16)] / 24, 6)
    assert {r[0] for r in con.execute("SELECT DISTINCT account_timezone_source FROM ad_days").fetchall()} == {"export"}


def test_unknown_ads_timezone_in_params_is_refused(workspace):
    from shopkpi.errors import ParamsError

    (workspace / "params" / "adtz.yaml").write_text(PARAMS.format(ads=", ads_timezone: Mars/Olympus"), encoding="utf-8")
    with pytest.raises(ParamsError, match="ads_timezone.*unknown time zone 'Mars/Olympus'"):
        load_client_params("adtz")
