"""KPI targets: actuals, attainment, pace, top-down splits, templates and params validation."""

from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

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


# --- Roles, the new KPIs and shops -------------------------------------------------------------------------------

W46 = parse_period("2026-W46")


def _demo_actuals(config=None, end=W46.end):
    """The demo store's actuals with the demo's people (or `config`), and a connection for the hand calculations."""
    from shopkpi.clean import connect_clean
    from shopkpi.params import load_client_params
    from shopkpi.report import register_fx
    from shopkpi.targets.actuals import daily_actuals

    params = load_client_params("demo")
    con = connect_clean("demo")
    register_fx(con, params)
    return params, con, daily_actuals(con, end, config or params.targets)


def _role_value(actuals, config, role, person, kpi, period=W46):
    from shopkpi.targets.actuals import node_mask
    from shopkpi.targets.progress import actual_value

    return actual_value(actuals, kpi, period.start, period.end, node_mask(actuals, person=person, role=role, config=config))


def _rate(params, currency, day=W46.end):
    return params.fx_rate(currency, day)[0]


def test_role_actuals_equal_a_hand_calculation_from_the_store(demo_store):
    params, con, actuals = _demo_actuals()
    config = params.targets
    week = [W46.start, W46.end]
    gbp = _rate(params, "GBP")  # one rate covers the week (in force since 2026-01-01)

    # Video editor: the tagging sheet's Editor column joined to the Video Data rows (pandas, not our SQL).
    vp = con.execute("SELECT * FROM video_products WHERE posted_local_date BETWEEN ? AND ?", week).df()
    tags = con.execute("SELECT video_id, editor FROM content_tags").df()
    mia = vp.merge(tags, on="video_id")
    mia = mia[(mia["editor"] == "Mia") & (mia["market"] == "UK")]
    assert _role_value(actuals, config, "video_editor", "Mia", "videos_posted") == mia["video_id"].nunique() > 0
    assert _role_value(actuals, config, "video_editor", "Mia", "video_gmv") == pytest.approx(float(mia["gmv"].astype(float).sum()) * gbp)
    assert _role_value(actuals, config, "video_editor", "Mia", "content_cvr") == pytest.approx(mia["orders"].sum() / mia["product_clicks"].sum())
    once = mia.sort_values("export_as_of", ascending=False).drop_duplicates("video_id")
    assert _role_value(actuals, config, "video_editor", "Mia", "watch_hours") == pytest.approx(
        (once["views"] * once["avg_watch_time_s"]).sum() / 3600)

    # Ad buyer: campaigns named UK_* (Sam's pattern) in the Ads Manager rows.
    ads = con.execute("SELECT campaign_name, cost, complete_payment_value FROM ad_stats WHERE report_date BETWEEN ? AND ?", week).df()
    sam = ads[ads["campaign_name"].str.lower().str.startswith("uk_")]
    assert len(sam) and _role_value(actuals, config, "ad_buyer", "Sam", "ad_spend") == pytest.approx(float(sam["cost"].astype(float).sum()) * gbp)
    assert _role_value(actuals, config, "ad_buyer", "Sam", "roas") == pytest.approx(
        float(sam["complete_payment_value"].astype(float).sum()) / float(sam["cost"].astype(float).sum()))

    # Operator: the whole UK shop's net GMV and orders, summed straight from the clean orders.
    net, orders = con.execute("""SELECT sum(order_amount - coalesce(order_refund_amount, 0)), count(*) FROM clean_orders
                                 WHERE market = 'UK' AND exclusion_reason IS NULL AND paid_local_date BETWEEN ? AND ?""", week).fetchone()
    assert _role_value(actuals, config, "operator", "Lin", "gmv_net") == pytest.approx(float(net) * gbp)
    assert _role_value(actuals, config, "operator", "Lin", "orders") == orders

    # LIVE host: the sessions of the host's handle.
    live = con.execute("SELECT * FROM live_sessions WHERE creator = 'lumahome.uk' AND started_local_date BETWEEN ? AND ?", week).df()
    assert _role_value(actuals, config, "live_host", "lumahome.uk", "live_hours") == pytest.approx(live["duration_s"].sum() / 3600)
    assert _role_value(actuals, config, "live_host", "lumahome.uk", "watch_hours") == pytest.approx(
        (live["viewers"] * live["avg_view_duration_s"]).sum() / 3600)


