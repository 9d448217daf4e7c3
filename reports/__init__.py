"""Features that read what the platform stored in InfluxDB: open-data exports, the daily
footprint-against-savings report, the static bulletin of the dashboards, and the NGSI-LD
entities other systems read."""

# what other packages use (the command line, the demo)
__all__ = ["bulletin", "footprint", "interop", "opendata", "sobriety"]
