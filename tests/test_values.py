"""Property-based tests for the money, count, date and ID parsers."""

import datetime as dt
from decimal import Decimal

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from shopkpi.ingest.values import check_id, parse_count, parse_money, parse_timestamp

cents = st.integers(min_value=-10**12, max_value=10**12)


def _money_text(value: Decimal, style: int) -> str:
    body = f"{abs(value):,.2f}"
    sign = "-" if value < 0 else ""
    return [f"{sign}{body}", f"THB {sign}{body}", f"{sign}£{body}", f"({body})" if value < 0 else f"${body}",
            f"{sign}{body} THB", f"Rp {sign}{body}", f"{sign}{body}\t", f"\u200b{sign}{body}"][style]


@settings(max_examples=300, deadline=None)
@given(cents, st.integers(min_value=0, max_value=7))
def test_money_round_trips_exactly(amount, style):
    value = Decimal(amount) / 100
    parsed, failed = parse_money(pa.array([_money_text(value, style)]))
    assert not failed[0].as_py()
    assert parsed[0].as_py() == value


@given(st.sampled_from(["abc", "12.345", "1.2.3", "THB", "twelve", "12abc"]))
def test_non_money_is_flagged_not_guessed(text):
    parsed, failed = parse_money(pa.array([text]))
    assert parsed[0].as_py() is None and failed[0].as_py()


def test_empty_markers_are_null_not_errors():
    parsed, failed = parse_money(pa.array(["", "-", "  ", None], pa.string()))
    assert parsed.null_count == 4 and not any(failed.to_pylist())


@given(st.integers(min_value=0, max_value=10**12))
def test_counts_with_separators(n):
    parsed, failed = parse_count(pa.array([f"{n:,}", str(n)]))
    assert parsed.to_pylist() == [n, n] and not any(failed.to_pylist())


def test_abbreviated_counts():
    parsed, failed = parse_count(pa.array(["1.2K", "541.2K", "3M", "2b", "two", "1.5"]))
    assert parsed.to_pylist()[:4] == [1200, 541200, 3_000_000, 2_000_000_000]
    assert failed.to_pylist() == [False, False, False, False, True, True]


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2099, 12, 31)))
def test_local_timestamps_round_trip_to_utc(moment):
    moment = moment.replace(microsecond=0)
    text = moment.strftime("%d/%m/%Y %H:%M:%S")
    parsed, failed, fmt = parse_timestamp(pa.array([text]), ["%d/%m/%Y %H:%M:%S"], "Asia/Bangkok")
    assert not failed[0].as_py() and fmt == "%d/%m/%Y %H:%M:%S"
    expected = moment.replace(tzinfo=dt.timezone(dt.timedelta(hours=7))).astimezone(dt.timezone.utc)
    assert parsed[0].as_py() == expected


def test_impossible_dates_are_flagged_not_rolled_over():
    # pyarrow alone turns 31/02 into 03/03; the parser must not.
    parsed, failed, _ = parse_timestamp(pa.array(["31/02/2026 10:00:00", "29/02/2024 10:00:00", "1/2/2026 10:00:00"]),
                                        ["%d/%m/%Y %H:%M:%S"], "UTC")
    assert failed.to_pylist() == [True, False, False]
    assert parsed[2].as_py().date() == dt.date(2026, 2, 1)


def test_day_first_and_month_first_layouts_pick_the_one_that_parses():
    parsed, failed, fmt = parse_timestamp(pa.array(["11/25/2026 01:02:03 PM"]), ["%d/%m/%Y %H:%M:%S", "%m/%d/%Y %I:%M:%S %p"], "UTC")
    assert fmt == "%m/%d/%Y %I:%M:%S %p" and parsed[0].as_py().hour == 13


def test_excel_mangled_ids_fail():
    parsed, failed = check_id(pa.array(["576543210987654321", "5.76543E+17", "576543210987654321\t", "57654321098765432a"]), (15, 20))
    assert failed.to_pylist() == [False, True, False, True]
    assert parsed[2].as_py() == "576543210987654321"
