import datetime as dt

import pytest

from shopkpi import paths
from shopkpi.errors import ParamsError
from shopkpi.params import load_client_params, resolve_run
from shopkpi.periods import latest_complete_week_before, parse_period


@pytest.mark.parametrize("name", ["..", "../acme", "a/b", "Demo", "", "x" * 64, "-x", "demo\x00"])
def test_client_names_that_could_escape_are_refused(name):
    with pytest.raises(ParamsError):
        paths.params_file(name)


def test_demo_params_load(workspace):
    params = load_client_params("demo")
    assert [m.code for m in params.markets] == ["UK", "TH"]
    rate, since = params.fx_rate("THB", dt.date(2026, 3, 1))
    assert (rate, since) == (0.0308, dt.date(2026, 1, 1))
    assert params.fx_rate("USD", dt.date(2026, 3, 1))[0] == 1.0


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.replace("timezone: Asia/Bangkok", "timezone: Asia/Bangkokk"), "unknown time zone"),
    (lambda s: s + "unexpected_key: 1\n", "unexpected_key"),
    (lambda s: s.replace("  - {currency: THB, from: 2025-01-01, rate: 0.0295}\n  - {currency: THB, from: 2026-01-01, rate: 0.0308}\n", ""), "no rate to USD for THB"),
    (lambda s: s.replace("language: zh", "language: fr"), "language"),
    (lambda s: "markets: [", "not valid YAML"),
])
def test_bad_params_name_the_file_and_field(workspace, edit, message):
    file = workspace / "params" / "demo.yaml"
    file.write_text(edit(file.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(ParamsError) as err:
        load_client_params("demo")
    assert message in str(err.value)
    assert str(file) in str(err.value)


def test_missing_client_lists_known_ones(workspace):
    with pytest.raises(ParamsError, match=r"known clients: \['acme', 'demo'\]"):
        load_client_params("nobody")


def test_run_parameters_are_validated(workspace):
    with pytest.raises(ParamsError, match="unknown parameter"):
        resolve_run("demo", "2026-W46", "zh", periodd="2026-W46")
    with pytest.raises(ParamsError, match="must be a string"):
        resolve_run(7, "2026-W46")  # what `papermill -p client 007` would inject
    with pytest.raises(ParamsError, match="language"):
        resolve_run("demo", "2026-W46", "de")
    ctx = resolve_run("demo", "2026-W46", "")
    assert ctx.language == "zh" and ctx.period.start == dt.date(2026, 11, 9)


def test_periods():
    week = parse_period("2026-W46")
    assert (week.start, week.end, week.days) == (dt.date(2026, 11, 9), dt.date(2026, 11, 15), 7)
    assert week.previous().name == "2026-W45"
    assert parse_period("2026-01").previous().name == "2025-12"
    assert parse_period("2026-02").end == dt.date(2026, 2, 28)
    assert parse_period("2021-W01").previous().name == "2020-W53"
    for bad in ["2026-W54", "2026-13", "2026-46", "W46"]:
        with pytest.raises(ParamsError):
            parse_period(bad)
    assert latest_complete_week_before(dt.date(2026, 11, 18)).name == "2026-W46"
    assert latest_complete_week_before(dt.date(2026, 11, 15)).name == "2026-W46"
    assert latest_complete_week_before(dt.date(2026, 11, 14)).name == "2026-W45"


def _params_without_thb_rates(workspace, fx_rows: str):
    file = workspace / "params" / "demo.yaml"
    text = file.read_text(encoding="utf-8").replace(
        "  - {currency: THB, from: 2025-01-01, rate: 0.0295}\n  - {currency: THB, from: 2026-01-01, rate: 0.0308}\n", "")
    file.write_text(text + "fx_file: fx_rates.csv\n", encoding="utf-8")
    (workspace / "params" / "fx_rates.csv").write_text(fx_rows, encoding="utf-8")


def test_fx_file_adds_dated_rates(workspace):
    _params_without_thb_rates(workspace, "currency,from,rate\nTHB,2025-01-01,0.0295\nTHB,2026-06-01,0.0311\n")
    params = load_client_params("demo")
    assert params.fx_rate("THB", dt.date(2026, 7, 1)) == (0.0311, dt.date(2026, 6, 1))
    assert params.fx_rate("THB", dt.date(2026, 5, 31)) == (0.0295, dt.date(2025, 1, 1))
    assert params.fx_rate("GBP", dt.date(2026, 3, 1))[0] == 1.33  # the rates in the YAML stay


@pytest.mark.parametrize("rows, message", [
    ("currency,from,rate\nTHB,2025-01-01,0.0295\nTHB,2026-13-01,0.03\n", "row 3, column from"),
    ("currency,from,rate\nTHB,2025-01-01,-1\n", "row 2, column rate"),
    ("currency,from,rate\nthb,2025-01-01,0.03\n", "row 2, column currency"),
    ("currency;from;rate\nTHB;2025-01-01;0.03\n", "row 1: expected the columns currency, from, rate"),
])
def test_bad_fx_file_names_file_row_and_column(workspace, rows, message):
    _params_without_thb_rates(workspace, rows)
    with pytest.raises(ParamsError) as err:
        load_client_params("demo")
    assert message in str(err.value) and "fx_rates.csv" in str(err.value)


def test_people_in_a_market_the_client_lacks_fail_when_params_load(workspace):
    file = workspace / "params" / "demo.yaml"
    text = file.read_text(encoding="utf-8")
    assert "people:" in text
    file.write_text(text.replace("targets:\n", "targets:\n  shops: [{name: Luma US, market: US, files: ['us/*']}]\n", 1),
                    encoding="utf-8")
    with pytest.raises(ParamsError, match=r"shops\[0\] \(Luma US\): market 'US' is not among the markets") as err:
        load_client_params("demo")
    assert str(file) in str(err.value)
