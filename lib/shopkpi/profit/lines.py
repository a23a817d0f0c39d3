"""The P&L of each order line: settled amounts where a statement holds the order, else estimates, plus COGS.

One row per SKU line of a counted order (and of a free-sample order, whose cost is real) paid in the window.
Amounts are in the market's currency, signed as in the statement (fees negative). Steps:
revenue (item value after seller discounts, net of refunds) + shipping + platform fees + affiliate commission
+ GMV Max fees + adjustments + other statement items - COGS = contribution before other ads.

- Settled: the statement's rows for the order. Rows with a SKU ID belong to that line; rows without one (the
  per-order layout) are spread over the order's lines by item value after seller discount.
- Estimated: fees from the dated fee table, affiliate commission from the affiliate orders export (actual when
  paid, else its estimate), shipping from the orders export (buyer-paid + platform discount - original fee).
- COGS: landed cost from the newest stock plan with that SKU ID and currency x units kept (sold - returned; for a
  settled line the returned units are the statement's refunded share, newer than the Orders export).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from shopkpi.creators.costs import has_table as _has
from shopkpi.creators.costs import landed_costs
from shopkpi.profit.fees import STEPS, TOTAL, estimated_fees_sql, fee_lines

STEP_NAMES = list(STEPS) + ["other"]


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {r[0] for r in con.execute(f"SELECT column_name FROM (DESCRIBE {table})").fetchall()}


def base_lines_sql(where: str) -> str:
    """Order lines with their share of order-level money and the amounts net of refunds (the fee bases)."""
    return f"""
        WITH l AS (
            SELECT order_id || '|' || coalesce(sku_id, '') || '|' || source_row AS line_key,
                   order_id, sku_id, seller_sku, product_name, market, currency, product_category,
                   paid_local_date, created_local_date, CAST(timezone('UTC', delivered_at) AS DATE) AS delivered_date,
                   exclusion_reason, quantity, coalesce(return_quantity, 0) AS return_quantity,
                   CAST(subtotal_before_discount AS DOUBLE) AS before_discount,
                   CAST(coalesce(seller_discount, 0) AS DOUBLE) AS seller_discount,
                   CAST(coalesce(platform_discount, 0) AS DOUBLE) AS platform_discount,
                   CAST(subtotal_after_discount AS DOUBLE) AS after_discount,
                   CAST(coalesce(shipping_fee_after_discount, 0) AS DOUBLE) AS ship_paid_o,
                   CAST(coalesce(shipping_fee_platform_discount, 0) AS DOUBLE) AS ship_platform_o,
                   CAST(original_shipping_fee AS DOUBLE) AS ship_original_o,
                   CAST(coalesce(shipping_fee_seller_discount, 0) AS DOUBLE) AS ship_seller_o,
                   CAST(coalesce(order_amount, 0) - coalesce(small_order_fee, 0) AS DOUBLE) AS payment_o,
                   CAST(coalesce(o.refund_amount, 0) AS DOUBLE) AS refund_o,
                   CAST(coalesce(taxes, 0) AS DOUBLE) AS tax_o
            FROM clean_lines LEFT JOIN (SELECT order_id, refund_amount FROM clean_orders) o USING (order_id)
            WHERE ({where}) AND (exclusion_reason IS NULL OR exclusion_reason = 'sample_order')
        ), w AS (
            SELECT *, before_discount - seller_discount AS item,
                   CASE WHEN quantity > 0 THEN least(return_quantity, quantity) / quantity ELSE 0 END AS returned_share,
                   CASE WHEN sum(before_discount - seller_discount) OVER o > 0
                        THEN (before_discount - seller_discount) / sum(before_discount - seller_discount) OVER o
                        ELSE 1.0 / count(*) OVER o END AS share
            FROM l WINDOW o AS (PARTITION BY order_id)
        ), r AS (
            SELECT *, item * returned_share AS item_refund,
                   -- What the buyer got back beyond the returned items' price is shipping refunded.
                   greatest(refund_o - sum(after_discount * returned_share) OVER (PARTITION BY order_id), 0) * share AS ship_refund
            FROM w
        )
        SELECT *, item - item_refund AS item_kept, ship_paid_o * share - ship_refund AS ship_paid_kept,
               payment_o * share - (after_discount * returned_share + ship_refund) AS payment_kept,
               platform_discount * (1 - returned_share) AS platform_discount_kept, tax_o * share AS tax_line,
               (SELECT max(rate) FROM fee_rates f WHERE f.market = r.market AND f.fee_line = 'tiktok_shop_commission_fee'
                  AND f.category = '*') AS referral_rate
        FROM r
    """


def settled_sql(con: duckdb.DuckDBPyConnection) -> str:
    """Per line: the sum of each P&L step over the statement rows of its order (SKU rows direct, order rows spread)."""
    have = _columns(con, "settlements")
    sums = []
    for step, cols in STEPS.items():
        parts = [f"coalesce(s.{c}, 0)" for c in cols if c in have]
        sums.append(f"CAST({' + '.join(parts) if parts else '0'} AS DOUBLE) AS s_{step}")
    named = " + ".join(f"s_{step}" for step in STEPS)
    fee_cols = [c for c in STEPS["platform_fees"] if c in have]
    per_fee = ", ".join(f"CAST(coalesce(s.{c}, 0) AS DOUBLE) AS s_fee_{c}" for c in fee_cols)
    sku = "s.sku_id" if "sku_id" in have else "NULL"
    items = [f"CAST(coalesce(s.{c}, 0) AS DOUBLE) AS {alias}" for c, alias in
             (("subtotal_after_seller_discounts", "s_items"), ("refund_subtotal_after_seller_discounts", "s_items_refunded")) if c in have]
    per_fee = ", ".join([per_fee] * bool(per_fee) + items)
    steps = ([f"s_{step}" for step in STEPS] + ["s_other", "s_total"] + [f"s_fee_{c}" for c in fee_cols]
             + [i.rsplit(" AS ", 1)[1] for i in items])
    spread = ", ".join(f"sum(x.{c} * CASE WHEN x.sku_id IS NULL THEN b.share ELSE 1 END) AS {c}" for c in steps)
    return f"""
        WITH rows AS (
            SELECT coalesce(s.related_order_id, s.order_adjustment_id) AS order_id, {sku} AS sku_id, {', '.join(sums)},
                   {per_fee}{',' if per_fee else ''}
                   CAST(s.{TOTAL} AS DOUBLE) AS s_total, s.settled_date, s.statement_id, s.transaction_type
            FROM settlements s
        ), x AS (SELECT *, s_total - ({named}) AS s_other FROM rows)
        SELECT b.line_key, {spread}, max(x.settled_date) AS settled_date, count(*) AS statement_rows
        FROM base b JOIN x ON x.order_id = b.order_id AND (x.sku_id IS NULL OR x.sku_id = b.sku_id)
        GROUP BY b.line_key
    """


def build_lines(con: duckdb.DuckDBPyConnection, where: str, fee_table: pd.DataFrame) -> pd.DataFrame:
    """The P&L lines matching `where` (SQL over clean_lines), with `basis` settled | estimated | sample."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE base AS {base_lines_sql(where)}")
    fees = fee_lines(fee_table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE est_fee AS {estimated_fees_sql('base', fee_table)}")
    pivot = ", ".join(f"coalesce(sum(amount) FILTER (WHERE fee_line = '{f}'), 0) AS e_fee_{f}" for f in fees) or "0 AS e_fee_none"
    rate = ", ".join(f"max(rate) FILTER (WHERE fee_line = '{f}') AS rate_{f}" for f in fees) or "NULL AS rate_none"
    has_aff = _has(con, "affiliate_orders")
    aff = """LEFT JOIN (
            SELECT order_id, sku_id, -sum(CASE WHEN coalesce(fully_returned, false) THEN 0
                      ELSE coalesce(CAST(actual_commission_total AS DOUBLE),
                                    CAST(coalesce(est_standard_commission, 0) + coalesce(est_shop_ads_commission, 0)
                                         + coalesce(est_cofunded_bonus, 0) AS DOUBLE)) END) AS e_affiliate
            FROM affiliate_orders GROUP BY ALL) a USING (order_id, sku_id)""" if has_aff else ""
    settled = f"LEFT JOIN ({settled_sql(con)}) s USING (line_key)" if _has(con, "settlements") else ""
    s_cols = "s.* EXCLUDE (line_key)" if settled else \
        ", ".join(f"NULL::DOUBLE AS s_{step}" for step in STEP_NAMES) + ", NULL::DOUBLE AS s_total, NULL::DATE AS settled_date, 0 AS statement_rows"
    cost = ""
    if _has(con, "inventory_plan"):
        con.register("landed_df", landed_costs(con))  # the one landed-cost rule (newest stock plan per SKU ID and currency)
        con.execute("CREATE OR REPLACE TEMP TABLE landed AS SELECT * FROM landed_df")
        con.unregister("landed_df")
        cost = "LEFT JOIN landed c USING (sku_id, currency)"
    cost_cols = "c.landed_cost" if cost else "NULL::DOUBLE AS landed_cost"
    df = con.execute(f"""
        WITH f AS (SELECT line_key, {pivot}, {rate} FROM est_fee GROUP BY line_key)
        SELECT b.*, f.* EXCLUDE (line_key), {'coalesce(a.e_affiliate, 0)' if has_aff else '0'} AS e_affiliate, {s_cols}, {cost_cols}
        FROM base b LEFT JOIN f USING (line_key) {aff} {settled} {cost}
    """).df()
    return finish_lines(df, fees)


def finish_lines(df: pd.DataFrame, fees: list[str]) -> pd.DataFrame:
    """Pick settled or estimated per step, add COGS and contribution (one formula each)."""
    sample = df["exclusion_reason"].eq("sample_order")
    settled = df["statement_rows"].fillna(0).gt(0) & ~sample
    df["basis"] = "estimated"
    df.loc[settled, "basis"] = "settled"
    df.loc[sample, "basis"] = "sample"
    e_fees = df[[f"e_fee_{f}" for f in fees]].sum(axis=1) if fees else 0.0
    ship_original = df["ship_original_o"].where(df["ship_original_o"].notna(),
                                                df["ship_paid_o"] + df["ship_platform_o"] + df["ship_seller_o"])
    e = {
        "revenue": df["item_kept"],
        "shipping": (df["ship_paid_o"] + df["ship_platform_o"] - ship_original) * df["share"] - df["ship_refund"],
        "platform_fees": e_fees, "affiliate_commission": df["e_affiliate"],
        "gmv_max_fees": 0.0, "adjustments": 0.0, "other": 0.0,
    }
    for step in STEP_NAMES:
        estimate = pd.Series(e[step], index=df.index, dtype=float)
        df[f"e_{step}"] = estimate
        df[step] = df[f"s_{step}"].where(settled, estimate)
    # A free sample earns nothing; what it costs is its goods and the shipping the seller paid.
    for step in STEP_NAMES:
        if step != "shipping":
            df.loc[sample, step] = 0.0
    # The statement is newer than an Orders export taken before a late refund: where it holds the line, its
    # refunded share of the item value says how many units came back.
    returned = df["return_quantity"].clip(upper=df["quantity"]).astype(float)
    if "s_items" in df:
        stated = (-df["s_items_refunded"] / df["s_items"].where(df["s_items"] != 0) * df["quantity"]).round()
        returned = returned.where(~settled | stated.isna(), stated.clip(lower=0, upper=df["quantity"]))
    df["units_kept"] = df["quantity"] - returned
    df["cogs"] = -(df["landed_cost"] * df["units_kept"])
    df["cost_missing"] = df["landed_cost"].isna()
    df["contribution_before_ads"] = df[STEP_NAMES].sum(axis=1) + df["cogs"].fillna(0.0)
    return df


def window_where(start: dt.date, end: dt.date) -> str:
    return f"paid_local_date BETWEEN DATE '{start}' AND DATE '{end}'"
