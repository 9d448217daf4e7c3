from edge.queue import BatchQueue, QueuePolicy


def test_batches_survive_reopening_and_sequence_goes_on(tmp_path):
    q = BatchQueue(tmp_path / "q.db")
    for seq in range(5):
        q.put(seq, 1000 + seq, "lighting", f"b{seq}".encode())
    q.ack(0)
    q.ack(1)
    q.close()
    again = BatchQueue(tmp_path / "q.db")
    assert again.next_seq() == 5
    assert [b.seq for b in again.oldest(10)] == [2, 3, 4]
    assert [b.payload for b in again.oldest(2, after_seq=2)] == [b"b3", b"b4"]


def test_bound_drops_oldest_first_and_counts(tmp_path):
    q = BatchQueue(tmp_path / "q.db", QueuePolicy(max_batches=3, max_age_ms=10_000))
    dropped = sum(q.put(seq, 1000 + seq, "water", b"x") for seq in range(5))
    assert dropped == 2 and q.dropped == 2
    assert [b.seq for b in q.oldest(10)] == [2, 3, 4]
    q.put(5, 20_000, "water", b"x")  # 10 s later: seqs 2..4 are too old
    assert [b.seq for b in q.oldest(10)] == [5]
    assert q.dropped == 5


def test_put_many_is_one_transaction(tmp_path):
    q = BatchQueue(tmp_path / "q.db", QueuePolicy(durability="normal"))
    q.put_many([(s, s, "waste", b"p") for s in range(50)])
    assert len(q) == 50 and q.next_seq() == 50


def test_the_first_sequence_number_is_kept_after_it_was_dropped_and_reopened(tmp_path):
    q = BatchQueue(tmp_path / "q.db", QueuePolicy(max_batches=2))
    assert q.first_seq is None
    for seq in range(3, 8):
        q.put(seq, 0, "lighting", b"x")
    q.close()
    q = BatchQueue(tmp_path / "q.db")
    assert (q.first_seq, q.dropped, len(q)) == (3, 3, 2)
    q.close()
