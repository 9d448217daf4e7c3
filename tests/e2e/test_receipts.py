"""End to end: an edge agent keeps each batch until the platform's storage receipt names it.

The agent publishes through the real Mosquitto, bridge, Tansu, worker and InfluxDB. Faults
that make the broker acknowledge a message and then lose it, once losing readings for good,
now end with every reading stored once and the agent's queue empty:

- a graceful Mosquitto restart while the bridge is down (Debian's Mosquitto 2.0 does not
  restore shared subscriptions, so what arrives before the bridge is back has no subscriber);
- a ``kill -9`` of Mosquitto while the agent sends.
"""

from __future__ import annotations

import signal
import threading
import time

import pytest

from edge.agent import Agent
from edge.config import AgentConfig
from edge.queue import BatchQueue
from shell.stack.services import free_port
from simulators.territory import generate
from tests.helpers import running_chain
from vigie import influxql

pytestmark = pytest.mark.e2e
T = generate(150, seed=12, territory_id="receipts")
LAMPS = [a for a in T.assets if a.kind == "lamp"]


def _agent(settings, tmp_path, asset) -> Agent:
    return Agent(
        AgentConfig.model_validate(
            {
                "territory": T.id,
                "asset": asset.model_dump(mode="json", exclude_none=True),
                "sample_period_s": 0.05,
                "batch_max_readings": 5,
                "health_period_s": 2,
                "state_dir": str(tmp_path / f"state-{asset.id}"),
                "mqtt": settings.mqtt.model_dump(mode="json"),
                "backoff": {"first_s": 0.1, "max_s": 0.5},
                "receipt_timeout_s": 2.0,
                "stop_timeout_s": 30.0,
            }
        )
    )


def _stored(settings, device: str) -> tuple[int, int]:
    """Raw readings stored for a device, and readings counted in its 1-minute windows."""
    raw = influxql.scalar(
        settings.influx, f'SELECT count("value") FROM "raw"."telemetry" WHERE device=\'{device}\''
    )
    counted = influxql.scalar(
        settings.influx, f'SELECT sum("count") FROM "minute"."agg_1m" WHERE device=\'{device}\''
    )
    return int(raw), int(counted)


def _run_for(agent: Agent, seconds: float, during) -> None:  # type: ignore[no-untyped-def]
    stop = threading.Event()
    runner = threading.Thread(target=agent.run, args=(stop,))
    runner.start()
    try:
        during()
        time.sleep(seconds)
    finally:
        stop.set()
        runner.join(60)
    assert not runner.is_alive()


def _check(settings, agent: Agent) -> None:
    deadline = time.monotonic() + 30
    while _stored(settings, agent.config.asset.id)[1] < agent.report.readings:
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    raw, counted = _stored(settings, agent.config.asset.id)
    assert raw == agent.report.readings, "every reading stored"
    assert counted == agent.report.readings, "and counted once in its window"
    queue = BatchQueue(agent.config.state_dir / "queue.db")
    assert len(queue) == 0, "every batch receipted, none left to send"
    queue.close()


@pytest.fixture
def chain(settings, isolated, tmp_path):
    with running_chain(settings, isolated, tmp_path, T) as comps:
        yield comps


def test_mosquitto_restarted_while_the_bridge_is_down_loses_nothing(
    stack, settings, chain, tmp_path
):
    agent = _agent(settings, tmp_path, LAMPS[0])

    def faults() -> None:
        time.sleep(2)
        chain.stop("ingest-0")  # graceful: its share is handed back, no subscriber remains
        time.sleep(2)  # the broker acknowledges the agent's batches and drops them
        stack.stop("mosquitto")
        stack.start("mosquitto")
        time.sleep(2)
        chain.start_ingest()

    _run_for(agent, 3, faults)
    chain.check_alive()
    assert agent.session.stats.resent >= 1, "batches without a receipt were sent again"
    _check(settings, agent)


def test_mosquitto_killed_while_the_agent_sends_loses_nothing(stack, settings, chain, tmp_path):
    agent = _agent(settings, tmp_path, LAMPS[1])

    def faults() -> None:
        time.sleep(3)
        stack.stop("mosquitto", signal.SIGKILL)
        time.sleep(1)
        stack.start("mosquitto")

    _run_for(agent, 4, faults)
    chain.check_alive()
    assert agent.session.stats.connections >= 2
    _check(settings, agent)


def _fleet(settings, device: str) -> dict:
    rows = influxql.query(
        settings.influx,
        'SELECT last("missing_seq") AS "missing", last("edge_dropped") AS "dropped", '
        f'last("first_seq") AS "first" FROM "minute"."fleet" WHERE device=\'{device}\'',
    )
    return rows[0] if rows else {}


def test_batches_an_offline_agent_dropped_show_as_missing_on_the_fleet_view(
    settings, chain, tmp_path
):
    """Offline, the agent's queue bound drops its oldest batches, so the first batch the
    platform sees is not its first: the fleet row counts the gap from the agent's own report."""
    asset = LAMPS[2]
    config = _agent(settings, tmp_path, asset).config
    offline = config.model_copy(
        update={
            "queue_max_batches": 6,
            "mqtt": config.mqtt.model_copy(update={"port": free_port()}),
        }
    )
    agent = Agent(offline)
    _run_for(agent, 2.5, lambda: None)
    queue = BatchQueue(config.state_dir / "queue.db")
    dropped, kept = queue.dropped, len(queue)
    queue.close()
    assert dropped > 0 and kept == 6
    agent = Agent(config.model_copy(update={"health_period_s": 0.5}))
    _run_for(agent, 2, lambda: None)
    deadline = time.monotonic() + 30
    while _fleet(settings, asset.id).get("dropped") != dropped and time.monotonic() < deadline:
        time.sleep(0.5)
    fleet = _fleet(settings, asset.id)
    assert fleet.get("first") == 0, "the agent's first sequence number reached the platform"
    assert fleet.get("dropped") == dropped
    assert fleet.get("missing") == dropped, "every dropped batch counted, nothing else"
