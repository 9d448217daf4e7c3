from ingest.bundling import Bundler
from ingest.routing import Outbound
from vigie.contracts import TELEMETRY_BUNDLE


def _record(device: str, seq: int, received_at_ms: int, territory: bytes = b"t") -> Outbound:
    body = (
        f'{{"v":1,"device_id":"{device}","seq":{seq},"sent_at_ms":1,'
        f'"readings":[{{"ts_ms":1,"metric":"power_w","value":40.0}}]}}'
    ).encode()
    headers = [("territory", territory), ("received_at_ms", str(received_at_ms).encode())]
    return Outbound("vigie.telemetry.lighting", device.encode(), body, headers)


def test_batches_of_one_partition_travel_as_one_record_and_read_back_in_order():
    bundler = Bundler()
    for seq in range(5):
        assert bundler.add(_record("lamp-1", seq, 100 - seq), partition=3) is None
    assert bundler.add(_record("lamp-2", 0, 50), partition=4) is None
    ready = {partition: out for out, partition in bundler.drain()}
    assert set(ready) == {3, 4}
    batches = TELEMETRY_BUNDLE.validate_json(ready[3].value)
    assert [(b.device_id, b.seq) for b in batches] == [("lamp-1", s) for s in range(5)]
    headers = dict(ready[3].headers)
    assert headers["batches"] == b"5" and headers["received_at_ms"] == b"96"
    assert bundler.drain() == []


def test_a_bundle_never_grows_past_its_size_and_nothing_is_left_out():
    one = len(_record("lamp-1", 0, 1).value) + 1
    bundler = Bundler(max_bytes=3 * one)
    full = [f for seq in range(10) if (f := bundler.add(_record("lamp-1", seq, 1), 0))]
    rest = [out for out, _ in bundler.drain()]
    seqs = [b.seq for out in full + rest for b in TELEMETRY_BUNDLE.validate_json(out.value)]
    assert seqs == list(range(10))
    assert all(len(out.value) <= 3 * one for out in full + rest)


def test_territories_are_not_mixed_in_one_record():
    bundler = Bundler()
    bundler.add(_record("lamp-1", 0, 1, b"a"), 0)
    bundler.add(_record("lamp-2", 0, 1, b"b"), 0)
    assert sorted(dict(out.headers)["territory"] for out, _ in bundler.drain()) == [b"a", b"b"]
