"""The recovery watch: a worker exits for a fresh start only when its table recovery has
stopped moving, never while it moves or once it is over."""

from streams.stall import RecoveryWatch


def test_a_recovery_that_stops_moving_is_stalled_after_the_delay():
    watch = RecoveryWatch(stall_after_s=60)
    assert not watch.stalled(True, (("changelog-1", 10),), now=0)
    assert not watch.stalled(True, (("changelog-1", 10),), now=59)
    assert watch.stalled(True, (("changelog-1", 10),), now=60)
    assert watch.stuck_for(75) == 75


def test_a_recovery_that_moves_or_ends_is_never_stalled():
    watch = RecoveryWatch(stall_after_s=60)
    for t in range(0, 600, 30):  # slow but moving: a large changelog
        assert not watch.stalled(True, (("changelog-1", t),), now=t)
    assert not watch.stalled(False, (("changelog-1", 570),), now=700)  # over
    # a new recovery starts its own clock
    assert not watch.stalled(True, (("changelog-1", 570),), now=701)
    assert not watch.stalled(True, (("changelog-1", 570),), now=760)
    assert watch.stalled(True, (("changelog-1", 570),), now=761)
