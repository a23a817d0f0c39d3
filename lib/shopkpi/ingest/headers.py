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
    duplicated: list[str]  # canonical columns matched by more than one header


def match_headers(headers: list[str], spec: KindSpec) -> HeaderMatch:
    lookup = spec.lookup
    mapping: dict[str, int] = {}
    unmatched, duplicated = [], []
    for position, header in enumerate(headers):
        canonical = lookup.get(normalise_header(header))
        if canonical is None:
            unmatched.append(header)
        elif canonical in mapping:
            duplicated.append(canonical)
        else:
            mapping[canonical] = position
    return HeaderMatch(spec.kind, mapping, unmatched, duplicated)


class UnknownKindError(ValueError):
    """No known export kind has all its required columns among the headers."""


def detect_kind(headers: list[str], extra: list[KindSpec] = ()) -> HeaderMatch:
    """Pick the export kind from the headers alone; explain near misses when none fits.

    `extra` adds a client's own kinds, e.g. a sales-lines file mapped in its params.
    """
    candidates = []
    for spec in [*extra, *registry().values()]:
        match = match_headers(headers, spec)
        missing = [c for c in spec.required if c not in match.mapping]
        candidates.append((len(missing), -len(match.mapping), spec, match, missing))
    candidates.sort(key=lambda c: (c[0], c[1]))
    fits = [c for c in candidates if c[0] == 0]
    if fits:
        return fits[0][3]
    lines = ["no known export kind matches these headers. Closest kinds:"]
    for n_missing, _, spec, match, missing in candidates[:3]:
        wanted = [spec.columns[c].aliases[0] for c in missing]
        lines.append(f"  - {spec.kind} ({spec.description}): missing {', '.join(wanted)}")
    lines.append(f"  headers not recognised: {', '.join(repr(h) for h in candidates[0][3].unmatched[:15]) or 'none'}")
    known = [a for s in registry().values() for c in s.columns.values() for a in c.aliases]
    hints = {h: difflib.get_close_matches(h, known, n=1, cutoff=0.75) for h in candidates[0][3].unmatched[:15]}
    near = [f"{h!r} ~ {m[0]!r}" for h, m in hints.items() if m]
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
