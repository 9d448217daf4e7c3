"""Settings sections as plain pydantic models, importable without pydantic-settings.

The edge agent reads its configuration file with these alone, which keeps its memory small on
a Raspberry Pi; ``vigie.settings`` assembles them for the platform's processes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from vigie.contracts.envelope import MAX_PAYLOAD_BYTES
from vigie.policies import GroupPolicy, KpiPolicy


def read_secret(path: Path | None) -> str | None:
    """The content of a secret file, stripped; None when no file is configured."""
    if path is None:
        return None
    return Path(path).read_text().strip()


class _Section(BaseModel):
    """Settings are read once at start and never changed: a change is a new object
    (``model_copy(update=...)``)."""

    model_config = ConfigDict(frozen=True)


class MqttSettings(_Section):
    host: str = "127.0.0.1"
    port: int = 1883
    prefix: str = "vigie"
    username: str | None = None
    password_file: Path | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    keepalive_s: int = 30


class KafkaSettings(_Section):
    bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = "vigie"
    partitions: int = 4


class InfluxSettings(_Section):
    backend: Literal["v1", "v2"] = "v1"
    url: str = "http://127.0.0.1:8086"
    database: str = "vigie"  # v1 database; v2 bucket prefix
    org: str = "vigie"  # v2 only
    username: str | None = None  # writes (stream workers)
    password_file: Path | None = None
    read_username: str | None = None  # reads (dashboards, summaries, checks)
    read_password_file: Path | None = None
    token_file: Path | None = None  # v2 only
    raw_retention: str = "7d"
    minute_retention: str = "400d"  # 1-minute windows; hourly and daily ones are kept
    aggregate_retention: str = "INF"
    rollup_every: str = "1h"  # how often InfluxDB rolls 1-minute windows up (1.x)
    # series one territory's registry may make (shell.cardinality): checked at registry import
    max_series: int = Field(default=1_000_000, gt=0)


class GrafanaSettings(_Section):
    """Where ``vigie dashboards provision`` reaches Grafana's HTTP API, and as whom."""

    url: str = "http://127.0.0.1:3000"
    token_file: Path | None = None  # a service account token (preferred)
    user: str = "admin"
    password_file: Path | None = None
    folder: str = "Vigie"
    viewer_team: str = "Elected officials"


class IngestSettings(_Section):
    share_group: str = "vigie-ingest"
    max_payload_bytes: int = MAX_PAYLOAD_BYTES
    max_clock_skew_s: float = 300.0
    max_age_s: float = 7 * 86400.0
    # without a registry every device id is accepted: only when asked for, never by omission
    accept_any_device: bool = False
    compression: Literal["gzip"] | None = None  # Kafka record batches; worth it over a WAN
    metrics_port: int = 0  # 0: no Prometheus endpoint
    metrics_host: str = "127.0.0.1"
    # keep what publishers without receipts sent until it is stored, and send it again when
    # the Kafka-compatible broker came back empty (ingest.journal; a site turns it on)
    journal: bool = False
    # several bridges share the devices' topics (MQTT v5 shared subscription); a sole bridge
    # holds a plain persistent subscription instead, which Mosquitto restores after a restart
    # (Debian's 2.0 restores no shared one): what devices send while it is away is kept
    shared: bool = True


class StackSettings(_Section):
    """The local stack's supervisor (``vigie stack supervise``)."""

    # Tansu keeps every record in memory and cannot delete any: past this resident size the
    # supervisor starts it again, empty (0: never). Bridges send their bulk in flight again,
    # workers start afresh and rebuild their windows from InfluxDB, edge agents send again
    # what has no receipt; plain publishers lose what the worker had not consumed yet.
    kafka_max_rss_mb: int = 4096


class StreamsSettings(_Section):
    app_id: str = "vigie-streams"
    kpi: KpiPolicy = Field(default_factory=KpiPolicy)  # lamps, bins, roads
    group: GroupPolicy = Field(default_factory=GroupPolicy)  # cabinets, metered areas
    window_s: int = 60
    allowed_lateness_s: int = 120
    attribution_window_s: int = 3600
    group_lateness_s: int = 1800  # batches from the edge may be this old
    idle_close_s: float = 20.0  # no data for this long: close open group windows
    # no data for this long: fetch with the long wait (fewer empty fetches at rest; the first
    # record after the pause waits at most idle_fetch_wait_ms)
    idle_fetch_after_s: float = 30.0
    idle_fetch_wait_ms: int = 1500
    silent_after_s: int = 900  # event time behind the newest data before device_silent
    rollup_catchup_s: float = 300.0  # how often late device-hours are rolled up (streams.catchup)
    receipts: bool = True  # storage receipts to devices once their batches are stored
    # receipts to every device, not only to batches that asked (agents that predate the ask)
    receipts_to_all: bool = False
    # a device with no state starts from what InfluxDB holds of its open windows
    rebuild_from_store: bool = True
    stop_timeout_s: float = 10.0  # a stop that takes longer (Kafka gone) exits anyway
    # a table recovery whose offsets did not move for this long: exit for a fresh start
    recovery_stall_s: float = 60.0
    take_max: int = 500
    take_within_s: float = 0.5
    web_port: int = 0  # 0: pick a free port
    metrics_port: int = 0  # Prometheus (process metrics); 0: none
    metrics_host: str = "127.0.0.1"


class NotifySettings(_Section):
    """The notifier (``vigie alerts run``): its routes, its durable state, its retries."""

    config: Path | None = None  # routes, maintenance, noise control (TOML or JSON)
    state: Path | None = None  # SQLite file; default: $VIGIE_HOME/notify/state.sqlite
    group: str = "vigie-notify"  # Kafka consumer group: several notifiers share the work
    max_attempts: int = Field(default=8, ge=1)  # then the notification is a dead letter
    retry_first_s: float = Field(default=2.0, gt=0)
    retry_max_s: float = Field(default=300.0, gt=0)
    # how long a notifier's claim on a message lasts if it neither sends nor dies (longer
    # than any channel's timeout: a live sender is never doubled)
    lease_s: float = Field(default=120.0, gt=0)
    metrics_port: int = 0  # Prometheus (process metrics); 0: none
    metrics_host: str = "127.0.0.1"


def retention_seconds(text: str) -> int:
    """InfluxQL-style duration (``7d``, ``12h``, ``INF``) -> seconds (0: keep forever)."""
    if text.upper() in ("INF", "0", ""):
        return 0
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    total = 0
    for amount, unit in re.findall(r"(\d+)([smhdw])", text):
        total += int(amount) * units[unit]
    if total == 0:
        raise ValueError(f"retention {text!r} is not a duration like 7d or 12h")
    return total
