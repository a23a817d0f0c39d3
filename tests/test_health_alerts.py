"""Alert records, the alerts.json merge between kinds, and the page rendered from it in both languages."""

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from shopkpi.health import alerts as al
from shopkpi.health import page
from shopkpi.periods import parse_period


def _ctx(tmp_path, period="2026-W32", language="en"):
    # The params an alert writer reads: the name, the currency, and who owns alerts (one operator for TH).
    people = [SimpleNamespace(name="Arthit", role="operator", markets=["TH"], campaigns=[])]
    params = SimpleNamespace(display_name="Luma Home (demo)", reporting_currency="USD",
                             report=SimpleNamespace(account_lead="Wei"), targets=SimpleNamespace(people=people))
    return SimpleNamespace(client="demo", params=params, language=language,
                           period=parse_period(period), artifacts_dir=tmp_path / "artifacts")


def _health_alert(metric="late_dispatch_rate", severity="critical", market="TH", ids=30):
    return al.make_alert("shop_health", market, metric, "2026-W32", severity, 0.1388, 0.04, comparator="<",
                         period_start=dt.date(2026, 8, 3), period_end=dt.date(2026, 8, 9),
                         trend=[("2026-W31", 0.012), ("2026-W32", 0.1388)], trend_direction="worsening",
                         evidence={"numerator": 112, "denominator": 807, "ci_low": 0.116, "ci_high": 0.164,
                                   "order_ids": [f"5770{i:014d}" for i in range(ids)], "platform_value": 0.1388})


def _kpi_alert(metric="gmv_net", subject=""):
    return al.make_alert("kpi_pace", "UK", metric, "2026-W32", "warning", 0.82, 1.0, subject=subject, unit="number",
                         status="off_pace", comparator=">=", details={"target": 120000, "projection": 98400})


def test_make_alert_fills_the_schema():
    a = _health_alert()
    assert a["id"] == "shop_health:TH:late_dispatch_rate:2026-W32"
    assert len(a["evidence"]["order_ids"]) == al.MAX_EVIDENCE_ORDERS and a["evidence"]["order_ids_total"] == 30
    assert set(a["action"]) == {"en", "zh"} and all(a["action"].values())
    assert a["trend"] == {"direction": "worsening", "points": [{"period": "2026-W31", "value": 0.012},
                                                               {"period": "2026-W32", "value": 0.1388}]}
    kpi = _kpi_alert(subject="team:video")
    assert kpi["id"] == "kpi_pace:UK:team:video:gmv_net:2026-W32"
    assert kpi["action"] == al.corrective_action("kpi_pace") and kpi["details"]["target"] == 120000


@pytest.mark.parametrize("kwargs, message", [
    ({"kind": "stock"}, "kind must be one of"),
    ({"severity": "high"}, "severity must be one of"),
    ({"source": "guess"}, "source must be one of"),
    ({"action": {"en": "do it"}}, "no zh text"),
    ({"value": "lots"}, "value must be a number"),
    ({"comparator": "=="}, "comparator must be"),
])
def test_make_alert_refuses_what_is_outside_the_schema(kwargs, message):
    args = {"kind": "shop_health", "market": "UK", "metric": "valid_tracking_rate", "period": "2026-W24",
            "severity": "warning", "value": 0.9, "threshold": 0.95}
    args |= kwargs
    with pytest.raises(al.AlertError, match=message):
        al.make_alert(args.pop("kind"), args.pop("market"), args.pop("metric"), args.pop("period"), args.pop("severity"),
                      args.pop("value"), args.pop("threshold"), **args)


def test_trend_direction():
    assert al.trend_direction([0.01, 0.012, 0.011, 0.05], higher_is_better=False, tolerance=0.005) == "worsening"
    assert al.trend_direction([0.99, 0.99, 0.90], higher_is_better=True, tolerance=0.01) == "worsening"
    assert al.trend_direction([0.90, 0.91, 0.99], higher_is_better=True, tolerance=0.01) == "improving"
    assert al.trend_direction([0.01, 0.012], higher_is_better=False, tolerance=0.005) == "stable"
    assert al.trend_direction([0.01], higher_is_better=False, tolerance=0.005) is None


