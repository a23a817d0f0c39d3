"""XLSX files that open ready to read in Excel, and never run a formula."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from openpyxl import load_workbook

from shopkpi.spreadsheet import text_width, write_workbook


def test_a_sheet_opens_with_header_filters_formats_widths_and_totals(tmp_path):
    table = pd.DataFrame({
        "seller_sku": ["LH-KIT-0004", "=HYPERLINK(\"http://x\")"], "商品名称": ["北欧数字厨房秤", "Sheet masks"],
        "order_qty": [1200, 35], "order_value_local": [15234.5, 99.0], "margin": [0.253, -0.04],
        "stockout_date": [dt.date(2026, 12, 1), None], "currency": ["GBP", "THB"],
    })
    path = write_workbook({"purchase": table}, tmp_path / "plan.xlsx", freeze="B2", totals={"purchase": ["order_qty"]})
    ws = load_workbook(path)["purchase"]
    assert ws.freeze_panes == "B2" and ws.auto_filter.ref == "A1:G3"
    assert all(c.font.bold for c in ws[1])
    assert ws["C2"].number_format == "#,##0" and ws["D2"].number_format == "#,##0.00" and ws["E2"].number_format == "0.0%"
    assert ws["F2"].is_date and ws["F2"].number_format == "yyyy-mm-dd"
    assert ws["A3"].value.startswith("'=") and ws["A3"].data_type == "s"  # text, never a formula
    assert ws.column_dimensions["B"].width >= text_width("北欧数字厨房秤") == 14
    assert ws["A5"].value == "Total" and ws["C5"].value == 1235 and ws["D5"].value is None and ws["C5"].font.bold
