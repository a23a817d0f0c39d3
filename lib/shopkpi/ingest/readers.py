"""Read CSV/XLSX exports into all-text Arrow tables, whatever their encoding and layout."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from shopkpi.errors import InputFileError
from shopkpi.ingest.headers import normalise_header, qualify_by_section, registry

_SNIFF_BYTES = 1 << 16
_DELIMITERS = [",", "\t", ";", "|"]
_HEADER_SCAN_ROWS = 15
OTHER_SHEET_ROWS = 5000


@dataclass
class RawTable:
    """A file's cells as text. ``records`` holds data rows only; row numbers are spreadsheet rows."""

    path: Path
    headers: list[str]
    records: pa.Table  # columns c0..cN, all strings
    first_row: int  # spreadsheet row number of records[0] (header row + 1)
    encoding: str
    delimiter: str | None
    metadata_rows: list[list[str]] = field(default_factory=list)
    # Data records of the file before this one when it is read in chunks (0: the file's first records).
    # `first_row` is already the true spreadsheet row of records[0]; this says whether a chunk starts the file.
    offset: int = 0
    sheet: str | None = None  # the workbook sheet read
    other_sheets: dict[str, list[list[str]]] = field(default_factory=dict)  # the workbook's other sheets, as text

    def row_number(self, index: int) -> int:
        return self.first_row + index


@dataclass(frozen=True)
class CsvLayout:
    """What a CSV file's head tells: encoding, separator, header and the metadata block above it."""

    path: Path
    encoding: str
    delimiter: str
    headers: list[str]
    header_index: int  # record index of the header row
    header_lines: int  # physical lines up to and including the header
    metadata: list[list[str]]

    def raw(self, records: pa.Table, offset: int = 0) -> RawTable:
        """A RawTable of data records that follow `offset` earlier records of this file."""
        return RawTable(self.path, self.headers, records, self.header_lines + 1 + offset, self.encoding, self.delimiter,
                        metadata_rows=self.metadata, offset=offset)


class RaggedRows(Exception):
    """The fast reader met a row with the wrong number of cells; the file must be read exactly."""


def sniff_encoding(head: bytes, path: Path) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        # UTF-16 without a BOM: text whose every other byte is NUL (little-endian: the odd ones).
        even, odd = head[0::2], head[1::2]
        for encoding, zeros, text in (("utf-16-le", odd, even), ("utf-16-be", even, odd)):
            if zeros.count(0) > 0.9 * len(zeros) and text.count(0) < 0.1 * len(text):
                return encoding
        raise InputFileError(path, "looks like a binary file (contains NUL bytes), not a CSV export")
    whole = len(head) < _SNIFF_BYTES
    for encoding in ("utf-8", "gb18030"):
        try:
            # A multi-byte character may be cut at the end of the sniffed block: an incremental decoder
            # leaves that tail undecided instead of failing (unless the block is the whole file).
            # A whole UTF-8 file may end inside a character too (a cut download): read_csv reads it without it.
            codecs.getincrementaldecoder(encoding)().decode(head, final=whole and encoding != "utf-8")
            return encoding
        except UnicodeDecodeError:
            continue
    raise InputFileError(path, "text encoding not recognised (tried UTF-8, UTF-16 and GB18030)")


def _decoded_head(path: Path, encoding: str) -> str:
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    return head.decode(encoding, errors="ignore")


def sniff_delimiter(text: str, path: Path) -> str:
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if not lines:
        raise InputFileError(path, "file is empty")
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        # The header may sit below a block of one-cell metadata lines: look at every sniffed line.
        counts = {d: max(line.count(d) for line in lines) for d in _DELIMITERS}
        best = max(counts, key=counts.get)
        if counts[best] == 0:
            raise InputFileError(path, "no column separator found (expected comma, tab, semicolon or |)", row=1) from None
        return best


