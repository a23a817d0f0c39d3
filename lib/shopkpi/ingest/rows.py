"""Row bookkeeping shared by every importer: quarantine and excluded records, non-data rows, markets."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from shopkpi.errors import InputFileError
from shopkpi.ingest.headers import HeaderMatch
from shopkpi.ingest.readers import RawTable
from shopkpi.ingest.values import clean_text

QUARANTINE_SCHEMA = pa.schema([
    ("file_id", pa.string()), ("source_file", pa.string()), ("source_row", pa.int64()),
    ("column", pa.string()), ("reason", pa.string()), ("raw_value", pa.string()),
])
EXCLUDED_SCHEMA = pa.schema([
    ("file_id", pa.string()), ("source_file", pa.string()), ("source_row", pa.int64()),
    ("rule", pa.string()), ("record_key", pa.string()), ("detail", pa.string()),
])
RECONCILIATION_SCHEMA = pa.schema([
    ("file_id", pa.string()), ("source_file", pa.string()), ("kind", pa.string()), ("metric", pa.string()),
    ("export_total", pa.float64()), ("our_total", pa.float64()), ("difference", pa.float64()), ("explanation", pa.string()),
])
# Every stored table carries these, so rows trace back to a file and the newest export wins.
# `ingest_run` is the store version that stored the row: between exports that know no newer event
# for a record, the one ingested later wins.
PROVENANCE = [("file_id", pa.string()), ("source_file", pa.string()), ("source_row", pa.int64()),
              ("export_as_of", pa.timestamp("s", tz="UTC")), ("ingest_run", pa.int64())]


@lru_cache(maxsize=1)
def market_reference() -> dict:
    return yaml.safe_load(resources.files("shopkpi.data").joinpath("markets.yaml").read_text(encoding="utf-8"))


def money_convention(code: str, params=None) -> str:
    """How market `code` writes money: "none" for a currency without minor units, else markets.yaml's decimal."""
    from shopkpi.ingest.values import ZERO_DECIMAL_CURRENCIES

    reference = market_reference().get(code, {})
    currency = params.market(code).currency if params is not None and code in {m.code for m in params.markets} else reference.get("currency")
    if currency in ZERO_DECIMAL_CURRENCIES:
        return "none"
    return reference.get("decimal", "dot")


@dataclass
class FileFacts:
    """Facts that hold for a whole file, decided on the first chunk that shows them and enforced on the
    later chunks when a large file is parsed in chunks (a later chunk never silently switches layout)."""

    # (column, market code or "date") -> the strptime layout the file uses there.
    timestamp_formats: dict[tuple[str, str], str] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportContext:
    params: object  # ClientParams
    file_id: str
    source_file: str
    salt: bytes
    market_hint: str | None = None
    facts: FileFacts = field(default_factory=FileFacts, hash=False, compare=False)


@dataclass
class Parsed:
    rows: pa.Table
    quarantine: pa.Table
    excluded: pa.Table  # non-data rows; duplicates are decided when merging into the store
    markets: list[str] = field(default_factory=list)
    timestamp_format: str | None = None
    # The export_as_of given to these rows (for a chunk: its own; the file's is the latest of its chunks').
    export_as_of: object = None
    # Where the export states its own totals (ads totals row, settlement header...): one dict per
    # metric with keys metric, export_total, our_total, explanation (why they may differ).
    reconciliation: list[dict] = field(default_factory=list)

    def reconciliation_table(self, ctx: "ImportContext", kind: str) -> pa.Table:
        rows = [{"file_id": ctx.file_id, "source_file": ctx.source_file, "kind": kind, "metric": r["metric"],
                 "export_total": r["export_total"], "our_total": r["our_total"],
                 "difference": None if r["export_total"] is None or r["our_total"] is None else r["our_total"] - r["export_total"],
                 "explanation": r.get("explanation", "")} for r in self.reconciliation]
        return pa.Table.from_pylist(rows, schema=RECONCILIATION_SCHEMA)


ALSO = " (also: "


