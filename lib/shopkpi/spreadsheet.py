"""Tables written for people to open in Excel or Sheets: CSV and XLSX that never run a formula.

A text cell starting with = + - @, a tab or a carriage return would run as a formula in Excel or
Sheets (CSV injection): such cells get a leading apostrophe, and XLSX stores every text cell as text.
XLSX sheets open ready to read: a bold header row with filters, frozen panes, columns as wide as their
content (a CJK character counts twice), thousands separators on numbers, percent format on share columns,
dates as dates, negative numbers in red, an optional totals row under the filtered range, and status cells
filled red, amber or green (the colour always beside the word, never instead of it).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
import unicodedata
from pathlib import Path

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Columns holding a share (0.253 shown as 25.3%): by their name, in English or the pages' labels.
SHARE_COLUMN = re.compile(r"(?i)(margin|share|_rate$|^rate$|_pct$|ratio$|wape|bias|attainment|率|占比)")
MIN_WIDTH, MAX_WIDTH = 8, 48
# Light fills a printed page and a colour-blind reader still tell apart by the word in the cell.
STATUS_FILLS = {"bad": "FFF4CCCC", "warn": "FFFCE8B2", "good": "FFD9EAD3"}
# Number formats, each showing a negative in red (a loss stands out with no rule per sheet).
SHARE_FORMAT, INTEGER_FORMAT, DECIMAL_FORMAT = "0.0%;[Red]-0.0%", "#,##0;[Red]-#,##0", "#,##0.00;[Red]-#,##0.00"


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


def write_xlsx(table: pd.DataFrame, path: Path, sheet: str, freeze: str = "B2", totals: list[str] | None = None,
               totals_label: str = "Total", status: dict[str, dict] | None = None) -> Path:
    """One sheet, laid out as `write_workbook` does. Written atomically."""
    return write_workbook({sheet: table}, path, freeze=freeze, totals={sheet: totals} if totals else None,
                          totals_label=totals_label, status={sheet: status} if status else None)


def text_width(value) -> int:
    """Characters a cell needs, a wide (CJK) character counting as two."""
    text = value if isinstance(value, str) else (f"{value:,.2f}" if isinstance(value, float) else str(value))
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _number_format(name: str, values: pd.Series) -> str | None:
    numbers = pd.to_numeric(values, errors="coerce").dropna()
    if numbers.empty or values.dtype == object and len(numbers) < values.notna().sum():
        return None
    if SHARE_COLUMN.search(name) and numbers.abs().max() <= 10:
        return SHARE_FORMAT
    if pd.api.types.is_integer_dtype(values) or (numbers == numbers.round()).all() and not pd.api.types.is_float_dtype(values):
        return INTEGER_FORMAT
    return DECIMAL_FORMAT


def write_workbook(tables: dict[str, pd.DataFrame], path: Path, freeze: str = "B2",
                   totals: dict[str, list[str]] | None = None, totals_label: str = "Total",
                   status: dict[str, dict[str, dict]] | None = None) -> Path:
    """One sheet per table (in order); `totals[sheet]` names columns summed in a bold row under the data.

    Sum only columns of one unit: a money column that mixes currencies gets no total.
    `status[sheet][column]` maps a cell's value to "bad", "warn" or "good": that cell gets the fill."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = Workbook()
    book.remove(book.active)
    header_font, header_fill = Font(bold=True), PatternFill("solid", start_color="FFE8ECF2")
    for sheet, table in tables.items():
        ws = book.create_sheet(title=sheet[:31])
        ws.append([str(c) for c in table.columns])
        for row in table.map(neutralise).itertuples(index=False):
            ws.append([None if (v is None or (isinstance(v, float) and math.isnan(v))) else v for v in row])
        formats = {i: _number_format(str(c), table[c]) for i, c in enumerate(table.columns, start=1)}
        fills = {}
        for column, levels in (status or {}).get(sheet, {}).items():
            if column not in table.columns:
                raise KeyError(f"status colours asked for column {column!r}, which sheet {sheet!r} does not have")
            fills[list(table.columns).index(column) + 1] = {v: PatternFill("solid", start_color=STATUS_FILLS[lvl])
                                                            for v, lvl in levels.items()}
        widths = {i: text_width(str(c)) for i, c in enumerate(table.columns, start=1)}
        for r, cells in enumerate(ws.iter_rows(min_row=1), start=1):
            for cell in cells:
                if r == 1:
                    cell.font, cell.fill = header_font, header_fill
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
                    continue
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the text starts with
                elif isinstance(cell.value, (dt.date, dt.datetime)):
                    cell.number_format = "yyyy-mm-dd"
                elif isinstance(cell.value, (int, float)) and formats.get(cell.column):
                    cell.number_format = formats[cell.column]
                if cell.column in fills and cell.value in fills[cell.column]:
                    cell.fill = fills[cell.column][cell.value]
                if cell.value is not None and r <= 500:  # widths from the first rows: enough, and fast on big sheets
                    widths[cell.column] = max(widths[cell.column], text_width(cell.value))
        for i, width in widths.items():
            ws.column_dimensions[get_column_letter(i)].width = max(MIN_WIDTH, min(MAX_WIDTH, width + 2))
        if len(table.columns):
            ws.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{max(1, len(table) + 1)}"
        summed = [c for c in (totals or {}).get(sheet, []) if c in table.columns]
        if summed and len(table):
            row = [None] * len(table.columns)
            row[0] = totals_label if str(table.columns[0]) not in summed else None
            for c in summed:
                row[list(table.columns).index(c)] = float(pd.to_numeric(table[c], errors="coerce").sum())
            ws.append([])
            ws.append(row)
            for cell in ws[ws.max_row]:
                cell.font = header_font
                if isinstance(cell.value, float):
                    cell.number_format = formats.get(cell.column) or DECIMAL_FORMAT
        ws.freeze_panes = freeze
    tmp = path.with_name(path.stem + ".tmp.xlsx")
    book.save(tmp)
    os.replace(tmp, path)
    return path
