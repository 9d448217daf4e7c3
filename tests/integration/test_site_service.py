"""Integration: a site as a service manager sees it, and what it says when a file is wrong.

systemd is installed but not running on the development machines: the units ``vigie site
install`` writes are checked with ``systemd-analyze verify``, which loads them as systemd
would and refuses unknown keys, bad values and missing executables.
"""

from __future__ import annotations

import configparser
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from simulators.territory import generate
from tests.sites import init_args, state, vigie

pytestmark = pytest.mark.integration
T = generate(60, seed=5, territory_id="commune")


@pytest.fixture
def made(tmp_path):
    home = tmp_path / "site"
    registry = tmp_path / "commune.json"
    T.save(registry)
    vigie(home, *init_args(home, registry, "127.0.0.1"))
    return home


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd not installed")
def test_the_installed_units_verify_and_restart_as_the_exit_codes_say(made, tmp_path):
    units = tmp_path / "units"
    vigie(made, "site", "install", "--units", str(units))
    names = sorted(p.name for p in units.iterdir())
    assert names == ["vigie-site-backup.service", "vigie-site-backup.timer", "vigie-site.service"]
    checked = subprocess.run(
        ["systemd-analyze", "verify", *names],
        cwd=units,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0 and not checked.stderr.strip(), checked.stderr
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(units / "vigie-site.service")
    service = unit["Service"]
    assert service["Restart"] == "always", "a crash of the supervisor is restarted"
    assert service["RestartPreventExitStatus"] == "2", "a file it cannot use is not retried"
    assert service["KillMode"] == "process", "the processes outlive a supervisor crash"
    assert service["ExecStop"].endswith("vigie site down")
    assert service["Environment"] == f"VIGIE_HOME={made}"


def test_a_broken_registry_at_init_exits_2_naming_the_file_and_line(tmp_path):
    registry = tmp_path / "broken.json"
    registry.write_text('{\n "id": "commune",\n oops\n}\n')
    home = tmp_path / "site"
    done = vigie(home, *init_args(home, registry, "127.0.0.1"), check=False)
    assert done.returncode == 2
    assert str(registry) in done.stderr and "line 3" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (home / "site.toml").exists(), "nothing made"


def test_a_process_that_exits_2_is_left_stopped_with_its_reason(made):
    try:
        vigie(made, "site", "up")
        registry = made / "registries" / "commune.json"
        registry.write_text(registry.read_text()[:-40])  # cut short: not JSON any more
        pid = int(state(made)["processes"]["ingest-0"]["pid"])
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while "stopped" not in state(made)["exits"].get("ingest-0", {}):
            assert time.monotonic() < deadline, "the supervisor gave up on the bridge"
            time.sleep(0.3)
        time.sleep(3)  # and it is not started again
        assert "ingest-0" not in state(made)["processes"]
        reason = state(made)["exits"]["ingest-0"]["stopped"]
        assert str(registry) in reason and "JSON" in reason
        status = vigie(made, "site", "status", check=False)
        assert status.returncode == 3
        assert "ingest-0 stopped (exit 2)" in status.stderr
        assert "streams-0" in state(made)["processes"], "the rest of the site runs on"
    finally:
        vigie(made, "site", "down", check=False)


def test_ports_stay_the_same_across_down_and_up(made):
    try:
        vigie(made, "site", "up")
        before = {n: s["port"] for n, s in state(made)["services"].items()}
        vigie(made, "site", "down")
        assert not (made / "stack" / "stack.json").exists()
        vigie(made, "site", "up")
        assert {n: s["port"] for n, s in state(made)["services"].items()} == before
    finally:
        vigie(made, "site", "down", check=False)


def test_log_files_are_rotated_past_their_size(tmp_path):
    from shell.stack.supervisor import rotate_logs

    log = tmp_path / "ingest-0" / "ingest-0.log"
    log.parent.mkdir()
    with log.open("ab") as writer:
        writer.write(b"x" * 2000)
        writer.flush()
        rotate_logs(tmp_path, max_bytes=1000, keep=2)
        writer.write(b"after")
        writer.flush()
        assert log.read_bytes() == b"after", "the writer goes on at the start of the new file"
    assert (log.parent / "ingest-0.log.1").stat().st_size == 2000
    log.write_bytes(b"y" * 2000)
    rotate_logs(tmp_path, max_bytes=1000, keep=2)
    assert (log.parent / "ingest-0.log.2").stat().st_size == 2000
    assert Path(f"{log}.1").read_bytes() == b"y" * 2000


def test_the_metric_catalogue_beside_the_registry_goes_into_the_site(tmp_path):
    registry = tmp_path / "commune.json"
    generate(600, territory_id="commune").save(registry)
    (tmp_path / "metrics.toml").write_text(
        'version = 1\n\n[[metric]]\nname = "turbidity_ntu"\nunit = "[NTU]"\nvertical = "water"\n'
        'kind = "gauge"\nminimum = 0\nmaximum = 4000\ndescription = "Turbidity"\n'
    )
    home = tmp_path / "site"
    vigie(home, *init_args(home, registry, "127.0.0.1"))
    kept = home / "registries" / "metrics.toml"
    assert kept.read_text() == (tmp_path / "metrics.toml").read_text()
    listed = vigie(home, "registry", "metrics", str(home / "registries"))
    assert "1 declared in" in " ".join(listed.stderr.split())
