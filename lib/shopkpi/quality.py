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
        "failed_files": [f.__dict__ for f in report.failed],
    })
    if report.failed:
        raise ShopkpiError(f"{len(report.failed)} file(s) failed to ingest: " + "; ".join(f.message for f in report.failed))
