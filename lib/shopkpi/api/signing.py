"""Request and webhook signatures of the TikTok Shop Open API (202309-style).

Request: sign = lowercase hex HMAC-SHA256, keyed with the app secret, over
secret + path + (k + v for the sorted query items except `sign` and `access_token`) + body + secret.
The body is the exact bytes sent. Webhook: `Authorization` = lowercase hex HMAC-SHA256, keyed with the
secret, over app_key + raw body. Sources: shared/reference partner_api_fees_pages.md §2.2 and §2.6
(the api-spec's Signer, several public clients, and a public unit test's vector).
"""

from __future__ import annotations

import hashlib
import hmac

UNSIGNED = {"sign", "access_token"}


def string_to_sign(secret: str, path: str, query: dict[str, str], body: bytes = b"") -> bytes:
    items = "".join(f"{k}{v}" for k, v in sorted(query.items()) if k not in UNSIGNED)
    return secret.encode() + path.encode() + items.encode() + body + secret.encode()


def sign(secret: str, path: str, query: dict[str, str], body: bytes = b"") -> str:
    return hmac.new(secret.encode(), string_to_sign(secret, path, query, body), hashlib.sha256).hexdigest()


def webhook_signature(app_key: str, secret: str, raw_body: bytes) -> str:
    return hmac.new(secret.encode(), app_key.encode() + raw_body, hashlib.sha256).hexdigest()


def webhook_is_genuine(app_key: str, secret: str, raw_body: bytes, authorization: str | None) -> bool:
    """Compare in constant time; the header is used as sent (an uppercase digest is not the signature)."""
    return bool(authorization) and hmac.compare_digest(webhook_signature(app_key, secret, raw_body), authorization)
