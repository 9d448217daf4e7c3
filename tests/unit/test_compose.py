"""docker-compose.yml read as the operator's stack: secure broker, the operator's registry,
read-only dashboards, every Vigie service a real command.

No Docker engine runs on the development machines; these checks read the file and the broker
configuration it mounts, and run each service's command line with ``--help`` against the
``vigie`` command itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from shell.cli import app
from shell.security.acl import ServiceAccount
from shell.site.layout import ROLE_ACCOUNTS

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
BROKER = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text().splitlines()


def _vigie_services() -> dict[str, dict]:
    return {n: s for n, s in SERVICES.items() if s.get("build")}


def test_the_broker_is_reached_by_devices_over_tls_only_with_accounts():
    assert SERVICES["mosquitto"]["ports"] == ["0.0.0.0:8883:8883"], "only the TLS listener"
    assert "allow_anonymous false" in BROKER
    assert "password_file /site/security/passwd" in BROKER
    assert "acl_file /site/security/acl" in BROKER
    tls = BROKER[BROKER.index("listener 8883") :]
    assert any(line.startswith("certfile ") for line in tls), "8883 has its certificate"


def test_the_services_read_the_operators_registry_not_a_simulated_one():
    for name, service in _vigie_services().items():
        command = " ".join(service["command"])
        assert "simulate territory" not in command, name
    env = COMPOSE["x-vigie-env"]
    assert env["VIGIE_REGISTRY"] == "/site/registries"


def test_grafana_reads_with_a_read_only_token():
    env = SERVICES["grafana"]["environment"]
    assert "INFLUX_TOKEN" not in env and "INFLUX_READ_TOKEN" in env
    source = (ROOT / "dashboards" / "provisioning" / "datasources" / "vigie.yml").read_text()
    assert "$INFLUX_READ_TOKEN" in source and "$INFLUX_TOKEN" not in source


def test_the_notifier_and_a_lorawan_bridge_run_beside_the_bridge_and_the_worker():
    commands = {n: s["command"][1:3] for n, s in _vigie_services().items()}
    assert ["alerts", "run"] in commands.values()
    assert ["ingest", "lorawan"] in commands.values()
    assert ["ingest", "run"] in commands.values() and ["streams", "run"] in commands.values()


@pytest.mark.parametrize("name", sorted(_vigie_services()))
def test_each_service_runs_a_real_vigie_command(name):
    command = SERVICES[name]["command"]
    assert command[0] == "vigie"
    words = [w for w in command[1:] if not w.startswith("--")][:2]
    result = CliRunner().invoke(app, [*words, "--help"])
    assert result.exit_code == 0, result.output


def test_each_service_account_named_is_one_a_site_makes():
    made = {str(a) for a in ROLE_ACCOUNTS} | {str(ServiceAccount.SIMULATOR)}
    for name, service in _vigie_services().items():
        env = service.get("environment")
        if isinstance(env, dict) and "VIGIE_MQTT__USERNAME" in env:
            assert env["VIGIE_MQTT__USERNAME"] in made, name
            assert env["VIGIE_MQTT__PASSWORD_FILE"].endswith(
                f"{env['VIGIE_MQTT__USERNAME']}.password"
            )


DCLINT = ROOT / ".venv" / "node" / "node_modules" / "dclint"


def _compose_schema() -> dict:
    import json

    schema = DCLINT / "schemas" / "compose.schema.json"
    assert schema.is_file(), f"{schema} is missing: ./scripts/vigie.sh test installs it (npm)"
    return json.loads(schema.read_text())


def test_the_file_follows_the_compose_specification_schema():
    """The Compose Specification's own JSON Schema, as dclint ships it (no Docker engine runs
    here to read the file)."""
    from jsonschema import Draft7Validator

    validator = Draft7Validator(_compose_schema())
    assert [f"{e.json_path}: {e.message}" for e in validator.iter_errors(COMPOSE)] == []
    broken = {**COMPOSE, "services": {**SERVICES, "ingest": {**SERVICES["ingest"], "restrat": 1}}}
    assert any("restrat" in e.message for e in validator.iter_errors(broken)), "it can fail"


def test_dclint_finds_no_error_in_the_file():
    """dclint's rules (errors only: unbound published ports, duplicate names, ...); its
    style warnings (key order) are left to taste."""
    import subprocess

    node = subprocess.run(
        [str(DCLINT.parent / ".bin" / "dclint"), "--quiet", "--color", "false",
         str(ROOT / "docker-compose.yml")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert node.returncode == 0, node.stdout + node.stderr