def csv_layout(path: Path) -> CsvLayout:
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if not head.strip():
        raise InputFileError(path, "file is empty")
    encoding = sniff_encoding(head, path)
    delimiter = sniff_delimiter(_decoded_head(path, encoding), path)
    header_index, header_line, header_physical_lines, metadata = _csv_header(path, encoding, delimiter)
    headers = [h.strip() for h in header_line]
    if not any(headers):
        raise InputFileError(path, "the first row is empty; expected column headers", row=1)
    return CsvLayout(path, encoding, delimiter, headers, header_index, header_physical_lines, metadata)


def _arrow_options(layout: CsvLayout, block_size: int, on_invalid) -> dict:
    """All cells as strings, the header block skipped, blank lines kept (dropping them would shift row numbers)."""
    names = [f"c{i}" for i in range(len(layout.headers))]
    return dict(
        read_options=pacsv.ReadOptions(encoding="utf8" if layout.encoding == "utf-8" else layout.encoding,
                                       skip_rows=layout.header_lines, column_names=names, block_size=block_size),
        parse_options=pacsv.ParseOptions(delimiter=layout.delimiter, newlines_in_values=True, ignore_empty_lines=False,
                                         invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    )


def _parse_error(layout: CsvLayout, exc: Exception) -> InputFileError:
    return InputFileError(layout.path, f"cannot be parsed as {layout.encoding} CSV with {layout.delimiter!r} separator: {exc}")


def read_csv(path: Path) -> RawTable:
    layout = csv_layout(path)
    bad_rows: list[int] = []

    def on_invalid(row):
        bad_rows.append(row.number or -1)
        return "skip"

    try:
        table = pacsv.read_csv(layout.path, **_arrow_options(layout, 1 << 24, on_invalid))
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if (whole := _cut_at_a_character(layout)) is not None:
            return whole
        raise _parse_error(layout, exc) from None
    if bad_rows:
        # Rows with the wrong number of cells: re-read exactly so row numbers stay true.
        return layout.raw(next(_exact_records(layout, None)))
    return layout.raw(table)


def _cut_at_a_character(layout: CsvLayout) -> RawTable | None:
    """A UTF-8 file whose download was cut inside its last character: read it without that partial character
    (its last row, cut short too, is quarantined as ragged). None when the bad bytes are elsewhere."""
    import tempfile

    if not layout.encoding.startswith("utf-8"):
        return None
    data = layout.path.read_bytes()
    try:
        data.decode("utf-8")
        return None
    except UnicodeDecodeError as exc:
        if exc.reason != "unexpected end of data" or exc.start < len(data) - 3:
            return None
        good = data[: exc.start]
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / layout.path.name
        copy.write_bytes(good)
        table = read_csv(copy)
    table.path = layout.path
    return table


def iter_csv_chunks(layout: CsvLayout, chunk_rows: int, exact: bool = False):
    """The file's data records as RawTables of `chunk_rows` records each, in bounded memory.

    Row numbers stay true across chunks (`first_row`, `offset`). The fast reader raises RaggedRows
    before yielding the chunk that holds a row with the wrong number of cells; read again with
    `exact=True`, which keeps such rows (marked in `__ragged__`) chunk by chunk.
    """
    if exact:
        offset = 0
        for records in _exact_records(layout, chunk_rows):
            yield layout.raw(records, offset)
            offset += records.num_rows
        return
    ragged: list[int] = []

    def on_invalid(row):
        ragged.append(row.number or -1)
        return "skip"

    # Blocks well under a chunk, so a chunk is never much larger than asked.
    block = max(1 << 16, min(1 << 24, chunk_rows * 64))
    pending: list[pa.RecordBatch] = []
    buffered, offset = 0, 0
    try:
        reader = pacsv.open_csv(layout.path, **_arrow_options(layout, block, on_invalid))
        for batch in reader:
            if ragged:
                raise RaggedRows(layout.path)
            pending.append(batch)
            buffered += batch.num_rows
            while buffered >= chunk_rows:
                table = pa.Table.from_batches(pending)
                yield layout.raw(table.slice(0, chunk_rows).combine_chunks(), offset)
                offset += chunk_rows
                rest = table.slice(chunk_rows)
                pending, buffered = rest.to_batches(), rest.num_rows
        if ragged:
            raise RaggedRows(layout.path)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        # The reader works by blocks: the bad cell is in the block after the last row read.
        after = layout.header_lines + offset + buffered
        raise InputFileError(layout.path, f"cannot be parsed as {layout.encoding} CSV with {layout.delimiter!r} separator "
                             f"(in the rows after row {after:,}): {exc}") from None
    if buffered or offset == 0:
        names = [f"c{i}" for i in range(len(layout.headers))]
        table = pa.Table.from_batches(pending, schema=pa.schema([(n, pa.string()) for n in names]))
        yield layout.raw(table.combine_chunks(), offset)


def _csv_header(path: Path, encoding: str, delimiter: str) -> tuple[int, list[str], int, list[list[str]]]:
    """(header record index, header cells, physical lines up to the header, metadata records above it).

    The header is the first record unless a later one among the first few matches clearly more known
    headers: a block of "Shop: ..." / "Date range: ..." lines above the table, as Data Compass writes.
    """
    reader = csv.reader(io.StringIO(_decoded_head(path, encoding).lstrip("\ufeff")), delimiter=delimiter)
    records, line_after = [], []
    try:
        for record in reader:
            records.append(record)
            line_after.append(reader.line_num)  # a quoted header cell may span lines
            if len(records) >= _HEADER_SCAN_ROWS:
                break
    except csv.Error:
        pass  # a record cut at the end of the sniffed block
    if not records:
        raise InputFileError(path, "file is empty")
    scores = [_looks_like_header(r) for r in records]
    best = max(range(len(scores)), key=lambda i: scores[i])
    index = best if scores[best] >= 2 and scores[best] > scores[0] else 0
    return index, records[index], line_after[index], [[c.strip() for c in r] for r in records[:index]]


UNCLOSED_QUOTE = "unclosed quote"


class _LineFeed:
    """The file's physical lines for csv.reader, remembering the lines of the current record and taking lines back."""

    def __init__(self, fh):
        self.fh, self.back, self.taken = fh, [], []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.back.pop() if self.back else next(self.fh)
        self.taken.append(line)
        return line

    def give_back(self, lines: list[str]) -> None:
        self.back.extend(reversed(lines))


def _recovered(reader, feed: _LineFeed, delimiter: str, width: int):
    """csv records; a record that spans several lines with the wrong number of cells is an unclosed quote that
    swallowed the rows after it: its first line is yielded as the damaged row (flagged), the others are read again."""
    while True:
        feed.taken = []
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:  # an unclosed quote at the end of the file
            row = None
        if (row is None or len(row) != width) and len(feed.taken) > 1:
            first, rest = feed.taken[0], feed.taken[1:]
            damaged = next(csv.reader([first.rstrip("\r\n")], delimiter=delimiter, quoting=csv.QUOTE_NONE), [])
            feed.give_back(rest)
            yield damaged + [UNCLOSED_QUOTE]
            continue
        if row is not None:
            yield row


def _exact_records(layout: CsvLayout, chunk_rows: int | None):
    """Slow path (Python csv): keeps ragged rows, padded, with their cell count in `__ragged__` for the caller
    to quarantine. Yields tables of `chunk_rows` records (None: the whole file in one table)."""
    width = len(layout.headers)
    names = [f"c{i}" for i in range(width)] + ["__ragged__"]
    schema = pa.schema([(n, pa.string()) for n in names])

    def table(columns):
        return pa.table(dict(zip(names, columns)), schema=schema)

    columns: list[list[str]] = [[] for _ in range(width + 1)]  # last column flags ragged rows
    yielded = False
    with open(layout.path, encoding=layout.encoding, newline="") as fh:
        feed = _LineFeed(fh)
        reader = csv.reader(feed, delimiter=layout.delimiter)
        for _ in range(layout.header_index + 1):
            next(reader, None)
        for row in _recovered(reader, feed, layout.delimiter, width):
            flag = row.pop() if row and row[-1] is UNCLOSED_QUOTE else None
            cells = len(row)
            row = (row + [""] * width)[:width]
            for i, cell in enumerate(row):
                columns[i].append(cell)
            # A blank line is one empty cell: a blank row, not a ragged one.
            columns[width].append(UNCLOSED_QUOTE if flag else f"{cells}" if cells != width and cells > 0 else "")
            if chunk_rows and len(columns[0]) >= chunk_rows:
                yield table(columns)
                yielded = True
                columns = [[] for _ in range(width + 1)]
    if columns[0] or not yielded:
        yield table(columns)


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _looks_like_header(cells: list[str]) -> int:
    keys = {normalise_header(c) for c in cells if c}
    known = {k for spec in registry().values() for k in spec.lookup}
    return len(keys & known)


def _best_sheet(workbook):
    """The sheet whose first rows look most like a known export header (a cover or notes sheet may come first)."""
    def score(ws):
        rows = ws.iter_rows(max_row=_HEADER_SCAN_ROWS, values_only=True)
        return max((_looks_like_header([_cell_text(v) for v in row]) for row in rows), default=0)

    sheets = workbook.worksheets
    scores = [score(ws) for ws in sheets]
    best = max(range(len(sheets)), key=lambda i: scores[i])
    return sheets[best] if scores[best] >= 2 else sheets[0]


# Inflation limits, checked before inflating (a 1.6 MB "zip bomb" can inflate to gigabytes): a workbook part or a
# gzipped CSV may not inflate past its limit, nor by more than INFLATE_RATIO once past INFLATE_RATIO_FROM.
# Seller Center caps an export at 15,000 records, far below them.
XLSX_MEMBER_LIMIT_BYTES = 1 << 30
GZIP_LIMIT_BYTES = 8 << 30
INFLATE_RATIO = 250
INFLATE_RATIO_FROM = 50 << 20
_ROW_NUMBER = re.compile(rb"<(?:\w+:)?row\b[^>]*?\br=\"([0-9]+)\"")


def check_workbook_size(path: Path) -> None:
    """Refuse a workbook whose parts would inflate past the limits, from the zip directory alone."""
    import zipfile

    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputFileError(path, f"cannot be opened as an Excel workbook: {exc}") from None
    with archive:
        for info in archive.infolist():
            ratio = info.file_size / max(1, info.compress_size)
            if info.file_size > XLSX_MEMBER_LIMIT_BYTES or (ratio > INFLATE_RATIO and info.file_size > INFLATE_RATIO_FROM):
                raise InputFileError(path, f"workbook part {info.filename} would inflate to {info.file_size:,} bytes "
                                     f"({ratio:,.0f}x its packed size); refused before reading (limits: "
                                     f"{XLSX_MEMBER_LIMIT_BYTES:,} bytes, {INFLATE_RATIO}x above {INFLATE_RATIO_FROM:,} bytes)")


def xlsx_split_rows(path: Path) -> bool:
    """Whether a sheet writes one sheet row as several <row r="N"> fragments (some exporters do). openpyxl's
    read-only reader keeps only the first fragment of such a row, so those workbooks are read in full mode,
    which places cells by coordinate."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                continue
            last, pending = -1, b""
            with archive.open(info) as member:
                for block in iter(lambda: member.read(1 << 20), b""):
                    pending += block
                    end = 0
                    for match in _ROW_NUMBER.finditer(pending):
                        if int(match.group(1)) <= last:
                            return True
                        last, end = int(match.group(1)), match.end()
                    # Keep the tail that may hold a row tag cut by the block's end.
                    pending = pending[max(end, len(pending) - 256):]
    return False


def read_xlsx(path: Path, sheet: str | None = None) -> RawTable:
    """The sheet named `sheet`, else the one that looks like an export; rows above the header are kept aside."""
    from openpyxl import load_workbook

    path = Path(path)
    check_workbook_size(path)
    full_mode = xlsx_split_rows(path)
    try:
        workbook = load_workbook(path, read_only=not full_mode, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise InputFileError(path, f"cannot be opened as an Excel workbook: {exc.__class__.__name__}: {exc}") from None
    if sheet and sheet not in workbook.sheetnames:
        workbook.close()
        raise InputFileError(path, f"has no sheet {sheet!r}; its sheets are {', '.join(workbook.sheetnames)}")
    worksheet = workbook[sheet] if sheet else _best_sheet(workbook)
    rows = [[_cell_text(v) for v in row] for row in worksheet.iter_rows(values_only=True)]
    # The other sheets (an income statement's "Reports", "Reserve Details"...), for importers that reconcile
    # with them; capped, since they hold totals and short lists.
    others = {ws.title: [[_cell_text(v) for v in row] for row in ws.iter_rows(max_row=OTHER_SHEET_ROWS, values_only=True)]
              for ws in workbook.worksheets if ws.title != worksheet.title}
    workbook.close()
    if full_mode:
        # Full mode reports the sheet's extent counting each fragment: the rows past the last filled one are not in the file.
        while rows and not any(c.strip() for c in rows[-1]):
            rows.pop()
    if not rows:
        raise InputFileError(path, "workbook sheet is empty")
    scores = [_looks_like_header(r) for r in rows[:_HEADER_SCAN_ROWS]]
    header_index = max(range(len(scores)), key=lambda i: scores[i]) if max(scores) >= 2 else 0
    headers = [h.strip() for h in rows[header_index]]
    while headers and not headers[-1]:
        headers.pop()
    headers = qualify_by_section(headers, rows[:header_index])
    width = len(headers)
    body = [(r + [""] * width)[:width] for r in rows[header_index + 1 :]]
    columns = {f"c{i}": [r[i] for r in body] for i in range(width)}
    return RawTable(path, headers, pa.table(columns, schema=pa.schema([(f"c{i}", pa.string()) for i in range(width)])),
                    header_index + 2, "xlsx", None, metadata_rows=rows[:header_index], sheet=worksheet.title,
                    other_sheets=others)


def read_any(path: Path) -> RawTable:
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "file not found")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic == b"PK\x03\x04":
        return read_xlsx(path)
    if magic == b"\xd0\xcf\x11\xe0":  # an OLE2 compound file: an encrypted OOXML workbook, or legacy .xls
        with open(path, "rb") as fh:
            encrypted = "EncryptedPackage".encode("utf-16-le") in fh.read(1 << 20)
        if encrypted:
            raise InputFileError(path, "is a password-protected (encrypted) workbook: open it in Excel, remove the "
                                 "password (File > Info > Protect Workbook > Encrypt with Password), save, and ingest again")
        raise InputFileError(path, "is a legacy Excel 97-2003 workbook (.xls format): open it in Excel and save it as "
                             ".xlsx (Excel Workbook), then ingest again")
    if magic[:2] == b"\x1f\x8b":
        return _read_gzip(path)
    return read_csv(path)


def _read_gzip(path: Path) -> RawTable:
    """A gzipped CSV is read from a temporary plain copy; messages keep naming the original file."""
    import gzip
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / path.name.removesuffix(".gz")
        packed = path.stat().st_size
        limit = min(GZIP_LIMIT_BYTES, max(INFLATE_RATIO_FROM, packed * INFLATE_RATIO))
        try:
            with gzip.open(path, "rb") as src, open(plain, "wb") as dst:
                written = 0
                for block in iter(lambda: src.read(1 << 20), b""):
                    written += len(block)
                    if written > limit:  # stop inflating at once: a small bomb must not fill the disk
                        raise InputFileError(path, f"inflates past {limit:,} bytes ({written / max(1, packed):,.0f}x its "
                                             f"{packed:,} packed bytes); refused (limits: {GZIP_LIMIT_BYTES:,} bytes, "
                                             f"{INFLATE_RATIO}x above {INFLATE_RATIO_FROM:,} bytes)")
                    dst.write(block)
        except (OSError, EOFError) as exc:
            raise InputFileError(path, f"is not a readable gzip file: {exc}") from None
        try:
            table = read_csv(plain)
        except InputFileError as exc:
            raise InputFileError(path, str(exc).split(": ", 1)[-1]) from None
        table.path = path
        return table
