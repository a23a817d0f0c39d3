"""The dated fee table (`data/fees/fee_rates.csv`) and which settlement column belongs to which P&L step.

Fee rates change by region, category and date, so they are data with a source and a `confirmed` flag, not
constants. Each row's `base` names the amount its rate applies to; `fee_bases` gives each base's formula.
"""

from __future__ import annotations

import csv
import datetime as dt
from importlib import resources

import duckdb
import pandas as pd

from shopkpi.errors import ParamsError
from shopkpi.ingest.kinds.settlement import MONEY

FEE_TABLE = "fees/fee_rates.csv"
COLUMNS = ["market", "category", "fee_line", "rate", "base", "cap_per_line", "valid_from", "valid_to", "confirmed", "source"]
# Base name -> SQL over the P&L line relation (local currency, net of what was refunded).
BASES = {
    "item_after_seller_discount": "item_kept",
    "item_after_seller_discount_plus_shipping": "item_kept + ship_paid_kept",
    "customer_payment": "payment_kept",
    "customer_payment_plus_platform_discount_minus_tax": "payment_kept + platform_discount_kept - tax_line",
    # The US refund administration fee: a share of the referral fee given back on refunded items.
    "refunded_referral_fee": "item_refund * referral_rate",
}
# Every money column of the settlement is one P&L step, a subtotal the steps already hold, or a memo.
# Anything a statement adds that no step names lands in `other`, so a line's steps always add up to its total.
STEPS = {
    "revenue": ["subtotal_after_seller_discounts", "refund_subtotal_after_seller_discounts"],
    "shipping": ["actual_shipping_fee", "platform_shipping_fee_discount", "customer_shipping_fee", "actual_return_shipping_fee",
                 "refunded_customer_shipping_fee", "shipping_subsidy"],
    "platform_fees": ["transaction_fee", "tiktok_shop_commission_fee", "credit_card_instalment_handling_fee", "sfp_service_fee",
                      "payment_fee", "dynamic_commission", "order_processing_fee", "per_item_fee", "infrastructure_fee",
                      "refund_administration_fee", "small_order_fee", "fbt_fulfillment_fee", "co_funded_promotion"],
    "affiliate_commission": ["affiliate_commission", "affiliate_partner_commission", "affiliate_shop_ads_commission",
                             "tap_shop_ads_commission"],
    "gmv_max_fees": ["gmv_max_ad_fee", "gmv_max_coupon_fee", "gmv_max_voucher"],
    "adjustments": ["adjustment_amount"],
}
TOTAL = "total_settlement_amount"
# Subtotals and memo columns: already inside the steps above (or the buyer's side of the money), never added again.
NOT_STEPS = {TOTAL, "total_revenue", "subtotal_before_discounts", "seller_discounts", "refund_subtotal_before_seller_discounts",
             "refund_of_seller_discounts", "total_fees", "customer_payment", "customer_refund", "platform_discounts",
             "refund_of_platform_discounts", "seller_shipping_fee", "sales_tax"}


def check_steps() -> None:
    """Every settlement money column is a step or a named subtotal (a new column must be placed, not lost)."""
    placed = {c for cols in STEPS.values() for c in cols} | NOT_STEPS
    missing = [c for c in MONEY if c not in placed]
    if missing:
        raise AssertionError(f"settlement columns in no P&L step: {missing}")


def load_fee_table() -> pd.DataFrame:
    """The fee table, validated: known bases, rates in [0, 1), dates that parse."""
    with resources.files("shopkpi.data").joinpath(FEE_TABLE).open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    where = f"lib/shopkpi/data/{FEE_TABLE}"
    for n, r in enumerate(rows, start=2):
        if r["base"] not in BASES:
            raise ParamsError(f"{where} row {n}, column base: unknown base {r['base']!r}; known: {', '.join(BASES)}")
        try:
            rate = float(r["rate"])
            dt.date.fromisoformat(r["valid_from"])
            if r["valid_to"]:
                dt.date.fromisoformat(r["valid_to"])
        except ValueError as exc:
            raise ParamsError(f"{where} row {n}: {exc}") from None
        if not 0 <= rate < 1:
            raise ParamsError(f"{where} row {n}, column rate: {rate} is not a share in [0, 1)")
        if r["fee_line"] not in STEPS["platform_fees"]:
            raise ParamsError(f"{where} row {n}, column fee_line: {r['fee_line']!r} is not a settlement fee column")
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["rate"] = table["rate"].astype(float)
    table["cap_per_line"] = pd.to_numeric(table["cap_per_line"].replace("", None))
    table["confirmed"] = table["confirmed"].str.lower().eq("true")
    for c in ("valid_from", "valid_to"):
        table[c] = pd.to_datetime(table[c].replace("", None)).dt.date
    return table


def register_fee_table(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    table = load_fee_table()
    con.register("fee_rates_df", table)
    con.execute("CREATE OR REPLACE TEMP TABLE fee_rates AS SELECT * FROM fee_rates_df")
    con.unregister("fee_rates_df")
    return table


def fee_lines(table: pd.DataFrame) -> list[str]:
    return sorted(set(table["fee_line"]))


def estimated_fees_sql(lines: str, table: pd.DataFrame) -> str:
    """Per line and fee line of the table: -(rate x base), the most specific category row valid on the
    order's creation day (the table's `*` is any category; others match the category path's start)."""
    bases = " ".join(f"WHEN '{name}' THEN {expr}" for name, expr in BASES.items())
    return f"""
        SELECT l.line_key, r.fee_line, r.rate,
               -least(CASE r.base {bases} END * r.rate, coalesce(r.cap_per_line, 1e18)) AS amount
        FROM {lines} l JOIN fee_rates r
          ON r.market = l.market AND l.created_local_date >= r.valid_from
         AND (r.valid_to IS NULL OR l.created_local_date < r.valid_to)
         AND (r.category = '*' OR starts_with(coalesce(l.product_category, ''), r.category))
        QUALIFY row_number() OVER (PARTITION BY l.line_key, r.fee_line
                                   ORDER BY CASE WHEN r.category = '*' THEN 0 ELSE length(r.category) END DESC) = 1
    """


def confirmed_lines(table: pd.DataFrame, markets: list[str]) -> list[dict]:
    """Which rates the markets use are confirmed by a source, and which are not (for the report's caveat)."""
    rows = table[table["market"].isin(markets)]
    return [{"market": r.market, "category": r.category, "fee_line": r.fee_line, "rate": r.rate, "base": r.base,
             "valid_from": r.valid_from, "confirmed": bool(r.confirmed), "source": r.source} for r in rows.itertuples()]
