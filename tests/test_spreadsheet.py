"""XLSX files that open ready to read in Excel, and never run a formula."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from openpyxl import load_workbook

from shopkpi.spreadsheet import STATUS_FILLS, text_width, write_workbook


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
    # Negative numbers show red in every numeric format, so a loss stands out without a rule per sheet.
    assert ws["C2"].number_format == "#,##0;[Red]-#,##0" and ws["D2"].number_format == "#,##0.00;[Red]-#,##0.00"
    assert ws["E2"].number_format == "0.0%;[Red]-0.0%"
    assert ws["F2"].is_date and ws["F2"].number_format == "yyyy-mm-dd"
    assert ws["A3"].value.startswith("'=") and ws["A3"].data_type == "s"  # text, never a formula
    assert ws.column_dimensions["B"].width >= text_width("北欧数字厨房秤") == 14
    assert ws["A5"].value == "Total" and ws["C5"].value == 1235 and ws["D5"].value is None and ws["C5"].font.bold


def test_status_cells_are_filled_by_their_value_and_an_unknown_column_is_refused(tmp_path):
    table = pd.DataFrame({"sku": ["A", "B", "C", "D"], "status": ["缺货风险", "立即补货", "正常", "其他"]})
    levels = {"缺货风险": "bad", "立即补货": "warn", "正常": "good"}
    path = write_workbook({"plan": table}, tmp_path / "s.xlsx", status={"plan": {"status": levels}})
    ws = load_workbook(path)["plan"]
    fills = [ws.cell(row=r, column=2).fill.fgColor.rgb for r in range(2, 6)]
    assert fills[:3] == [STATUS_FILLS["bad"], STATUS_FILLS["warn"], STATUS_FILLS["good"]]
    assert fills[3] not in STATUS_FILLS.values() and ws["A2"].fill.fgColor.rgb not in STATUS_FILLS.values()
    with pytest.raises(KeyError, match="stat"):
        write_workbook({"plan": table}, tmp_path / "t.xlsx", status={"plan": {"stat": levels}})
