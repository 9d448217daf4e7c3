from hypothesis import given
from hypothesis import strategies as st

from ingest.dedup import SequenceTracker
from vigie.sequence import SeqVerdict, SeqWindow


def test_repeat_is_duplicate_and_gap_is_counted_then_filled():
    t = SequenceTracker(window=64)
    assert t.observe("d", 0) is SeqVerdict.NEW
    assert t.observe("d", 3) is SeqVerdict.NEW
    assert t.gaps["d"] == 2
    assert t.observe("d", 3) is SeqVerdict.DUPLICATE
    assert t.observe("d", 1) is SeqVerdict.NEW
    assert t.gaps["d"] == 1
    assert t.observe("d", 1) is SeqVerdict.DUPLICATE


def test_older_than_window_is_stale_not_dropped():
    w = SeqWindow(100, size=8)
    assert w.observe(50)[0] is SeqVerdict.STALE


def test_device_count_is_bounded():
    t = SequenceTracker(window=8, max_devices=3)
    for d in range(10):
        t.observe(f"d{d}", 0)
    assert len(t._seen) == 3


@given(st.lists(st.integers(0, 200), max_size=300))
def test_new_exactly_once_per_sequence_within_window(seqs):
    w = None
    news = []
    for s in seqs:
        if w is None:
            w = SeqWindow(s, size=512)
            news.append(s)
        elif w.observe(s)[0] is SeqVerdict.NEW:
            news.append(s)
    assert sorted(news) == sorted(set(seqs))


def test_a_jump_to_the_largest_sequence_costs_no_memory():
    """A valid but hostile seq of 2**63-1 after seq 5 once shifted a bit set by 2**63."""
    import tracemalloc

    w = SeqWindow(5, size=4096)
    tracemalloc.start()
    verdict, missing = w.observe(2**63 - 1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert verdict is SeqVerdict.NEW and missing == 2**63 - 1 - 5 - 1
    assert peak < 64 * 1024
    assert w.observe(2**63 - 1)[0] is SeqVerdict.DUPLICATE
    assert w.observe(5)[0] is SeqVerdict.STALE


@given(st.lists(st.integers(0, 2**63 - 1), max_size=50))
def test_any_jump_keeps_the_window_within_its_size(seqs):
    w = SeqWindow(0, size=64)
    for s in seqs:
        w.observe(s)
        assert w.bits.bit_length() <= 64


def test_one_back_off_for_every_client_with_its_randomness_injected():
    import pytest

    from vigie.retry import SERVER, Backoff

    b = Backoff(first_s=1.0, max_s=8.0, factor=2.0, jitter=0.25)
    assert [b.delay(n, 0.5) for n in range(5)] == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert (b.delay(0, 0.0), b.delay(0, 0.999999)) == (0.75, pytest.approx(1.25))
    assert SERVER.delay(0, 0.5) == 0.2
