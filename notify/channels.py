"""Delivery to one channel: ``file:///path.jsonl`` appends a JSON line; any other URL goes
through apprise (e-mail, JSON webhooks, Matrix, Teams, Slack, SMS gateways...). Blocking:
the service calls it in a thread."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from urllib.parse import urlparse

from vigie.errors import ConnectError

log = logging.getLogger("vigie.notify")


class DeliveryError(ConnectError):
    """The channel did not take the message (down, refused, misconfigured)."""


def redacted(channel: str) -> str:
    """A channel without its credentials, for logs and dead letters."""
    url = urlparse(channel)
    host = url.hostname or ""
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{host}{port}{url.path}"


def send(channel: str, title: str, body: str) -> None:
    """Deliver or raise DeliveryError."""
    if channel.startswith("file://"):
        path = Path(urlparse(channel).path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as out:
                out.write(json.dumps({"title": title, "body": body}, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise DeliveryError(f"{channel}: {exc}") from exc
        return
    import apprise

    notifier = apprise.Apprise()
    if not notifier.add(channel):
        raise DeliveryError(f"{redacted(channel)}: not a channel apprise knows")
    # the body is plain text: lines stay lines (HTML e-mail gets them as breaks)
    if not notifier.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT):
        raise DeliveryError(f"{redacted(channel)}: the channel did not take the message")
