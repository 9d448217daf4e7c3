"""Prometheus metrics of a long-running process that has no collector of its own (the stream
worker, the notifier): its CPU, memory, open files and start time, on the configured address."""

from __future__ import annotations

import logging

log = logging.getLogger("shell.metrics")


def serve_process_metrics(port: int, host: str) -> None:
    """Serve the process collector's metrics on host:port (nothing when port is 0)."""
    if not port:
        return
    from prometheus_client import start_http_server

    start_http_server(port, addr=host)
    log.info("prometheus metrics", extra={"url": f"http://{host}:{port}/metrics"})
