"""Features that read what the platform stored in InfluxDB: open-data exports, the daily
footprint-against-savings report, and the static bulletin of the dashboards."""

# what other packages use (the command line, the demo)
__all__ = ["bulletin", "footprint", "opendata"]
