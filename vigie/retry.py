"""Retrying a call to a server with a back-off policy: one loop for every client (the InfluxDB
sinks, the bridge's Kafka hand-off)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

log = logging.getLogger("vigie.retry")
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential back-off with jitter; max_attempts 0 means retry forever."""

    first_delay_s: float = 0.2
    max_delay_s: float = 10.0
    factor: float = 2.0
    jitter: float = 0.2
    max_attempts: int = 0

    def delay(self, attempt: int) -> float:
        base = min(self.max_delay_s, self.first_delay_s * self.factor**attempt)
        return base * (1 + random.uniform(-self.jitter, self.jitter))


async def retrying(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    transient: Callable[[BaseException], bool],
    where: str,
    server: str = "influxdb",
) -> T:
    """Await ``call`` until it succeeds; transient errors wait and retry, others raise."""
    attempt = 0
    while True:
        try:
            return await call()
        except Exception as exc:
            if not transient(exc) or (policy.max_attempts and attempt + 1 >= policy.max_attempts):
                raise
            delay = policy.delay(attempt)
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
