"""Classify stored order lines for analysis: what counts in net figures, and why not if not.

Nothing is deleted: each line gets one `exclusion_reason` (or none), so every count in
a report can be traced to a rule in data/rules.yaml.
"""

from __future__ import annotations

import duckdb

from shopkpi.ad_days import create_ad_days_view
from shopkpi.dictionary import status_groups
from shopkpi.params import load_client_params
from shopkpi.store import Store

# Checked in this order; a line takes the first reason that applies.
EXCLUSION_ORDER = ["test_order", "sample_order", "replacement_order", "unpaid", "cancelled"]


def _status_case() -> str:
    parts = []
    for canonical, spellings in status_groups().items():
        quoted = ", ".join("'" + s.casefold().replace("'", "''") + "'" for s in spellings)
        parts.append(f"WHEN lower(order_status) IN ({quoted}) THEN '{canonical}'")
    return "CASE " + " ".join(parts) + " ELSE 'other' END"


def _ads_with_gmv_max(con: duckdb.DuckDBPyConnection, store: Store) -> None:
    """`ad_stats` = Ads Manager rows and GMV Max rows in one view, `ad_product` telling them apart.

    GMV Max's SKU orders stand as conversions and complete payments, its gross revenue as complete payment
    value: both are the orders and revenue the platform attributes to the spend (GMV Max counts all paid
    and organic orders of the promoted products; Ads Manager 7-day click / 1-day view by default).
    """
    gmv_max = """SELECT report_date, 'gmv_max:' || campaign_key AS ad_id, market, currency,
                        coalesce(campaign_name, 'GMV Max') AS campaign_name, campaign_id, cost,
                        sku_orders AS conversions, sku_orders AS complete_payment, gross_revenue AS complete_payment_value,
                        CAST(NULL AS VARCHAR) AS ad_account_timezone, 'GMV Max' AS ad_product,
                        file_id, source_file, source_row, export_as_of, ingest_run
                 FROM gmv_max_days"""
    if store.has("ad_stats"):
        path = str(store.table_path("ad_stats")).replace("'", "''")
        con.execute(f"""CREATE OR REPLACE VIEW ad_stats AS
                        SELECT *, 'Ads Manager' AS ad_product FROM read_parquet('{path}')
                        UNION ALL BY NAME {gmv_max}""")
    else:
        con.execute(f"CREATE OR REPLACE VIEW ad_stats AS {gmv_max}")


def connect_clean(client: str) -> duckdb.DuckDBPyConnection:
    """DuckDB connection with the store's tables plus `clean_lines`, `clean_orders` and `ad_days` views."""
    store = Store(client)
    con = store.connect()
    if store.has("gmv_max_days"):
        _ads_with_gmv_max(con, store)
    if store.has("ad_stats") or store.has("gmv_max_days"):
        create_ad_days_view(con, load_client_params(client))
    if not store.has("order_lines"):
        return con  # ads or content only so far: no order views to build
    con.execute(f"""
        CREATE VIEW clean_lines AS
        WITH lines AS (
            SELECT *, {_status_case()} AS status_group,
                   bool_and(subtotal_after_discount = 0) OVER (PARTITION BY order_id)
                     AND bool_or(subtotal_before_discount > 0) OVER (PARTITION BY order_id) AS fully_discounted
            FROM order_lines
        )
        SELECT *,
            -- Each market's own calendar: the ISO week and month of the local payment date.
            strftime(paid_local_date, '%G-W%V') AS paid_local_week, strftime(paid_local_date, '%Y-%m') AS paid_local_month,
            CASE
                WHEN bool_or(is_test) OVER (PARTITION BY order_id) THEN 'test_order'
                WHEN bool_or(is_sample_note) OVER (PARTITION BY order_id) OR fully_discounted THEN 'sample_order'
                WHEN bool_or(is_replacement) OVER (PARTITION BY order_id) THEN 'replacement_order'
                WHEN paid_at IS NULL OR status_group = 'unpaid' THEN 'unpaid'
                WHEN status_group = 'cancelled' THEN 'cancelled'
                ELSE NULL
            END AS exclusion_reason
        FROM lines
    """)
    # Order-level money repeats on each SKU line: take it once per order (any_value).
    con.execute("""
        CREATE VIEW clean_orders AS
        SELECT order_id, any_value(market) AS market, any_value(currency) AS currency,
               any_value(paid_local_date) AS paid_local_date, any_value(paid_local_week) AS paid_local_week,
               any_value(paid_local_month) AS paid_local_month, any_value(exclusion_reason) AS exclusion_reason,
               any_value(status_group) AS status_group,
               any_value(order_amount) AS order_amount, any_value(order_refund_amount) AS order_refund_amount,
               -- The one formula of net GMV and of counted refunds (local currency; NULL for excluded orders).
               CASE WHEN any_value(exclusion_reason) IS NULL
                    THEN any_value(order_amount) - coalesce(any_value(order_refund_amount), 0) END AS gmv_net,
               CASE WHEN any_value(exclusion_reason) IS NULL THEN coalesce(any_value(order_refund_amount), 0) END AS refund_amount,
               sum(quantity) AS units, sum(subtotal_after_discount) AS line_subtotal, count(*) AS lines
        FROM clean_lines GROUP BY order_id
    """)
    return con


def exclusion_counts(con: duckdb.DuckDBPyConnection, start, end):
    """Lines and orders per exclusion reason for orders paid (or created, if unpaid) in [start, end]."""
    return con.execute("""
        SELECT coalesce(exclusion_reason, 'counted') AS reason, market,
               count(*) AS lines, count(DISTINCT order_id) AS orders
        FROM clean_lines
        WHERE coalesce(paid_local_date, created_local_date) BETWEEN ? AND ?
        GROUP BY ALL ORDER BY reason, market
    """, [start, end]).df()
