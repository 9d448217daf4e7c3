"""A site's one configuration file (``site.toml``): where devices reach the platform, the fixed
ports of its servers, and which of Vigie's processes run. Pure: a model, its TOML, its checks.

The same file is the platform's settings file (``vigie.settings`` reads ``$VIGIE_HOME/site.toml``
when ``VIGIE_CONFIG`` names none): its top-level keys are settings, its ``[site]`` table is
read by ``vigie site`` alone.
"""

from __future__ import annotations

import ipaddress
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from vigie.errors import UsageError

SITE_FILE = "site.toml"
LAYOUT_VERSION = 1  # bumped when a release changes the site's folders; upgrades read older ones

Network = Literal["chirpstack", "tts"]


class SiteError(UsageError):
    """A site that cannot be made or used as it is; the message says what to do."""


class SitePorts(BaseModel):
    """Fixed ports: devices' configurations and bundles name them, so they never change."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mqtt: int = Field(default=8883, ge=1, le=65535)  # TLS, for devices, on ``mqtt_address``
    mqtt_local: int = Field(default=1883, ge=1, le=65535)  # loopback, the platform's processes
    kafka: int = Field(default=9092, ge=1, le=65535)
    influx: int = Field(default=8086, ge=1, le=65535)
    influx_rpc: int = Field(default=8088, ge=1, le=65535)  # backups (loopback)
    metrics_first: int = Field(default=9400, ge=1, le=65535)  # one Prometheus port a process


class Site(BaseModel):
    """The ``[site]`` table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    layout: int = LAYOUT_VERSION
    name: str
    # the address Mosquitto's TLS listener binds (0.0.0.0: every interface)
    mqtt_address: str = "0.0.0.0"  # noqa: S104  # devices on the network reach it
    # the names and addresses devices use for it: all go in the broker's certificate
    mqtt_hosts: list[str] = Field(min_length=1)
    ports: SitePorts = Field(default_factory=SitePorts)
    metrics_address: str = "127.0.0.1"
    bridges: int = Field(default=1, ge=1, le=16)
    workers: int = Field(default=1, ge=1, le=16)
    notifier: bool = False  # needs [notify] config: routes and channels
    lorawan: list[Network] = Field(default_factory=list)
    backup_keep: int = Field(default=14, ge=1)  # archives kept by ``vigie site backup``

    @field_validator("mqtt_address")
    @classmethod
    def _an_address(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not an IP address: give the server's own address, or 0.0.0.0"
            ) from None
        return value

    def ports_in_use(self) -> dict[str, int]:
        """Every fixed port of the site by role, metrics included."""
        used = {
            "mqtt (TLS)": self.ports.mqtt,
            "mqtt (loopback)": self.ports.mqtt_local,
            "kafka": self.ports.kafka,
            "influxdb": self.ports.influx,
            "influxdb backups": self.ports.influx_rpc,
        }
        for n, name in enumerate(self.process_names()):
            used[f"{name} metrics"] = self.ports.metrics_first + n
        return used

    def process_names(self) -> list[str]:
        """Vigie's processes on this site, in start order (each gets a metrics port in turn)."""
        names = [f"ingest-{i}" for i in range(self.bridges)]
        names += [f"streams-{i}" for i in range(self.workers)]
        names += [f"lorawan-{network}" for network in self.lorawan]
        if self.notifier:
            names.append("notify-0")
        return names


class SiteFile(BaseModel):
    """What ``site.toml`` holds: the settings every process reads, and the ``[site]`` table."""

    model_config = ConfigDict(frozen=True, extra="allow")

    territory: str
    registry: Path
    site: Site


def load(path: Path) -> SiteFile:
    """Read and check a site file; every error names the file and what to change."""
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise SiteError(
            f"{path} not found: make the site first with `vigie site init --dir {path.parent}`"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise SiteError(f"{path}: not valid TOML ({exc}); correct that line") from None
    try:
        site = SiteFile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise SiteError(f"{path}: {problems}") from None
    clash = clashes(site.site.ports_in_use())
    if clash:
        raise SiteError(f"{path}: {clash}; give each its own port in [site.ports]")
    return site


def clashes(ports: dict[str, int]) -> str:
    """The first port given to two roles, said in words; empty when there is none."""
    seen: dict[int, str] = {}
    for role, port in ports.items():
        if port in seen:
            return f"port {port} is given to both {seen[port]} and {role}"
        seen[port] = role
    return ""


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def render(site: SiteFile) -> str:
    """The site file's text, with a comment on each table saying what it is for."""
    s = site.site
    lines = [
        "# A Vigie site (vigie site init). Edit, then `vigie site down && vigie site up`.",
        "# Top-level keys and tables are Vigie's settings (VIGIE_* variables override them);",
        "# [site] is where devices reach the platform and which processes run.",
        f"territory = {_toml_value(site.territory)}",
        f"registry = {_toml_value(str(site.registry))}",
        "",
        "[site]",
    ]
    for key in ("layout", "name", "mqtt_address", "mqtt_hosts", "metrics_address", "bridges"):
        lines.append(f"{key} = {_toml_value(getattr(s, key))}")
    for key in ("workers", "notifier", "lorawan", "backup_keep"):
        lines.append(f"{key} = {_toml_value(getattr(s, key))}")
    lines += ["", "# fixed: the devices' configurations name them", "[site.ports]"]
    lines += [f"{k} = {v}" for k, v in s.ports.model_dump().items()]
    for section, values in (site.model_extra or {}).items():
        if isinstance(values, dict):
            lines += ["", f"[{section}]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"
