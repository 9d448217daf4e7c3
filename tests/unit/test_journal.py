"""The bridge's journal: kept until a receipt names it, sent again whole, bounded."""

from __future__ import annotations

from ingest.journal import Journal, JournalPolicy
from ingest.routing import Outbound


def _out(device: str, seq: int, pending: bool = True) -> Outbound:
    return Outbound(
        "vigie.telemetry.lighting",
        device.encode(),
        f'{{"seq": {seq}}}'.encode(),
        [("territory", b"t1"), ("receipt", b"1")],
        ("t1", device, seq) if pending else None,
    )


def test_only_pending_records_are_kept_and_a_receipt_removes_its_range(tmp_path):
    journal = Journal(tmp_path / "j.db")
    assert journal.add([_out("a", s) for s in range(10)] + [_out("b", 0, False)], 1000) == 10
    assert journal.settle("t1", "a", [(0, 3), (8, 8)]) == 5
    assert journal.settle("t2", "a", [(0, 9)]) == 0, "another territory's device"
    left = [o for chunk in journal.pending() for o in chunk]
    assert [o.pending for o in left] == [("t1", "a", s) for s in (4, 5, 6, 7, 9)]
    assert left[0].headers == [("territory", b"t1"), ("receipt", b"1")]
    assert left[0].value == b'{"seq": 4}'


def test_the_same_batch_twice_is_one_entry_and_survives_a_reopen(tmp_path):
    journal = Journal(tmp_path / "j.db")
    journal.add([_out("a", 1), _out("a", 1)], 1000)
    journal.close()
    again = Journal(tmp_path / "j.db")
    assert len(again) == 1


def test_pending_comes_in_chunks_oldest_first(tmp_path):
    journal = Journal(tmp_path / "j.db", JournalPolicy(resend_chunk=3))
    for at in (3000, 1000, 2000):
        journal.add([_out("a", at + s) for s in range(2)], at)
    chunks = list(journal.pending())
    assert [len(c) for c in chunks] == [3, 3]
    seqs = [o.pending[2] for c in chunks for o in c if o.pending]
    assert seqs == [1000, 1001, 2000, 2001, 3000, 3001]


def test_past_its_bounds_the_oldest_entries_are_dropped_and_counted(tmp_path):
    journal = Journal(tmp_path / "j.db", JournalPolicy(max_entries=4, max_age_s=10))
    journal.add([_out("a", s) for s in range(3)], 1_000)
    journal.add([_out("b", s) for s in range(3)], 20_000)
    assert journal.prune(now_ms=15_000) == 3 + 0, "the three older than 10 s"
    journal.add([_out("c", s) for s in range(3)], 21_000)
    assert journal.prune(now_ms=21_000) == 2, "then the oldest past four entries"
    assert journal.dropped == 5
    assert {o.pending[1] for c in journal.pending() for o in c if o.pending} == {"b", "c"}
