"""Synchronous InfluxQL queries over the v1 HTTP API, for summaries, checks and tests.

They use the read credential when the settings name one (the dashboards' reader).
"""

from __future__ import annotations

import base64
import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vigie.errors import StorageError
from vigie.retry import SERVER
from vigie.sections import InfluxSettings, read_secret


def _basic(user: str | None, password_file: Path | None) -> str | None:
    if not user:
        return None
    token = f"{user}:{read_secret(password_file) or ''}"
    return "Basic " + base64.b64encode(token.encode()).decode()


def _auth_header(influx: InfluxSettings) -> str | None:
    """The reader's credential when the settings name one, else the writer's."""
    if influx.read_username:
        return _basic(influx.read_username, influx.read_password_file)
    return _basic(influx.username, influx.password_file)


def query(influx: InfluxSettings, q: str, timeout_s: float = 10.0) -> list[dict[str, Any]]:
    """Rows of every series of the first statement, each as {column: value, **tags}."""
    params = urllib.parse.urlencode({"db": influx.database, "q": q, "epoch": "ms"})
    request = urllib.request.Request(f"{influx.url.rstrip('/')}/query?{params}")
    header = _auth_header(influx)
    if header:
        request.add_header("Authorization", header)
    with urllib.request.urlopen(request, timeout=timeout_s) as resp:
        body = json.load(resp)
    result = body["results"][0]
    if "error" in result:
        raise StorageError(f"InfluxQL error for {q!r}: {result['error']}")
    rows = []
    for series in result.get("series", []):
        for values in series["values"]:
            rows.append(
                {**series.get("tags", {}), **dict(zip(series["columns"], values, strict=True))}
            )
    return rows


def scalar(influx: InfluxSettings, q: str) -> float:
    """The single value of a one-row, one-field query (0 when there is no row)."""
    rows = query(influx, q)
    if not rows:
        return 0.0
    value = next(v for k, v in rows[0].items() if k != "time")
    return float(value or 0)


def write_lines(
    influx: InfluxSettings,
    lines: list[str],
    rp: str,
    timeout_s: float = 10.0,
    attempts: int = 1,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Write line protocol (ms) with the writer's credential, for the processes that store a
    few points of their own (footprint report, notifier, roll-up catch-up); the stream
    workers use their sink. Lines come from ``vigie.points``.

    ``attempts``: a command that can wait tries again on an InfluxDB away or failing (5xx),
    with ``SERVER``'s back-off; a process with a loop of its own keeps its points for its next
    round instead (1, the default). A refusal (4xx: a point it will never take) is not tried
    again: the error carries InfluxDB's words."""
    if not lines:
        return
    params = urllib.parse.urlencode({"db": influx.database, "rp": rp, "precision": "ms"})
    header = _basic(influx.username, influx.password_file)  # the writer, never the reader
    for attempt in range(attempts):
        request = urllib.request.Request(
            f"{influx.url.rstrip('/')}/write?{params}",
            data="\n".join(lines).encode(),
            method="POST",
        )
        if header:
            request.add_header("Authorization", header)
        try:
            with urllib.request.urlopen(request, timeout=timeout_s):
                return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                words = exc.read().decode(errors="replace")[:500]
                raise StorageError(f"InfluxDB refused the points ({exc.code}): {words}") from exc
            if attempt + 1 >= attempts:
                raise
        except OSError:
            if attempt + 1 >= attempts:
                raise
        sleep(SERVER.delay(attempt, random.random()))