class Problems:
    """Collects one quarantine record per bad row, with spreadsheet row numbers and every problem of the row:
    the first in `column`/`reason`/`raw_value`, the others after it in `reason` (" (also: Header: reason 'value')"),
    so that fixing one problem does not reveal the next."""

    def __init__(self, raw: RawTable, match: HeaderMatch, skip: pa.Array):
        self.raw, self.match, self.skip = raw, match, skip
        self.bad = pa.array(np.zeros(raw.records.num_rows, dtype=bool))
        self.notes: list[tuple[list[int], str, str, list]] = []
        if "__ragged__" in raw.records.column_names:
            flags = raw.records.column("__ragged__")
            quote = pc.equal(flags, "unclosed quote")
            self.note(quote, "(row)", "unclosed quote: a quoted cell in this row never ends; the rows after it are read "
                      "on their own", pc.cast(flags, pa.string()))
            ragged = pc.and_(pc.not_equal(flags, ""), pc.invert(quote))
            self.note(ragged, "(row)", "row has a different number of cells than the header",
                      pc.binary_join_element_wise(flags, f" cells vs {len(raw.headers)}", ""))

    def note(self, mask: pa.Array, column: str, reason: str, source: pa.Array) -> None:
        mask = pc.and_(pc.fill_null(mask, False), pc.invert(self.skip))
        index = pc.indices_nonzero(mask).to_pylist()
        if not index:
            return
        header = self.raw.headers[self.match.mapping[column]] if column in self.match.mapping else column
        values = pc.take(source, pa.array(index, pa.int64())).to_pylist()
        self.notes.append((index, header, reason, [None if v is None else str(v)[:80] for v in values]))
        self.bad = pc.or_(self.bad, mask)

    def table(self, ctx: ImportContext) -> pa.Table:
        first: dict[int, list] = {}
        also: dict[int, list[str]] = {}
        columns: dict[int, set[str]] = {}
        for index, header, reason, values in self.notes:
            for i, value in zip(index, values):
                if i not in first:
                    first[i], columns[i] = [header, reason, value], {header}
                elif header not in columns[i] and len(also.setdefault(i, [])) < 5:
                    # One problem per column: an unreadable cell is also "empty" to a later check; say it once.
                    columns[i].add(header)
                    also[i].append(f"{header}: {reason}" + ("" if value is None else f" {value[:40]!r}"))
        rows = sorted(first)
        reasons = [first[i][1] + (ALSO + "; ".join(also[i]) + ")" if also.get(i) else "") for i in rows]
        n = len(rows)
        return pa.table({"file_id": [ctx.file_id] * n, "source_file": [ctx.source_file] * n,
                         "source_row": [self.raw.row_number(i) for i in rows], "column": [first[i][0] for i in rows],
                         "reason": reasons, "raw_value": [first[i][2] for i in rows]}, schema=QUARANTINE_SCHEMA)


def totals_row_entries(at: int, metrics: list[str], match: HeaderMatch, out: dict[str, pa.Array], rows: pa.Table,
                       quarantined: int) -> list[dict]:
    """An export's own totals row (record `at`) against the sum of the rows we keep, per summable metric."""
    why = f"{quarantined} quarantined row(s) are not in our total" if quarantined else "the export's total differs from its rows"
    entries = []
    for metric in (m for m in metrics if m in match.mapping):
        # Both sides are exact (decimals or integers) until this conversion, so equal totals compare equal.
        stated = out[metric][at].as_py()
        stated = None if stated is None else float(stated)
        ours = float(pc.sum(rows.column(metric)).as_py() or 0)
        explanation = "the totals row leaves this metric empty" if stated is None else why if stated != ours else ""
        entries.append({"metric": metric, "export_total": stated, "our_total": ours, "explanation": explanation})
    return entries


def column_of(raw: RawTable, match: HeaderMatch, name: str) -> pa.Array:
    """A file's column by canonical name; all nulls when the file does not have it."""
    return raw.records.column(match.mapping[name]) if name in match.mapping else pa.nulls(raw.records.num_rows, pa.string())


def currency_to_market(currency: pa.Array, params) -> pa.Array:
    """Market per row from a currency code used by exactly one of the client's markets (GBP -> UK).

    A currency shared by two markets (EUR) cannot tell them apart and gives null.
    """
    users: dict[str, list[str]] = {}
    for market in params.markets:
        users.setdefault(market.currency, []).append(market.code)
    single = {cur: codes[0] for cur, codes in users.items() if len(codes) == 1}
    return pc.take(pa.array(list(single.values()), pa.string()),
                   pc.index_in(pc.utf8_upper(currency), pa.array(list(single), pa.string())))


def _is_prose(cell: str | None) -> bool:
    """Words, not a value: mostly letters (any script), and either several words or a long run of letters."""
    if not cell:
        return False
    letters = sum(ch.isalpha() for ch in cell)
    visible = sum(not ch.isspace() for ch in cell)
    if not visible or letters * 2 < visible:
        return False
    return len(cell.split()) >= 2 or letters >= 8


