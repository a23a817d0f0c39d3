"""KPI targets: actuals, attainment, pace, top-down splits, templates and params validation."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from shopkpi import paths
from shopkpi.errors import ParamsError
from shopkpi.periods import parse_period
from shopkpi.targets.config import SplitRule, TargetItem, TargetsConfig
from shopkpi.targets.progress import bottom_up_gaps, evaluate, pace

NOV = parse_period("2026-11")


def _actuals(rows):
    df = pd.DataFrame(rows, columns=["day", "market", "team", "person", "kpi", "num", "den"])
    df["den"] = df["den"].astype(float)
    return df


def _daily(kpi, values, start=dt.date(2026, 11, 1), market="UK", team="", person="", den=None):
    return [(start + dt.timedelta(days=i), market, team, person, kpi, v, den[i] if den else None) for i, v in enumerate(values)]


def test_pace_projects_the_run_rate_with_an_interval_and_the_daily_need():
    values = [100.0, 120.0, 80.0, 100.0, 110.0, 90.0, 100.0, 100.0, 120.0, 80.0]
    actuals = _actuals(_daily("gmv_net", values))
    out = pace(actuals, "gmv_net", NOV, dt.date(2026, 11, 10), pd.Series(True, index=actuals.index), 3000.0, window_days=10)
    assert out["actual"] == pytest.approx(1000.0)
    assert out["remaining_days"] == 20
    assert out["projection"] == pytest.approx(1000.0 + 20 * 100.0)
    sd = pd.Series(values).std(ddof=1)
    assert out["projection_high"] - out["projection"] == pytest.approx(1.959964 * sd * 20 ** 0.5)
    assert out["needed_per_day"] == pytest.approx((3000.0 - 1000.0) / 20)


def test_ratio_kpis_are_recomputed_from_sums_not_averaged():
    # Day 1: 10 / 1 = 10; day 2: 1000 / 100 = 10... make them differ: day 2 AOV 2.
    actuals = _actuals(_daily("aov", [10.0, 200.0], den=[1, 100]))
    config = TargetsConfig(items=[TargetItem(period="2026-11", kpi="aov", value=5)])
    row = evaluate(config, actuals, parse_period("2026-W45")).iloc[0]
    assert row["actual"] == pytest.approx(210.0 / 101.0)  # the mean of daily ratios would be 6.0


def test_status_follows_the_projection_interval():
    flat = _actuals(_daily("orders", [10.0] * 15))
    week = parse_period("2026-W46")  # ends 15 Nov: 15 of 30 days
    config = TargetsConfig(items=[TargetItem(period="2026-11", kpi="orders", value=v) for v in (290, 400, 150)])
    # Constant days have no spread: the projection is exactly 300.
    statuses = evaluate(config, flat, week).set_index("target")["status"].to_dict()
    assert statuses == {290.0: "on_track", 400.0: "off_pace", 150.0: "met"}


def test_top_down_split_uses_last_years_shares_and_adds_up():
    rows = _daily("gmv_net", [30.0] * 30, start=dt.date(2025, 11, 1), market="UK")
    rows += _daily("gmv_net", [10.0] * 30, start=dt.date(2025, 11, 1), market="TH")
    rows += _daily("gmv_net", [50.0] * 15, market="UK") + _daily("gmv_net", [50.0] * 15, market="TH")
    config = TargetsConfig(items=[TargetItem(period="2026-11", kpi="gmv_net", value=1000)],
                           split=[SplitRule(period="2026-11", kpi="gmv_net", to="market")])
    ev = evaluate(config, _actuals(rows), parse_period("2026-W46"))
    markets = ev[ev["level"] == "market"].set_index("market")
    assert markets.loc["UK", "target"] == pytest.approx(750.0)  # 75% of last November, not this month's 50%
    assert markets.loc["TH", "target"] == pytest.approx(250.0)
    assert set(markets["source"]) == {"top_down"}
    gaps = bottom_up_gaps(ev)
    assert gaps.loc[0, "gap"] == pytest.approx(0.0)


def test_explicit_targets_win_over_splits_and_templates():
    rows = _daily("gmv_net", [10.0] * 15, market="UK") + _daily("gmv_net", [10.0] * 15, market="TH")
    october = dt.date(2026, 10, 4)  # the 28 days before November: no data a year earlier
    rows += _daily("gmv_net", [5.0] * 28, start=october, market="UK") + _daily("gmv_net", [5.0] * 28, start=october, market="TH")
    rows += _daily("roas", [30.0] * 15, market="UK", team="ads", den=[10.0] * 15)
    config = TargetsConfig(stage="mature", items=[TargetItem(period="2026-11", kpi="gmv_net", value=1000),
                                                  TargetItem(period="2026-11", kpi="gmv_net", market="UK", value=900),
                                                  TargetItem(period="2026-11", kpi="roas", value=4)],
                           split=[SplitRule(period="2026-11", kpi="gmv_net", to="market")])
    ev = evaluate(config, _actuals(rows), parse_period("2026-W46"))
    uk = ev[(ev["level"] == "market") & (ev["market"] == "UK")].iloc[0]
    assert (uk["target"], uk["source"]) == (900, "explicit")
    roas = ev[(ev["kpi"] == "roas") & (ev["period"] == "2026-11")]
    assert list(roas["source"]) == ["explicit"]  # the mature template's 2.5 does not replace the client's 4
    assert ev[ev["kpi"] == "aov"]["source"].tolist() == ["template"] * len(ev[ev["kpi"] == "aov"])
    gap = bottom_up_gaps(ev).set_index("node").loc["company"]
    assert gap["gap"] == pytest.approx(1000 - 900 - 0.5 * 1000)  # TH split 50%, UK set by hand


@pytest.mark.parametrize("item, message", [
    ({"period": "2026-11", "kpi": "gmv_net", "value": 1, "person": "ana"}, "needs its team"),
    ({"period": "2026-13", "kpi": "gmv_net", "value": 1}, "month must be 01-12"),
    ({"period": "2026-11", "kpi": "gmv_net", "value": -5}, "greater than or equal to 0"),
])
def test_bad_targets_are_refused_with_the_field(workspace, item, message):
    from shopkpi.params import load_client_params

    file = workspace / "params" / "demo.yaml"
    file.write_text(file.read_text(encoding="utf-8").replace("targets_file: targets/demo.yaml", "")
                    + "\n" + f"  items: [{json.dumps(item)}]\n".replace("targets:\n", ""), encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        load_client_params("demo")
    assert message in str(info.value) and "targets.items" in str(info.value) and str(file) in str(info.value)


def test_unknown_kpi_names_the_known_ones():
    from shopkpi.targets.catalogue import check_kpi

    with pytest.raises(ParamsError, match="unknown KPI 'gvm'.*gmv_net"):
        check_kpi("gvm", "company", None)
    with pytest.raises(ParamsError, match="cannot be set at person level"):
        check_kpi("gmv_net", "person", "creators")


def test_targets_file_must_stay_inside_params(workspace):
    from shopkpi.params import load_client_params

    file = workspace / "params" / "demo.yaml"
    file.write_text(file.read_text(encoding="utf-8").replace("targets/demo.yaml", "../../etc/passwd"), encoding="utf-8")
    with pytest.raises(ParamsError, match="must be a file inside"):
        load_client_params("demo")


def test_demo_actuals_agree_with_the_weekly_report(demo_store):
    from shopkpi.clean import connect_clean
    from shopkpi.params import load_client_params
    from shopkpi.report import kpis_by_market, register_fx
    from shopkpi.targets.actuals import daily_actuals

    params = load_client_params("demo")
    con = connect_clean("demo")
    register_fx(con, params)
    week = parse_period("2026-W46")
    actuals = daily_actuals(con, week.end)
    in_week = actuals[(actuals["day"] >= week.start) & (actuals["day"] <= week.end)]
    by_market = kpis_by_market(con, week).set_index("market")
    for market in by_market.index:
        mine = in_week[in_week["market"] == market].groupby("kpi")["num"].sum()
        assert mine["gmv_net"] == pytest.approx(by_market.loc[market, "gmv_net"])
        assert mine["orders"] == by_market.loc[market, "orders"]
        assert mine["gmv_gross"] == pytest.approx(by_market.loc[market, "gmv_gross"])
    # Videos posted, counted a second way: distinct video ids straight from the store.
    videos = con.execute("SELECT count(DISTINCT video_id) FROM video_products WHERE posted_local_date BETWEEN ? AND ?",
                         [week.start, week.end]).fetchone()[0]
    assert in_week.loc[in_week["kpi"] == "videos_posted", "num"].sum() == videos > 0


def test_targets_artifact_from_the_pipeline(demo_run):
    data = json.loads((paths.artifacts_dir("demo", demo_run["period"]) / "targets.json").read_text(encoding="utf-8"))
    assert data["period"] == demo_run["period"] and data["targets"]
    company_week = [r for r in data["targets"] if r["period"] == demo_run["period"] and r["kpi"] == "gmv_net" and r["level"] == "company"]
    kpis = json.loads((paths.artifacts_dir("demo", demo_run["period"]) / "kpis.json").read_text(encoding="utf-8"))
    if company_week:
        assert company_week[0]["actual"] == pytest.approx(kpis["total"]["gmv_net"])
    alerts = json.loads((paths.artifacts_dir("demo", demo_run["period"]) / "alerts.json").read_text(encoding="utf-8"))
    pace = [a for a in alerts["alerts"] if a["kind"] == "kpi_pace"]
    assert sorted(a["id"] for a in pace) == sorted(a["id"] for a in data["alerts"])
    for alert in pace:
        assert alert["severity"] in {"critical", "warning", "info"} and alert["action"]["en"] and alert["action"]["zh"]
