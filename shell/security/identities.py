"""Provisioning and revocation of device identities (per-device passwords over TLS).

The authority keeps, under one folder: the territory CA and the broker's certificate, the
broker's hashed password file and generated ACL, a register of identities (never a secret),
and one bundle folder per device holding what its board needs (agent config, CA, password
file). Revocation removes the device from the password file and reloads the broker (SIGHUP):
the platform keeps running, the device can no longer connect.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shell.pki import Issued, create_ca, issue
from shell.security.acl import AclPolicy, ServiceAccount, acl_text
from vigie.contracts import Territory
from vigie.errors import UsageError

if TYPE_CHECKING:
    from shell.stack.services import SecureMosquitto


class IdentityError(UsageError):
    """A provisioning request that cannot be honoured; the message says why."""


@dataclass(frozen=True)
class Identity:
    device_id: str
    provisioned_at: int
    revoked_at: int | None = None


def _near(device_id: str, ids: list[str]) -> list[str]:
    """Stored ids a typed one may mean: an import template adds a prefix and lowers the case
    (EP-0002 is stored as lamp-ep-0002), or a character slipped."""
    import difflib

    typed = device_id.lower()
    found = [i for i in ids if i.endswith(typed) or i.endswith(f"-{typed}")]
    return found[:3] or difflib.get_close_matches(typed, ids, n=3, cutoff=0.75)


def _names_cover(cert: Issued, hosts: tuple[str, ...]) -> bool:
    """Whether a server certificate names every one of ``hosts``."""
    from cryptography import x509

    loaded = x509.load_pem_x509_certificate(cert.cert.read_bytes())
    try:
        alt = loaded.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    names = {str(n) for n in alt.get_values_for_type(x509.DNSName)}
    names |= {str(a) for a in alt.get_values_for_type(x509.IPAddress)}
    return all(_canonical(host) in names for host in hosts)


def _canonical(host: str) -> str:
    """An address as the certificate prints it; a name as it is."""
    import ipaddress

    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


class DeviceAuthority:
    """One territory's identities, under ``folder``."""

    def __init__(
        self,
        folder: Path,
        territory: Territory,
        prefix: str = "vigie",
        broker_hosts: tuple[str, ...] = ("127.0.0.1", "localhost"),
        broker_pid: Callable[[], int | None] = lambda: None,
        with_simulator: bool | None = None,
    ) -> None:
        self.folder = folder
        self.broker_pid = broker_pid
        self.territory = territory
        self.prefix = prefix
        folder.mkdir(parents=True, exist_ok=True)
        self.ca = Issued(folder / "ca.crt", folder / "ca.key")
        if not self.ca.cert.exists():
            self.ca = create_ca(folder, territory.id)
        self.broker = Issued(folder / "broker.crt", folder / "broker.key")
        if not self.broker.cert.exists() or not _names_cover(self.broker, broker_hosts):
            # the CA stays: every device's ca.crt still verifies the new certificate
            self.broker = issue(self.ca, folder, "broker", server_hosts=list(broker_hosts))
        self.password_file = folder / "passwd"
        self.acl_file = folder / "acl"
        self.register = folder / "identities.json"
        if not self.password_file.exists():
            _write_secret(self.password_file, "")
        # the ACL's policy is kept beside it: a later command (vigie devices ...) that does not
        # restate it must not take away a right the broker was started with
        policy_file = folder / "acl-policy.json"
        if with_simulator is None:
            saved = json.loads(policy_file.read_text()) if policy_file.exists() else {}
            with_simulator = bool(saved.get("with_simulator", False))
        policy_file.write_text(json.dumps({"with_simulator": with_simulator}))
        self.acl_file.write_text(acl_text(AclPolicy(prefix, territory.id, with_simulator)))

    # -- register ------------------------------------------------------------------------

    def identities(self) -> dict[str, Identity]:
        if not self.register.exists():
            return {}
        return {k: Identity(**v) for k, v in json.loads(self.register.read_text()).items()}

    def _save(self, identities: dict[str, Identity]) -> None:
        self.register.write_text(
            json.dumps({k: v.__dict__ for k, v in identities.items()}, indent=1)
        )

    def _passwd(self, *args: str) -> None:
        from shell.stack.services import find_binary

        binary = find_binary(
            "mosquitto_passwd",
            "/usr/bin",
            hint="It comes with Mosquitto: sudo apt-get install -y mosquitto",
        )
        subprocess.run([binary, *args], check=True, capture_output=True)

    # -- operations ----------------------------------------------------------------------

    def _reload(self) -> bool:
        """Make the running broker re-read its password and ACL files (SIGHUP): a removed
        account is disconnected and refused at once. False when no broker runs."""
        pid = self.broker_pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGHUP)
        return True

    def broker_service(self, port: int) -> SecureMosquitto:
        """The TLS broker that enforces these identities (password file and ACL)."""
        from shell.stack.services import SecureMosquitto

        return SecureMosquitto(
            port,
            str(self.ca.cert),
            str(self.broker.cert),
            str(self.broker.key),
            str(self.password_file),
            str(self.acl_file),
        )

    def service_account(self, account: ServiceAccount) -> Path:
        """Create (or renew) a service account's password; returns its password file."""
        secret = secrets.token_urlsafe(24)
        self._passwd("-b", str(self.password_file), str(account), secret)
        path = self.folder / "services" / f"{account}.password"
        _write_secret(path, secret)
        self._reload()
        return path

    def provision(self, device_id: str, broker_host: str, broker_port: int) -> Path:
        """A new identity for a registry device; returns its bundle folder."""
        assets = self.territory.by_id()
        if device_id not in assets:
            near = _near(device_id, list(assets))
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise IdentityError(
                f"{device_id!r} is not in the registry of {self.territory.id}{hint} (vigie "
                "registry show lists its assets)"
            )
        current = self.identities()
        if device_id in current and current[device_id].revoked_at is None:
            raise IdentityError(f"{device_id} already has an identity; revoke it first")
        secret = secrets.token_urlsafe(24)
        self._passwd("-b", str(self.password_file), device_id, secret)
        bundle = self.folder / "bundles" / device_id
        _write_secret(bundle / "mqtt-password", secret)
        (bundle / "ca.crt").write_bytes(self.ca.cert.read_bytes())
        asset = assets[device_id]
        config = {
            "territory": self.territory.id,
            "asset": asset.model_dump(mode="json", exclude_none=True),
            "state_dir": "/var/lib/vigie-edge",
            "mqtt": {
                "host": broker_host,
                "port": broker_port,
                "prefix": self.prefix,
                "username": device_id,
                "password_file": "/etc/vigie/mqtt-password",
                "ca_file": "/etc/vigie/ca.crt",
            },
        }
        (bundle / "agent.json").write_text(json.dumps(config, indent=1))
        current[device_id] = Identity(device_id, int(time.time() * 1000))
        self._save(current)
        self._reload()
        return bundle

    def revoke(self, device_id: str) -> bool:
        """Remove a device's credentials and reload the broker (no restart); True when a
        running broker was told."""
        current = self.identities()
        if device_id not in current or current[device_id].revoked_at is not None:
            raise IdentityError(f"{device_id} has no active identity")
        self._passwd("-D", str(self.password_file), device_id)
        current[device_id] = Identity(
            device_id, current[device_id].provisioned_at, int(time.time() * 1000)
        )
        self._save(current)
        secret = self.folder / "bundles" / device_id / "mqtt-password"
        secret.unlink(missing_ok=True)
        return self._reload()
