"""The client's OAuth tokens, encrypted at rest (Fernet: AES-128-CBC + HMAC-SHA256, from `cryptography`).

The key is SHOPKPI_SECRET_KEY (a Fernet key) or, when unset, a key file created on first use at
SHOPKPI_KEY_FILE (default ~/.config/shopkpi/secret.key, mode 600): outside data/ and outputs/, so a copied
client folder does not carry the means to read its tokens. Tokens are never printed or logged.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from shopkpi import paths
from shopkpi.errors import ShopkpiError


@dataclass
class Tokens:
    access_token: str
    access_token_expire_in: int  # absolute Unix seconds (the API's own convention)
    refresh_token: str
    refresh_token_expire_in: int
    open_id: str = ""
    seller_name: str = ""
    granted_scopes: tuple[str, ...] = ()

    def __repr__(self) -> str:  # never show a token in a traceback or a notebook
        return f"Tokens(seller={self.seller_name!r}, access expires {self.access_token_expire_in}, refresh expires {self.refresh_token_expire_in})"

    def access_expires_within(self, seconds: int, now: float | None = None) -> bool:
        return self.access_token_expire_in - (time.time() if now is None else now) < seconds

    @classmethod
    def from_api(cls, data: dict) -> "Tokens":
        return cls(access_token=data["access_token"], access_token_expire_in=int(data["access_token_expire_in"]),
                   refresh_token=data["refresh_token"], refresh_token_expire_in=int(data["refresh_token_expire_in"]),
                   open_id=str(data.get("open_id", "")), seller_name=str(data.get("seller_name", "")),
                   granted_scopes=tuple(data.get("granted_scopes") or ()))


def _key() -> bytes:
    if key := os.environ.get("SHOPKPI_SECRET_KEY"):
        return key.encode()
    path = Path(os.environ.get("SHOPKPI_KEY_FILE") or Path.home() / ".config" / "shopkpi" / "secret.key")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(Fernet.generate_key())
    return path.read_bytes().strip()


def save(client: str, tokens: Tokens) -> Path:
    path = paths.api_tokens_file(client)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = Fernet(_key()).encrypt(json.dumps(asdict(tokens)).encode())
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)  # a crash mid-write leaves the old tokens, never half of new ones
    return path


def load(client: str) -> Tokens:
    path = paths.api_tokens_file(client)
    if not path.exists():
        raise ShopkpiError(f"client {client}: not connected to the TikTok Shop API; run `shopkpi connect --client {client}`")
    try:
        data = json.loads(Fernet(_key()).decrypt(path.read_bytes()))
    except InvalidToken:
        raise ShopkpiError(f"client {client}: {path.name} cannot be decrypted with this machine's key "
                           "(SHOPKPI_SECRET_KEY or SHOPKPI_KEY_FILE); connect again") from None
    data["granted_scopes"] = tuple(data.get("granted_scopes") or ())
    return Tokens(**data)
