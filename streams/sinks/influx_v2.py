"""InfluxDB 2.x/3.x sink through influxdb-client: buckets for raw data and aggregates.

Same contract as the 1.x sink (``write(lines, rp)``, idempotent points, retries while the
server is away): the retention policy names map to buckets, ``raw`` -> ``{db}-raw`` (short
retention) and ``long`` -> ``{db}`` (long), and a DBRP mapping per bucket lets the dashboards'
InfluxQL (v1 compatibility API) read them as ``"{db}"."raw"`` and ``"{db}"."long"``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from streams.sinks.base import Refused, Retention, retention_seconds
from vigie.contracts.storage import LONG_RP, MINUTE_RP, RAW_RP
from vigie.retry import SERVER, Backoff, retrying

log = logging.getLogger("vigie.sink")


class InfluxV2Sink:
    """Writes line protocol (ms precision) to InfluxDB 2.x buckets with a token."""

    def __init__(
        self,
        url: str,
        org: str,
        database: str,
        token: str,
        retention: Retention | None = None,
        retry: Backoff | None = None,
    ) -> None:
        self.url, self.org, self.database, self.token = url, org, database, token
        self.retention = retention or Retention()
        self.retry = retry or SERVER
        self.buckets = {
            RAW_RP: f"{database}-raw",
            MINUTE_RP: f"{database}-minute",
            LONG_RP: database,
        }
        self.lines_written = 0
        self.partial_writes = 0
        # the v2 write API refuses a partly invalid request as a whole (an error, retried or
        # raised), so nothing lands here; kept for the Sink protocol
        self.refused: list[Refused] = []
        self._client: Any = None
        self._write: Any = None

    async def __aenter__(self) -> InfluxV2Sink:
        from influxdb_client import InfluxDBClient
        from influxdb_client.client.write_api import SYNCHRONOUS

        self._client = InfluxDBClient(url=self.url, token=self.token, org=self.org, timeout=30_000)
        self._write = self._client.write_api(write_options=SYNCHRONOUS)
        await self._with_retry(self.ensure_schema)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await asyncio.to_thread(self._client.close)

    def ensure_schema(self) -> None:
        """Create the buckets with their retention, and their DBRP mappings. The hourly and
        daily rollups are InfluxDB 1.x continuous queries; 2.x would need tasks, not made."""
        from influxdb_client import BucketRetentionRules
        from influxdb_client.domain.dbrp_create import DBRPCreate
        from influxdb_client.rest import ApiException
        from influxdb_client.service.dbr_ps_service import DBRPsService

        buckets_api = self._client.buckets_api()
        org_id = self._client.organizations_api().find_organizations(org=self.org)[0].id
        for rp, name in self.buckets.items():
            every = retention_seconds(self.retention.of(rp))
            bucket = buckets_api.find_bucket_by_name(name)
            if bucket is None:
                rules = BucketRetentionRules(type="expire", every_seconds=every)
                bucket = buckets_api.create_bucket(
                    bucket_name=name, org=self.org, retention_rules=rules
                )
            try:
                DBRPsService(self._client.api_client).post_dbrp(
                    DBRPCreate(
                        org_id=org_id,
                        bucket_id=bucket.id,
                        database=self.database,
                        retention_policy=rp,
                        default=rp == RAW_RP,
                    )
                )
            except ApiException as exc:
                if exc.status not in (409, 422):  # an existing mapping is fine
                    raise

    async def write(self, lines: Sequence[str], rp: str, precision: str = "ms") -> None:
        """Write lines to the bucket of ``rp``, retrying on transport and server errors."""
        if not lines:
            return
        bucket = self.buckets[rp]

        def send() -> None:
            # WritePrecision's members are the plain strings "ms", "ns" ...
            self._write.write(
                bucket=bucket, org=self.org, record=list(lines), write_precision=precision
            )

        await self._with_retry(send)
        self.lines_written += len(lines)

    async def _with_retry(self, call: Any) -> None:
        from influxdb_client.rest import ApiException
        from urllib3.exceptions import HTTPError

        def transient(exc: BaseException) -> bool:
            if isinstance(exc, ApiException):
                return exc.status is None or exc.status >= 500
            return isinstance(exc, HTTPError | OSError)

        await retrying(lambda: asyncio.to_thread(call), self.retry, transient, self.url)
