"""Personal data handling at ingestion: buyers are kept only as salted hashes."""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pyarrow.compute as pc


def hash_buyers(usernames: pa.Array, salt: bytes) -> pa.Array:
    """Salted SHA-256 per distinct buyer (hashed once each); clear text never leaves this function."""
    encoded = pc.dictionary_encode(usernames)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    digests = pa.array([hashlib.sha256(salt + v.encode("utf-8")).hexdigest()[:20] for v in encoded.dictionary.to_pylist()],
                       pa.string())
    return pc.take(digests, encoded.indices)
