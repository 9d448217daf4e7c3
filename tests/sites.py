"""Helpers for tests that put a site into service with the command line, as an operator would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from shell.stack.services import free_port


def vigie(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """The command line, as an operator runs it on the site (only VIGIE_HOME set)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
    env |= {"VIGIE_HOME": str(home), "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "shell", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    if check:
        assert done.returncode == 0, f"vigie {' '.join(args)}: {done.stderr[-2000:]}"
    return done


def _free_run(n: int) -> int:
    """The first of ``n`` consecutive ports nothing listens on (a site's metrics ports)."""
    while True:
        first = free_port()
        if first + n < 65536 and all(_free(first + i) for i in range(1, n)):
            return first


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def init_args(home: Path, registry: Path, address: str, *extra: str) -> list[str]:
    """``vigie site init`` for a test site: free ports, the MQTT listener on ``address``."""
    ports = [free_port() for _ in range(5)] + [_free_run(4)]
    return [
        "site", "init", "--dir", str(home), "--registry", str(registry),
        "--host", "mqtt.commune.test", "--host", address, "--address", address,
        "--mqtt-port", str(ports[0]), "--mqtt-local-port", str(ports[1]),
        "--kafka-port", str(ports[2]), "--influx-port", str(ports[3]),
        "--influx-rpc-port", str(ports[4]), "--metrics-port", str(ports[5]), *extra,
    ]  # fmt: skip


def state(home: Path) -> dict:
    """The site's recorded processes (stack.json)."""
    return json.loads((home / "stack" / "stack.json").read_text())


def tls_port(home: Path) -> int:
    """The port devices reach the site's broker on."""
    return int(state(home)["services"]["mosquitto"]["port"])
