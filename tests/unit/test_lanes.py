"""State keys per lane (territory, live or history) and the registries of several territories."""

from __future__ import annotations

import json

import pytest

from ingest.validation import Accepted, Rejected, ValidationPolicy, validate
from streams.lanes import Lane, parse_group_key, parse_key
from tests.helpers import counter_territory
from vigie.registries import Registries


@pytest.mark.parametrize(
    "lane",
    [Lane("home"), Lane("home", True), Lane("sud", False, False), Lane("sud", True, False)],
)
def test_keys_name_their_lane_and_read_back(lane):
    key = lane.key("ctr-1")
    assert parse_key(key, "home") == (lane, "ctr-1")
    assert parse_group_key(lane.group_key("dma:zone-1"), "home")[1] == "dma:zone-1"
    assert parse_key(lane.group_key("cab-1"), "home") is None


def test_one_device_id_in_two_territories_has_two_states():
    assert Lane("nord", home=False).key("ctr-1") != Lane("sud", home=False).key("ctr-1")
    assert Lane("nord").key("ctr-1") == "ctr-1", "the worker's own territory keeps its keys"


_territory = counter_territory


def test_the_topic_territory_picks_its_registry_and_an_unserved_one_is_refused(tmp_path):
    for t in (_territory("nord", "Europe/Paris"), _territory("sud", "America/Cayenne")):
        t.save(tmp_path / f"{t.id}.json")
    served = Registries.load(tmp_path)
    assert set(served.territories) == {"nord", "sud"}
    body = json.dumps(
        {
            "v": 1,
            "device_id": "ctr-1",
            "seq": 1,
            "sent_at_ms": 1_800_000_000_000,
            "readings": [{"ts_ms": 1_800_000_000_000, "metric": "occupancy_pct", "value": 3.0}],
        }
    ).encode()
    policy = ValidationPolicy(max_age_s=1e12)
    for tid in ("nord", "sud"):
        topic = f"vigie/{tid}/mobility/ctr-1/telemetry"
        assert isinstance(validate(topic, body, 1_800_000_000_000, policy, served), Accepted)
    refused = validate(
        "vigie/ouest/mobility/ctr-1/telemetry", body, 1_800_000_000_000, policy, served
    )
    assert isinstance(refused, Rejected) and "not served" in refused.detail
    (tmp_path / "copy.json").write_text((tmp_path / "nord.json").read_text())
    with pytest.raises(ValueError, match="already"):
        Registries.load(tmp_path)
