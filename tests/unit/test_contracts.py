import json

import pytest
from pydantic import TypeAdapter, ValidationError

from vigie.contracts import (
    METRICS,
    TELEMETRY_BATCH,
    Channel,
    DeviceTopic,
    KafkaTopics,
    Reading,
    Territory,
    TopicError,
    Vertical,
)
from vigie.contracts.metrics import metrics_of


def _batch(**over: object) -> bytes:
    body = {
        "v": 1,
        "device_id": "lamp-1",
        "seq": 3,
        "sent_at_ms": 1_700_000_000_000,
        "readings": [{"ts_ms": 1_700_000_000_000, "metric": "power_w", "value": 35.5}],
    }
    body.update(over)
    return json.dumps(body).encode()


def test_valid_batch_parses_with_typed_readings():
    batch = TELEMETRY_BATCH.validate_json(_batch())
    assert batch.device_id == "lamp-1"
    assert batch.readings[0]["value"] == 35.5


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"seq": -1}, "seq"),
        ({"device_id": "Lamp/1"}, "device_id"),
        ({"readings": []}, "readings"),
        ({"v": 2}, "v"),
        ({"readings": [{"ts_ms": 1, "metric": "volts", "value": 1}]}, "metric"),
        ({"extra": 1}, "extra"),
    ],
)
def test_invalid_batch_error_names_the_field(override, field):
    with pytest.raises(ValidationError) as err:
        TELEMETRY_BATCH.validate_json(_batch(**override))
    assert field in str(err.value)


def test_nan_and_infinity_are_refused():
    for raw in (b"NaN", b"Infinity", b"1e400"):
        payload = _batch().replace(b"35.5", raw)
        with pytest.raises(ValidationError):
            TELEMETRY_BATCH.validate_json(payload)


def test_the_envelope_takes_every_catalogued_metric_and_no_other():
    reading = TypeAdapter(Reading)
    for name in METRICS:
        assert reading.validate_python({"ts_ms": 1, "metric": name, "value": 1.0})["metric"] == name
    for wrong in ("power_kw", "Power_w", ""):
        with pytest.raises(ValidationError):
            reading.validate_python({"ts_ms": 1, "metric": wrong, "value": 1.0})
    for vertical in Vertical:
        assert metrics_of(vertical)


def test_device_topic_round_trip():
    topic = DeviceTopic("grenoble", Vertical.WATER, "wmeter-00001", Channel.TELEMETRY)
    assert str(topic) == "vigie/grenoble/water/wmeter-00001/telemetry"
    assert DeviceTopic.parse(str(topic)) == topic


@pytest.mark.parametrize(
    "bad",
    [
        "vigie/t/air/d/telemetry",
        "vigie/t/water/d/other",
        "x/t/water/d/telemetry",
        "vigie/t/water/telemetry",
        "vigie/T!/water/d/telemetry",
    ],
)
def test_bad_topics_raise_topic_error(bad):
    with pytest.raises(TopicError):
        DeviceTopic.parse(bad)


def test_kafka_topics_per_vertical():
    topics = KafkaTopics("v")
    assert topics.telemetry("waste") == "v.telemetry.waste"
    assert len(set(topics.all_telemetry)) == len(Vertical)


def test_registry_rejects_unknown_cabinet_and_district():
    base = {"id": "t", "name": "T", "lat": 45, "lon": 5, "districts": [{"id": "d1", "name": "A"}]}
    lamp = {
        "id": "lamp-1",
        "kind": "lamp",
        "district": "d1",
        "lat": 45,
        "lon": 5,
        "nominal_power_w": 40,
        "cabinet_id": "cab-9",
    }
    with pytest.raises(ValidationError, match="unknown cabinet"):
        Territory.model_validate({**base, "assets": [lamp]})
    with pytest.raises(ValidationError, match="unknown district"):
        Territory.model_validate({**base, "assets": [{**lamp, "district": "zz"}]})
    with pytest.raises(ValidationError, match="nominal_power_w"):
        Territory.model_validate({**base, "assets": [{**lamp, "nominal_power_w": None}]})


def test_example_edge_config_is_valid():
    from pathlib import Path

    from edge.config import AgentConfig

    cfg = AgentConfig.load(Path(__file__).parents[2] / "edge" / "agent.example.toml")
    assert cfg.asset.vertical is Vertical.LIGHTING
    assert cfg.batch_policy.max_age_ms == 300_000
