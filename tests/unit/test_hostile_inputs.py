"""Every named hostile input becomes what its case says: a dead letter with its reason, or a
batch accepted as sent. The same cases run through the real bridge and worker in
``tests/integration/test_hostile_chain.py``."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.validation import Accepted, Rejected, ValidationPolicy, validate
from simulators.territory import generate
from tests.hostile import hostile_cases

NOW = 1_800_000_000_000
TERRITORY = generate(300, seed=3, territory_id="t")
REGISTRY = TERRITORY.by_id()
LAMP = next(a.id for a in TERRITORY.assets if a.kind == "lamp")
METER = next(a.id for a in TERRITORY.assets if a.vertical == "water")
CASES = hostile_cases("vigie", "t", LAMP, METER, NOW)


def test_there_are_at_least_forty_named_cases():
    assert len(CASES) >= 40
    assert len({c.label for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_hostile_input_gets_its_verdict(case):
    verdict = validate(case.topic, case.payload, NOW, ValidationPolicy(), REGISTRY)
    if case.expected is None:
        assert isinstance(verdict, Accepted), verdict
    else:
        assert isinstance(verdict, Rejected), f"{case.label} was accepted"
        assert verdict.reason is case.expected, (case.label, verdict)
        assert verdict.detail


_JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
    max_leaves=6,
)
_FIELDS = ["v", "device_id", "seq", "sent_at_ms", "readings", "extra"]
_READING_FIELDS = ["ts_ms", "metric", "value", "extra"]


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(_FIELDS + _READING_FIELDS),
    _JSON,
    st.booleans(),
)
def test_an_accepted_batch_means_exactly_what_its_bytes_say(field, value, in_reading):
    """Any one field replaced by any JSON value: either refused, or accepted with every value
    of the same JSON type as sent (nothing coerced, nothing dropped)."""
    doc = {
        "v": 1,
        "device_id": LAMP,
        "seq": 7,
        "sent_at_ms": NOW,
        "readings": [{"ts_ms": NOW - 1000, "metric": "power_w", "value": 40.0}],
    }
    target = doc["readings"][0] if field in _READING_FIELDS and in_reading else doc
    target[field] = value
    payload = json.dumps(doc).encode()
    verdict = validate(
        f"vigie/t/lighting/{LAMP}/telemetry", payload, NOW, ValidationPolicy(), REGISTRY
    )
    if isinstance(verdict, Accepted):
        sent = json.loads(payload)
        kept = verdict.batch.model_dump(exclude_unset=True)
        assert _typed(kept) == _typed(sent)


def _typed(obj):
    """A JSON value with the type of every leaf, so that 1 and True and "1" differ."""
    if isinstance(obj, dict):
        return {k: _typed(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_typed(v) for v in obj]
    kind = "number" if type(obj) in (int, float) else type(obj).__name__
    return (kind, obj)
