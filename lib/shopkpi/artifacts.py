"""Artifacts: the JSON and figures a notebook leaves for the dashboard and later notebooks.

Written atomically (temp file + os.replace) so a page never reads a half-written file,
and a notebook killed mid-run leaves the previous artifact or none, never a torn one.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from decimal import Decimal
from pathlib import Path

from shopkpi import __version__


def _default(value):
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _clean_nans(value):
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: _clean_nans(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_nans(v) for v in value]
    return value


def write_text_atomic(path: Path, text: str) -> Path:
    """Temp file + os.replace: a reader or a crash never sees half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def write_json(path: Path, payload: dict) -> Path:
    payload = {**payload, "shopkpi_version": __version__}
    text = json.dumps(_clean_nans(json.loads(json.dumps(payload, default=_default))), ensure_ascii=False, indent=2)
    return write_text_atomic(path, text)


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def save_figure(fig, path: Path) -> Path:
    """PNG at a resolution that stays sharp on a laptop and light on a phone."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    os.replace(tmp, path)
    return path
