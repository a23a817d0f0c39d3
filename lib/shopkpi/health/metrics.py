"""Weekly seller-performance metrics per market: computed from orders where possible, read from the export otherwise.

Each computed value keeps its numerator, denominator and the order ids behind the numerator,
so an alert can show which orders to look at. Weeks are each market's local Monday-Sunday.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from shopkpi.clean import connect_clean
from shopkpi.errors import NoDataError
from shopkpi.health.thresholds import health_rules
from shopkpi.params import ClientParams
from shopkpi.store import Store

COMPUTED = ["late_dispatch_rate", "seller_fault_cancellation_rate", "valid_tracking_rate", "on_time_delivery_rate",
            "seller_fault_return_rate"]
EXPORT_ONLY = ["response_rate_12h", "response_rate_24h", "negative_review_rate"]
METRICS = COMPUTED + EXPORT_ONLY
WEEK_COLUMNS = ["market", "week_start", "week_end", "metric", "source", "value", "numerator", "denominator",
                "ci_low", "ci_high", "order_ids", "platform_value"]


def _busday_end(local: pd.Series, days: int, weekmask: list[int]) -> pd.Series:
    """End (23:59:59.999) of the `days`-th business day after each local time; weekend times roll forward first."""
    out = pd.Series(pd.NaT, index=local.index, dtype="datetime64[us]")
    known = local.notna()
    if known.any():
        start = local[known].to_numpy().astype("datetime64[D]")
        due = np.busday_offset(start, days, roll="forward", weekmask=weekmask)
        out[known] = pd.to_datetime(due).astype("datetime64[us]") + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    return out


def order_facts(con, params: ClientParams) -> pd.DataFrame:
    """One row per order with local event times and the flags every health metric needs."""
    rules = health_rules()
    con.execute("CREATE OR REPLACE TEMP TABLE health_markets (market VARCHAR, tz VARCHAR)")
    con.executemany("INSERT INTO health_markets VALUES (?, ?)", [(m.code, m.timezone) for m in params.markets])
    excluded = [k for k in rules["excluded_order_kinds"]]
    exempt = [f.casefold() for f in rules["exempt_fulfillment_types"]]
    df = con.execute("""
        WITH o AS (
            SELECT order_id, any_value(market) AS market, any_value(exclusion_reason) AS exclusion_reason,
                   any_value(status_group) AS status_group, any_value(cancel_by) AS cancel_by,
                   any_value(cancel_reason) AS cancel_reason, any_value(cancel_return_type) AS cancel_return_type,
                   lower(any_value(fulfillment_type)) AS fulfillment_type,
                   -- An order is tracked only if every one of its lines carries a Tracking ID.
                   bool_and(tracking_id IS NOT NULL AND trim(tracking_id) <> '') AS has_tracking,
                   any_value(paid_at) AS paid_at, any_value(rts_at) AS rts_at, any_value(shipped_at) AS shipped_at,
                   any_value(delivered_at) AS delivered_at, any_value(cancelled_at) AS cancelled_at,
                   max(export_as_of) AS export_as_of
            FROM clean_lines GROUP BY order_id
        )
        SELECT o.order_id, o.market, o.exclusion_reason, o.status_group, o.cancel_by, o.cancel_reason,
               o.cancel_return_type, o.fulfillment_type, o.has_tracking,
               timezone(m.tz, o.paid_at) AS paid_local, timezone(m.tz, o.rts_at) AS rts_local,
               timezone(m.tz, o.shipped_at) AS shipped_local, timezone(m.tz, o.delivered_at) AS delivered_local,
               timezone(m.tz, o.export_as_of) AS as_of_local
        FROM o JOIN health_markets m USING (market)
        WHERE o.paid_at IS NOT NULL
    """).df()
    keep = ~df["exclusion_reason"].isin(excluded) & ~df["fulfillment_type"].fillna("").isin(exempt)
    df = df[keep].reset_index(drop=True)
    for col in ("paid_local", "rts_local", "shipped_local", "delivered_local", "as_of_local"):
        df[col] = pd.to_datetime(df[col]).astype("datetime64[us]")
    weekmask = rules["business_weekdays"]
    df["dispatch_deadline"] = _busday_end(df["paid_local"], rules["dispatch_sla_business_days"], weekmask)
    df["delivery_deadline"] = _busday_end(df["paid_local"], rules["delivery_sla_business_days"], weekmask)
    df["cancelled"] = df["status_group"].eq("cancelled")
    seller_by = {s.casefold() for s in rules["seller_cancel_by"]}
    df["seller_cancelled"] = df["cancelled"] & df["cancel_by"].fillna("").str.casefold().isin(seller_by)
    # Not yet at Ready to Ship when the export was pulled but already past the deadline: late, as the platform counts it.
    rts_or_now = df["rts_local"].fillna(df["as_of_local"])
    df["late_dispatch"] = ~df["cancelled"] & (rts_or_now > df["dispatch_deadline"])
    df["hours_late"] = (rts_or_now - df["dispatch_deadline"]).dt.total_seconds() / 3600
    df["on_time"] = df["delivered_local"].notna() & (df["delivered_local"] <= df["delivery_deadline"])
    reasons = {r.casefold() for r in rules["seller_fault_return_reasons"]}
    df["seller_fault_return"] = (df["cancel_return_type"].fillna("").str.casefold().str.contains("return")
                                 & df["cancel_reason"].fillna("").str.casefold().isin(reasons))
    return df


def _week_start(local: pd.Series) -> pd.Series:
    day = local.dt.normalize()
    return (day - pd.to_timedelta(day.dt.day_of_week, unit="D")).dt.date


# metric -> (event time that places an order in a week, denominator filter, numerator filter, evidence order)
_DEFINITIONS = {
    "late_dispatch_rate": ("paid_local", lambda d: ~d["cancelled"], lambda d: d["late_dispatch"], "hours_late"),
    "seller_fault_cancellation_rate": ("paid_local", lambda d: pd.Series(True, index=d.index), lambda d: d["seller_cancelled"], "paid_local"),
    "valid_tracking_rate": ("shipped_local", lambda d: d["shipped_local"].notna(), lambda d: d["has_tracking"], "shipped_local"),
    "on_time_delivery_rate": ("delivered_local", lambda d: d["delivered_local"].notna(), lambda d: d["on_time"], "delivered_local"),
    "seller_fault_return_rate": ("delivered_local", lambda d: d["delivered_local"].notna(), lambda d: d["seller_fault_return"], "delivered_local"),
}
# For rates where higher is better the orders to act on are those NOT in the numerator.
_EVIDENCE_IS_COMPLEMENT = {"valid_tracking_rate", "on_time_delivery_rate"}


def complete_weeks(first_day: dt.date, last_day: dt.date) -> list[dt.date]:
    """Mondays of the Monday-Sunday weeks that lie wholly inside [first_day, last_day]."""
    monday = first_day + dt.timedelta(days=(7 - first_day.weekday()) % 7)
    out = []
    while monday + dt.timedelta(days=6) <= last_day:
        out.append(monday)
        monday += dt.timedelta(days=7)
    return out


def computed_weekly(facts: pd.DataFrame, weeks: dict[str, list[dt.date]]) -> pd.DataFrame:
    """Numerator, denominator, rate, Wilson 95% interval and evidence order ids per market, week and metric."""
    rows = []
    for metric, (time_col, den_rule, num_rule, order_col) in _DEFINITIONS.items():
        d = facts[facts[time_col].notna()]
        d = d.assign(week_start=_week_start(d[time_col]))
        in_den = den_rule(d)
        d = d[in_den]
        num = num_rule(d).astype(bool)
        evidence = ~num if metric in _EVIDENCE_IS_COMPLEMENT else num
        for market, mondays in weeks.items():
            dm = d[d["market"] == market]
            for monday in mondays:
                dw = dm[dm["week_start"] == monday]
                n_num = int(num[dw.index].sum())
                ev = dw[evidence[dw.index]].sort_values([order_col, "order_id"], ascending=[False, True])
                rows.append({"market": market, "week_start": monday, "metric": metric, "numerator": n_num,
                             "denominator": len(dw), "order_ids": ev["order_id"].tolist()})
    out = pd.DataFrame(rows, columns=["market", "week_start", "metric", "numerator", "denominator", "order_ids"])
    out["value"] = out["numerator"] / out["denominator"].where(out["denominator"] > 0)
    has = out["denominator"] > 0
    low, high = proportion_confint(out.loc[has, "numerator"], out.loc[has, "denominator"], alpha=0.05, method="wilson")
    out.loc[has, "ci_low"], out.loc[has, "ci_high"] = low, high
    out["source"] = "computed"
    return out


def export_weekly(con) -> pd.DataFrame:
    """The platform's own weekly values from the shop_performance export, long format."""
    present = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'shop_performance'").fetchall()}
    cols = [m for m in METRICS if m in present]
    if not cols:
        return pd.DataFrame(columns=["market", "week_start", "metric", "platform_value"])
    wide = con.execute(f"""
        SELECT market, week_start, {', '.join(f'any_value({c}) AS {c}' for c in cols)}
        FROM shop_performance GROUP BY market, week_start
    """).df()
    wide["week_start"] = pd.to_datetime(wide["week_start"]).dt.date
    long = wide.melt(id_vars=["market", "week_start"], var_name="metric", value_name="platform_value")
    return long.dropna(subset=["platform_value"]).reset_index(drop=True)