def test_company_watch_hours_and_content_cvr_add_videos_and_live(demo_store):
    from shopkpi.targets.progress import actual_value

    params, con, actuals = _demo_actuals()
    week = [W46.start, W46.end]
    vp = con.execute("SELECT * FROM video_products WHERE posted_local_date BETWEEN ? AND ?", week).df()
    live = con.execute("SELECT * FROM live_sessions WHERE started_local_date BETWEEN ? AND ?", week).df()
    once = vp.sort_values("export_as_of", ascending=False).drop_duplicates(["video_id", "currency"])
    hours = ((once["views"] * once["avg_watch_time_s"]).sum() + (live["viewers"] * live["avg_view_duration_s"]).sum()) / 3600
    everything = pd.Series(True, index=actuals.index)
    assert actual_value(actuals, "watch_hours", W46.start, W46.end, everything) == pytest.approx(hours)
    cvr = (vp["orders"].sum() + live["orders"].sum()) / (vp["product_clicks"].sum() + live["product_clicks"].sum())
    assert actual_value(actuals, "content_cvr", W46.start, W46.end, everything) == pytest.approx(cvr)
    # Crediting rows to people never adds to the company: the role rows are the team rows, not copies.
    assert actual_value(actuals, "videos_posted", W46.start, W46.end, everything) == once["video_id"].nunique()


def test_leaderboards_per_role_score_with_the_points_rules(demo_store):
    from shopkpi.targets.progress import evaluate
    from shopkpi.targets.scorecard import BOARDS, leaderboard

    params, _, actuals = _demo_actuals()
    config = params.targets
    month = parse_period("2026-11")
    evaluated = evaluate(config, actuals, W46)
    boards = {b: leaderboard(actuals, evaluated, config, W46, b) for b in BOARDS}
    assert set(boards) == {"creators", "operator", "video_editor", "live_host", "ad_buyer"}
    editors = boards["video_editor"].set_index("person")
    assert set(editors.index) == {"Mia", "Tom", "Ploy", "Nat", "Fah"}
    for name, row in editors.iterrows():
        assert row["videos_posted"] == _role_value(actuals, config, "video_editor", name, "videos_posted")
        met = int(((evaluated["role"] == "video_editor") & (evaluated["person"] == name) & (evaluated["attainment"] >= 1)).sum())
        assert row["points"] == pytest.approx(config.points.video_posted * row["videos_posted"] + config.points.attainment_bonus * met
                                              + config.points.gmv_per_1000 * row["video_gmv"] / 1000)
    assert list(boards["video_editor"]["rank"]) == list(range(1, len(editors) + 1))
    assert boards["video_editor"]["points"].is_monotonic_decreasing
    assert set(boards["operator"]["person"]) == {"Lin", "Arthit"} and set(boards["ad_buyer"]["person"]) == {"Sam", "Kan"}
    ops = boards["operator"].set_index("person")
    assert ops.loc["Lin", "gmv_net"] == pytest.approx(_role_value(actuals, config, "operator", "Lin", "gmv_net"))
    # Person targets of a role appear on that role's board; the month's Mia target is one of them.
    mia = evaluated[(evaluated["role"] == "video_editor") & (evaluated["person"] == "Mia") & (evaluated["period"] == month.name)]
    assert len(mia) == 1 and editors.loc["Mia", "targets"] == 1
    # Sam's ROAS target is judged on his campaigns only, not on the UK ads team.
    sam = evaluated[(evaluated["role"] == "ad_buyer") & (evaluated["person"] == "Sam")].iloc[0]
    month_to_date = SimpleNamespace(start=month.start, end=W46.end)
    assert sam["actual"] == pytest.approx(_role_value(actuals, config, "ad_buyer", "Sam", "roas", period=month_to_date))


def test_shops_of_a_market_are_told_apart_by_their_files(demo_store):
    """Shops declared by file patterns: each shop's net GMV is that of the orders whose export file is its own.

    The demo has one shop per market, so its order exports are split here by name only to exercise the mechanism.
    """
    from shopkpi.targets.progress import actual_value

    params, con, _ = _demo_actuals()
    shops = [{"name": "Recent", "market": "UK", "files": ["UK/orders/All order-2026-1*"]},
             {"name": "Old", "market": "UK", "files": ["UK/orders/All order-2025-*"]}]
    config = TargetsConfig(shops=shops, items=[TargetItem(period="2026-W46", kpi="gmv_net", market="UK", shop="Recent", value=1)])
    _, _, actuals = _demo_actuals(config)
    orders = con.execute("""
        SELECT o.order_id, o.paid_local_date, (o.order_amount - coalesce(o.order_refund_amount, 0)) * fx.rate AS net
        FROM clean_orders o ASOF JOIN fx ON o.currency = fx.currency AND o.paid_local_date >= fx.valid_from
        WHERE o.market = 'UK' AND o.exclusion_reason IS NULL AND o.paid_local_date <= ?""", [W46.end]).df()
    file_of = con.execute("SELECT order_id, source_file FROM clean_lines WHERE market = 'UK'").df().groupby("order_id")["source_file"].min()
    orders["file"] = orders["order_id"].map(file_of)
    by_shop = {"Recent": orders["file"].str.startswith("UK/orders/All order-2026-1"),
               "Old": orders["file"].str.startswith("UK/orders/All order-2025-")}
    by_shop[""] = ~(by_shop["Recent"] | by_shop["Old"])
    uk = actuals[(actuals["market"] == "UK") & (actuals["kpi"] == "gmv_net")]
    for shop, mine in by_shop.items():
        assert mine.any() and uk.loc[uk["shop"] == shop, "num"].sum() == pytest.approx(float(orders.loc[mine, "net"].sum()))
    ev = evaluate(config, actuals, W46)
    shop_row = ev[ev["level"] == "shop"].iloc[0]
    assert shop_row["node"] == "UK / Recent"
    in_week = pd.to_datetime(orders["paid_local_date"]).dt.date.between(W46.start, W46.end) & by_shop["Recent"]
    assert shop_row["actual"] == pytest.approx(float(orders.loc[in_week, "net"].sum()))
    assert actual_value(actuals, "gmv_net", W46.start, W46.end, actuals["market"] == "UK") >= shop_row["actual"]


