"""Restock arithmetic on hand-made numbers: metrics, plan maths, intermittent methods, events, safe exports."""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from shopkpi import spreadsheet
from shopkpi.restock import backtest, export, plan
from shopkpi.restock.demand import Panel, describe_series
from shopkpi.restock.events import fit_events, load_calendar
from shopkpi.restock.models import _intermittent
from shopkpi.restock.options import RestockOptions


def test_metrics_on_hand_made_numbers():
    actual, forecast = [10, 0, 5], [8, 1, 5]
    assert backtest.wape(actual, forecast) == pytest.approx(3 / 15)
    assert backtest.bias(actual, forecast) == pytest.approx(-1 / 15)
    assert backtest.mase(actual, forecast, [2, 2, 2]) == pytest.approx(np.mean([1, 0.5, 0]))
    assert np.isnan(backtest.wape([0, 0], [1, 1]))


def test_naive_scales():
    y = np.array([[1.0, 2, 3, 4, 5, 6, 7, 3, 2, 3, 4, 5, 6, 7]])
    assert backtest.naive_scale_daily(y)[0] == pytest.approx(np.mean([2, 0, 0, 0, 0, 0, 0]))
    flat = np.ones((1, 30))
    assert backtest.naive_scale_total(flat, np.array([5]))[0] == 0.0
    # A weekly pattern is what the seasonal naive repeats: its in-sample error on 10-day totals is zero.
    weekly = np.tile([1.0, 2, 3, 4, 5, 6, 7], 8)[None, :]
    assert backtest.naive_scale_total(weekly, np.array([10]))[0] == pytest.approx(0.0)
    # A step up by 7 units/day on day 28: the totals that straddle it are missed by the naive.
    step = np.r_[np.zeros(28), np.full(28, 7.0)][None, :]
    t = np.arange(6, 56 - 10)
    naive = np.array([step[0, k - 6:k + 1].sum() + step[0, k - 6:k - 3].sum() for k in t])  # the week, then 3 of its days
    actual = np.array([step[0, k + 1:k + 11].sum() for k in t])
    assert backtest.naive_scale_total(step, np.array([10]))[0] == pytest.approx(np.mean(np.abs(actual - naive)))
    step[0, 30] = np.nan  # windows touching a censored day are left out
    assert np.isfinite(backtest.naive_scale_total(step, np.array([10]))[0])


def test_weekly_sums_skip_censored_weeks():
    actual = np.array([[1.0] * 14 + [5.0], [1.0] * 7 + [np.nan] + [1.0] * 7])
    forecast = np.full((2, 15), 2.0)
    a, f, err = backtest._weekly(actual, forecast, np.array([15, 15]))
    assert a.tolist() == [14.0, 7.0] and f.tolist() == [28.0, 14.0] and err.tolist() == [14.0, 7.0]


def _intermittent_loop(base: np.ndarray, kind: str, a=0.1, b=0.1) -> np.ndarray:
    """Croston / SBA / TSB one series at a time, skipping censored days (the textbook recursions)."""
    rates = np.zeros(base.shape[0])
    for s, series in enumerate(base):
        x = series[~np.isnan(series)]
        nz = np.flatnonzero(x > 0)
        if len(nz) == 0:
            continue
        if kind == "tsb":
            size, prob = x[nz[0]], 1.0 / (nz[0] + 1)
            for v in x[nz[0] + 1:]:
                prob += b * ((v > 0) - prob)
                if v > 0:
                    size += a * (v - size)
            rates[s] = prob * size
            continue
        size, interval, since = x[nz[0]], float(nz[0] + 1), 0
        for v in x[nz[0] + 1:]:
            since += 1
            if v > 0:
                size += a * (v - size)
                interval += a * (since - interval)
                since = 0
        rates[s] = size / interval * ((1 - a / 2) if kind == "sba" else 1.0)
    return rates


@pytest.mark.parametrize("kind", ["croston", "sba", "tsb"])
def test_vectorised_intermittent_methods_match_the_loop(kind):
    rng = np.random.default_rng(3)
    base = rng.poisson(0.3, (200, 150)) * rng.uniform(0.5, 3.0, (200, 150))
    base[rng.random(base.shape) < 0.1] = np.nan
    base[:10, :120] = np.nan  # late starters
    base[10:15] = 0.0  # never sold
    assert _intermittent(base, kind) == pytest.approx(_intermittent_loop(base, kind))


