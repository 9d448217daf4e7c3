"""Where processed data goes: InfluxDB sinks and line protocol."""
