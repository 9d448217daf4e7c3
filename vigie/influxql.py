"""Synchronous InfluxQL queries over the v1 HTTP API, for summaries, checks and tests.

They use the read credential when the settings name one (the dashboards' reader).
"""

from __future__ import annotations

import base64
import json
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from vigie.errors import StorageError
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


def write_lines(influx: InfluxSettings, lines: list[str], rp: str, timeout_s: float = 10.0) -> None:
    """Write line protocol (ms) with the writer's credential, for the processes that store a
    few points of their own (footprint report, notifier); the stream workers use their sink."""
    if not lines:
        return
    params = urllib.parse.urlencode({"db": influx.database, "rp": rp, "precision": "ms"})
    request = urllib.request.Request(
        f"{influx.url.rstrip('/')}/write?{params}", data="\n".join(lines).encode(), method="POST"
    )
    header = _basic(influx.username, influx.password_file)  # the writer, never the reader
    if header:
        request.add_header("Authorization", header)
    with urllib.request.urlopen(request, timeout=timeout_s):
        pass