def test_error_model_recovers_poisson_like_variance():
    rng = np.random.default_rng(1)
    f = rng.uniform(5, 200, size=4000)
    a = rng.poisson(f)
    coef_a, coef_b = backtest.fit_error_model(f, a)
    assert coef_a == pytest.approx(1.0, abs=0.15) and coef_b < 0.01


@pytest.mark.parametrize("needed, moq, pack, expected", [(0, 50, 12, 0), (-3, 50, 12, 0), (37, 50, 12, 60),
                                                          (130, 50, 12, 132), (50, 50, 10, 50), (1, None, None, 1)])
def test_order_quantity_rounds_to_moq_and_case_pack(needed, moq, pack, expected):
    assert plan.round_order(needed, moq, pack) == expected


def test_days_of_cover_and_projection():
    assert plan.days_of_cover(10, np.array([4.0, 4, 4])) == pytest.approx(2.5)
    assert plan.days_of_cover(20, np.array([4.0, 4, 4])) is None
    assert plan.days_of_cover(0, np.array([4.0, 4, 4])) == 0.0
    proj = plan.projected_stock(5, np.array([2.0, 2, 2, 2]), [(2, 10)])
    assert proj.tolist() == [3, 1, 9, 7] and plan.first_negative(proj) is None
    assert plan.first_negative(plan.projected_stock(5, np.array([2.0, 2, 2, 2]))) == 2


def test_demand_quantile_matches_normal_for_large_means():
    assert plan.demand_quantile(10_000, 10_000, 0.95) == pytest.approx(10_000 + 1.6449 * 100, abs=3)
    assert plan.demand_quantile(100, 0, 0.95) == 100
    assert plan.demand_quantile(0, 5, 0.95) == 0


def test_abc_xyz_classes():
    revenue = pd.Series([700.0, 200, 60, 40])
    cv = pd.Series([0.2, 0.7, 1.5, 0.4])
    classes = plan.abc_xyz(revenue, cv)
    # A while the share of larger SKUs is under 80% (the SKU crossing 80% is still A), B under 95%.
    assert classes["sku_class"].tolist() == ["AX", "AY", "BZ", "CX"]


def _series(sku="S1", market="UK", model="gbm", sku_class="AX"):
    return pd.DataFrame([{"seller_sku": sku, "market": market, "product_name": "Mug", "model": model, "is_new": False,
                          "sku_class": sku_class, "units_91d": 900.0, "returns_91d": 10.0}])


def _stock(**over):
    row = {"seller_sku": "S1", "warehouse": "W1", "market": "UK", "product_name": "Mug", "as_of": dt.date(2026, 1, 2),
           "on_hand": 100, "inbound_qty": 0, "inbound_eta": None, "lead_time_days": 20.0, "lead_time_std_days": 0.0,
           "moq": 50, "case_pack": 12, "landed_cost": 2.5, "currency": "GBP"}
    return pd.DataFrame([{**row, **over}])


class _Params:
    reporting_currency = "USD"

    def fx_rate(self, currency, on):
        return 1.3, dt.date(2025, 1, 1)

    def market(self, code):
        raise AssertionError("currency is given")


def test_plan_arithmetic_on_a_flat_forecast():
    options = RestockOptions(review_period_days=7)
    daily = np.full((1, 120), 10.0)
    rows, projections = plan.build_plan(_stock(), _series(), daily, dt.date(2026, 1, 1), (0.0, 0.0), options, _Params())
    r = rows.iloc[0]
    # No forecast error and no lead-time variability: no safety stock, quantiles equal the means.
    assert r.demand_lead_time == 200 and r.demand_protection == 270
    assert r.reorder_point == pytest.approx(200) and r.safety_stock == pytest.approx(0)
    assert r.order_qty_needed == pytest.approx(170) and r.order_qty == 180  # 15 cases of 12
    assert r.days_of_cover == pytest.approx(10) and r.stockout_date == dt.date(2026, 1, 12)
    assert r.status == "stockout_risk"  # runs out on day 10, an order lands on day 20
    assert r.units_short_before_replenishment == pytest.approx(100)
    assert r.cash_tied_up_local == pytest.approx(250) and r.cash_tied_up == pytest.approx(325)
    assert r.order_value_local == pytest.approx(450)
    assert projections["S1|W1"]["with_order"][20] == pytest.approx(100 - 210 + 180)


