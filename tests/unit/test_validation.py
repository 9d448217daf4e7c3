import json

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.validation import Accepted, Rejected, ValidationPolicy, validate
from simulators.faults import standard_faults
from simulators.territory import generate
from vigie.contracts import RejectReason

NOW = 1_800_000_000_000
POLICY = ValidationPolicy()
TERRITORY = generate(300, seed=3, territory_id="t")
REGISTRY = TERRITORY.by_id()


def _payload(device="lamp-00000", metric="power_w", value=40.0, ts=NOW, seq=1) -> bytes:
    return json.dumps(
        {
            "v": 1,
            "device_id": device,
            "seq": seq,
            "sent_at_ms": ts,
            "readings": [{"ts_ms": ts, "metric": metric, "value": value}],
        }
    ).encode()


def test_valid_lamp_batch_is_accepted():
    verdict = validate("vigie/t/lighting/lamp-00000/telemetry", _payload(), NOW, POLICY, REGISTRY)
    assert isinstance(verdict, Accepted)
    assert verdict.topic.vertical == "lighting"


def test_each_standard_fault_gets_its_reason():
    for fault in standard_faults(TERRITORY, NOW):
        verdict = validate(fault.topic, fault.payload, NOW, POLICY, REGISTRY)
        assert isinstance(verdict, Rejected), fault.label
        assert verdict.reason is fault.expected, (fault.label, verdict)


def test_metric_of_another_vertical_is_refused():
    verdict = validate(
        "vigie/t/lighting/lamp-00000/telemetry", _payload(metric="flow_m3h"), NOW, POLICY, REGISTRY
    )
    assert isinstance(verdict, Rejected) and verdict.reason is RejectReason.WRONG_VERTICAL


def test_device_published_under_wrong_vertical_is_refused():
    verdict = validate(
        "vigie/t/water/lamp-00000/telemetry",
        _payload(metric="flow_m3h", value=1),
        NOW,
        POLICY,
        REGISTRY,
    )
    assert isinstance(verdict, Rejected) and verdict.reason is RejectReason.WRONG_VERTICAL


def test_oversize_and_ancient_payloads():
    big = validate("vigie/t/lighting/lamp-00000/telemetry", b" " * 300_000, NOW, POLICY)
    assert isinstance(big, Rejected) and big.reason is RejectReason.OVERSIZE
    old = validate(
        "vigie/t/lighting/lamp-00000/telemetry", _payload(ts=NOW - 30 * 86_400_000), NOW, POLICY
    )
    assert isinstance(old, Rejected) and old.reason is RejectReason.CLOCK_SKEW


def test_deep_nesting_is_a_schema_or_json_error():
    deep = b"[" * 100_000 + b"]" * 100_000
    verdict = validate("vigie/t/lighting/lamp-00000/telemetry", deep, NOW, POLICY)
    assert isinstance(verdict, Rejected)
    assert verdict.reason in (
        RejectReason.MALFORMED_JSON,
        RejectReason.SCHEMA,
        RejectReason.OVERSIZE,
    )


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_random_bytes_never_raise(raw):
    verdict = validate("vigie/t/lighting/lamp-00000/telemetry", raw, NOW, POLICY, REGISTRY)
    assert isinstance(verdict, Rejected)
    assert verdict.detail


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(),
        lambda c: st.lists(c) | st.dictionaries(st.text(), c),
        max_leaves=20,
    )
)
def test_random_json_never_raises(obj):
    raw = json.dumps(obj).encode()
    verdict = validate("vigie/t/lighting/lamp-00000/telemetry", raw, NOW, POLICY, REGISTRY)
    assert isinstance(verdict, Rejected | Accepted)
