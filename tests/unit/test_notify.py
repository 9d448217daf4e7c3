"""The notifier's decisions on its real store (SQLite in a temporary folder): who is told, once,
grouped, held for maintenance, quiet while a sensor flaps, escalated when nobody answers."""

from __future__ import annotations

import pytest

from notify.config import Maintenance, NotifyConfig, Route
from notify.messages import render
from notify.store import Store, Subject
from vigie.contracts.alerts import Alert, AlertKind, AlertState, Severity

MIN = 60_000
T0 = 1_780_000_000_000
LAMPS = Subject("nord", "lighting", 45.76, 4.84)


def _alert(subject="lamp-1", state=AlertState.RAISED, at=T0, kind=AlertKind.LAMP_FAILURE):
    return Alert(kind, subject, state, at, 0.0, "0 W while on", "lyon")


def _config(**kw):
    routes = [
        Route(name="lighting", channels=["file:///tmp/a.jsonl"], verticals=["lighting"]),
        Route(
            name="major",
            channels=["json://localhost/hook"],
            min_severity=Severity.MAJOR,
            language="en",
            escalate_after_s=600,
            escalate_to=["mailto://localhost?to=chef@example.org"],
        ),
    ]
    return NotifyConfig(routes=kw.pop("routes", routes), **kw)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "state.sqlite")
    yield s
    s.close()


def test_an_alert_goes_to_the_routes_that_take_it_once_and_its_end_too(store):
    config = _config()
    assert store.record(_alert(), LAMPS, config, T0)[0] == 1  # lighting only: minor
    assert store.record(_alert(), LAMPS, config, T0)[0] == 0  # the same record again
    later = _alert(at=T0 + MIN)  # raised again while open: nothing new
    assert store.record(later, LAMPS, config, T0 + MIN)[0] == 0
    cleared = _alert(state=AlertState.CLEARED, at=T0 + 5 * MIN)
    queued, changes = store.record(cleared, LAMPS, config, T0 + 5 * MIN)
    assert queued == 1 and changes[0].state == "cleared" and changes[0].wait_ms == 5 * MIN
    leak = _alert("meter-1", kind=AlertKind.SUSPECTED_LEAK)
    assert store.record(leak, Subject("sud", "water"), config, T0)[0] == 1  # major only
    channels = [row["channel"] for row in store.outbox()]
    assert channels == ["file:///tmp/a.jsonl"] * 2 + ["json://localhost/hook"]


def test_alerts_of_a_kind_and_district_in_one_window_go_out_as_one_message(store):
    config = _config(group_window_s=60)
    for i, district in enumerate(["nord", "nord", "nord", "sud"]):
        where = Subject(district, "lighting")
        store.record(_alert(f"lamp-{i}", at=T0 + i * 1000), where, config, T0 + i * 1000)
    assert store.due(T0 + 30_000) == []  # the window is still open
    assert [len(b.items) for b in store.due(T0 + 61_000)] == [3]  # nord's window closed
    batches = store.due(T0 + 64_000)
    assert sorted(len(b.items) for b in batches) == [1, 3]
    nord = next(b for b in batches if len(b.items) == 3)
    title, body = render(nord.items, "fr", "Europe/Paris", "http://grafana")
    assert title.startswith("[Vigie lyon] lampe en panne x3: quartier nord")
    assert [line.split(" ")[1] for line in body.splitlines() if line.startswith("- ")] == [
        "lamp-0", "lamp-1", "lamp-2",
    ]  # fmt: skip


def test_planned_works_hold_the_notification_but_keep_the_record(store):
    works = Maintenance(territory="lyon", district="nord", start_ms=T0 - MIN, end_ms=T0 + MIN)
    config = _config(maintenance=[works])
    queued, changes = store.record(_alert(), LAMPS, config, T0)
    assert queued == 0 and changes[0].held == "maintenance"
    assert store.alerts("open")[0]["held"] == "maintenance"
    cleared = _alert(state=AlertState.CLEARED, at=T0 + MIN)
    assert store.record(cleared, LAMPS, config, T0 + MIN)[0] == 0  # nobody heard it open
    after = _alert(at=T0 + 2 * MIN)  # the works are over
    assert store.record(after, LAMPS, config, T0 + 2 * MIN)[0] == 1
    # a window set from the command line counts the same
    store.silence(
        Maintenance(territory="lyon", asset="lamp-9", start_ms=T0, end_ms=T0 + 60 * MIN), "ops"
    )
    assert store.record(_alert("lamp-9", at=T0 + 3 * MIN), LAMPS, config, T0)[0] == 0