def test_plan_safety_stock_grows_with_error_and_lead_time_variability():
    options = RestockOptions()
    daily = np.full((1, 120), 10.0)
    base, _ = plan.build_plan(_stock(on_hand=1000), _series(), daily, dt.date(2026, 1, 1), (5.0, 0.0), options, _Params())
    vary, _ = plan.build_plan(_stock(on_hand=1000, lead_time_std_days=5.0), _series(), daily, dt.date(2026, 1, 1), (5.0, 0.0),
                              options, _Params())
    assert 0 < base.safety_stock[0] < vary.safety_stock[0]
    assert base.status[0] == "ok" and base.order_qty[0] == 0
    inbound, _ = plan.build_plan(_stock(on_hand=50, inbound_qty=1000, inbound_eta=dt.date(2026, 1, 5)), _series(), daily,
                                 dt.date(2026, 1, 1), (0.0, 0.0), options, _Params())
    assert inbound.stockout_date[0] is None and inbound.days_of_cover[0] == pytest.approx(5)


def test_croston_family_on_a_regular_intermittent_series():
    x = np.tile([0.0, 0.0, 3.0], 60)[None, :]
    assert _intermittent(x, "croston")[0] == pytest.approx(1.0)
    assert _intermittent(x, "sba")[0] == pytest.approx(0.95)
    assert _intermittent(x, "tsb")[0] == pytest.approx(1.0, abs=0.15)  # its probability swings with each demand
    censored = x.copy()
    censored[0, 100:130] = np.nan  # a stock-out is skipped, not learned as zeros
    assert _intermittent(censored, "croston")[0] == pytest.approx(1.0)


def test_calendar_holds_the_mega_sales_and_one_shoulder_per_day():
    cal = load_calendar(["UK", "TH", "ID", "MY", "US"])
    uk = cal[(cal["market"] == "UK") & (cal["role"] == "event")]
    assert dt.date(2026, 11, 27) in set(uk.loc[uk["key"] == "black_friday", "date"])
    assert dt.date(2026, 11, 30) in set(uk.loc[uk["key"] == "cyber_monday", "date"])
    assert {dt.date(2025, 11, 11), dt.date(2026, 11, 11), dt.date(2027, 11, 11)} <= set(uk.loc[uk["key"] == "double_11", "date"])
    ramadan = cal[(cal["market"] == "ID") & (cal["key"] == "ramadan")]
    assert len(ramadan) > 80 and ramadan["uncertain"].all()
    shoulders = cal[cal["role"] != "event"]
    assert not shoulders.duplicated(["market", "date"]).any()
    assert not (set(zip(shoulders["market"], shoulders["date"])) & set(zip(cal.loc[cal["role"] == "event", "market"],
                                                                             cal.loc[cal["role"] == "event", "date"])))


def test_event_uplift_is_estimated_from_history_not_written_down():
    rng = np.random.default_rng(0)
    dates = pd.date_range("2025-09-01", "2026-01-31", freq="D")
    n = 80
    lam = np.full((n, len(dates)), 6.0)
    bf = dates.get_loc(pd.Timestamp("2025-11-28"))
    lam[:, bf] *= 3.0
    y = rng.poisson(lam).astype(float)
    meta = pd.DataFrame({"seller_sku": [f"S{i}" for i in range(n)], "market": "UK", "category": "c", "start_idx": 0})
    panel = Panel(dates, meta, y, np.zeros_like(y, dtype=bool), np.full(y.shape, 5.0), np.zeros_like(y))
    panel.meta = describe_series(panel, 56)
    cal = load_calendar(["UK"])
    up = fit_events(panel, cal).uplifts.set_index("effect")
    assert up.at["black_friday", "uplift"] == pytest.approx(3.0, abs=0.15)
    assert up.at["black_friday", "lo"] < up.at["black_friday", "uplift"] < up.at["black_friday", "hi"]
    assert up.at["double_11", "uplift"] == pytest.approx(1.0, abs=0.15)  # no planted effect: none found
    assert up.at["black_friday", "source"] == "history"


