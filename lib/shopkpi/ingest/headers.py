"""Header normalisation, the alias registry (data/aliases/<kind>.yaml) and export-kind detection."""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import yaml

_ZERO_WIDTH = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad"), None)
# Only upper-case codes are currencies: "Cost (THB)" has one, "Clicks (all)" does not.
_CURRENCY_SUFFIX = re.compile(r"\s*[\(（]\s*[A-Z]{3}\s*[\)）]\s*$")
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_header(text: str) -> str:
    """Case-, space- and punctuation-blind key; strips BOM, zero-width chars and "(THB)"."""
    text = unicodedata.normalize("NFKC", str(text)).translate(_ZERO_WIDTH).strip()
    text = _CURRENCY_SUFFIX.sub("", text)
    return _NOT_WORD.sub("", text.casefold())


def currency_suffix(text: str) -> str | None:
    m = _CURRENCY_SUFFIX.search(str(text).strip())
    return m.group(0).strip(" ()（）") if m else None


@dataclass(frozen=True)
class ColumnSpec:
    canonical: str
    aliases: tuple[str, ...]
    pii: str | None = None  # None, "drop" or "hash"


@dataclass(frozen=True)
class KindSpec:
    kind: str
    description: str
    required: tuple[str, ...]
    columns: dict[str, ColumnSpec] = field(hash=False)

    @property
    def lookup(self) -> dict[str, str]:
        return {normalise_header(a): c.canonical for c in self.columns.values() for a in c.aliases}

    @property
    def preference(self) -> dict[str, tuple[str, int]]:
        """Normalised spelling -> (canonical column, rank of the spelling in its alias list)."""
        return {normalise_header(a): (c.canonical, i) for c in self.columns.values() for i, a in enumerate(c.aliases)}


@lru_cache(maxsize=1)
def registry() -> dict[str, KindSpec]:
    """Every kind in data/aliases/*.yaml (one file per kind)."""
    raw = {}
    folder = resources.files("shopkpi.data").joinpath("aliases")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            raw |= yaml.safe_load(entry.read_text(encoding="utf-8"))
    kinds = {}
    for kind, spec in raw.items():
        columns = {}
        for canonical, entry in spec["columns"].items():
            if isinstance(entry, dict):
                columns[canonical] = ColumnSpec(canonical, tuple(entry["aliases"]), entry.get("pii"))
            else:
                columns[canonical] = ColumnSpec(canonical, tuple(entry))
        kinds[kind] = KindSpec(kind, spec.get("description", ""), tuple(spec["required"]), columns)
    return kinds


@dataclass(frozen=True)
class HeaderMatch:
    kind: str
    mapping: dict[str, int]  # canonical column -> position in the file
    unmatched: list[str]  # file headers no alias matched
    duplicated: list[str]  # canonical columns matched twice by the same spelling: truly ambiguous
    # (header set aside, header kept, canonical): two spellings of one column; the alias list's earlier one wins.
    set_aside: list[tuple[str, str, str]] = field(default_factory=list)

    def ambiguity(self, headers: list[str]) -> str:
        """The message for a file whose one column appears twice under the same header."""
        parts = []
        for canonical in self.duplicated:
            where = [f"{column_letter(i)} ({headers[i]!r})" for i, h in enumerate(headers)
                     if h.strip() and normalise_header(h) == normalise_header(headers[self.mapping[canonical]])]
            parts.append(f"{canonical}: columns {' and '.join(where)}")
        return ("the same header appears twice, so it is not clear which column to read: " + "; ".join(parts) +
                ". Delete or rename one of the two columns and ingest the file again")


