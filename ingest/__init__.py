"""MQTT -> Kafka ingest bridge: validation, dead letters, de-duplication."""

# the face other packages use: the bridge (the rest is its inside)
__all__ = ["bridge", "lorawan"]