def test_model_choice_switches_only_on_consistent_evidence():
    rows = []
    for origin in ["o1", "o2", "o3"]:
        for series in (0, 1):
            for model, err in (("gbm", 10.0), ("ets", 2.0 if series == 1 else 20.0)):
                rows.append({"origin": origin, "series": series, "model": model, "total_ok": True,
                             "actual_total": 100.0, "forecast_total": 100.0 + err})
    choice = backtest.choose_models(pd.DataFrame(rows))
    assert choice.to_dict() == {0: "gbm", 1: "ets"}
    assert backtest.choose_models(pd.DataFrame(rows), per_series=False).to_dict() == {0: "gbm", 1: "gbm"}


MALICIOUS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1:A2)", "\tcmd", "\rcmd"]


def test_exports_neutralise_formula_injection(tmp_path):
    frame = pd.DataFrame({"seller_sku": ["S1"] * len(MALICIOUS), "product_name": MALICIOUS, "order_qty": [12] * len(MALICIOUS),
                          "delta": [-5.0] * len(MALICIOUS)})
    safe = frame.map(spreadsheet.neutralise)
    assert all(v.startswith("'") for v in safe["product_name"]) and safe["delta"].tolist() == [-5.0] * len(MALICIOUS)
    xlsx = spreadsheet.write_xlsx(safe, tmp_path / "p.xlsx", sheet="purchase")
    ws = load_workbook(xlsx).active
    cells = [ws.cell(row=i + 2, column=2) for i in range(len(MALICIOUS))]
    assert all(c.data_type == "s" and c.value.startswith("'") for c in cells)
    assert ws.cell(row=2, column=4).value == -5  # numbers stay numbers
    path = spreadsheet.write_csv(safe, tmp_path / "p.csv")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        read = list(csv.DictReader(fh))
    assert [r["product_name"] for r in read] == ["'" + m for m in MALICIOUS]


def test_suggestion_table_labels_and_neutralises():
    options = RestockOptions()
    rows, _ = plan.build_plan(_stock(product_name="=cmd|' /C calc'!A0"), _series().assign(product_name="=cmd|' /C calc'!A0"),
                              np.full((1, 120), 1.0), dt.date(2026, 1, 1), (0.0, 0.0), options, _Params())
    table = export.suggestion_table(rows, "zh")
    assert "建议采购量" in table.columns
    assert table["商品"].iloc[0].startswith("'=")


def test_options_default_when_params_have_no_restock_section():
    from shopkpi.restock.options import restock_options

    class Bare:
        pass

    assert restock_options(Bare()).review_period_days == 7
    with pytest.raises(ValueError):
        RestockOptions(service_levels={"AX": 1.2})


def _panel(y: np.ndarray, start="2025-09-01", market="UK") -> Panel:
    dates = pd.date_range(start, periods=y.shape[1], freq="D")
    meta = pd.DataFrame({"seller_sku": [f"S{i}" for i in range(len(y))], "market": market, "category": "c", "start_idx": 0})
    panel = Panel(dates, meta, y, np.zeros_like(y, dtype=bool), np.full(y.shape, 5.0), np.zeros_like(y))
    panel.meta = describe_series(panel, 56)
    return panel


def test_closed_days_and_a_closed_weekday_are_forecast_zero_and_not_learned():
    from shopkpi.restock.models import Context, forecast_all
    from shopkpi.restock.options import ExtraEvent

    rng = np.random.default_rng(2)
    dates = pd.date_range("2025-09-01", periods=140, freq="D")
    lam = np.where(dates.day_of_week == 5, 0.0, 8.0)[None, :].repeat(40, axis=0)  # never open on Saturdays
    closed = [dt.date(2025, 10, 6), dt.date(2025, 11, 3), dt.date(2026, 1, 26)]  # Mondays: two past, one future
    for d in closed[:2]:
        lam[:, dates.get_loc(pd.Timestamp(d))] = 0.0
    panel = _panel(rng.poisson(lam).astype(float))
    cal = load_calendar(["UK"], [ExtraEvent(market="UK", key="shut", name="Shop shut", kind="closed",
                                            dates=[d.isoformat() for d in closed])])
    events = fit_events(panel, cal)
    shut = events.uplifts.set_index("effect").loc["shut"]
    assert shut["uplift"] == 0.0 and shut["source"] == "closed"
    ctx = Context(panel, events, 28)
    assert np.isnan(ctx.base[:, dates.get_loc(pd.Timestamp(closed[0]))]).all()  # a closed day is not zero demand
    f = forecast_all(ctx, ["gbm", "tsb", "ets", "moving_average"], np.arange(5))
    future = pd.Series(range(28), index=ctx.future_dates.date)
    saturdays = (ctx.future_dates.day_of_week == 5)
    for name in ("gbm", "tsb"):
        assert (f[name][:, future[closed[2]]] == 0).all() and (f[name][:, saturdays] == 0).all(), name
        open_days = ~saturdays & (ctx.future_dates.date != closed[2])
        assert f[name][:, open_days].mean() == pytest.approx(8.0, rel=0.2), name  # the closures did not drag it down
    assert np.isnan(f["ets"][5:]).all() and (f["ets"][:5, saturdays] == 0).all()  # local model only on the given rows


