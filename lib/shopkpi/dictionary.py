"""The metric and rules dictionary and report labels, read from data/*.yaml."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml


def _load(name: str) -> dict:
    return yaml.safe_load(resources.files("shopkpi.data").joinpath(name).read_text(encoding="utf-8"))


def _load_folder(folder: str) -> dict:
    """Merge data/<folder>/*.yaml (one file per analysis); a key defined twice is an error."""
    merged: dict = {}
    for file in sorted(resources.files("shopkpi.data").joinpath(folder).iterdir(), key=lambda f: f.name):
        if not file.name.endswith(".yaml"):
            continue
        for key, value in (yaml.safe_load(file.read_text(encoding="utf-8")) or {}).items():
            if key in merged:
                raise KeyError(f"{key!r} is defined twice in data/{folder}/ (again in {file.name})")
            merged[key] = value
    return merged


@lru_cache(maxsize=None)
def metrics() -> dict:
    return _load_folder("metrics")


@lru_cache(maxsize=None)
def rules() -> dict:
    return _load("rules.yaml")


@lru_cache(maxsize=None)
def labels() -> dict:
    return _load_folder("i18n")


def t(key: str, language: str, **values) -> str:
    """A label or sentence in the report language; a missing translation is an error, never a fallback."""
    entry = labels().get(key) or metrics().get(key, {}).get("label")
    if entry is None:
        raise KeyError(f"no label {key!r} in data/i18n/*.yaml")
    if language not in entry:
        raise KeyError(f"label {key!r} has no {language!r} translation")
    return entry[language].format(**values) if values else entry[language]


def metric_table(language: str, keys: list[str] | None = None) -> list[dict]:
    """Rows of (metric, definition) for printing in notebooks."""
    keys = keys or list(metrics())
    return [{t("kpi", language): metrics()[k]["label"][language], t("definition", language): metrics()[k]["definition"][language]}
            for k in keys]


def status_groups() -> dict[str, list[str]]:
    return rules()["order_status"]
