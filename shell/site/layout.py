"""What a site runs, built from its file: the servers on their fixed ports (Mosquitto with TLS on
the network and a loopback listener, Tansu and InfluxDB on loopback), Vigie's processes with
their service accounts and metrics ports, and the identities made once at ``init``."""

from __future__ import annotations

from pathlib import Path

from shell.security.acl import ServiceAccount
from shell.security.identities import DeviceAuthority
from shell.site.config import SiteFile
from shell.stack.launcher import Stack
from shell.stack.processes import VigieProcess
from shell.stack.services import InfluxDB1, Service, Tansu
from vigie.registries import Registries

# the account each kind of process connects to Mosquitto with
ACCOUNTS = {
    "ingest": ServiceAccount.INGEST,
    "streams": ServiceAccount.INGEST,  # storage receipts to devices
    "lorawan": ServiceAccount.LORAWAN,
    "notify": None,
}
ROLE_ACCOUNTS = (
    ServiceAccount.INGEST,
    ServiceAccount.REPLAYER,
    ServiceAccount.COMMANDER,
    ServiceAccount.LORAWAN,
    ServiceAccount.NETWORK_SERVER,
)


def security_dir(home: Path) -> Path:
    """Where a site keeps its CA, broker certificate, accounts and device bundles."""
    return home / "security"


def account_password(home: Path, account: ServiceAccount) -> Path:
    """A service account's password file (made by ``vigie site init``)."""
    return security_dir(home) / "services" / f"{account}.password"


def authority(
    home: Path, site: SiteFile, stack: Stack | None = None, simulator: bool | None = None
) -> DeviceAuthority:
    """The site's identities (made on first use, then kept): CA, broker certificate for the
    names devices use, password file and ACL; reloads the running broker when given its stack."""
    territory = next(iter(Registries.load(site.registry).territories.values()))
    s = site.site
    hosts = [*s.mqtt_hosts, "127.0.0.1", "localhost"]
    if s.mqtt_address not in ("0.0.0.0", "::"):  # noqa: S104
        hosts.append(s.mqtt_address)
    return DeviceAuthority(
        security_dir(home),
        territory,
        broker_hosts=tuple(dict.fromkeys(hosts)),
        broker_pid=(lambda: stack.pid("mosquitto")) if stack else (lambda: None),
        with_simulator=simulator,  # None: as init made it
    )


def services(home: Path, site: SiteFile, guard: bool) -> dict[str, Service]:
    """Every server and process of the site, by name, in start order; ``guard`` adds the
    process that keeps the supervisor alive (not under systemd, which does that)."""
    s = site.site
    mosquitto = authority(home, site).broker_service(s.ports.mqtt)
    mosquitto.address, mosquitto.local_port = s.mqtt_address, s.ports.mqtt_local
    out: dict[str, Service] = {
        "mosquitto": mosquitto,
        "kafka": Tansu(port=s.ports.kafka),
        "influxdb": InfluxDB1(
            port=s.ports.influx,
            rpc_port=s.ports.influx_rpc,
            secrets_dir=str(home / "stack" / "influxdb" / "secrets"),
        ),
    }
    base = {"VIGIE_HOME": str(home), "VIGIE_CONFIG": str(home / "site.toml")}
    if guard:
        out["guard"] = VigieProcess("guard", ["stack", "guard"], dict(base))
    for n, name in enumerate(s.process_names()):
        kind, _, instance = name.partition("-")
        env = dict(base)
        account = ACCOUNTS[kind]
        if account is not None:
            env["VIGIE_MQTT__USERNAME"] = str(account)
            env["VIGIE_MQTT__PASSWORD_FILE"] = str(account_password(home, account))
        if kind in ("ingest", "lorawan"):  # nothing a publisher without receipts sent is lost
            env["VIGIE_INGEST__JOURNAL"] = "true"
        if kind == "ingest" and s.bridges == 1:  # a subscription Mosquitto restores
            env["VIGIE_INGEST__SHARED"] = "false"
        port = s.ports.metrics_first + n
        env[f"VIGIE_{_metrics_section(kind)}__METRICS_PORT"] = str(port)
        env[f"VIGIE_{_metrics_section(kind)}__METRICS_HOST"] = s.metrics_address
        out[name] = VigieProcess(name, _args(kind, instance), env, port)
    return out


def _metrics_section(kind: str) -> str:
    return {"ingest": "INGEST", "lorawan": "INGEST", "streams": "STREAMS", "notify": "NOTIFY"}[kind]


def _args(kind: str, instance: str) -> list[str]:
    if kind == "ingest":
        return ["ingest", "run", "--instance", instance]
    if kind == "lorawan":
        return ["ingest", "lorawan", "--network", instance, "--instance", f"lorawan-{instance}"]
    if kind == "streams":
        return ["streams", "run"]
    return ["alerts", "run"]
