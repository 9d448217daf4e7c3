"""One back-off for every client that waits for a server (edge agents reconnecting, the
InfluxDB sinks, the bridge's Kafka hand-off, a worker reading back its state), and one retry
loop. The randomness is injected: a test gives its own."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import BaseModel, ConfigDict

log = logging.getLogger("vigie.retry")
T = TypeVar("T")


class Backoff(BaseModel):
    """Exponential delays with jitter, so a fleet does not come back at once; ``max_attempts``
    0 means retry forever."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_s: float = 1.0
    max_s: float = 120.0
    factor: float = 2.0
    jitter: float = 0.3
    max_attempts: int = 0

    def delay(self, attempt: int, rand: float) -> float:
        """The delay before attempt ``attempt`` (0 first), ``rand`` in [0, 1). Pure."""
        base = min(self.max_s, self.first_s * self.factor**attempt)
        return base * (1 - self.jitter + 2 * self.jitter * rand)


SERVER = Backoff(first_s=0.2, max_s=10.0, jitter=0.2)  # a platform process waiting for a server


async def retrying(
    call: Callable[[], Awaitable[T]],
    policy: Backoff,
    transient: Callable[[BaseException], bool],
    where: str,
    server: str = "influxdb",
    rand: Callable[[], float] = random.random,
) -> T:
    """Await ``call`` until it succeeds; transient errors wait and retry, others raise."""
    attempt = 0
    while True:
        try:
            return await call()
        except Exception as exc:
            if not transient(exc) or (policy.max_attempts and attempt + 1 >= policy.max_attempts):
                raise
            delay = policy.delay(attempt, rand())
            log.warning(
                f"{server} unavailable, retrying",
                extra={
                    "url": where,
                    "error": str(exc)[:200],
                    "attempt": attempt + 1,
                    "delay_s": round(delay, 2),
                },
            )
            await asyncio.sleep(delay)
            attempt += 1
