"""The faust transport for Vigie's Kafka-compatible broker: fetches that come back quickly.

faust's Kafka consumer asks the broker to hold an empty fetch for 1.5 s (a fixed
``fetch_max_wait_ms``), counting on the broker to answer early when records arrive. Tansu
holds every fetch for its full wait, records or not: measured here with aiokafka and records
every 50 ms, a 1.5 s wait delivered them 388 ms late at the median (755 ms at worst), a 100 ms
wait 23 ms (36 ms). This transport is faust's aiokafka transport with a short wait; against
Apache Kafka it changes nothing but the rate of empty fetches on an idle topic.
Use it with ``broker="vigie-kafka://host:port"``.

The short wait has a price when nothing comes: ten empty fetches a second, which cost Tansu
about 0.05 of a core and the worker a third of its idle CPU. ``pace_fetches`` lets the worker
go back to a long wait once its stream has been idle for a while, and to the short one as soon
as records come (the first of them waits at most the long wait).
"""

from __future__ import annotations

from typing import Any

from faust.transport.drivers import TRANSPORTS
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread, Consumer, Transport

FETCH_MAX_WAIT_MS = 100
SCHEME = "vigie-kafka"


class QuickFetchConsumerThread(AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # read by AIOKafkaConsumer.start() when it builds its fetcher (no public setter)
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer

    def fetch_wait(self, wait_ms: int) -> None:
        """Set the wait of the next fetches (the fetcher reads it for every request)."""
        fetcher = getattr(getattr(self, "_consumer", None), "_fetcher", None)
        if fetcher is not None and fetcher._fetch_max_wait_ms != wait_ms:
            fetcher._fetch_max_wait_ms = wait_ms


class QuickFetchConsumer(Consumer):
    def _new_consumer_thread(self) -> QuickFetchConsumerThread:
        return QuickFetchConsumerThread(self, loop=self.loop, beacon=self.beacon)


class QuickFetchTransport(Transport):
    Consumer = QuickFetchConsumer


def pace_fetches(app: Any, wait_ms: int) -> None:
    """Fetch with ``wait_ms`` from now on (a quick wait while records flow, a long one when
    the stream is idle); a no-op before the consumer exists or on another transport."""
    thread = getattr(app.consumer, "_thread", None)
    if isinstance(thread, QuickFetchConsumerThread):
        thread.fetch_wait(wait_ms)


TRANSPORTS.aliases[SCHEME] = f"{__name__}:QuickFetchTransport"
