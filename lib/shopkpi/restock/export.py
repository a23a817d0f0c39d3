"""The purchase suggestion as CSV and XLSX for the buyer, safe to open in a spreadsheet.

A text cell starting with = + - @, a tab or a carriage return would run as a formula in Excel or
Sheets (CSV injection): such cells get a leading apostrophe and are stored as text.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path

import pandas as pd

from shopkpi.dictionary import t

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = ["seller_sku", "product_name", "warehouse", "market", "sku_class", "status", "on_hand", "inbound_qty",
           "inbound_eta", "lead_time_days", "forecast_daily", "demand_lead_time", "safety_stock", "reorder_point",
           "order_up_to", "order_qty", "moq", "case_pack", "days_of_cover", "stockout_date",
           "units_short_before_replenishment", "currency", "order_value_local", "cash_tied_up_local"]


def neutralise(value):
    """Text that a spreadsheet would read as a formula, made plain text; everything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def suggestion_table(plan: pd.DataFrame, language: str) -> pd.DataFrame:
    """The columns a buyer needs, labelled in the report language, numbers rounded for reading."""
    df = plan[COLUMNS].copy()
    for c in ["forecast_daily", "demand_lead_time", "safety_stock", "reorder_point", "order_up_to", "days_of_cover",
              "units_short_before_replenishment", "order_value_local", "cash_tied_up_local"]:
        df[c] = pd.to_numeric(df[c], errors="coerce").round(1)
    df["status"] = df["status"].map(lambda s: t(f"restock_status_{s}", language))
    df = df.map(neutralise)
    return df.rename(columns={c: t(f"restock_col_{c}", language) for c in COLUMNS})


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    # BOM: Excel opens Chinese labels correctly; CRLF rows make the writer quote a cell holding a lone CR.
    table.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    os.replace(tmp, path)
    return path


def write_xlsx(table: pd.DataFrame, path: Path, sheet: str = "purchase") -> Path:
    from openpyxl import Workbook

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    ws = book.active
    ws.title = sheet
    ws.append([str(c) for c in table.columns])
    for row in table.itertuples(index=False):
        ws.append([None if (v is None or (isinstance(v, float) and math.isnan(v))) else v for v in row])
    for cells in ws.iter_rows(min_row=1):
        for cell in cells:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            elif isinstance(cell.value, (dt.date, dt.datetime)):
                cell.number_format = "yyyy-mm-dd"
    ws.freeze_panes = "C2"
    tmp = path.with_name(path.stem + ".tmp.xlsx")
    book.save(tmp)
    os.replace(tmp, path)
    return path
