"""Tables written for people to open in Excel or Sheets: CSV and XLSX that never run a formula.

A text cell starting with = + - @, a tab or a carriage return would run as a formula in Excel or
Sheets (CSV injection): such cells get a leading apostrophe, and XLSX stores every text cell as text.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Text that a spreadsheet would read as a formula, made plain text; everything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    """UTF-8 with BOM, written atomically; text cells neutralised."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    # BOM: Excel opens Chinese labels correctly; CRLF rows make the writer quote a cell holding a lone CR.
    table.map(neutralise).to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    os.replace(tmp, path)
    return path


def write_xlsx(table: pd.DataFrame, path: Path, sheet: str, freeze: str = "B2") -> Path:
    """One sheet, header frozen, dates formatted; text cells neutralised and typed as text. Written atomically."""
    return write_workbook({sheet: table}, path, freeze=freeze)


def write_workbook(tables: dict[str, pd.DataFrame], path: Path, freeze: str = "B2") -> Path:
    """One sheet per table (in order), each as `write_xlsx` writes it. Written atomically."""
    from openpyxl import Workbook

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    book.remove(book.active)
    for sheet, table in tables.items():
        ws = book.create_sheet(title=sheet[:31])
        ws.append([str(c) for c in table.columns])
        for row in table.map(neutralise).itertuples(index=False):
            ws.append([None if (v is None or (isinstance(v, float) and math.isnan(v))) else v for v in row])
        for cells in ws.iter_rows(min_row=1):
            for cell in cells:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text starts with
                elif isinstance(cell.value, (dt.date, dt.datetime)):
                    cell.number_format = "yyyy-mm-dd"
        ws.freeze_panes = freeze
    tmp = path.with_name(path.stem + ".tmp.xlsx")
    book.save(tmp)
    os.replace(tmp, path)
    return path