def test_patterns_claimed_twice_are_refused():
    import duckdb

    from shopkpi.targets.actuals import campaign_owners, file_shops

    con = duckdb.connect()
    con.execute("CREATE TABLE ad_stats AS SELECT 'UK' AS market, 'UK_SparkAds_2026Q4_Creators' AS campaign_name, 'UK/ads/a.csv' AS source_file")
    config = TargetsConfig(people=[{"name": "Sam", "role": "ad_buyer", "campaigns": ["uk_*"]},
                                   {"name": "Jo", "role": "ad_buyer", "campaigns": ["*_Creators"]}])
    with pytest.raises(ParamsError, match=r"UK_SparkAds_2026Q4_Creators.*several ad buyers \['Sam', 'Jo'\]"):
        campaign_owners(con, config)
    shops = TargetsConfig(shops=[{"name": "A", "market": "UK", "files": ["UK/*"]}, {"name": "B", "market": "UK", "files": ["*.csv"]}])
    with pytest.raises(ParamsError, match=r"UK/ads/a.csv.*several shops \['A', 'B'\]"):
        file_shops(con, {"ad_stats": {"market", "source_file"}}, shops)


@pytest.mark.parametrize("targets, message", [
    ({"people": [{"name": "Lin", "role": "operator"}]}, "operator 'Lin' needs `markets`"),
    ({"people": [{"name": "Sam", "role": "ad_buyer"}]}, "ad buyer 'Sam' needs `campaigns`"),
    ({"people": [{"name": "Mia", "role": "video_editor", "campaigns": ["UK_*"]}]}, "`campaigns` is for role ad_buyer"),
    ({"people": [{"name": "Lin", "role": "cook", "markets": ["UK"]}]}, "'operator', 'video_editor', 'live_host' or 'ad_buyer'"),
    ({"people": [{"name": "Sam", "role": "ad_buyer", "campaigns": ["UK_*"]}],
      "items": [{"period": "2026-11", "kpi": "roas", "role": "ad_buyer", "person": "Kim", "value": 3}]},
     "'Kim' is not declared as ad_buyer in `people` (known: ['Sam'])"),
    ({"items": [{"period": "2026-11", "kpi": "gmv_net", "role": "operator", "value": 3}]}, "role operator has nobody in `people`"),
    ({"items": [{"period": "2026-11", "kpi": "roas", "market": "UK", "team": "ads", "role": "ad_buyer", "value": 3}]},
     "a team or a role, not both"),
    ({"items": [{"period": "2026-11", "kpi": "gmv_net", "market": "UK", "shop": "North", "value": 3}]},
     "shop 'North' of UK is not in `shops`"),
    ({"shops": [{"name": "North", "market": "UK", "files": []}]}, "at least 1 item"),
])
def test_bad_people_and_shops_are_refused_with_the_field(workspace, targets, message):
    import yaml

    from shopkpi.params import load_client_params

    file = workspace / "params" / "demo.yaml"
    raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    raw.pop("targets_file")
    raw["targets"] = {"stage": "growth", **targets}
    file.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        load_client_params("demo")
    assert message in str(info.value) and "targets" in str(info.value) and str(file) in str(info.value)


def test_people_markets_and_role_kpis_are_checked():
    from shopkpi.targets.catalogue import check_kpi

    config = TargetsConfig(people=[{"name": "Lin", "role": "operator", "markets": ["US"]}])
    with pytest.raises(ValueError, match=r"people\[0\] \(Lin\): market\(s\) \['US'\] are not among the markets \['UK', 'TH'\]"):
        config.check_markets(["UK", "TH"])
    with pytest.raises(ParamsError, match="live_hours is not a KPI of role 'video_editor'.*live_host"):
        check_kpi("live_hours", "person", None, "video_editor")
    assert check_kpi("content_cvr", "role", None, "operator").ratio  # an operator carries every market KPI
    assert check_kpi("gmv_net", "shop", None).money


