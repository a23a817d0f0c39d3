"""Vectorised value formatters reproducing the text formats of TikTok Shop exports."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# Sentinel for "no timestamp" in int64 local-seconds arrays.
NO_TIME: int = np.iinfo(np.int64).max

# Output character layouts built from ISO 'YYYY-MM-DDTHH:MM:SS' (indices into the ISO string).
_LAYOUTS: dict[str, list[int | str]] = {
    "dmy_hms": [8, 9, "/", 5, 6, "/", 0, 1, 2, 3, " ", 11, 12, 13, 14, 15, 16, 17, 18],
    "dmy_hm": [8, 9, "/", 5, 6, "/", 0, 1, 2, 3, " ", 11, 12, 13, 14, 15],
    "ymd_hms": list(range(10)) + [" "] + list(range(11, 19)),
    "ymd_hm": list(range(10)) + [" "] + list(range(11, 16)),
    "ymd": list(range(10)),
    "dmy": [8, 9, "/", 5, 6, "/", 0, 1, 2, 3],
}


def _map_unique(values: np.ndarray, fn: Callable[[object], str]) -> np.ndarray:
    """Apply a Python formatter once per distinct value (exports repeat prices a lot)."""
    values = np.asarray(values)
    if values.size == 0:
        return np.array([], dtype=object)
    uniq, inverse = np.unique(values, return_inverse=True)
    formatted = np.array([fn(v) for v in uniq.tolist()], dtype=object)
    return formatted[inverse.reshape(-1)]


def timestamps(local_seconds: np.ndarray, layout: str = "dmy_hms") -> np.ndarray:
    """Format local wall-clock seconds; NO_TIME becomes an empty string."""
    secs = np.asarray(local_seconds, dtype=np.int64)
    out = np.full(secs.shape, "", dtype=object)
    present = secs != NO_TIME
    if not present.any():
        return out
    iso = np.datetime_as_string(secs[present].astype("datetime64[s]"), unit="s").astype("<U19")
    chars = iso.view("<U1").reshape(-1, 19)
    pattern = _LAYOUTS[layout]
    built = np.empty((chars.shape[0], len(pattern)), dtype="<U1")
    for j, src in enumerate(pattern):
        built[:, j] = chars[:, src] if isinstance(src, int) else src
    out[present] = built.view(f"<U{len(pattern)}").ravel()
    return out


def money_plain(cents: np.ndarray) -> np.ndarray:
    """'12.99' style (UK orders, affiliate and ads exports)."""
    return _map_unique(np.asarray(cents, dtype=np.int64), lambda c: f"{c / 100:.2f}")


def money_code(cents: np.ndarray, code: str) -> np.ndarray:
    """'THB 1,299.00' style (Thai orders export)."""
    return _map_unique(np.asarray(cents, dtype=np.int64), lambda c: f"{code} {c / 100:,.2f}")


def money_symbol(cents: np.ndarray, symbol: str) -> np.ndarray:
    """'£1,205.33' / '฿1,205.00' style (analytics exports)."""
    return _map_unique(np.asarray(cents, dtype=np.int64), lambda c: f"{symbol}{c / 100:,.2f}")


def integers(values: np.ndarray) -> np.ndarray:
    return _map_unique(np.asarray(values, dtype=np.int64), lambda v: str(v))


def decimals(values: np.ndarray, places: int = 2) -> np.ndarray:
    rounded = np.round(np.asarray(values, dtype=float), places)
    return _map_unique(rounded, lambda v: f"{v:.{places}f}")


def percent(ratio: np.ndarray, places: int = 2) -> np.ndarray:
    """'4.11%' from a ratio (0.0411); NaN becomes '0.00%' as TikTok shows for empty denominators."""
    r = np.nan_to_num(np.asarray(ratio, dtype=float), nan=0.0)
    rounded = np.round(r * 100, places)
    return _map_unique(rounded, lambda v: f"{v:.{places}f}%")


def duration_hms(seconds: np.ndarray) -> np.ndarray:
    """'2h13m05s' (LIVE duration)."""
    s = np.asarray(seconds, dtype=np.int64)
    return np.array([f"{v // 3600}h{v % 3600 // 60:02d}m{v % 60:02d}s" for v in s.tolist()], dtype=object)


def duration_ms(seconds: np.ndarray) -> np.ndarray:
    """'1m28s' or '45s' (average viewing duration)."""
    s = np.asarray(seconds, dtype=np.int64)
    return np.array([f"{v // 60}m{v % 60:02d}s" if v >= 60 else f"{v}s" for v in s.tolist()], dtype=object)


def duration_mmss(seconds: np.ndarray) -> np.ndarray:
    """'0:35' (video length)."""
    s = np.asarray(seconds, dtype=np.int64)
    return np.array([f"{v // 60}:{v % 60:02d}" for v in s.tolist()], dtype=object)


def seconds_short(seconds: np.ndarray) -> np.ndarray:
    """'8.2s' (average watch time)."""
    return _map_unique(np.round(np.asarray(seconds, dtype=float), 1), lambda v: f"{v:.1f}s")


def abbreviated_count(n: int) -> str:
    """TikTok UI style: '987', '12.3K', '1.2M'."""
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{n / 1000:.1f}K"
    return f"{n / 1_000_000:.1f}M"


def counts_sometimes_abbreviated(values: np.ndarray, abbreviate: np.ndarray) -> np.ndarray:
    """Plain integers, except rows flagged for the abbreviated UI style."""
    v = np.asarray(values, dtype=np.int64)
    return np.array(
        [abbreviated_count(x) if a else str(x) for x, a in zip(v.tolist(), np.asarray(abbreviate).tolist())],
        dtype=object,
    )
