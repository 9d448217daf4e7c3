"""Edge drivers are found by name through entry points: the agent never names the simulators,
and a board running the simulated driver never loads numpy."""

from __future__ import annotations

import subprocess
import sys

import pytest

from edge.drivers import available, load_driver
from vigie.contracts import Asset
from vigie.errors import UsageError


def test_every_driver_is_registered_and_an_unknown_one_is_a_usage_error():
    assert {"ina219", "bh1750", "vl53l1x", "pulse", "simulated"} <= set(available())
    asset = Asset(id="ctr-1", kind="traffic_counter", district="d", lat=45, lon=5)
    with pytest.raises(UsageError, match="available"):
        load_driver("nope", asset)


def test_the_simulated_driver_reads_without_numpy_and_edge_never_imports_simulators():
    code = (
        "import sys\n"
        "from edge.drivers import load_driver\n"
        "from vigie.contracts import Asset\n"
        "a = Asset(id='lamp-1', kind='lamp', district='d', lat=45, lon=5, nominal_power_w=50,"
        " cabinet_id='cab-1')\n"
        "print(load_driver('simulated', a).read(1_800_000_000_000, 1.0))\n"
        "print('numpy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1] == "False"
    edge_sources = subprocess.run(
        ["grep", "-rlE", r"^\s*(from|import) simulators", "edge", "--include=*.py"],
        capture_output=True,
        text=True,
    ).stdout.split()
    assert edge_sources == [], "edge/ names no simulators module"


def test_a_config_naming_an_unknown_driver_is_refused_with_the_known_ones():
    from pydantic import ValidationError

    from edge.config import AgentConfig

    asset = {"id": "ctr-1", "kind": "traffic_counter", "district": "d", "lat": 45, "lon": 5}
    with pytest.raises(ValidationError, match=r"no driver 'ina291'.*ina219"):
        AgentConfig.model_validate({"territory": "t", "asset": asset, "driver": "ina291"})
    ok = AgentConfig.model_validate({"territory": "t", "asset": asset, "driver": "vl53l1x"})
    assert [s.driver for s in ok.sensor_list] == ["vl53l1x"]
