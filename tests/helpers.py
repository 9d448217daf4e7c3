"""Small helpers shared by tests: parsing line protocol, running a simulation through code."""

from __future__ import annotations

from collections.abc import Iterable


def parse_line(line: str) -> tuple[str, dict[str, str], dict[str, object], int]:
    """measurement, tags, fields, time of one line-protocol line (Vigie's own output only)."""
    head, fields_part, ts = _split_unquoted(line)
    measurement, *tag_parts = head.split(",")
    tags = dict(t.split("=", 1) for t in tag_parts)
    fields: dict[str, object] = {}
    for item in _fields(fields_part):
        key, raw = item.split("=", 1)
        if raw.startswith('"'):
            fields[key] = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        elif raw.endswith("i"):
            fields[key] = int(raw[:-1])
        else:
            fields[key] = float(raw)
    return measurement, tags, fields, int(ts)


def _split_unquoted(line: str) -> tuple[str, str, str]:
    parts, current, quoted = [], "", False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        if ch == " " and not quoted and len(parts) < 2:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts[0], parts[1], parts[2]


def _fields(text: str) -> Iterable[str]:
    current, quoted = "", False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            yield current
            current = ""
        else:
            current += ch
    yield current
