"""Small helpers shared by tests: parsing line protocol, running a simulation through code."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager


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


def wait_for_count(settings, expected: int, comps=None, timeout_s: float = 180) -> int:  # type: ignore[no-untyped-def]
    """Poll InfluxDB until ``expected`` raw readings are stored; returns the count found."""
    import time

    from vigie import influxql
    from vigie.errors import StorageError

    deadline = time.monotonic() + timeout_s
    found = -1
    while time.monotonic() < deadline:
        if comps is not None:
            comps.check_alive()
        try:
            found = int(
                influxql.scalar(
                    settings.influx,
                    'SELECT count("value") FROM "raw"."telemetry"',
                )
            )
        except (OSError, StorageError):
            found = -1
        if found >= expected:
            return found
        time.sleep(0.5)
    return found


def check_stored_exactly(settings, emitted) -> None:  # type: ignore[no-untyped-def]
    """Every sent reading stored once, and every 1-minute aggregate equal to the reference."""
    from collections import Counter

    import pytest

    from streams.kernels.reference import tumbling_reference
    from vigie import influxql
    from vigie.contracts.metrics import METRIC_INDEX, METRIC_NAMES

    stored: Counter = Counter()
    for row in influxql.query(
        settings.influx, 'SELECT count("value") FROM "raw"."telemetry" GROUP BY "device", "metric"'
    ):
        stored[(row["device"], row["metric"])] = row["count"]
    aggs = influxql.query(
        settings.influx,
        'SELECT "count", "sum", "min", "max", "last" FROM '
        '"minute"."agg_1m" GROUP BY "device", "metric"',
    )
    sent: Counter = Counter()
    devices = sorted({e.batch.device_id for e in emitted})
    dev_idx = {d: i for i, d in enumerate(devices)}
    group, ts, values = [], [], []
    for e in emitted:
        if getattr(e, "duplicate", False):
            continue
        for r in e.batch.readings:
            sent[(e.batch.device_id, r["metric"])] += 1
            group.append(dev_idx[e.batch.device_id] * len(METRIC_NAMES) + METRIC_INDEX[r["metric"]])
            ts.append(r["ts_ms"])
            values.append(r["value"])
    if stored != sent:
        diff = {
            k: (stored.get(k), sent.get(k))
            for k in set(stored) | set(sent)
            if stored.get(k) != sent.get(k)
        }
        raise AssertionError(
            f"every reading stored exactly once; {len(diff)} series differ, "
            f"e.g. {sorted(diff.items())[:5]}"
        )
    expected = tumbling_reference(group, ts, values, 60_000)
    got = {}
    for row in aggs:
        g = dev_idx[row["device"]] * len(METRIC_NAMES) + METRIC_INDEX[row["metric"]]
        got[(g, row["time"])] = row
    assert set(got) == set(expected)
    for key, (count, total, lo, hi, _last_ts, last) in expected.items():
        row = got[key]
        assert row["count"] == count, "no reading counted twice or lost in a window"
        assert row["sum"] == pytest.approx(total, rel=1e-9, abs=1e-9)
        assert (row["min"], row["max"], row["last"]) == (lo, hi, last)


@contextmanager
def running_chain(settings, isolated, tmp_path, territory) -> Iterator:  # type: ignore[no-untyped-def]
    """A worker and a bridge for one territory on the test's isolated topics, stopped after."""
    from shell.stack.components import Components

    registry = tmp_path / "territory.json"
    territory.save(registry)
    env = {**isolated, "VIGIE_REGISTRY": str(registry), "VIGIE_TERRITORY": territory.id}
    comps = Components(tmp_path, settings, env)
    try:
        comps.start_streams()
        comps.start_ingest()
        yield comps
    finally:
        comps.stop_all()


def counter_territory(tid: str, zone: str = "Europe/Paris"):  # type: ignore[no-untyped-def]
    """A territory with one road counter, ``ctr-1``, in its ``centre`` district."""
    from vigie.contracts import Asset, AssetKind, District, Territory

    return Territory(
        id=tid,
        name=tid.title(),
        lat=45.0,
        lon=5.0,
        timezone=zone,
        districts=[District(id="centre", name="Centre")],
        assets=[
            Asset(id="ctr-1", kind=AssetKind.TRAFFIC_COUNTER, district="centre", lat=45, lon=5)
        ],
    )


def read_topic_letters(settings):  # type: ignore[no-untyped-def]
    """Every dead letter on the test's dead-letter topic."""
    import asyncio

    from vigie.contracts import DeadLetter, KafkaTopics
    from vigie.kafka import read_topic

    topic = KafkaTopics(settings.kafka.topic_prefix).deadletter
    records = asyncio.run(read_topic(settings.kafka, topic, timeout_s=30))
    return [DeadLetter.model_validate_json(r.value) for r in records]
