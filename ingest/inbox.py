"""Messages from the MQTT client's thread to the bridge's event loop, with one wake-up per run
of arrivals instead of one per message.

paho calls back on its own thread for every message. Handing each one over with
``call_soon_threadsafe`` costs a write to the loop's wake-up pipe, a loop turn and a queue
hand-off per message; here the thread appends to a deque and schedules a wake-up only when none
is pending, so a burst of messages costs the loop one wake-up. Nothing is bounded here: MQTT's
receive maximum (the bridge acknowledges by hand, once Kafka has a bulk) bounds what the broker
sends before the bridge acknowledges.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    """Put from any thread; wait and take on the event loop it is attached to."""

    def __init__(self) -> None:
        self._items: deque[T] = deque()
        self._ready = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waking = False  # a wake-up is scheduled on the loop and has not run yet

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def put(self, item: T) -> None:
        """From the MQTT thread: append, then wake the loop unless a wake-up is pending (it
        runs after this append, so the loop sees the item)."""
        self._items.append(item)
        if not self._waking and self._loop is not None:
            self._waking = True
            self._loop.call_soon_threadsafe(self._wake)

    def nudge(self) -> None:
        """From the loop: make a ``wait`` look at its ``stop`` again."""
        self._ready.set()

    def _wake(self) -> None:
        self._waking = False
        self._ready.set()

    def __len__(self) -> int:
        return len(self._items)

    async def wait(
        self, timeout_s: float | None = None, stop: Callable[[], bool] = lambda: False
    ) -> bool:
        """Until something is in, ``stop()`` is true (looked at on each ``nudge``) or
        ``timeout_s`` passed: whether something is in."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout_s is None else loop.time() + timeout_s
        while not self._items and not stop():
            self._ready.clear()  # cleared before looking: a put after the look wakes us
            if self._items:
                break
            left = None if deadline is None else deadline - loop.time()
            if left is not None and left <= 0:
                break
            try:  # a wake-up may be stale (its items already taken): look again
                await asyncio.wait_for(self._ready.wait(), left)
            except TimeoutError:
                break
        return bool(self._items)

    def take(self, limit: int) -> list[T]:
        """At most ``limit`` items, oldest first."""
        return [self._items.popleft() for _ in range(min(limit, len(self._items)))]
