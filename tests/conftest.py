"""Shared fixtures: the real local stack (Mosquitto, Tansu, InfluxDB 1.x) for a test session."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator

import pytest

from shell.stack import Stack
from vigie.settings import Settings

_ids = itertools.count()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One real stack for the session, on free ports, stopped at the end."""
    home = tmp_path_factory.mktemp("vigie-home")
    s = Stack(home)
    s.up()
    yield s
    s.down()


@pytest.fixture
def isolated(stack: Stack) -> dict[str, str]:
    """Environment giving one test its own MQTT prefix, Kafka topics, database and group."""
    n = f"t{os.getpid()}x{next(_ids)}"
    return {
        "VIGIE_HOME": str(stack.home),
        "VIGIE_MQTT__PREFIX": f"vigie{n}",
        "VIGIE_KAFKA__TOPIC_PREFIX": f"vigie{n}",
        "VIGIE_INFLUX__DATABASE": f"vigie{n}",
        "VIGIE_STREAMS__APP_ID": f"vigie-streams-{n}",
        "VIGIE_INGEST__SHARE_GROUP": f"ingest{n}",
    }


@pytest.fixture
def settings(isolated: dict[str, str], monkeypatch: pytest.MonkeyPatch, stack: Stack) -> Settings:
    """Settings for the isolated test, as the components started with that env will see them;
    the test's InfluxDB database is prepared (retention policies, grants) by the stack."""
    for key, value in isolated.items():
        monkeypatch.setenv(key, value)
    stack.prepare_database(isolated["VIGIE_INFLUX__DATABASE"])
    return Settings()
