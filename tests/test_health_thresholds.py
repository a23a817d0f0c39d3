"""Shop-health thresholds: a dated table by region, resolved per market and date."""

import datetime as dt
from importlib import resources

import pytest
import yaml
from shopkpi.health import thresholds as th
from shopkpi.health.metrics import COMPUTED

HEADER = ",".join(th.COLUMNS)


def _table(*rows):
    return th.parse_thresholds("\n".join([HEADER, *rows]))


def test_every_market_resolves_to_a_region_with_all_computed_metrics():
    markets = yaml.safe_load(resources.files("shopkpi.data").joinpath("markets.yaml").read_text(encoding="utf-8"))
    day = dt.date(2026, 11, 9)
    for market in markets:
        assert th.region_of(market) in {"US", "UK", "SEA", "EU", "JP", "LATAM"}
        for metric in COMPUTED:
            found = th.resolve(market, metric, day)
            assert found is not None, (market, metric)
            assert found.region == th.region_of(market)


def test_unknown_market_is_a_clear_error():
    with pytest.raises(th.ThresholdTableError, match="'XX' has no shop-health region"):
        th.region_of("XX")


def test_values_from_the_reference_and_their_confirmation():
    day = dt.date(2026, 1, 5)
    us_otdr = th.resolve("US", "on_time_delivery_rate", day)
    assert (us_otdr.comparator, us_otdr.threshold, us_otdr.confirmed, us_otdr.tag) == (">=", 0.80, True, "official")
    uk_ldr = th.resolve("UK", "late_dispatch_rate", day)
    assert (uk_ldr.comparator, uk_ldr.threshold, uk_ldr.confirmed) == ("<", 0.04, False)
    assert th.resolve("TH", "seller_fault_return_rate", day).threshold == 0.01
    # Every row is either official and confirmed, or marked unconfirmed.
    assert all(r.confirmed == (r.tag == "official") for r in th.thresholds())


def test_dates_and_market_specific_rows():
    # Thailand's 12-hour reply rule starts on 2026-07-06; Malaysia has its own level; Vietnam has none.
    assert th.resolve("TH", "response_rate_12h", dt.date(2026, 7, 5)) is None
    assert th.resolve("TH", "response_rate_12h", dt.date(2026, 7, 6)).threshold == 0.85
    assert th.resolve("MY", "response_rate_12h", dt.date(2026, 7, 6)).threshold == 0.90
    assert th.resolve("VN", "response_rate_12h", dt.date(2026, 7, 6)) is None
    # UK late dispatch is judged by Ready to Ship from 2024-11-04 on.
    assert th.resolve("UK", "late_dispatch_rate", dt.date(2024, 11, 3)) is None


def test_market_row_wins_over_region_row_and_validity_window():
    table = _table("SEA,,late_dispatch_rate,<=,0.04,0.03,,2026-01-31,30 days,src,3rd-party,no,",
                   "SEA,,late_dispatch_rate,<=,0.05,0.04,2026-02-01,,30 days,src,3rd-party,no,",
                   "SEA,TH,late_dispatch_rate,<=,0.02,0.01,2026-03-01,,30 days,src,3rd-party,no,")
    assert th.resolve("VN", "late_dispatch_rate", dt.date(2026, 1, 31), table).threshold == 0.04
    assert th.resolve("VN", "late_dispatch_rate", dt.date(2026, 2, 1), table).threshold == 0.05
    assert th.resolve("TH", "late_dispatch_rate", dt.date(2026, 2, 15), table).threshold == 0.05
    assert th.resolve("TH", "late_dispatch_rate", dt.date(2026, 3, 1), table).threshold == 0.02


def test_overlapping_rows_are_refused():
    table = _table("US,,late_dispatch_rate,<=,0.04,0.03,,,30 days,src,3rd-party,no,",
                   "US,,late_dispatch_rate,<=,0.05,0.04,2026-01-01,,30 days,src,3rd-party,no,")
    with pytest.raises(th.ThresholdTableError, match="2 rows for US late_dispatch_rate"):
        th.resolve("US", "late_dispatch_rate", dt.date(2026, 2, 1), table)


@pytest.mark.parametrize("row, message", [
    ("US,,late_dispatch_rate,=<,0.04,0.03,,,30 days,src,x,no,", "row 2, column 'comparator'"),
    ("US,,late_dispatch_rate,<=,four,0.03,,,30 days,src,x,no,", "row 2, column 'threshold'"),
    ("US,,late_dispatch_rate,<=,0.04,0.05,,,30 days,src,x,no,", "row 2, column 'warning_level'"),
    ("XX,,late_dispatch_rate,<=,0.04,0.03,,,30 days,src,x,no,", "row 2, column 'region'"),
    ("US,,late_dispatch_rate,<=,0.04,0.03,2026-13-01,,30 days,src,x,no,", "row 2, column 'valid_from'"),
    ("US,,late_dispatch_rate,<=,0.04,0.03,,,30 days,src,x,maybe,", "row 2, column 'confirmed'"),
])
def test_bad_rows_name_row_and_column(row, message):
    with pytest.raises(th.ThresholdTableError, match=message):
        _table(row)


def test_breach_and_risk_follow_the_comparator():
    lower = _table("US,,late_dispatch_rate,<,0.04,0.03,,,30 days,src,x,no,")[0]
    assert lower.breached(0.04) and not lower.breached(0.0399)
    assert lower.at_risk(0.03) and not lower.at_risk(0.0299) and not lower.at_risk(0.05)
    assert lower.shortfall(0.05) == pytest.approx(0.01)
    higher = _table("US,,valid_tracking_rate,>=,0.95,0.97,,,weekly,src,x,no,")[0]
    assert higher.breached(0.9499) and not higher.breached(0.95)
    assert higher.at_risk(0.96) and not higher.at_risk(0.98)
    assert higher.shortfall(0.90) == pytest.approx(0.05)
