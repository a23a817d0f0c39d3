"""Push the review to chat and e-mail after a run: the first page's sentences, the top alerts, the PDF.

Sending goes through Apprise (one URL per channel: Lark/Feishu, WeCom, DingTalk, Slack, e-mail, a JSON
webhook...). The message is built from the same artifacts and functions as the dashboard's review page, so
it says what the report says. A channel that fails is retried with backoff and recorded in
outputs/<client>/<period>/notify.json; it never fails the run. Channel URLs may hold secrets (webhook
tokens, SMTP passwords): write them as `${ENV_NAME}` in params; logs and notify.json show Apprise's
privacy form of the URL only.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from shopkpi import paths
from shopkpi.dictionary import t
from shopkpi.errors import ParamsError

log = logging.getLogger("shopkpi.notify")
RECORD = "notify.json"
_ENV = re.compile(r"\$\{([A-Z0-9_]+)\}")


def channel_url(url: str, channel: str) -> str:
    """`${NAME}` replaced from the environment; a missing variable is a clear error naming the channel."""
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise ParamsError(f"notify channel {channel!r}: environment variable {name} is not set")
        return os.environ[name]

    return _ENV.sub(value, url)


def digest(client: str, period: str, lang: str, max_alerts: int = 5) -> tuple[str, str, Path | None]:
    """(title, body, review PDF) for a client's period in `lang`, from its artifacts."""
    from shopkpi.app.dashboard import period_line, read_page_artifact
    from shopkpi.params import load_client_params
    from shopkpi.review import REPORT_TITLE, load_artifacts, profit_headline, target_summary_line, top_alerts

    found_kpis = read_page_artifact(client, period, "kpis.json")
    if found_kpis is None:
        raise ParamsError(f"client {client}: no report for {period} to send (run it first)")
    folder, k = found_kpis
    found = load_artifacts(folder)
    params = load_client_params(client)
    # kpis.json's own sentences are in the client's language; another language gets the sentences built here.
    own = k.get("summary", []) + profit_headline(lang, found["profit"]) + k.get("drivers", []) if lang == k["language"] \
        else profit_headline(lang, found["profit"])
    summary = own + [target_summary_line(lang, found["targets"])]
    alerts = top_alerts(lang, found, k["reporting_currency"], params, limit=max_alerts) or [t("no_alerts", lang)]
    title = f"{k['display_name']} · {t(REPORT_TITLE[k['period_kind']], lang)} {k['period']}"
    as_of = ""
    if k.get("data_as_of"):
        from shopkpi.coverage import as_of_line

        as_of = as_of_line(k["data_as_of"], lang)
    body = "\n".join([period_line(k, lang), "", f"{t('executive_summary', lang)}:", *(f"• {s}" for s in summary if s), "",
                      f"{t('top_alerts', lang)}:", *(f"• {s}" for s in alerts), "", as_of])
    out = paths.period_outputs_dir(client, period)
    pdf = out / ("08_review_report.pdf" if lang == k["language"] else f"08_review_report.{lang}.pdf")
    return title, body.strip(), pdf if pdf.exists() else None


def _send_once(url: str, title: str, body: str, attachment: Path | None) -> bool:
    import apprise

    sender = apprise.Apprise()
    if not sender.add(url):
        return False
    attach = apprise.AppriseAttachment(str(attachment)) if attachment else None
    return bool(sender.notify(title=title, body=body, attach=attach))


def private(url: str) -> str:
    """Apprise's privacy form of a URL (secrets masked), for logs and the record."""
    import apprise

    plugin = apprise.Apprise.instantiate(url)
    return plugin.url(privacy=True) if plugin else "(not a valid notification URL)"


def push(client: str, period: str, channels=None, *, progress: Callable[[str], None] | None = None,
         sleep: Callable[[float], None] = time.sleep) -> list[dict]:
    """Send the period's review to every channel; returns (and records) one result per channel, never raises."""
    from shopkpi.params import load_client_params

    say = progress or (lambda _m: None)
    params = load_client_params(client)
    options = params.notify
    channels = channels if channels is not None else (options.channels if options else [])
    retries = options.retries if options else 3
    results = []
    for channel in channels:
        lang = channel.language or params.language
        result = {"channel": channel.name, "language": lang, "status": "failed", "attempts": 0, "url": "", "error": ""}
        try:
            url = channel_url(channel.url, channel.name)
            result["url"] = private(url)
            title, body, pdf = digest(client, period, lang, channel.max_alerts)
            attachment = pdf if channel.attach_pdf else None
            for attempt in range(retries + 1):
                result["attempts"] = attempt + 1
                if _send_once(url, title, body, attachment):
                    result["status"] = "sent"
                    break
                if attempt < retries:
                    sleep(min(2 ** attempt, 30))
            if result["status"] != "sent":
                result["error"] = f"the channel refused or could not be reached {result['attempts']} time(s)"
        except Exception as exc:  # noqa: BLE001 - a channel never fails the run; the record says why
            result["error"] = f"{type(exc).__name__}: {exc}"
        log.log(logging.INFO if result["status"] == "sent" else logging.WARNING, "client %s, %s: %s to %s (%s) %s",
                client, period, result["status"], channel.name, result["url"], result["error"])
        say(f"notify {channel.name}: {result['status']}" + (f" ({result['error']})" if result["error"] else ""))
        results.append(result)
    if results:
        from shopkpi.artifacts import write_json

        write_json(paths.period_outputs_dir(client, period) / RECORD,
                   {"sent_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"), "channels": results})
    return results
