"""Every path the workspace uses, resolved here and nowhere else.

The kernel's working directory differs between papermill (the caller's), JupyterLab
and Voila (the notebook's folder), so notebooks never build paths themselves.
The workspace root holds ``params/``, ``data/`` and ``outputs/``; it is the project
checkout unless ``SHOPKPI_WORKSPACE`` points elsewhere (tests, agency deployments).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from shopkpi.errors import ParamsError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WORKSPACE_ENV = "SHOPKPI_WORKSPACE"
# Client names become folder names: a strict pattern rules out "..", slashes and
# anything else that could reach another client's folder.
CLIENT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
PERIOD_NAME = re.compile(r"^\d{4}-(W\d{2}(-W\d{2})?|\d{2})$")


def workspace_root() -> Path:
    """Root folder holding params/, data/ and outputs/."""
    env = os.environ.get(WORKSPACE_ENV)
    return Path(env).resolve() if env else PROJECT_ROOT


def notebooks_dir() -> Path:
    """The notebooks shipped with the code (always from the checkout)."""
    return PROJECT_ROOT / "notebooks"


def dashboard_dir() -> Path:
    return notebooks_dir() / "dashboard"


def check_client_name(client: str) -> str:
    if not isinstance(client, str) or not CLIENT_NAME.match(client):
        raise ParamsError(
            f"client name {client!r} is not valid: use lower-case letters, digits, '-' or '_' "
            "(at most 63 characters, starting with a letter or digit)"
        )
    return client


def check_period_name(period: str) -> str:
    if not isinstance(period, str) or not PERIOD_NAME.match(period):
        raise ParamsError(f"period {period!r} is not valid: use an ISO week like 2026-W46 or a month like 2026-11")
    return period


def params_dir() -> Path:
    return workspace_root() / "params"


def params_file(client: str) -> Path:
    return params_dir() / f"{check_client_name(client)}.yaml"


def client_data_dir(client: str) -> Path:
    return workspace_root() / "data" / check_client_name(client)


def raw_dir(client: str) -> Path:
    return client_data_dir(client) / "raw"


def store_dir(client: str) -> Path:
    return client_data_dir(client) / "store"


def truth_file(client: str) -> Path:
    return client_data_dir(client) / "truth" / "truth.json"


def dashboard_token_file(client: str) -> Path:
    """The client's own dashboard token (one per client, readable by its owner only); under data/, outside git."""
    return client_data_dir(client) / "secrets" / "dashboard_token"


def salt_file(client: str) -> Path:
    """Per-client salt for hashing buyer usernames; lives under data/, outside git."""
    return client_data_dir(client) / "secrets" / "buyer_hash_salt"


def api_tokens_file(client: str) -> Path:
    """The client's Open API tokens, encrypted (api.tokens); under data/, outside git."""
    return client_data_dir(client) / "secrets" / "api_tokens.enc"


def api_state_dir(client: str) -> Path:
    """Sync cursors, the request budget and the webhook queue (no PII, no secrets)."""
    return client_data_dir(client) / "api"


def api_landing_dir(client: str) -> Path:
    """Where a sync lands API records as export-shaped files, so `shopkpi ingest` rebuilds the store from them too."""
    return raw_dir(client) / "api"


def client_outputs_dir(client: str) -> Path:
    return workspace_root() / "outputs" / check_client_name(client)


def period_outputs_dir(client: str, period: str) -> Path:
    return client_outputs_dir(client) / check_period_name(period)


def artifacts_dir(client: str, period: str) -> Path:
    """Machine-readable results the dashboard and later notebooks read."""
    return period_outputs_dir(client, period) / "artifacts"
