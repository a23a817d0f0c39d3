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

PAGE = "overview.ipynb"


def client_token(client: str, rotate: bool = False) -> str:
    """The client's dashboard token: created once (0600 under data/<client>/secrets/), replaced when `rotate`.

    One token per client, so a link for client A never opens client B's server; a rotated token takes
    effect when the server restarts."""
    path = paths.dashboard_token_file(client)
    if rotate or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_urlsafe(32))
        os.replace(tmp, path)
    path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def private_config(token: str) -> Path:
    """A folder only this user can read, holding voila.json with the token: the token is never on a command
    line (`ps` shows those to every local user) nor in the environment of the kernels."""
    import json
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="shopkpi-voila-"))  # mode 0700
    fd = os.open(folder / "voila.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"Voila": {"token": token}}, fh)
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def voila_command(port: int, page: Path | None = None, ip: str = "127.0.0.1") -> list[str]:
    """The Voila command line; the token comes from the private config folder (see private_config)."""
    page = page or paths.dashboard_dir() / PAGE
    return [
        sys.executable, "-m", "voila", str(page), "--no-browser", f"--port={port}", f"--Voila.ip={ip}",
        "--VoilaConfiguration.show_tracebacks=False",
        "--VoilaConfiguration.allow_template_override=NO", "--VoilaConfiguration.allow_theme_override=NO",
        "--MappingKernelManager.cull_interval=60", "--MappingKernelManager.cull_idle_timeout=120",
        "--VoilaExecutor.timeout=60",
        # One kernel started and the page executed ahead of the next view: a reader waits for the
        # page, not for a kernel. The page reads no query string, so the preheat cache cannot mix views.
        "--preheat_kernel=True", "--pool_size=1",
    ]


def voila_env(client: str, config_dir: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if config_dir is not None:
        env["JUPYTER_CONFIG_DIR"] = str(config_dir)
    env[BOUND_CLIENT_ENV] = paths.check_client_name(client)
    env[paths.WORKSPACE_ENV] = str(paths.workspace_root())
    env.setdefault("MPLBACKEND", "agg")
    return env


def start(client: str, port: int | None = None, token: str | None = None, log: Path | None = None,
          ip: str = "127.0.0.1", page: Path | None = None) -> tuple[subprocess.Popen, str, str]:
    """Start a Voila server for one client (its dashboard, or `page`); returns (process, url, token)."""
    port = port or free_port()
    token = token or client_token(client)
    out = open(log, "ab") if log else subprocess.DEVNULL
    config = private_config(token)
    process = subprocess.Popen(voila_command(port, page=page, ip=ip), env=voila_env(client, config),
                               cwd=str(paths.dashboard_dir()), stdout=out, stderr=subprocess.STDOUT)
    process.config_dir = config  # removed by stop()
    return process, f"http://{ip}:{port}/?token={token}", token


def stop(process: subprocess.Popen, timeout: float = 20.0) -> None:
    """Stop a server started by start(): SIGTERM (Voila shuts its kernels down), then SIGKILL if it hangs."""
    import shutil

    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)
    if getattr(process, "config_dir", None):
        shutil.rmtree(process.config_dir, ignore_errors=True)


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
