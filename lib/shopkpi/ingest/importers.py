"""The registry of export importers: one per kind in data/aliases/ that we can store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import pyarrow as pa

from shopkpi.ingest.headers import HeaderMatch
from shopkpi.ingest.readers import RawTable
from shopkpi.ingest.rows import ImportContext, Parsed


@dataclass(frozen=True)
class Importer:
    kind: str
    table: str  # store table the rows go to
    key: tuple[str, ...]  # one stored row per key
    schema: pa.Schema
    parse: Callable[[RawTable, HeaderMatch, ImportContext], Parsed]
    # All rows of a group come from the one export that is newest for that group (an order's lines:
    # a line missing from a newer export is gone). Default: each key is its own group.
    group_key: tuple[str, ...] | None = None
    # A row's own event times; a group's newest export is the one with its latest event.
    event_columns: tuple[str, ...] = ()


_REGISTRY: dict[str, Importer] = {}


def register(importer: Importer) -> Importer:
    _REGISTRY[importer.kind] = importer
    return importer


def importer_for(kind: str) -> Importer | None:
    _load_builtin()
    return _REGISTRY.get(kind)


def all_importers() -> list[Importer]:
    _load_builtin()
    return list(_REGISTRY.values())


def _load_builtin() -> None:
    # Importing a kind's module registers it; every module in ingest/kinds/ is one kind.
    import importlib
    import pkgutil

    from shopkpi.ingest import kinds

    for module in pkgutil.iter_modules(kinds.__path__):
        importlib.import_module(f"{kinds.__name__}.{module.name}")
