"""Byte-deterministic CSV and XLSX writers (same input -> same bytes)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook

# Fixed zip entry time: openpyxl otherwise stamps the wall clock into every XLSX.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


def write_csv(
    path: Path,
    header: Sequence[str],
    data: pd.DataFrame | Mapping[str, Any],
    *,
    pre_rows: Sequence[Sequence[str]] = (),
    post_rows: Sequence[Sequence[str]] = (),
    encoding: str = "utf-8",
) -> int:
    """Write header, optional extra rows under it, data rows, then footer rows; return data row count.

    `data` holds one array per column (DataFrame or dict); columns are written in its order.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, pd.DataFrame):
        columns = [data[c].to_numpy(dtype=object) for c in data.columns]
    else:
        columns = [np.asarray(v, dtype=object) for v in data.values()]
    if len(columns) != len(header):
        raise ValueError(f"{path.name}: {len(columns)} columns for {len(header)} headers")
    n = len(columns[0]) if columns else 0
    buf = io.StringIO()
    # The csv module is C code and quotes only where needed (e.g. 'THB 1,299.00').
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(list(header))
    writer.writerows(pre_rows)
    writer.writerows(zip(*columns))
    writer.writerows(post_rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return n


def write_xlsx(
    path: Path,
    sheets: Sequence[tuple[str, Sequence[Sequence[Any]]]],
    *,
    fixed_time: dt.datetime,
    column_widths: dict[str, float] | None = None,
) -> None:
    """Write sheets of plain rows (str/int/float/date/None) with fixed metadata timestamps."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)  # streaming writer: several times faster than the cell model
    for title, rows in sheets:
        ws = wb.create_sheet(title=title)
        for col, width in (column_widths or {}).items():
            ws.column_dimensions[col].width = width
        for row in rows:
            ws.append(list(row))
    wb.properties.creator = "TikTok Shop Seller Center"
    wb.properties.created = fixed_time
    raw = io.BytesIO()
    wb.save(raw)
    path.write_bytes(_normalise_zip(raw.getvalue(), fixed_time))


def _normalise_zip(data: bytes, fixed_time: dt.datetime) -> bytes:
    stamp = fixed_time.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                text = content.decode("utf-8")
                text = re.sub(r"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rf"\g<1>{stamp}\g<2>", text)
                content = text.encode("utf-8")
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, content)
    return out.getvalue()