def test_an_unlisted_shop_wide_empty_day_is_censored(tmp_path):
    import duckdb
    from shopkpi.restock.demand import load_panel

    con = duckdb.connect()
    rows = []
    for day in pd.date_range("2025-09-01", "2025-10-31"):
        if day.date() == dt.date(2025, 10, 8) or day.day_of_week == 5:  # an export gap, and a shop shut on Saturdays
            continue
        for sku in ("A", "B"):
            rows.append((f"o{day:%m%d}{sku}", 1, sku, f"{sku} mug", "UK", "GBP", 2, 5.0, 10.0, day + pd.Timedelta(hours=12),
                         day.date(), "b1", False, False))
    # A wholesale order cancelled by the same buyer minutes later, and a customer return matching no order.
    rows.append(("o-big", 1, "A", "A mug", "UK", "GBP", 5000, 1.0, 5000.0, pd.Timestamp("2025-09-10 09:00"), dt.date(2025, 9, 10), "b2", False, False))
    rows.append(("Co-big", 1, "A", "A mug", "UK", "GBP", -5000, 1.0, -5000.0, pd.Timestamp("2025-09-10 09:20"), dt.date(2025, 9, 10), "b2", True, False))
    rows.append(("Cr", 1, "B", "B mug", "UK", "GBP", -3, 5.0, -15.0, pd.Timestamp("2025-09-12 10:00"), dt.date(2025, 9, 12), "b3", True, False))
    frame = pd.DataFrame(rows, columns=[  # noqa: F841 (DuckDB reads `frame` by name)
                                        "order_id", "line_no", "sku", "product_name", "market", "currency", "quantity", "unit_price",
                                        "line_amount", "ordered_at", "ordered_local_date", "buyer_hash", "is_cancellation",
                                        "is_non_product"])
    con.execute("CREATE TABLE sales_lines AS SELECT * FROM frame")

    class P:
        markets = [type("M", (), {"code": "UK", "currency": "GBP"})()]

    panel = load_panel(con, P(), dt.date(2025, 10, 31), RestockOptions())
    gap = panel.dates.get_loc(pd.Timestamp("2025-10-08"))
    assert np.isnan(panel.y[:, gap]).all() and panel.censored[:, gap].all() and "2025-10-08" in panel.notes[0]
    saturday = panel.dates.get_loc(pd.Timestamp("2025-09-06"))
    assert (panel.y[:, saturday] == 0).all() and not panel.censored[:, saturday].any()  # a weekday never sold: zero
    a = int(np.flatnonzero(panel.meta["seller_sku"] == "A")[0])
    b = int(np.flatnonzero(panel.meta["seller_sku"] == "B")[0])
    sep10, sep12 = panel.dates.get_loc(pd.Timestamp("2025-09-10")), panel.dates.get_loc(pd.Timestamp("2025-09-12"))
    assert panel.y[a, sep10] == 2 and panel.returns[a].sum() == 0  # the cancelled order is gone, not a return
    assert panel.returns[b, sep12] == 3 and panel.y[b, sep12] == 2  # the unmatched cancellation is a return


def test_global_model_stays_bounded_on_a_wholesale_spike():
    from shopkpi.restock.models import Context, GlobalModel

    rng = np.random.default_rng(4)
    y = rng.poisson(0.3, (60, 200)).astype(float)
    y[:5, 150] = 20_000.0  # one giant order on quiet series
    panel = _panel(y)
    ctx = Context(panel, fit_events(panel, load_calendar(["UK"])), 30)
    f = GlobalModel(ctx).fit(30).predict()
    assert np.isfinite(f).all() and f.max() < 20_000
