"""InfluxDB 1.x sink over the v1 HTTP API (/write line protocol, /query InfluxQL).

The sink owns batching, retries and back-off. While InfluxDB is down a write waits and retries
without end, which stops the stream processor consuming: unwritten data stays in Kafka (the
durable buffer), offsets are not committed, and nothing is lost if the worker dies meanwhile.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import aiohttp

from streams.sinks.base import Refused, Retention
from vigie.contracts.storage import schema
from vigie.errors import StorageError
from vigie.retry import SERVER, Backoff, retrying

log = logging.getLogger("vigie.sink")
T = TypeVar("T")


class InfluxError(StorageError):
    """InfluxDB refused a request for a reason a retry will not fix."""


class InfluxV1Sink:
    """Writes line protocol to a database, raw data and aggregates in their own retention."""

    def __init__(
        self,
        url: str,
        database: str,
        retention: Retention | None = None,
        retry: Backoff | None = None,
        auth: tuple[str, str] | None = None,
        max_lines: int = 20_000,
    ) -> None:
        self.url = url.rstrip("/")
        self.database = database
        self.retention = retention or Retention()
        self.retry = retry or SERVER
        self.auth = auth
        self.max_lines = max_lines
        self._session: aiohttp.ClientSession | None = None
        self.lines_written = 0
        self.partial_writes = 0
        # (retention policy, InfluxDB's words, the lines of the request) of each partial write
        self.refused: list[Refused] = []

    async def __aenter__(self) -> InfluxV1Sink:
        headers = {}
        if self.auth is not None:
            token = base64.b64encode(f"{self.auth[0]}:{self.auth[1]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        self._session = aiohttp.ClientSession(
            headers=headers, timeout=aiohttp.ClientTimeout(total=30)
        )
        await self.ensure_schema()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise StorageError("the sink is used outside its context (async with)")
        return self._session

    async def query(self, influxql: str, *, post: bool = False) -> dict[str, Any]:
        """Run InfluxQL; raises InfluxError on a statement error."""
        params = {"q": influxql, "db": self.database, "epoch": "ms"}
        method = self.session.post if post else self.session.get
        async with method(f"{self.url}/query", params=params) as resp:
            body: dict[str, Any] = await resp.json(content_type=None)
            if resp.status in (401, 403):
                raise InfluxError(f"{influxql!r}: not authorized ({body.get('error', '')})")
        for result in body.get("results", []):
            if "error" in result:
                raise InfluxError(f"{influxql!r}: {result['error']}")
        if "error" in body:
            raise InfluxError(f"{influxql!r}: {body['error']}")
        return body

    async def ensure_schema(self) -> None:
        """Create the database, its retention policies (``vigie.contracts.storage``'s ladder)
        and the continuous queries that roll the 1-minute windows up.

        With authentication on, the writer is no administrator: an administrator prepared the
        database (``vigie stack up`` does), and this step is skipped.
        """
        r = self.retention
        first, *rest = schema(self.database, (r.raw, r.minute, r.aggregate), r.rollup_every)
        try:
            await self._with_retry(lambda: self.query(first.statement, post=True))
        except InfluxError as exc:
            if "admin" not in str(exc) and "authoriz" not in str(exc):
                raise
            log.info("database prepared by an administrator", extra={"database": self.database})
            return
        for step in rest:
            try:
                await self.query(step.statement, post=True)
            except InfluxError:
                if step.otherwise is None:
                    raise
                await self.query(step.otherwise, post=True)

    async def write(self, lines: Sequence[str], rp: str, precision: str = "ms") -> None:
        """Write lines in chunks, retrying on transport and server errors."""
        await asyncio.gather(
            *(
                self._write_chunk(lines[i : i + self.max_lines], rp, precision)
                for i in range(0, len(lines), self.max_lines)
            )
        )

    async def _write_chunk(self, lines: Sequence[str], rp: str, precision: str) -> None:
        body = "\n".join(lines).encode()
        await self._with_retry(lambda: self._post(body, rp, precision))
        self.lines_written += len(lines)

    async def _post(self, body: bytes, rp: str, precision: str = "ms") -> None:
        params = {"db": self.database, "rp": rp, "precision": precision}
        async with self.session.post(f"{self.url}/write", params=params, data=body) as resp:
            if resp.status == 204:
                return
            text = await resp.text()
            if resp.status == 400 and "partial write" in text:
                # e.g. points older than the retention policy: nothing a retry can fix
                self.partial_writes += 1
                self.refused.append((rp, text[:1000], body))
                log.error("influxdb dropped points", extra={"rp": rp, "detail": text[:300]})
                return
            if 400 <= resp.status < 500:
                raise InfluxError(f"InfluxDB refused a write ({resp.status}): {text[:300]}")
            raise aiohttp.ClientResponseError(
                resp.request_info, (), status=resp.status, message=text[:300]
            )

    async def _with_retry(self, call: Callable[[], Awaitable[T]]) -> T:
        def transient(exc: BaseException) -> bool:
            return isinstance(exc, TimeoutError | aiohttp.ClientError | OSError)

        return await retrying(call, self.retry, transient, self.url)
