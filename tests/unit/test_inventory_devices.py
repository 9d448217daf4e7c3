"""Radio and field devices onboarded from an inventory: DevEUI, LoRaWAN model and distances,
Modbus unit and map; mapping-file keys refused by name; import order explained."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from shell.cli import app

BINS = """num;eui;vol
B-1;A84041000181C6B1;660
B-2;A84041000181C6B2;660
"""


def _import(tmp_path, *args: str):  # type: ignore[no-untyped-def]
    source = tmp_path / "bins.csv"
    source.write_text(BINS)
    into = tmp_path / "t.json"
    result = CliRunner().invoke(
        app,
        ["registry", "import", str(source), "--into", str(into), "--territory", "t1",
         "--name", "T1", "--centre", "45.0,5.0", "--delimiter", ";", *args],
    )  # fmt: skip
    return result, into


def test_lorawan_bins_come_with_their_deveui_model_and_distances(tmp_path):
    result, into = _import(
        tmp_path, "--kind", "bin", "--id", "num", "--id-template", "bin-{}",
        "--capacity", "vol", "--dev-eui", "eui", "--lorawan-model", "dragino-ldds75",
        "--empty-distance-mm", "1200", "--full-distance-mm", "250",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assets = {a["id"]: a for a in json.loads(into.read_text())["assets"]}
    assert assets["bin-b-1"]["lorawan"] == {
        "dev_eui": "a84041000181c6b1",
        "model": "dragino-ldds75",
        "empty_distance_mm": 1200.0,
        "full_distance_mm": 250.0,
    }


def test_a_wrong_model_is_refused_at_import_naming_the_installed_ones(tmp_path):
    result, into = _import(
        tmp_path, "--kind", "bin", "--id", "num", "--capacity", "vol",
        "--dev-eui", "eui", "--lorawan-model", "dragino-ldds99",
    )  # fmt: skip
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "no LoRaWAN model 'dragino-ldds99'" in text and "dragino-ldds75" in text
    assert not into.exists(), "nothing saved"


def test_modbus_meters_come_with_their_unit_and_map(tmp_path):
    source = tmp_path / "cabinets.csv"
    source.write_text("id,unit\nC1,1\nC2,2\n")
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"kind": "lighting_cabinet", "id": "id",
                                   "id_template": "cab-{}", "modbus_unit": "unit",
                                   "modbus_map_value": "eastron-sdm120"}))  # fmt: skip
    into = tmp_path / "t.json"
    result = CliRunner().invoke(
        app,
        ["registry", "import", str(source), "--into", str(into), "--mapping", str(mapping),
         "--territory", "t1", "--name", "T1", "--centre", "45.0,5.0"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assets = {a["id"]: a for a in json.loads(into.read_text())["assets"]}
    assert assets["cab-c2"]["modbus"] == {"unit": 2, "map": "eastron-sdm120"}


def test_an_unknown_mapping_key_is_refused_by_name_with_the_known_ones(tmp_path):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"kind": "bin", "id": "num", "deveui": "eui"}))
    result, _ = _import(tmp_path, "--mapping", str(mapping))
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "unknown mapping key(s) deveui" in text and "dev_eui" in text
    assert "Traceback" not in result.output


def test_lamps_before_their_cabinets_are_told_to_import_the_cabinets_first(tmp_path):
    source = tmp_path / "lamps.csv"
    source.write_text("id,cab\nL1,C1\nL2,C1\n")
    into = tmp_path / "t.json"
    result = CliRunner().invoke(
        app,
        ["registry", "import", str(source), "--into", str(into), "--kind", "lamp", "--id", "id",
         "--cabinet", "cab", "--cabinet-template", "cab-{}", "--power-value", "50",
         "--territory", "t1", "--name", "T1", "--centre", "45.0,5.0"],
    )  # fmt: skip
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "import the cabinets first" in text and "cab-c1" in text
    assert "validation error" not in text


def _from_list(tmp_path, listing: object, *args: str):  # type: ignore[no-untyped-def]
    source = tmp_path / "devices.json"
    source.write_text(json.dumps(listing))
    into = tmp_path / "t.json"
    result = CliRunner().invoke(
        app,
        ["registry", "import", str(source), "--into", str(into), "--territory", "t1",
         "--name", "T1", "--centre", "45.0,5.0", "--kind", "bin", "--capacity-value", "660",
         "--dev-eui", "dev_eui", "--lorawan-model", "dragino-ldds75", *args],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return {a["id"]: a for a in json.loads(into.read_text())["assets"]}, result.output


def test_bins_from_a_chirpstack_device_list(tmp_path):
    listing = {  # GET /api/devices?applicationId=... (ChirpStack v4's REST interface)
        "totalCount": 2,
        "result": [
            {"devEui": "A84041000181C6B1", "name": "Bac Place Verdun", "description": "",
             "deviceProfileName": "LDDS75", "tags": {"quartier": "Centre"}},
            {"devEui": "a84041000181c6b2", "name": "Bac Gare", "deviceProfileName": "LDDS75",
             "tags": {"quartier": "Gare"}},
        ],
    }  # fmt: skip
    assets, said = _from_list(
        tmp_path, listing, "--id", "name", "--id-template", "bin-{}", "--district", "tags.quartier"
    )
    assert {i: (a["lorawan"]["dev_eui"], a["district"]) for i, a in assets.items()} == {
        "bin-bac-place-verdun": ("a84041000181c6b1", "centre"),
        "bin-bac-gare": ("a84041000181c6b2", "gare"),
    }
    assert "2 bin assets added" in " ".join(said.split())


def test_bins_from_a_things_stack_device_list_with_their_positions(tmp_path):
    listing = [  # ttn-lw-cli end-devices list APP --all (JSON)
        {"ids": {"device_id": "ldds75-01", "application_ids": {"application_id": "bins"},
                 "dev_eui": "A84041000181C6B3", "join_eui": "A840410000000101"},
         "name": "Bin of the square",
         "locations": {"user": {"latitude": 45.19, "longitude": 5.72,
                                "source": "SOURCE_REGISTRY"}}},
        {"ids": {"device_id": "ldds75-02", "application_ids": {"application_id": "bins"},
                 "dev_eui": "A84041000181C6B4"}},
    ]  # fmt: skip
    assets, _ = _from_list(tmp_path, listing, "--id", "device_id")
    square, other = assets["ldds75-01"], assets["ldds75-02"]
    assert (square["lat"], square["lon"], square.get("located", "surveyed")) == (
        45.19,
        5.72,
        "surveyed",
    )
    assert square["lorawan"]["dev_eui"] == "a84041000181c6b3"
    assert other["located"] == "district", "no position in the list: its district's mean"
