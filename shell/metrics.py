"""Prometheus metrics of a long-running process that has no collector of its own (the stream
worker, the notifier): its CPU, memory, open files and start time, on the configured address."""

from __future__ import annotations

import logging

from vigie.errors import UsageError

log = logging.getLogger("shell.metrics")


class MetricsPortError(UsageError):
    """The configured metrics address cannot be served (exit 2: a setting to change)."""


def serve_process_metrics(port: int, host: str) -> None:
    """Serve the process collector's metrics on host:port (nothing when port is 0)."""
    if not port:
        return
    from prometheus_client import start_http_server

    try:
        start_http_server(port, addr=host)
    except OSError as exc:
        raise MetricsPortError(
            f"cannot serve metrics on {host}:{port} ({exc.strerror}): another program uses "
            "it; give this process another port (a site: [site.ports] metrics_first)"
        ) from None
    log.info("prometheus metrics", extra={"url": f"http://{host}:{port}/metrics"})
