"""Serve dashboards: one Voila server on loopback behind a gate that opens one client per link.

The gate is the only listener a reader reaches. It serves `/c/<client>/?key=<token>` (the token is that
client's own, rotatable) and nothing else: Voila's API, kernels and websockets stay behind it, so a link
holder can never talk to a kernel, and a link for client A never reads client B (the kernel checks the
token again before it reads a file). Voila renders with shopkpi's server-side template: finished HTML,
no script, no request beyond the gate; the kernel that drew a view is shut down once it is sent.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from shopkpi import paths
from shopkpi.app.dashboard import BOUND_CLIENT_ENV, VIEW_FIELDS, VIEW_MARK, link_not_valid_text, stored_token, token_matches

PAGE = "overview.ipynb"
TEMPLATE = "shopkpi"
LINK_PATH = re.compile(r"^/c/([^/]+)/?$")  # the client part must also pass paths.CLIENT_NAME
KERNEL_META = re.compile(rb'<meta name="skp-kernel" content="([0-9a-f-]{36})">')
VIEW_SPLIT = re.compile(re.escape(VIEW_MARK.split("{")[0]).encode() + rb"([a-z_]+\|[0-9W-]*)-->")
VIEW_CACHE_SECONDS = 120
VIEW_CACHE_ENTRIES = 256
# What the browser may load: the page itself, inline styles and data: images. Nothing from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",  # the link's token must not leak to another site
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
}


def template_root() -> Path:
    """The Jupyter data folder holding shopkpi's Voila template (voila/templates/shopkpi/)."""
    return Path(__file__).resolve().parents[1] / "data" / "jupyter"  # shopkpi/data, beside this app/ package


def client_token(client: str, rotate: bool = False) -> str:
    """The client's dashboard token: created once (0600 under data/<client>/secrets/), replaced when `rotate`.

    One token per client, so a link for client A never opens client B; a rotated token takes effect at once
    (the gate and the page read the file on every view)."""
    path = paths.dashboard_token_file(paths.check_client_name(client))
    if rotate or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secrets.token_urlsafe(32))
        os.replace(tmp, path)
    path.chmod(0o600)
    return stored_token(client)


