"""Data-quality views for the ingest and clean notebooks: inventory, row accounting, quarantine."""

from __future__ import annotations

import pandas as pd

from shopkpi.errors import ShopkpiError
from shopkpi.ingest.pipeline import row_accounting
from shopkpi.store import Store


def file_inventory(client: str) -> pd.DataFrame:
    store = Store(client)
    if not store.has("files"):
        return pd.DataFrame()
    return store.read("files").to_pandas()[
        ["source_file", "kind", "markets", "encoding", "timestamp_format", "rows_in", "rows_kept",
         "rows_quarantined", "rows_excluded", "ingested_at"]]


def headers_not_read(client: str) -> pd.DataFrame:
    """One row per header a stored file has that no column reads, with why; "[money]" marks fee-like ones."""
    store = Store(client)
    if not store.has("files"):
        return pd.DataFrame(columns=["source_file", "kind", "header"])
    files = store.read("files").to_pandas()
    rows = [{"source_file": f.source_file, "kind": f.kind, "header": h}
            for f in files.itertuples() for h in (f.ignored_headers or "").split(" | ") if h]
    return pd.DataFrame(rows, columns=["source_file", "kind", "header"])


def checked_row_accounting(client: str) -> pd.DataFrame:
    """Row accounting per file; raises if any input row is not accounted for."""
    if not Store(client).has("files"):
        return pd.DataFrame()
    table = row_accounting(client).to_pandas()
    broken = table[table["unaccounted"] != 0]
    if len(broken):
        raise ShopkpiError(f"row accounting does not balance for {len(broken)} file(s): {', '.join(broken.source_file)}")
    return table


def quarantine_summary(client: str) -> pd.DataFrame:
    store = Store(client)
    if not store.has("quarantine"):
        return pd.DataFrame()
    con = store.connect()
    return con.sql("""
        SELECT "column", reason, count(*) AS rows, min(source_file || ' row ' || source_row) AS example
        FROM quarantine GROUP BY ALL ORDER BY rows DESC
    """).df()


def quarantine_sample(client: str, limit: int = 20) -> pd.DataFrame:
    store = Store(client)
    if not store.has("quarantine"):
        return pd.DataFrame()
    return store.read("quarantine").to_pandas().drop(columns=["file_id"]).head(limit)


def exclusion_summary(client: str) -> pd.DataFrame:
    store = Store(client)
    if not store.has("excluded"):
        return pd.DataFrame()
    return store.connect().sql("SELECT rule, count(*) AS rows FROM excluded GROUP BY ALL ORDER BY rows DESC").df()


def write_ingest_artifact(ctx, report, accounting: pd.DataFrame) -> None:
    """The ingest notebook's artifact; then fail the run if any file could not be stored."""
    from shopkpi import artifacts

    artifacts.write_json(ctx.artifacts_dir / "ingest.json", {
        "client": ctx.client, "files": file_inventory(ctx.client).to_dict(orient="records"),
        "row_accounting": accounting.to_dict(orient="records"),
        "quarantine": quarantine_summary(ctx.client).to_dict(orient="records"),
        "headers_not_read": headers_not_read(ctx.client).to_dict(orient="records"),
        "failed_files": [f.__dict__ for f in report.failed],
    })
    if report.failed:
        raise ShopkpiError(f"{len(report.failed)} file(s) failed to ingest: " + "; ".join(f.message for f in report.failed))


def reconciliation_table(client: str) -> pd.DataFrame:
    """Every total an export states (ads totals row, settlement header, product-list sections) against ours."""
    store = Store(client)
    if not store.has("reconciliation"):
        return pd.DataFrame()
    return store.connect().sql("""
        SELECT source_file, kind, metric, export_total, our_total, difference,
               CASE WHEN coalesce(difference, 0) = 0 AND explanation = '' THEN 'agrees' ELSE explanation END AS explanation
        FROM reconciliation ORDER BY abs(coalesce(difference, 0)) DESC, source_file, metric
    """).df()


def data_compass_bridge(client: str) -> pd.DataFrame:
    """Data Compass product-list totals against our order lines over the same market and local dates.

    Both sides count every paid line, cancelled and refunded ones included, by local payment date
    (Data Compass's basis). Our product GMV is the SKU subtotal after seller discounts and before
    platform discounts, shipping and taxes excluded; the exact Data Compass formula is unconfirmed,
    so the difference is shown, not explained away.
    """
    store = Store(client)
    if not (store.has("product_days") and store.has("order_lines")):
        return pd.DataFrame()
    return store.connect().sql("""
        WITH compass AS (
            SELECT market, period_start, period_end, any_value(currency) AS currency, any_value(source_file) AS source_file,
                   count(*) AS products, CAST(sum(gmv) AS DOUBLE) AS compass_gmv, sum(items_sold) AS compass_items
            FROM product_days GROUP BY ALL
        )
        SELECT c.market, c.period_start, c.period_end, c.currency, c.source_file, c.products,
               c.compass_gmv, CAST(sum(o.subtotal_before_discount - coalesce(o.seller_discount, 0)) AS DOUBLE) AS our_gmv,
               c.compass_items, sum(o.quantity) AS our_items
        FROM compass c LEFT JOIN order_lines o
          ON o.market = c.market AND o.paid_local_date BETWEEN c.period_start AND c.period_end
        GROUP BY ALL ORDER BY c.market, c.period_start
    """).df().assign(
        gmv_difference=lambda d: d["our_gmv"] - d["compass_gmv"],
        gmv_difference_pct=lambda d: (d["our_gmv"] - d["compass_gmv"]) / d["compass_gmv"].where(d["compass_gmv"] != 0),
        items_difference=lambda d: d["our_items"] - d["compass_items"])
