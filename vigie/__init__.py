"""Vigie: the shared package (contracts, settings, command line, local stack)."""

# the shared core: every module is for the packages above
__all__ = [
    "cardinality",
    "catchup",
    "clock",
    "contracts",
    "datafiles",
    "errors",
    "exits",
    "influxql",
    "inventory",
    "kafka",
    "localtime",
    "logs",
    "mqtt",
    "policies",
    "registries",
    "retry",
    "rollups",
    "sections",
    "sequence",
    "settings",
    "sobriety",
    "sun",
    "usage",
]
