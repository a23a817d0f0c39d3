"""Dashboard links: one token per client, never on a command line, rotatable, checked by the gate before\nVoila is reached; the server stops with its kernels."""

from __future__ import annotations

import os
import stat
import urllib.error
import urllib.request

import pytest

from shopkpi import paths
from shopkpi.app import serve

pytestmark = pytest.mark.browser  # starts a real Voila server


def _get(url: str) -> tuple[int, str]:
    """(HTTP status, body) served at `url`."""
    try:
        with urllib.request.urlopen(url, timeout=90) as response:
            return response.status, response.read().decode("utf-8", errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", errors="replace")


def test_tokens_are_per_client_private_and_rotatable(workspace):
    alpha, beta = serve.client_token("alpha"), serve.client_token("beta")
    assert alpha != beta and len(alpha) >= 40
    mode = stat.S_IMODE(os.stat(paths.dashboard_token_file("alpha")).st_mode)
    assert mode == 0o600
    assert serve.client_token("alpha") == alpha  # stable until rotated
    rotated = serve.client_token("alpha", rotate=True)
    assert rotated != alpha and serve.client_token("alpha") == rotated


def test_tokens_are_not_on_command_lines_and_other_tokens_are_refused(workspace, tmp_path):
    server = serve.start(["alpha"], log=tmp_path / "voila.log")
    try:
        server.wait_until_serving()
        token, upstream = serve.client_token("alpha"), server.gate.upstream_token
        cmdline = open(f"/proc/{server.voila.pid}/cmdline", "rb").read().decode()
        environ = open(f"/proc/{server.voila.pid}/environ", "rb").read().decode(errors="replace")
        for secret in (token, upstream):
            assert secret not in cmdline and secret not in environ
        status, body = _get(server.link("alpha"))
        assert status == 200 and 'data-refused' not in body and "alpha" in server.link("alpha")
        assert "尚无报告" in body  # alpha has no report yet: the page says so, in both languages
        base = f"http://127.0.0.1:{server.port}/c/alpha/"
        for refused in (f"{base}?key={serve.client_token('beta')}", base, f"{base}?key={token[:-1]}",
                        f"http://127.0.0.1:{server.port}/c/beta/?key={serve.client_token('beta')}"):
            status, body = _get(refused)
            assert status == 403 and "尚无报告" not in body, refused
        # Voila's own routes are not reachable through the gate, with or without its token.
        for path in ("/", f"/?token={upstream}", "/api/kernels", f"/api/kernels?token={upstream}", "/voila/static/voila.js",
                     "/c/alpha/../beta/", "/c/..%2Fbeta/"):
            status, _ = _get(f"http://127.0.0.1:{server.port}{path}")
            assert status in (403, 404), path
        # A rotated token works at once; the old link stops.
        old = server.link("alpha")
        serve.client_token("alpha", rotate=True)
        assert _get(old)[0] == 403 and _get(server.link("alpha"))[0] == 200
        assert stat.S_IMODE(os.stat(server.config_dir).st_mode) == 0o700
    finally:
        server.stop()
    assert server.voila.poll() is not None and not server.config_dir.exists()


def test_sigterm_to_shopkpi_serve_leaves_no_voila_behind(workspace):
    import signal
    import subprocess
    import sys
    import time

    command = [sys.executable, "-m", "shopkpi.cli", "serve", "--client", "alpha",
               "--public-url", "https://kpi.example.com/agency/"]
    cli = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ))
    try:
        line = cli.stdout.readline()
        # Behind a proxy the printed link is the proxy's address; the page's own links are relative to it.
        assert "dashboard for 'alpha': https://kpi.example.com/agency/c/alpha/?key=" in line, line
        def descendants(pid: int) -> list[int]:
            try:
                kids = [int(p) for p in open(f"/proc/{pid}/task/{pid}/children").read().split()]
            except OSError:
                return []
            return kids + [d for k in kids for d in descendants(k)]

        # Voila and its preheated kernels (the pool holds 2): all must go with the command.
        deadline = time.monotonic() + 60
        family = []
        while time.monotonic() < deadline and len(family) < 3:
            family = descendants(cli.pid)
            time.sleep(0.3)
        assert len(family) >= 3, family
        cli.send_signal(signal.SIGTERM)
        assert cli.wait(timeout=40) == 0
        time.sleep(1)
        for pid in family:
            assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z", pid
    finally:
        if cli.poll() is None:
            cli.kill()


def test_public_url_must_be_https_off_the_loopback():
    assert serve.public_base("https://kpi.example.com/") == "https://kpi.example.com"
    assert serve.public_base("http://127.0.0.1:8080/kpi") == "http://127.0.0.1:8080/kpi"
    for bad in ("http://kpi.example.com", "kpi.example.com", "https://kpi.example.com/?a=1", "ftp://x"):
        with pytest.raises(ValueError, match="--public-url"):
            serve.public_base(bad)