def test_write_alerts_merges_kinds(tmp_path):
    ctx = _ctx(tmp_path)
    al.write_alerts(ctx, [_kpi_alert()])
    al.write_alerts(ctx, [_health_alert(), _health_alert("seller_fault_return_rate", "warning")],
                    kinds=["shop_health"], details={"shop_health": {"status": [{"market": "TH"}]}})
    data = al.read_alerts(ctx.artifacts_dir / "alerts.json")
    assert set(data["kinds"]) == {"shop_health", "kpi_pace"}
    assert [a["severity"] for a in data["alerts"]] == ["critical", "warning", "warning"]
    assert data["counts"] == {"critical": 1, "warning": 2, "info": 0}
    assert data["kinds"]["shop_health"]["status"] == [{"market": "TH"}]
    # Each alert names who acts on it: the TH operator for a TH alert, the account lead for a company-wide one.
    owners = {a["market"]: a["owner"] for a in data["alerts"]}
    assert owners["TH"] == {"en": "operator Arthit", "zh": "运营 Arthit"}
    assert all(a["owner"]["en"] for a in data["alerts"])
    assert (data["period"], data["period_start"], data["period_end"]) == ("2026-W32", "2026-08-03", "2026-08-09")
    # A second shop-health run that finds nothing replaces only its own kind.
    al.write_alerts(ctx, [], kinds=["shop_health"])
    data = al.read_alerts(ctx.artifacts_dir / "alerts.json")
    assert data["kinds"]["shop_health"]["alerts"] == [] and len(data["kinds"]["kpi_pace"]["alerts"]) == 1
    assert [a["kind"] for a in data["alerts"]] == ["kpi_pace"]


def _write_many(tmp_path, kind, rounds):
    ctx = _ctx(tmp_path)
    for n in range(rounds):
        alert = _kpi_alert() if kind == "kpi_pace" else _health_alert()
        al.write_alerts(ctx, [alert], details={kind: {"round": n}})


def test_concurrent_writers_keep_each_others_kinds(tmp_path):
    """Shop health and targets run side by side with `run --workers`: neither may drop the other's last write."""
    import multiprocessing

    rounds = 40
    mp = multiprocessing.get_context("fork")
    procs = [mp.Process(target=_write_many, args=(tmp_path, kind, rounds)) for kind in ("kpi_pace", "shop_health")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    data = al.read_alerts(tmp_path / "artifacts" / "alerts.json")
    assert {k: data["kinds"][k]["round"] for k in ("kpi_pace", "shop_health")} == {"kpi_pace": rounds - 1, "shop_health": rounds - 1}


def test_write_alerts_refuses_bad_input(tmp_path):
    ctx = _ctx(tmp_path)
    with pytest.raises(al.AlertError, match="no alerts and no kinds"):
        al.write_alerts(ctx, [])
    with pytest.raises(al.AlertError, match="not one of"):
        al.write_alerts(ctx, [_kpi_alert()], kinds=["shop_health"])
    with pytest.raises(al.AlertError, match="duplicate alert ids"):
        al.write_alerts(ctx, [_health_alert(), _health_alert()])
    with pytest.raises(al.AlertError, match="missing field"):
        al.write_alerts(ctx, [{"kind": "shop_health", "id": "x"}])
    al.write_alerts(ctx, [_health_alert()])
    with pytest.raises(al.AlertError, match="holds period '2026-W32'"):
        al.write_alerts(_ctx(tmp_path, "2026-W33"), [_kpi_alert()])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_page_renders_every_label_in_both_languages(workspace, lang):
    from shopkpi import paths

    ctx = _ctx(workspace, language=lang)
    ctx.artifacts_dir = paths.artifacts_dir("demo", "2026-W32")
    status = [{"market": "TH", "metric": "late_dispatch_rate", "week_start": "2026-08-03", "source": "computed",
               "value": 0.1388, "numerator": 112, "denominator": 807, "platform_value": 0.1388, "threshold": 0.04,
               "comparator": "<", "status": "breach"},
              {"market": "TH", "metric": "response_rate_24h", "week_start": "2026-08-03", "source": "export",
               "value": 0.98, "numerator": None, "denominator": None, "platform_value": 0.98, "threshold": None,
               "comparator": None, "status": "no_threshold"}]
    comparison = [{"market": "TH", "metric": "late_dispatch_rate", "weeks": 42, "ours": 0.1388, "platform": 0.1388,
                   "difference": 0.0, "mean_abs_difference": 0.00003, "max_abs_difference": 0.00005, "status_disagreements": 0}]
    al.write_alerts(ctx, [_health_alert()], details={"shop_health": {"status": status, "comparison": comparison}})
    al.write_alerts(ctx, [_kpi_alert()])
    html = page.health_page_html("demo")
    assert 'data-alert-id="shop_health:TH:late_dispatch_rate:2026-W32"' in html
    assert "data-alert-id=\"kpi_pace:UK:gmv_net:2026-W32\"" in html
    assert "13.88%" in html and "112" in html and "807" in html and "577000000000000019" in html
    assert "577000000000000020" not in html  # only the first 20 orders are kept
    assert al.corrective_action("late_dispatch_rate")[lang] in html
    text = re.sub(r"<[^>]+>", " ", html.split("</style>")[-1])
    if lang == "zh":
        assert "Late dispatch" not in text and "Critical" not in text and "延迟发货率" in text
    else:
        assert "延迟发货率" not in text and "Critical" in text


def test_page_without_alerts_says_so(workspace):
    html = page.health_page_html("demo")
    assert "No shop-health alerts" in html
