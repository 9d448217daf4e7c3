"""The offset guard: a jump in a partition's offsets is fetched again, nothing is skipped."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streams.offsets import Admission, OffsetGuard


def test_contiguous_offsets_are_accepted():
    g = OffsetGuard()
    assert [g.admit("p", o) for o in range(5)] == [Admission.ACCEPT] * 5
    assert g.gaps == 0


def test_a_jump_seeks_back_and_holds_what_follows_until_the_missing_offset_comes():
    g = OffsetGuard()
    for o in range(158):
        g.admit("p", o)
    assert g.admit("p", 160) is Admission.SEEK
    assert g.seek_target("p") == 158
    assert g.admit("p", 161) is Admission.HOLD  # still queued before the seek took effect
    assert g.admit("p", 158) is Admission.ACCEPT
    assert [g.admit("p", o) for o in (159, 160, 161)] == [Admission.ACCEPT] * 3
    assert g.gaps == 1 and g.lost == 0


def test_a_redelivery_from_further_back_is_accepted():
    g = OffsetGuard()
    for o in range(10):
        g.admit("p", o)
    assert g.admit("p", 4) is Admission.ACCEPT  # a rebalance sought back to the commit
    assert g.admit("p", 5) is Admission.ACCEPT
    assert g.admit("p", 7) is Admission.SEEK


def test_first_offset_after_assignment_is_checked_against_the_committed_one():
    g = OffsetGuard()
    g.start("p", 40)
    assert g.admit("p", 43) is Admission.SEEK
    assert g.seek_target("p") == 40
    g.forget(["p"])
    g.start("q", None)  # nothing committed yet: the first offset is taken as it comes
    assert g.admit("q", 7) is Admission.ACCEPT


def test_partitions_are_followed_separately():
    g = OffsetGuard()
    assert g.admit("a", 0) is Admission.ACCEPT
    assert g.admit("b", 100) is Admission.ACCEPT
    assert g.admit("a", 1) is Admission.ACCEPT
    assert g.admit("b", 101) is Admission.ACCEPT


def test_an_offset_that_never_comes_back_is_counted_and_the_held_ones_fetched_again():
    g = OffsetGuard(give_up_after=3)
    g.admit("p", 0)
    assert g.admit("p", 5) is Admission.SEEK
    assert g.admit("p", 6) is Admission.HOLD
    assert g.admit("p", 7) is Admission.SEEK  # offsets 1..4 are gone (retention)
    assert g.lost == 4
    assert g.seek_target("p") == 5
    assert [g.admit("p", o) for o in (5, 6, 7, 8)] == [Admission.ACCEPT] * 4


@given(st.lists(st.integers(0, 60), min_size=1, max_size=40))
def test_every_offset_is_accepted_once_the_partition_is_replayed_from_the_seek(drops):
    """Deliver 0..59 with some offsets dropped; replay from each seek: all get accepted."""
    g = OffsetGuard()
    g.start("p", 0)
    dropped = set(drops)
    accepted: set[int] = set()
    position, delivered_once = 0, set()
    while position < 60:
        o = position
        position += 1
        if o in dropped and o not in delivered_once:
            delivered_once.add(o)  # lost on its first delivery only
            continue
        verdict = g.admit("p", o)
        if verdict is Admission.ACCEPT:
            accepted.add(o)
        elif verdict is Admission.SEEK:
            position = g.seek_target("p")
    tail = 60  # drops at the very end have no successor to reveal them
    while tail - 1 in dropped:
        tail -= 1
    assert accepted >= set(range(tail))


def test_a_seek_whose_offset_does_not_come_is_asked_again():
    g = OffsetGuard()
    g.admit("p", 0, now=100.0)
    assert g.admit("p", 3, now=100.0) is Admission.SEEK
    assert g.stalled(now=102.0, after_s=5.0) == {}
    assert g.stalled(now=105.0, after_s=5.0) == {"p": 1}
    assert g.stalled(now=106.0, after_s=5.0) == {}  # asked again at 105
    g.admit("p", 1, now=107.0)
    assert g.stalled(now=200.0, after_s=5.0) == {}