def test_a_flapping_sensor_is_said_to_flap_once_then_held(store):
    config = _config(flap_max=3, flap_window_s=3600)
    told = []
    for i in range(6):
        raised, cleared = T0 + i * 2 * MIN, T0 + (i * 2 + 1) * MIN
        n, changes = store.record(_alert(at=raised), LAMPS, config, raised)
        told.append((n, changes[0].held))
        store.record(_alert(state=AlertState.CLEARED, at=cleared), LAMPS, config, cleared)
    assert told == [(1, None)] * 3 + [(1, "flapping"), (0, "flapping"), (0, "flapping")]
    items = [b.items for b in store.due(T0 + 60 * MIN)]
    assert sum(i.state == "flapping" for batch in items for i in batch) == 1


def test_nobody_answering_escalates_once_and_an_acknowledgement_stops_it(store):
    config = _config()
    leak = _alert("meter-1", kind=AlertKind.SUSPECTED_LEAK)
    store.record(leak, Subject("sud", "water"), config, T0)
    other = _alert("meter-2", kind=AlertKind.SUSPECTED_LEAK)
    store.record(other, Subject("sud", "water"), config, T0)
    assert store.escalate(config, T0 + 5 * MIN) == 0
    change = store.ack("lyon", "suspected_leak", "meter-2", "agent.dupont", T0 + 7 * MIN)
    assert change.state == "acknowledged" and change.wait_ms == 7 * MIN
    assert store.escalate(config, T0 + 11 * MIN) == 1  # meter-1 only
    assert store.escalate(config, T0 + 20 * MIN) == 0  # once
    escalated = [r for r in store.outbox() if r["channel"].startswith("mailto")]
    assert len(escalated) == 1 and '"meter-1"' in escalated[0]["item"]
    with pytest.raises(LookupError, match="not open"):
        store.ack("lyon", "suspected_leak", "meter-2", "someone", T0 + 30 * MIN)


def test_a_message_names_the_asset_its_place_its_time_and_where_to_look():
    from notify.store import _load  # the outbox's own round trip

    config = _config()
    title, body = render(
        [
            _load(
                '{"territory": "lyon", "kind": "lamp_failure", "subject": "lamp-1", '
                '"state": "raised", "at_ms": 1780000000000, "value": 0.0, "detail": "0 W", '
                '"district": "nord", "vertical": "lighting", "lat": 45.76, "lon": 4.84}'
            )
        ],
        "fr",
        "Europe/Paris",
        config.dashboard_url,
    )
    assert title == "[Vigie lyon] lampe en panne: quartier nord, ouverte"
    assert "lamp-1" in body and "45.76000, 4.84000" in body
    assert "2026-05-28 22:26 CEST" in body  # local time of the territory
    assert "/d/vigie-lighting?var-territory=lyon&var-district=nord&var-device=lamp-1" in body
    assert "vigie alerts ack lyon lamp_failure lamp-1" in body


def test_a_claimed_message_is_left_to_its_owner_until_it_dies_or_its_lease_ends(tmp_path):
    """Two notifiers on one store (two connections, as two processes have)."""
    one, two = Store(tmp_path / "s.sqlite"), Store(tmp_path / "s.sqlite")
    config = _config(group_window_s=0)
    one.record(_alert(), LAMPS, config, T0)
    running = {"host:1", "host:2"}
    claimed = one.due(T0, owner="host:1", lease_ms=MIN, alive=running.__contains__)
    assert len(claimed) == 1
    assert two.due(T0, owner="host:2", lease_ms=MIN, alive=running.__contains__) == []
    running.discard("host:1")  # its owner died before sending
    (taken,) = two.due(T0 + 1, owner="host:2", lease_ms=MIN, alive=running.__contains__)
    assert taken.ids == claimed[0].ids
    two.retry_at(taken, T0 + 2)  # put back: anyone may take it when due
    assert one.due(T0 + 2, owner="host:1", lease_ms=MIN, alive=lambda _: True) != []
    # a live owner that never answers: the lease ends
    assert two.due(T0 + 3, owner="host:2", lease_ms=MIN, alive=lambda _: True) == []
    assert len(two.due(T0 + 2 + MIN, owner="host:2", lease_ms=MIN, alive=lambda _: True)) == 1
    one.close()
    two.close()


@pytest.mark.parametrize("kind", ["device_silent", "meter_down"])
def test_a_devices_own_health_points_to_the_fleet_dashboard(kind):
    from notify.store import _load

    item = _load(
        f'{{"territory": "lyon", "kind": "{kind}", "subject": "cab-1", "state": "raised", '
        '"at_ms": 1780000000000, "value": 3.0, "detail": "no answer", "district": "nord", '
        '"vertical": "lighting", "lat": 45.76, "lon": 4.84}'
    )
    title, body = render([item], "en", "Europe/Paris", _config().dashboard_url)
    assert "/d/vigie-fleet?var-territory=lyon&var-district=nord&var-device=cab-1" in body
    assert {"device_silent": "silent sensor", "meter_down": "meter not answering"}[kind] in title
