"""MQTT -> Kafka ingest bridge: validation, dead letters, de-duplication."""
