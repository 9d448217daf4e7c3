"""Vigie: the shared package (contracts, settings, command line, local stack)."""

# the shared core: every module is for the packages above
__all__ = [
    "catalogue",
    "clock",
    "contracts",
    "datafiles",
    "errors",
    "exits",
    "influxql",
    "kafka",
    "localtime",
    "logs",
    "mqtt",
    "points",
    "policies",
    "registries",
    "retry",
    "sections",
    "sequence",
    "settings",
    "sobriety",
    "sun",
    "usage",
]
