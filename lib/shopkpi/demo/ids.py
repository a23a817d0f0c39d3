"""Numeric ID strings shaped like TikTok's (unique by construction, never Python hash())."""

from __future__ import annotations

import numpy as np


def increasing_ids(rng: np.random.Generator, n: int, prefix: str, n_digits: int) -> np.ndarray:
    """n unique, strictly increasing digit strings of exactly n_digits starting with prefix.

    Real TikTok IDs grow with creation time, so callers pass items in time order.
    """
    free = n_digits - len(prefix)
    if n == 0:
        return np.array([], dtype=object)
    span = 10**free
    # Random positive gaps: IDs look irregular but can never collide.
    max_gap = max(2, (span // 4) // max(n, 1))
    start = int(rng.integers(span // 10, span // 4))
    gaps = rng.integers(1, max_gap, size=n, dtype=np.int64)
    body = start + np.cumsum(gaps)
    assert int(body[-1]) < span, "ID space exhausted"
    value = np.int64(int(prefix)) * np.int64(span) + body
    return value.astype(str).astype(object)


def random_ids(rng: np.random.Generator, n: int, prefix: str, n_digits: int) -> np.ndarray:
    """n unique digit strings in random order (for IDs whose order carries no meaning)."""
    ids = increasing_ids(rng, n, prefix, n_digits)
    return ids[rng.permutation(n)] if n else ids