def private_config(token: str) -> Path:
    """A folder only this user can read, holding voila.json with Voila's own token: never on a command
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


def voila_command(port: int, page: Path | None = None, template: str = TEMPLATE, pool_size: int = 2) -> list[str]:
    """The Voila command line (loopback only); its token comes from the private config folder."""
    page = page or paths.dashboard_dir() / PAGE
    return [
        sys.executable, "-m", "voila", str(page), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
        f"--template={template}", "--strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
        "--VoilaConfiguration.allow_template_override=NO", "--VoilaConfiguration.allow_theme_override=NO",
        # A drawn page needs no kernel; one a reader left before it was sent is culled within a minute.
        "--MappingKernelManager.cull_interval=15", "--MappingKernelManager.cull_idle_timeout=30",
        "--VoilaExecutor.timeout=60",
        # Kernels started and the page's imports run ahead of the next view; the view itself starts at
        # get_query_string(), so a preheated kernel never mixes two readers' views.
        "--preheat_kernel=True", f"--pool_size={pool_size}",
    ]


def voila_env(client: str | None, config_dir: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if config_dir is not None:
        env["JUPYTER_CONFIG_DIR"] = str(config_dir)
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(template_root()), env.get("JUPYTER_PATH", "")) if p)
    env.pop(BOUND_CLIENT_ENV, None)
    if client:
        env[BOUND_CLIENT_ENV] = paths.check_client_name(client)
    env[paths.WORKSPACE_ENV] = str(paths.workspace_root())
    env.setdefault("MPLBACKEND", "agg")
    return env


def _page(status: int, text: str) -> bytes:
    import html

    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, '
            f'initial-scale=1"><title>shopkpi</title></head><body style="font-family:system-ui,sans-serif">'
            f"<p>{html.escape(text)}</p></body></html>").encode()


@dataclass
class DashboardServer:
    """A running dashboard: Voila on a loopback port and the gate in front of it."""

    voila: subprocess.Popen
    gate: ThreadingHTTPServer
    host: str
    port: int
    config_dir: Path
    log: Path | None = None
    thread: threading.Thread | None = field(default=None, repr=False)
    public_url: str | None = None

    def link(self, client: str) -> str:
        """The link to give a client's people: the public (proxy's) address or the gate's, the client's path, its token."""
        base = self.public_url or f"http://{self.host}:{self.port}"
        return f"{base}/c/{client}/?key={client_token(client)}"

    def wait_until_serving(self, timeout: float = 120.0) -> None:
        """Until Voila answers its status API (any HTTP status), or fail with its log."""
        deadline = time.monotonic() + timeout
        request = urllib.request.Request(f"http://127.0.0.1:{self.gate.upstream_port}/api/status",
                                         headers={"Authorization": f"token {self.gate.upstream_token}"})
        while time.monotonic() < deadline:
            if self.voila.poll() is not None:
                raise RuntimeError(f"voila exited with {self.voila.returncode}:\n{self._log_text()}")
            try:
                urllib.request.urlopen(request, timeout=2)
                return
            except urllib.error.HTTPError:
                return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        raise RuntimeError(f"voila did not answer within {timeout}s:\n{self._log_text()}")

    def _log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log and self.log.exists() else ""

    def stop(self, timeout: float = 20.0) -> None:
        """Close the gate, then SIGTERM Voila (it shuts its kernels down), SIGKILL if it hangs."""
        import shutil

        self.gate.shutdown()
        self.gate.server_close()
        if self.voila.poll() is None:
            self.voila.terminate()
            try:
                self.voila.wait(timeout)
            except subprocess.TimeoutExpired:
                self.voila.kill()
                self.voila.wait(timeout)
        shutil.rmtree(self.config_dir, ignore_errors=True)


class Gate(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, clients: list[str] | None, upstream_port: int, upstream_token: str):
        super().__init__(address, GateHandler)
        self.clients, self.upstream_port, self.upstream_token = clients, upstream_port, upstream_token
        # (client, key hash, view) -> (drawn at, artifacts stamp, page bytes): the other pages of a view the
        # kernel drew, so a reader's next clicks need no kernel. Looked up only after the token is checked.
        self.views: dict[tuple, tuple[float, float, bytes]] = {}
        self.views_lock = threading.Lock()

    @staticmethod
    def artifacts_stamp(client: str) -> float:
        """Newest kpis.json of the client: a new run (or a rerun) makes every kept view stale."""
        found = [p.stat().st_mtime for p in paths.client_outputs_dir(client).glob("*/artifacts/kpis.json")]
        return max(found, default=0.0)

    def cached(self, key: tuple, stamp: float) -> bytes | None:
        with self.views_lock:
            entry = self.views.get(key)
        if entry and entry[1] == stamp and time.monotonic() - entry[0] < VIEW_CACHE_SECONDS:
            return entry[2]
        return None

    def keep(self, entries: dict[tuple, bytes], stamp: float) -> None:
        now = time.monotonic()
        with self.views_lock:
            for key in [k for k, v in self.views.items() if now - v[0] >= VIEW_CACHE_SECONDS]:
                del self.views[key]
            for key, body in entries.items():
                self.views[key] = (now, stamp, body)
            while len(self.views) > VIEW_CACHE_ENTRIES:
                del self.views[next(iter(self.views))]

    def serves(self, client: str) -> bool:
        if self.clients is not None:
            return client in self.clients
        return paths.params_file(client).exists()


class GateHandler(BaseHTTPRequestHandler):
    server: Gate
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # the request line holds the link's token: log the path only
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {**SECURITY_HEADERS, "Content-Type": "text/html; charset=utf-8", **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/healthz":
            return self._send(200, b"ok", {"Content-Type": "text/plain"})
        match = LINK_PATH.match(url.path)
        if not (match and paths.CLIENT_NAME.match(match.group(1))):
            return self._send(404, _page(404, "Not found. Open the link you were sent."))
        client = match.group(1)
        if not url.path.endswith("/"):
            return self._send(301, b"", {"Location": f"/c/{client}/" + (f"?{url.query}" if url.query else "")})
        query = parse_qs(url.query)
        key = (query.get("key") or [""])[0]
        # One answer for an unknown client and a wrong token: a link cannot probe which clients exist.
        if not (self.server.serves(client) and token_matches(client, key)):
            return self._send(403, _page(403, link_not_valid_text()))
        import hashlib

        view = {name: query[name][0] for name in VIEW_FIELDS if query.get(name)}
        page = view.get("page", "overview")
        base = (client, hashlib.sha256(key.encode()).hexdigest(), *(view.get(n, "") for n in VIEW_FIELDS if n != "page"))
        stamp = self.server.artifacts_stamp(client)
        kept = self.server.cached((*base, page), stamp)
        if kept is not None:
            return self._send(200, kept)
        upstream = urllib.request.Request(
            f"http://127.0.0.1:{self.server.upstream_port}/?" + urlencode({"client": client, "key": key, **view, "all": "1"}),
            headers={"Authorization": f"token {self.server.upstream_token}"})
        try:
            with urllib.request.urlopen(upstream, timeout=120) as response:
                body = response.read()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return self._send(502, _page(502, "The dashboard is starting or busy; try again in a minute."))
        kernel = KERNEL_META.search(body)
        body = KERNEL_META.sub(b"", body)
        parts = VIEW_SPLIT.split(body)
        if len(parts) > 1:  # head, name, body, name, body, ..., with the document's tail after the last body
            head, names, bodies = parts[0], [n.decode().split("|") for n in parts[1::2]], parts[2::2]
            tail_at = bodies[-1].rfind(b"</body>")
            tail = bodies[-1][tail_at:] if tail_at >= 0 else b""
            bodies[-1] = bodies[-1][:tail_at] if tail_at >= 0 else bodies[-1]
            pages = {name: head + part + tail for (name, _), part in zip(names, bodies)}
            body = pages.get(page, body)
            drawn = {**view, "period": names[0][1]}  # the links on these pages name the period they show
            resolved = (client, base[1], *(drawn.get(n, "") for n in VIEW_FIELDS if n != "page"))
            self.server.keep({**{(*resolved, name): page_body for name, page_body in pages.items()}, (*base, page): body}, stamp)
        self._send(200, body)
        if kernel:
            threading.Thread(target=self._shutdown_kernel, args=(kernel.group(1).decode(),), daemon=True).start()

    def _shutdown_kernel(self, kernel_id: str) -> None:
        request = urllib.request.Request(f"http://127.0.0.1:{self.server.upstream_port}/voila/api/shutdown/{kernel_id}",
                                         method="POST", data=b"", headers={"Authorization": f"token {self.server.upstream_token}"})
        try:
            urllib.request.urlopen(request, timeout=30)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass  # the culler takes it within a minute


def public_base(url: str) -> str:
    """The address people reach the gate at through a proxy, checked: HTTPS (plain HTTP only on the loopback), no query.

    The links carry a client's token, so a plain-HTTP address off this machine would send it in clear."""
    parts = urlsplit(url.strip())
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"--public-url {url!r}: give the proxy's base address, e.g. https://kpi.example.com or "
                         "https://example.com/kpi (no query, no #)")
    if parts.scheme == "http" and not loopback:
        raise ValueError(f"--public-url {url!r}: the links carry each client's token, so they must be https:// "
                         "(plain http only for 127.0.0.1/localhost)")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def start(clients: list[str] | None, *, ip: str = "127.0.0.1", port: int | None = None, log: Path | None = None,
          page: Path | None = None, template: str = TEMPLATE, pool_size: int = 2,
          public_url: str | None = None) -> DashboardServer:
    """Start Voila and the gate. `clients`: the only clients served, or None for every client in params/.

    One named client also binds Voila itself to it, so even a valid link of another client shows nothing.
    `public_url`: the proxy's address the printed links use (see `public_base`)."""
    public = public_base(public_url) if public_url else None
    for client in clients or []:
        paths.check_client_name(client)
        client_token(client)  # created on first serve
    upstream_port, upstream_token = free_port(), secrets.token_urlsafe(32)
    out = open(log, "ab") if log else subprocess.DEVNULL
    config = private_config(upstream_token)
    bound = clients[0] if clients and len(clients) == 1 else None
    voila = subprocess.Popen(voila_command(upstream_port, page=page, template=template, pool_size=pool_size),
                             env=voila_env(bound, config), cwd=str(paths.dashboard_dir()), stdout=out, stderr=subprocess.STDOUT)
    try:
        gate = Gate((ip, port or 0), clients, upstream_port, upstream_token)
    except OSError:
        voila.terminate()
        raise
    server = DashboardServer(voila, gate, ip if ip not in ("0.0.0.0", "::") else socket.gethostname(), gate.server_address[1],
                             config, log, public_url=public)
    server.thread = threading.Thread(target=gate.serve_forever, name="shopkpi-gate", daemon=True)
    server.thread.start()
    return server
