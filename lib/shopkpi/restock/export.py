"""The purchase suggestion as a table for the buyer (written by `shopkpi.spreadsheet`, safe in Excel)."""

from __future__ import annotations

import pandas as pd

from shopkpi.dictionary import t
from shopkpi.spreadsheet import neutralise

COLUMNS = ["seller_sku", "product_name", "warehouse", "market", "sku_class", "status", "on_hand", "inbound_qty",
           "inbound_eta", "lead_time_days", "forecast_daily", "demand_lead_time", "safety_stock", "reorder_point",
           "order_up_to", "order_qty", "moq", "case_pack", "days_of_cover", "stockout_date",
           "units_short_before_replenishment", "currency", "order_value_local", "cash_tied_up_local"]


def suggestion_table(plan: pd.DataFrame, language: str) -> pd.DataFrame:
    """The columns a buyer needs, labelled in the report language, numbers rounded for reading."""
    df = plan[COLUMNS].copy()
    for c in ["forecast_daily", "demand_lead_time", "safety_stock", "reorder_point", "order_up_to", "days_of_cover",
              "units_short_before_replenishment", "order_value_local", "cash_tied_up_local"]:
        df[c] = pd.to_numeric(df[c], errors="coerce").round(1)
    df["status"] = df["status"].map(lambda s: t(f"restock_status_{s}", language))
    df = df.map(neutralise)
    return df.rename(columns={c: t(f"restock_col_{c}", language) for c in COLUMNS})


STATUS_LEVELS = {"stockout_risk": "bad", "order_now": "warn", "ok": "good"}


def status_colours(language: str) -> dict[str, dict[str, str]]:
    """The status column's fill per shown (translated) value, for `spreadsheet.write_xlsx(status=...)`."""
    return {t("restock_col_status", language): {t(f"restock_status_{s}", language): lvl for s, lvl in STATUS_LEVELS.items()}}
