"""Grafana dashboards as code and their provisioning (data source provisioning so far)."""
