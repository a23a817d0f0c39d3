"""Serve a client's dashboard with Voila: loopback, token, one server bound to one client."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from shopkpi import paths
from shopkpi.dashboard import BOUND_CLIENT_ENV

TOKEN_ENV = "SHOPKPI_DASHBOARD_TOKEN"
PAGE = "overview.ipynb"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def voila_command(port: int, token: str, page: Path | None = None, ip: str = "127.0.0.1") -> list[str]:
    page = page or paths.dashboard_dir() / PAGE
    return [
        sys.executable, "-m", "voila", str(page), "--no-browser", f"--port={port}", f"--Voila.ip={ip}",
        f"--Voila.token={token}", "--VoilaConfiguration.show_tracebacks=False",
        "--VoilaConfiguration.allow_template_override=NO", "--VoilaConfiguration.allow_theme_override=NO",
        "--MappingKernelManager.cull_interval=60", "--MappingKernelManager.cull_idle_timeout=120",
        "--VoilaExecutor.timeout=60",
        # One kernel started and the page executed ahead of the next view: a reader waits for the
        # page, not for a kernel. The page reads no query string, so the preheat cache cannot mix views.
        "--preheat_kernel=True", "--pool_size=1",
    ]


def voila_env(client: str) -> dict[str, str]:
    env = dict(os.environ)
    env[BOUND_CLIENT_ENV] = paths.check_client_name(client)
    env[paths.WORKSPACE_ENV] = str(paths.workspace_root())
    env.setdefault("MPLBACKEND", "agg")
    return env


def start(client: str, port: int | None = None, token: str | None = None, log: Path | None = None,
          ip: str = "127.0.0.1", page: Path | None = None) -> tuple[subprocess.Popen, str, str]:
    """Start a Voila server for one client (its dashboard, or `page`); returns (process, url, token)."""
    port = port or free_port()
    token = token or os.environ.get(TOKEN_ENV) or secrets.token_urlsafe(24)
    out = open(log, "ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(voila_command(port, token, page=page, ip=ip), env=voila_env(client),
                               cwd=str(paths.dashboard_dir()), stdout=out, stderr=subprocess.STDOUT)
    return process, f"http://{ip}:{port}/?token={token}", token


def wait_until_serving(url: str, process: subprocess.Popen, log: Path, timeout: float = 90.0) -> None:
    """Poll until the server answers at all (any HTTP status), or fail with its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"voila exited with {process.returncode}:\n{log.read_text()}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    raise RuntimeError(f"voila did not answer within {timeout}s:\n{log.read_text()}")