def test_role_targets_without_a_person_cover_everyone_credited_in_the_role():
    rows = [(dt.date(2026, 11, 2), "UK", "creators", "ana", "videos_posted", 3.0, None),
            (dt.date(2026, 11, 2), "UK", "creators", "bo", "videos_posted", 2.0, None)]
    actuals = _actuals(rows).assign(shop="", owner=["Mia", ""])
    config = TargetsConfig(items=[TargetItem(period="2026-11", kpi="videos_posted", role="video_editor", value=4),
                                  TargetItem(period="2026-11", kpi="videos_posted", role="video_editor", person="Mia", value=4),
                                  TargetItem(period="2026-11", kpi="videos_posted", value=4)])
    ev = evaluate(config, actuals, W46).set_index("node")
    assert ev.loc["video_editor", "actual"] == 3 and ev.loc["video_editor / Mia", "actual"] == 3
    assert ev.loc["company", "actual"] == 5  # bo's video has no editor: the company counts it, the role does not
    assert list(bottom_up_gaps(ev.reset_index()).query("node == 'video_editor'")["gap"]) == [0.0]


def test_cold_start_template_has_daily_watch_time():
    from shopkpi.targets.progress import _template_items

    config = TargetsConfig(stage="cold_start")
    items = {(i.period, i.kpi): i.value for i in _template_items(config, [W46, parse_period("2026-11")])}
    assert items[("2026-W46", "watch_hours")] == 70 and items[("2026-11", "watch_hours")] == 300
    assert items[("2026-W46", "orders")] == 1 and items[("2026-11", "new_creators")] == 10


@pytest.mark.parametrize("key", ["content_cvr", "watch_hours", "video_gmv", "node_operator", "node_video_editor",
                                 "node_live_host", "node_ad_buyer", "leaderboard_operator", "leaderboard_video_editor",
                                 "leaderboard_live_host", "leaderboard_ad_buyer", "people_roles", "review_role_leader"])
def test_new_labels_exist_in_both_languages(key):
    from shopkpi.dictionary import metrics, t

    zh, en = t(key, "zh"), t(key, "en")
    assert zh and en and zh != en
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh)  # Chinese, not the English copied
    if key in metrics():
        definition = metrics()[key]["definition"]
        assert definition["en"] and any("\u4e00" <= ch <= "\u9fff" for ch in definition["zh"])


def test_review_lines_give_projection_only_where_one_applies():
    from shopkpi.review import target_lines

    base = {"level": "market", "node": "UK", "kpi": "gmv_net", "target": 1000.0, "attainment": 0.5, "actual": 500.0,
            "projection_low": 800.0, "projection_high": 900.0}
    running = {**base, "period": "2026-11", "status": "off_pace", "remaining_days": 10, "projection": 850.0,
               "needed_per_day": 50.0}
    ended = {**base, "period": "2026-W46", "status": "missed", "remaining_days": 0, "projection": 500.0,
             "needed_per_day": None}
    for lang in ("en", "zh"):
        lines = target_lines(lang, {"targets": [running, ended], "leaderboards": {}, "reporting_currency": "USD"})
        assert len(lines) == 3 and "–" not in lines[2], lines
        assert "850" in lines[1] and "50" in lines[1]
        assert "USD 500" in lines[2] and "USD 1,000" in lines[2]  # money always with its currency


def test_review_charts_speak_the_report_language():
    """The English review draws its own charts: no Chinese label from the client-language run may leak in."""
    import re

    import matplotlib.pyplot as plt

    from shopkpi import plotting
    from shopkpi.review import attainment_chart, restock_chart

    plotting.setup()  # the report's style and a CJK font, as the notebooks set them
    target = {"level": "company", "node": "company", "kpi": "gmv_net", "period": "2026-11", "period_kind": "month",
              "depth": 0, "attainment": 0.4, "status": "off_pace", "projection": 800.0, "projection_low": 700.0,
              "projection_high": 900.0, "remaining_days": 10, "elapsed_share": 0.6, "target": 1000.0}
    plan = {"seller_sku": "LH-1", "warehouse": "UK-3PL", "status": "stockout_risk", "stockout_date": "2026-11-28",
            "stock_as_of": "2026-11-15", "days_of_cover": 13}
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for lang in ("en", "zh"):
        for fig in (attainment_chart(lang, {"targets": [target]}), restock_chart(lang, {"plan": [plan]})):
            ax = fig.axes[0]
            texts = [ax.get_title(), ax.get_xlabel()] + [label.get_text() for label in ax.get_yticklabels()]
            assert bool(cjk.search(" ".join(texts))) == (lang == "zh"), (lang, texts)
            plt.close(fig)
