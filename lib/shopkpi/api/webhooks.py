"""`shopkpi webhooks serve`: verify TikTok Shop webhooks, drop duplicates, queue order changes for the next sync.

A webhook is genuine when its `Authorization` header is the lowercase hex HMAC-SHA256 of app_key + raw body
keyed with the app secret, checked on the raw bytes before parsing [reference §2.6]. Nothing in it is signed
against replay and deliveries repeat ("at least once"), so each `tts_notification_id` is taken once. Order
events (status change 1, cancellation 11, return 12) queue the order id; the next `shopkpi sync` fetches the
order by id, so the queue holds ids only, never buyer data. Out-of-order deliveries do not matter: the
fetch reads the order's current state.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from shopkpi import paths
from shopkpi.artifacts import write_text_atomic
from shopkpi.api import signing

log = logging.getLogger("shopkpi.api")
ORDER_EVENTS = {1: "order status change", 11: "cancellation status change", 12: "return status change"}
DEAUTHORISED, AUTH_EXPIRING = 6, 7
MAX_BODY = 1 << 20


class WebhookQueue:
    """Order ids per shop waiting for the next sync, and the notification ids already taken (files under api/)."""

    def __init__(self, client: str):
        self.client = client
        self.dir = paths.api_state_dir(client)
        self.queue_path, self.seen_path, self.events_path = (self.dir / "webhook_queue.json", self.dir / "webhook_seen.txt",
                                                            self.dir / "webhook_events.jsonl")
        self.lock = threading.Lock()

    def _queue(self) -> dict[str, list[str]]:
        return json.loads(self.queue_path.read_text()) if self.queue_path.exists() else {}

    def _write(self, queue: dict) -> None:
        write_text_atomic(self.queue_path, json.dumps(queue, sort_keys=True))

    def take(self, event: dict) -> str:
        """'queued', 'duplicate' or 'ignored' (and why, in the events log)."""
        notification = str(event.get("tts_notification_id") or "")
        with self.lock:
            seen = set(self.seen_path.read_text().split()) if self.seen_path.exists() else set()
            if notification and notification in seen:
                return "duplicate"
            kind = int(event.get("type") or 0)
            shop = str(event.get("shop_id") or "*")
            order_id = str((event.get("data") or {}).get("order_id") or "")
            outcome = "ignored"
            if kind in ORDER_EVENTS and order_id:
                queue = self._queue()
                if order_id not in queue.get(shop, []):
                    queue.setdefault(shop, []).append(order_id)
                    self._write(queue)
                outcome = "queued"
            elif kind in (DEAUTHORISED, AUTH_EXPIRING):
                log.warning("client %s, shop %s: %s", self.client, shop,
                            "the seller removed the authorisation; run `shopkpi connect`" if kind == DEAUTHORISED
                            else "the authorisation expires soon; ask the seller to renew it (shopkpi connect)")
                outcome = "noted"
            self.dir.mkdir(parents=True, exist_ok=True)
            with self.seen_path.open("a") as fh:
                fh.write(notification + "\n")
            with self.events_path.open("a") as fh:  # ids, type and time only: no buyer data
                fh.write(json.dumps({"notification": notification, "type": kind, "shop": shop, "order_id": order_id,
                                     "timestamp": event.get("timestamp"), "outcome": outcome}) + "\n")
            return outcome

    def pending(self, shop: str) -> list[str]:
        queue = self._queue()
        return sorted(set(queue.get(shop, [])) | (set(queue.get("*", [])) if shop != "*" else set()))

    def done(self, shop: str, ids: list[str]) -> None:
        with self.lock:
            queue = self._queue()
            for key in {shop, "*"}:
                queue[key] = [i for i in queue.get(key, []) if i not in set(ids)]
            self._write({k: v for k, v in queue.items() if v})


def make_server(client: str, app_key: str, app_secret: str, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    queue = WebhookQueue(client)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *args):  # the default logs request lines; ours log outcomes only
            pass

        def _answer(self, status: int, message: str) -> None:
            body = json.dumps({"code": 0 if status == 200 else status, "message": message}).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY:
                return self._answer(413, "body too large")
            raw = self.rfile.read(length)
            if not signing.webhook_is_genuine(app_key, app_secret, raw, self.headers.get("Authorization")):
                log.warning("client %s: webhook with a bad signature refused", client)
                return self._answer(401, "bad signature")
            try:
                event = json.loads(raw)
            except ValueError:
                return self._answer(400, "not JSON")
            self._answer(200, queue.take(event))

    server = ThreadingHTTPServer((host, port), Handler)
    server.queue = queue
    return server


def serve(client: str, app_key: str, app_secret: str, host: str, port: int) -> None:
    server = make_server(client, app_key, app_secret, host, port)
    print(f"webhooks for {client} on http://{host}:{server.server_address[1]}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def queue_path(client: str) -> Path:
    return WebhookQueue(client).queue_path
