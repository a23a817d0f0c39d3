"""Pushing the review: a local webhook receiver and a local SMTP server (aiosmtpd) on 127.0.0.1 get it."""

from __future__ import annotations

import base64
import email
import json
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from shopkpi import paths
from shopkpi.params import NotifyChannel

SECRET = "hook-secret-" + "k" * 12


class Receiver:
    """A chat webhook stand-in: records each JSON POST; answers 500 to the first `fail_first` of them."""

    def __init__(self, fail_first: int = 0):
        self.posts, self.fail_first = [], fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.posts.append({"auth": self.headers.get("Authorization", ""), "json": json.loads(body)})
                status = 500 if len(receiver.posts) <= receiver.fail_first else 200
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def servers():
    hook, box = Receiver(fail_first=1), Mailbox()
    smtp = Controller(box, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    yield hook, box, smtp
    hook.close()
    smtp.stop()


def test_the_review_reaches_chat_and_email_and_a_dead_channel_does_not_fail(demo_run, servers, monkeypatch, caplog):
    from shopkpi.money import money
    from shopkpi.notify import push

    hook, box, smtp = servers
    period = demo_run["period"]
    monkeypatch.setenv("SKP_HOOK_SECRET", SECRET)
    channels = [
        NotifyChannel(name="boss-chat", url=f"json://boss:${{SKP_HOOK_SECRET}}@127.0.0.1:{hook.port}/hook", attach_pdf=False),
        NotifyChannel(name="team-email", url=f"mailto://127.0.0.1:{smtp.port}?from=reports@agency.example&to=team@brand.example"
                                             "&mode=insecure", language="en"),
        NotifyChannel(name="dead", url=f"json://127.0.0.1:{_free_port()}/nobody"),
    ]
    caplog.set_level(logging.DEBUG)
    results = push("demo", period, channels, sleep=lambda _s: None)
    status = {r["channel"]: r for r in results}
    assert status["boss-chat"]["status"] == "sent" and status["boss-chat"]["attempts"] == 2  # the first POST got a 500
    assert status["team-email"]["status"] == "sent"
    assert status["dead"]["status"] == "failed" and status["dead"]["attempts"] == 4

    kpis = json.loads((paths.artifacts_dir("demo", period) / "kpis.json").read_text(encoding="utf-8"))
    profit = json.loads((paths.artifacts_dir("demo", period) / "profit.json").read_text(encoding="utf-8"))
    chat = hook.posts[-1]
    assert chat["auth"] == "Basic " + base64.b64encode(f"boss:{SECRET}".encode()).decode()
    assert period in chat["json"]["title"] and kpis["display_name"] in chat["json"]["title"]
    message = chat["json"]["message"]
    # The same figures as the review: its headline sentences and the profit line, in the client's language.
    assert kpis["summary"][0] in message
    assert money(profit["total"]["contribution"], profit["reporting_currency"]) in message
    assert "数据截至" in message
    [mail] = box.messages
    assert period in mail["Subject"]
    parts = {p.get_content_type(): p for p in mail.walk()}
    assert "application/pdf" in parts and parts["application/pdf"].get_filename() == "08_review_report.en.pdf"
    text = next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    assert "Data as of" in text and money(profit["total"]["contribution"], profit["reporting_currency"]) in text

    record = (paths.period_outputs_dir("demo", period) / "notify.json").read_text(encoding="utf-8")
    assert SECRET not in record and SECRET not in caplog.text and "****" in record
    assert json.loads(record)["channels"][2]["error"]


def test_a_missing_secret_is_named_and_nothing_is_sent(demo_run, servers):
    from shopkpi.notify import push

    hook, _, _ = servers
    channel = NotifyChannel(name="boss-chat", url=f"json://boss:${{SKP_UNSET_SECRET}}@127.0.0.1:{hook.port}/hook")
    [result] = push("demo", demo_run["period"], [channel], sleep=lambda _s: None)
    assert result["status"] == "failed" and "SKP_UNSET_SECRET is not set" in result["error"] and not hook.posts
