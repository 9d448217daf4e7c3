"""The worker leans on faust-streaming and aiokafka beyond their public API in three places
(the quick-fetch transport, ``noack_take``, ``take_events``); their versions are pinned in
pyproject.toml, and this checks both that the installed ones are in range and that what the
worker touches is still there."""

from __future__ import annotations

import inspect
import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _pins() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [Requirement(r) for r in project["optional-dependencies"]["platform"]]
    return {r.name: r for r in reqs}


def test_faust_and_aiokafka_are_pinned_and_the_installed_ones_fit():
    pins = _pins()
    for name in ("faust-streaming", "aiokafka"):
        spec = pins[name].specifier
        assert any(s.operator == "<" for s in spec), f"{name} has no upper bound"
        assert version(name) in spec, f"{name} {version(name)} outside {spec}"


def test_what_the_worker_touches_is_still_there():
    from aiokafka import AIOKafkaConsumer
    from faust.streams import Stream
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread, Consumer

    assert "self._fetch_max_wait_ms = fetch_max_wait_ms" in inspect.getsource(
        AIOKafkaConsumer.__init__
    )
    assert "fetch_max_wait_ms=self._fetch_max_wait_ms" in inspect.getsource(AIOKafkaConsumer.start)
    assert callable(AIOKafkaConsumerThread._create_worker_consumer)
    assert callable(Consumer._new_consumer_thread)
    for taking in (Stream.noack_take, Stream.take_events):  # (max, within=seconds)
        assert list(inspect.signature(taking).parameters)[1:3] == ["max_", "within"]
