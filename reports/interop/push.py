"""Entities to an NGSI-LD context broker: batched upserts
(``POST /ngsi-ld/v1/entityOperations/upsert``, ETSI GS CIM 009), retried with back-off while the
broker is away or busy, and what the broker refused reported entity by entity."""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reports.interop.ngsild import CONTEXT
from vigie.errors import ConnectError
from vigie.retry import Backoff

UPSERT = "/ngsi-ld/v1/entityOperations/upsert"


class BrokerError(ConnectError, OSError):
    """The broker stayed away or busy past the last attempt."""


@dataclass
class PushReport:
    """What the broker said: entities it took, entities it refused (id -> why), and how
    many requests and retries that took."""

    upserted: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    retries: int = 0


def _why(problem: Any) -> str:
    if isinstance(problem, dict):
        return str(problem.get("title") or problem.get("detail") or problem.get("type"))
    return str(problem)


def _post(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=body, headers=headers, method="POST"
    )  # the broker's address, from the operator
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def push(
    broker: str,
    entities: Sequence[dict[str, Any]],
    batch: int = 100,
    tenant: str | None = None,
    policy: Backoff = Backoff(first_s=0.5, max_s=30.0, max_attempts=6),  # frozen
    timeout_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[int], None] | None = None,
) -> PushReport:
    """Upsert ``entities`` in batches; a 5xx answer or no answer is retried, a refusal is
    reported per entity and the push goes on."""
    url = broker.rstrip("/") + UPSERT + "?options=update"
    headers = {"Content-Type": "application/ld+json", "Accept": "application/json"}
    if tenant:
        headers["NGSILD-Tenant"] = tenant
    report = PushReport()
    for start in range(0, len(entities), batch):
        chunk = [{**e, "@context": CONTEXT} for e in entities[start : start + batch]]
        body = json.dumps(chunk).encode()
        attempt = 0
        while True:
            report.requests += 1
            try:
                status, answer = _post(url, body, headers, timeout_s)
            except OSError as exc:  # no answer: refused connection, timeout
                status, answer = 0, str(exc).encode()
            if status not in (0, 429) and status < 500:
                break
            attempt += 1
            if policy.max_attempts and attempt >= policy.max_attempts:
                raise BrokerError(
                    f"{broker} answered {status or 'nothing'} to {attempt} attempts "
                    f"({answer[:200]!r}); {len(report.upserted)} entities were upserted before. "
                    "Check the broker, then push again: an upsert can be repeated."
                )
            report.retries += 1
            sleep(policy.delay(attempt - 1, random.random()))  # jitter
        ids = [str(e["id"]) for e in chunk]
        if status in (201, 204):
            report.upserted += ids
        elif status == 207:
            result = json.loads(answer or b"{}")
            failed = {str(e["entityId"]): _why(e.get("error")) for e in result.get("errors", [])}
            report.refused |= failed
            report.upserted += [i for i in ids if i not in failed]
        else:  # the whole batch refused
            try:
                why = _why(json.loads(answer))
            except ValueError:
                why = answer[:200].decode(errors="replace")
            report.refused |= dict.fromkeys(ids, f"HTTP {status}: {why}")
        if progress is not None:
            progress(len(chunk))
    return report
