"""Synchronous InfluxQL queries over the v1 HTTP API, for summaries, checks and tests."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import Any


def query(url: str, database: str, q: str, timeout_s: float = 10.0) -> list[dict[str, Any]]:
    """Rows of every series of the first statement, each as {column: value, **tags}."""
    params = urllib.parse.urlencode({"db": database, "q": q, "epoch": "ms"})
    with urllib.request.urlopen(f"{url.rstrip('/')}/query?{params}", timeout=timeout_s) as resp:
        body = json.load(resp)
    result = body["results"][0]
    if "error" in result:
        raise RuntimeError(f"InfluxQL error for {q!r}: {result['error']}")
    rows = []
    for series in result.get("series", []):
        for values in series["values"]:
            rows.append(
                {**series.get("tags", {}), **dict(zip(series["columns"], values, strict=True))}
            )
    return rows


def scalar(url: str, database: str, q: str) -> float:
    """The single value of a one-row, one-field query (0 when there is no row)."""
    rows = query(url, database, q)
    if not rows:
        return 0.0
    value = next(v for k, v in rows[0].items() if k != "time")
    return float(value or 0)