def non_data_rows(raw: RawTable, key_column: int) -> tuple[pa.Array, pa.Array]:
    """Description row, totals/footer rows and blank rows -> (mask, rule per row)."""
    n = raw.records.num_rows
    first = clean_text(raw.records.column(key_column))
    # A blank row has an empty key cell; only those few rows need every column checked.
    all_blank = pc.is_null(first)
    candidates = pc.indices_nonzero(all_blank)
    if len(candidates):
        blank = np.ones(len(candidates), dtype=bool)
        for name in raw.records.column_names:
            if name.startswith("c"):
                blank &= pc.is_null(clean_text(pc.take(raw.records.column(name), candidates))).to_numpy(zero_copy_only=False)
        mask = np.zeros(n, dtype=bool)
        mask[candidates.to_numpy()] = blank
        all_blank = pa.array(mask)
    footer = pc.fill_null(pc.match_substring_regex(first, r"(?i)^(total|合计|总计|合計|tổng|jumlah|รวม|summe|gesamt|totale)"), False)
    # Only the file's first data row can be its description row (not the first row of a later chunk): one
    # whose key cell and most other cells are prose in any language (Seller Center writes it in the UI's
    # language: "Platform unique order ID.", "หมายเลขคำสั่งซื้อ..."), where a first record has numbers and IDs.
    description = pa.array(np.zeros(n, dtype=bool))
    if n and raw.offset == 0 and _is_prose(first[0].as_py()):
        cells = [clean_text(raw.records.column(c).slice(0, 1))[0].as_py() for c in raw.records.column_names if c.startswith("c")]
        filled = [c for c in cells if c]
        if sum(_is_prose(c) for c in filled) * 2 >= len(filled):
            description = pa.array(np.arange(n) == 0)
    none = pa.scalar(None, pa.string())
    rule = pc.if_else(all_blank, "blank_row", pc.if_else(footer, "footer_row", pc.if_else(description, "description_row", none)))
    return pc.is_valid(rule), rule


def excluded_table(raw: RawTable, ctx: ImportContext, mask: pa.Array, rule: pa.Array) -> pa.Table:
    index = pc.indices_nonzero(mask).to_pylist()
    n = len(index)
    return pa.table({
        "file_id": [ctx.file_id] * n, "source_file": [ctx.source_file] * n,
        "source_row": [raw.row_number(i) for i in index],
        "rule": pc.take(rule, pa.array(index, pa.int64())).to_pylist(),
        "record_key": [None] * n, "detail": [None] * n,
    }, schema=EXCLUDED_SCHEMA)


def market_of_rows(raw: RawTable, match: HeaderMatch, ctx: ImportContext) -> pa.Array:
    """Market code per row, from the Country column, else the --market hint, else the client's only market."""
    client_markets = sorted(m.code for m in ctx.params.markets)
    n = raw.records.num_rows
    fallback = ctx.market_hint or (client_markets[0] if len(client_markets) == 1 else None)
    if "country" in match.mapping:
        names = {name.casefold(): code for code, ref in market_reference().items() for name in ref["country_names"]}
        lowered = pc.utf8_lower(clean_text(raw.records.column(match.mapping["country"])))
        found = pc.take(pa.array(list(names.values())), pc.index_in(lowered, pa.array(list(names))))
        return pc.fill_null(found, fallback) if fallback else found
    if fallback:
        return pa.array([fallback] * n, pa.string())
    raise InputFileError(raw.path, f"has no Country column and the client has several markets {client_markets}; "
                         "pass --market CODE for this file")


def constant_text(value: str, n: int) -> pa.Array:
    """`value` repeated n times, built from buffers (a Python list of millions of strings is slow)."""
    data = value.encode("utf-8")
    small = len(data) * n < 2**31 - 1
    offsets = np.arange(n + 1, dtype=np.int32 if small else np.int64) * len(data)
    array = pa.Array.from_buffers(pa.string() if small else pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data * n)])
    return array if small else array.cast(pa.string())


def provenance_columns(raw: RawTable, ctx: ImportContext, as_of) -> dict[str, pa.Array]:
    n = raw.records.num_rows
    as_of_type = pa.timestamp("s", tz="UTC")
    return {
        "file_id": constant_text(ctx.file_id, n),
        "source_file": constant_text(ctx.source_file, n),
        "source_row": pa.array(np.arange(n, dtype=np.int64) + raw.first_row),
        "export_as_of": (pa.nulls(n, as_of_type) if as_of is None else
                         pa.array(np.full(n, pa.scalar(as_of, as_of_type).value, dtype=np.int64)).view(as_of_type)),
        "ingest_run": pa.nulls(n, pa.int64()),  # set when the run commits
    }


def finish(raw: RawTable, ctx: ImportContext, out: dict[str, pa.Array], schema: pa.Schema, skip: pa.Array,
           skip_rule: pa.Array, problems: Problems, timestamp_format: str | None = None) -> Parsed:
    """Typed columns -> Parsed: rows that are neither non-data nor quarantined, plus their bookkeeping."""
    table = pa.table({f.name: out[f.name].cast(f.type) for f in schema}, schema=schema)
    as_of = pc.max(table.column("export_as_of")).as_py() if "export_as_of" in schema.names else None
    rows = table.filter(pc.invert(pc.or_(skip, problems.bad)))
    markets = sorted(set(rows.column("market").drop_null().to_pylist())) if "market" in schema.names else []
    return Parsed(rows, problems.table(ctx), excluded_table(raw, ctx, skip, skip_rule), markets, timestamp_format, as_of)