def column_letter(position: int) -> str:
    """Spreadsheet column letter of a 0-based position (0 -> A, 26 -> AA)."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def match_headers(headers: list[str], spec: KindSpec) -> HeaderMatch:
    """Map a file's headers to canonical columns. Two different spellings of one column (Buyer Username and
    Buyer Nickname) keep the one the alias list names first and set the other aside, reported."""
    mapping: dict[str, int] = {}
    rank: dict[str, int] = {}
    unmatched, duplicated, set_aside = [], [], []
    for position, header in enumerate(headers):
        key = normalise_header(header)
        canonical, preference = spec.preference.get(key, (None, None))
        if canonical is None:
            if key:
                unmatched.append(header)
            continue
        if canonical not in mapping:
            mapping[canonical], rank[canonical] = position, preference
        elif preference == rank[canonical]:
            duplicated.append(canonical)
        elif preference < rank[canonical]:
            set_aside.append((headers[mapping[canonical]], header, canonical))
            mapping[canonical], rank[canonical] = position, preference
        else:
            set_aside.append((header, headers[mapping[canonical]], canonical))
    return HeaderMatch(spec.kind, mapping, unmatched, duplicated, set_aside)


class UnknownKindError(ValueError):
    """No known export kind has all its required columns among the headers."""


# A header cell with a long number, an e-mail or a phone is a data value (the file has no header row):
# such cells are shown by position and length only, never echoed into messages and logs.
_VALUE_LIKE = re.compile(r"[0-9]{4,}|@|\+[0-9]")


def shown_header(header: str, position: int) -> str:
    """A header for a message: as written, or its position and length when it looks like a data value."""
    header = str(header)
    if _VALUE_LIKE.search(header) or len(header) > 60:
        return f"<column {column_letter(position)}: a value of {len(header)} characters, not shown>"
    return repr(header)


def detect_kind(headers: list[str], extra: list[KindSpec] = ()) -> HeaderMatch:
    """Pick the export kind from the headers alone; explain near misses when none fits.

    `extra` adds a client's own kinds, e.g. a sales-lines file mapped in its params.
    """
    candidates = []
    filled = max(1, sum(1 for h in headers if normalise_header(h)))
    for spec in [*extra, *registry().values()]:
        match = match_headers(headers, spec)
        missing = [c for c in spec.required if c not in match.mapping]
        share = len(match.mapping) / filled
        candidates.append((len(missing), -share, spec, match, missing))
    candidates.sort(key=lambda c: (c[0] > 0, -(len(c[2].required) - c[0]) / max(1, len(c[2].required)), c[1]))
    fits = [c for c in candidates if c[0] == 0]
    if fits:
        return min(fits, key=lambda c: c[1])[3]
    lines = ["no known export kind matches these headers. Closest kinds (required columns found; share of this file's headers they know):"]
    for n_missing, share, spec, match, missing in candidates[:3]:
        wanted = [spec.columns[c].aliases[0] for c in missing]
        found = len(spec.required) - n_missing
        lines.append(f"  - {spec.kind} ({spec.description}): {found} of {len(spec.required)} required, "
                     f"{-share:.0%} of headers known; missing {', '.join(wanted)}")
    every_alias = {k for s in [*extra, *registry().values()] for k in s.lookup}
    strangers = [(i, h) for i, h in enumerate(headers) if normalise_header(h) and normalise_header(h) not in every_alias]
    shown = [shown_header(h, i) for i, h in strangers[:15]]
    more = f" and {len(strangers) - 15} more" if len(strangers) > 15 else ""
    lines.append(f"  headers no kind knows: {', '.join(shown) or 'none'}{more}")
    known = [a for s in registry().values() for c in s.columns.values() for a in c.aliases]
    near = []
    for i, h in strangers[:30]:
        if shown_header(h, i).startswith("<"):
            continue
        match = difflib.get_close_matches(h, known, n=1, cutoff=0.75)
        if match:
            near.append(f"{h!r} ~ {match[0]!r}")
    if near:
        lines.append(f"  near spellings (add an alias to data/aliases/<kind>.yaml if they are the same): {'; '.join(near)}")
    raise UnknownKindError("\n".join(lines))


def qualify_by_section(headers: list[str], rows_above: list[list[str]]) -> list[str]:
    """Headers that repeat under section labels become "Section:: Header" outside the first section.

    Data Compass's product list writes "GMV", "Product impressions"... once per section (All, Affiliate,
    Seller LIVE, ...), with the section names on the row above, each over its first column.
    """
    keys = [normalise_header(h) for h in headers]
    repeated = {k for k in keys if k and keys.count(k) > 1}
    if not repeated or not rows_above:
        return headers
    above = list(rows_above[-1]) + [""] * len(headers)
    sections, current = [], ""
    for cell in above[: len(headers)]:
        current = cell.strip() or current  # a merged section cell holds its label only over its first column
        sections.append(current)
    labels = [s for s in dict.fromkeys(sections) if s]
    if len(labels) < 2:
        return headers
    first = labels[0]
    return [f"{section}:: {header}" if key in repeated and section and section != first else header
            for header, key, section in zip(headers, keys, sections)]
