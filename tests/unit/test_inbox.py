"""The bridge's hand-over from the MQTT thread to its event loop: nothing lost or reordered,
one wake-up for a burst, a stop ends the wait."""

from __future__ import annotations

import asyncio
import threading
import time

from ingest.inbox import Inbox


def _wakeups(inbox: Inbox[int]) -> list[int]:
    woken: list[int] = []
    wake = inbox._wake

    def counted() -> None:
        woken.append(len(inbox))
        wake()

    inbox._wake = counted  # type: ignore[method-assign]  # counts the loop's wake-ups
    return woken


def test_a_burst_from_another_thread_costs_the_loop_one_wake_up():
    async def main() -> tuple[list[int], list[int]]:
        inbox: Inbox[int] = Inbox()
        inbox.attach(asyncio.get_running_loop())
        woken = _wakeups(inbox)
        sender = threading.Thread(target=lambda: [inbox.put(i) for i in range(10_000)])
        sender.start()
        sender.join()  # the loop is held here: the burst is all in before it runs again
        assert await inbox.wait(1.0)
        got = inbox.take(100_000)
        await asyncio.sleep(0.01)  # the wake-up runs
        return got, woken

    got, woken = asyncio.run(main())
    assert got == list(range(10_000))
    assert len(woken) == 1, "one wake-up for the whole burst"


def test_items_put_while_the_loop_takes_all_arrive_in_order():
    async def main() -> list[int]:
        inbox: Inbox[int] = Inbox()
        inbox.attach(asyncio.get_running_loop())

        def send() -> None:
            for i in range(20_000):
                inbox.put(i)
                if i % 500 == 0:
                    time.sleep(0.001)

        sender = threading.Thread(target=send)
        sender.start()
        got: list[int] = []
        while len(got) < 20_000:
            assert await inbox.wait(5.0), "a put always wakes the waiting loop"
            got += inbox.take(700)
        sender.join()
        return got

    assert asyncio.run(main()) == list(range(20_000))


def test_a_stop_or_the_timeout_ends_an_empty_wait():
    async def main() -> tuple[bool, float, bool]:
        inbox: Inbox[int] = Inbox()
        inbox.attach(asyncio.get_running_loop())
        stopping = asyncio.Event()
        inbox.nudge()  # a nudge without a stop does not end the wait
        asyncio.get_running_loop().call_later(0.05, lambda: (stopping.set(), inbox.nudge()))
        t0 = time.monotonic()
        nudged = await inbox.wait(stop=stopping.is_set)
        waited = time.monotonic() - t0
        return nudged, waited, await inbox.wait(0.05)

    nudged, waited, timed_out = asyncio.run(main())
    assert nudged is False and 0.04 < waited < 1.0
    assert timed_out is False
