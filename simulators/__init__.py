"""Simulated territories, physical models, fault injection, record and replay."""
