"""Which sink a worker writes to: InfluxDB 1.x (v1 API, user and password) or 2.x/3.x (token),
as the settings say. The sinks know the base; only this module knows the sinks."""

from __future__ import annotations

from streams.sinks.base import Retention, Sink
from vigie.errors import UsageError
from vigie.sections import InfluxSettings, read_secret


def sink_for(influx: InfluxSettings) -> Sink:
    """The sink the settings choose, not yet entered: InfluxDB 1.x (v1 API, user and password)
    or 2.x/3.x (token)."""
    retention = Retention(
        influx.raw_retention,
        influx.aggregate_retention,
        influx.minute_retention,
        influx.rollup_every,
    )
    if influx.backend == "v2":
        from streams.sinks.influx_v2 import InfluxV2Sink  # influxdb-client, only when asked

        token = read_secret(influx.token_file)
        if not token:
            raise UsageError("InfluxDB 2.x needs a token: set VIGIE_INFLUX__TOKEN_FILE")
        return InfluxV2Sink(influx.url, influx.org, influx.database, token, retention)
    from streams.sinks.influx_v1 import InfluxV1Sink

    auth = None
    if influx.username:
        auth = (influx.username, read_secret(influx.password_file) or "")
    return InfluxV1Sink(influx.url, influx.database, retention, auth=auth)
