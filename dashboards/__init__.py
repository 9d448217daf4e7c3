"""Grafana dashboards as code and their provisioning (data source provisioning so far)."""

# what other packages use
__all__ = ["catalog", "grafana", "provision", "snapshot", "spec"]
