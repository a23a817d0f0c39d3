"""Dashboard tokens: one per client, never on a command line, rotatable; the server stops with its kernels."""

from __future__ import annotations

import os
import stat
import urllib.error
import urllib.request

import pytest

from shopkpi import paths, serve

pytestmark = pytest.mark.browser  # starts a real Voila server


def _page(url: str) -> str:
    """The body served at `url` ("" for an HTTP error)."""
    try:
        return urllib.request.urlopen(url, timeout=60).read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError:
        return ""


def _is_dashboard(body: str) -> bool:
    # The dashboard page carries its kernel and cells; a refused request gets Jupyter Server's login form.
    return "rendered_cells" in body


def test_tokens_are_per_client_private_and_rotatable(workspace):
    alpha, beta = serve.client_token("alpha"), serve.client_token("beta")
    assert alpha != beta and len(alpha) >= 40
    mode = stat.S_IMODE(os.stat(paths.dashboard_token_file("alpha")).st_mode)
    assert mode == 0o600
    assert serve.client_token("alpha") == alpha  # stable until rotated
    rotated = serve.client_token("alpha", rotate=True)
    assert rotated != alpha and serve.client_token("alpha") == rotated


def test_the_token_is_not_on_the_command_line_and_other_tokens_are_refused(workspace, tmp_path):
    log = tmp_path / "voila.log"
    process, url, token = serve.start("alpha", log=log)
    try:
        base = url.split("?")[0]
        serve.wait_until_serving(base + "api/status", process, log)
        cmdline = open(f"/proc/{process.pid}/cmdline", "rb").read().decode()
        environ = open(f"/proc/{process.pid}/environ", "rb").read().decode(errors="replace")
        assert token not in cmdline and token not in environ
        assert _is_dashboard(_page(f"{base}?token={token}"))
        for refused in (f"{base}?token={serve.client_token('beta')}", base, f"{base}?token={token[:-1]}"):
            body = _page(refused)
            assert not _is_dashboard(body) and ("login" in body.lower() or body == ""), refused
        config = process.config_dir
        assert stat.S_IMODE(os.stat(config).st_mode) == 0o700
    finally:
        serve.stop(process)
    assert process.poll() is not None and not config.exists()


def test_sigterm_to_shopkpi_serve_leaves_no_voila_behind(workspace):
    import signal
    import subprocess
    import sys
    import time

    command = [sys.executable, "-m", "shopkpi.cli", "serve", "--client", "alpha"]
    cli = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ))
    try:
        line = cli.stdout.readline()
        assert "dashboard for 'alpha'" in line, line
        deadline = time.monotonic() + 30
        children = []
        while time.monotonic() < deadline and not children:
            children = [int(p) for p in open(f"/proc/{cli.pid}/task/{cli.pid}/children").read().split()]
            time.sleep(0.2)
        assert children
        cli.send_signal(signal.SIGTERM)
        assert cli.wait(timeout=40) == 0
        for pid in children:
            assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    finally:
        if cli.poll() is None:
            cli.kill()