def load_facts(client: str, params: ClientParams):
    """The clean-store connection and one row per countable paid order (see order_facts)."""
    store = Store(client)
    if not store.has("order_lines"):
        raise NoDataError(f"client {client!r}: the store has no order_lines table; ingest the Orders export first")
    con = connect_clean(client)
    facts = order_facts(con, params)
    if facts.empty:
        raise NoDataError(f"client {client!r}: no paid orders in order_lines to compute shop health from")
    return con, facts


def weekly_from_facts(con, facts: pd.DataFrame, params: ClientParams, with_export: bool = True) -> pd.DataFrame:
    weeks = {}
    for market, g in facts.groupby("market"):
        # The last day is the day before the newest export was pulled: that day may be incomplete.
        weeks[market] = complete_weeks(g["paid_local"].min().date(), g["as_of_local"].max().date() - dt.timedelta(days=1))
    computed = computed_weekly(facts, weeks)
    exported = export_weekly(con) if with_export else pd.DataFrame(columns=["market", "week_start", "metric", "platform_value"])
    out = computed.merge(exported, on=["market", "week_start", "metric"], how="outer")
    out["source"] = out["source"].fillna("export")
    only_export = out["source"].eq("export")
    out.loc[only_export, "value"] = out.loc[only_export, "platform_value"]
    out["week_start"] = pd.to_datetime(out["week_start"]).dt.date
    out["week_end"] = out["week_start"] + dt.timedelta(days=6)
    out["order_ids"] = out["order_ids"].apply(lambda v: v if isinstance(v, list) else [])
    for col in ("numerator", "denominator"):
        out[col] = out[col].astype("Int64")
    out = out[out["market"].isin([m.code for m in params.markets])]
    return out[WEEK_COLUMNS].sort_values(["market", "metric", "week_start"]).reset_index(drop=True)


def weekly_metrics(client: str, params: ClientParams) -> pd.DataFrame:
    """Every metric per market and complete local week: ours (computed) next to the platform's (export)."""
    con, facts = load_facts(client, params)
    return weekly_from_facts(con, facts, params, with_export=Store(client).has("shop_performance"))


def frozen_in_transit(facts: pd.DataFrame) -> pd.DataFrame:
    """Per market: shipped, undelivered orders whose newest export is older than the market's newest export.

    Their later delivery (and any return) is not in the store, so they are missing from the
    delivered-order metrics (on-time delivery, seller-fault returns) of the week they were delivered.
    """
    newest = facts.groupby("market")["as_of_local"].transform("max")
    frozen = (facts["shipped_local"].notna() & facts["delivered_local"].isna() & ~facts["cancelled"]
              & (facts["as_of_local"] < newest - pd.Timedelta(days=1)))
    return (facts[frozen].groupby("market").agg(orders=("order_id", "size"), last_paid=("paid_local", "max"))
            .reset_index())
