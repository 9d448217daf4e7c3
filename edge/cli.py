"""``vigie-edge``: the agent's own light entry point for boards (no typer, rich or platform).

    vigie-edge --config /etc/vigie/agent.toml

Exit codes as ``vigie``'s: 0 stopped by a signal, 2 unusable configuration, 4 the broker
refused the device for good (credentials, certificates).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from vigie.errors import Exit


def main(argv: list[str] | None = None) -> int:
    """``vigie-edge``: run the agent of a config file; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="vigie-edge", description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True, help="agent config (.toml/.json)")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)-7s %(name)s %(message)s",
    )
    from pydantic import ValidationError

    from edge.agent import Agent
    from edge.config import AgentConfig
    from vigie.mqtt import MqttConnectError

    try:
        config = AgentConfig.load(args.config)
    except (OSError, ValidationError, ValueError) as exc:
        print(f"error: cannot use config {args.config}: {exc}", file=sys.stderr)
        return Exit.USAGE
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_a: stop.set())
    try:
        Agent(config).run(stop)
    except MqttConnectError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return Exit.CONNECT
    return Exit.OK


if __name__ == "__main__":
    sys.exit(main())
