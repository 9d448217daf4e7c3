"""A registry naming a LoRaWAN model or a Modbus map this installation lacks is refused by
``vigie registry validate``, not by a bridge refusing every uplink at run time."""

from __future__ import annotations

from typer.testing import CliRunner

from shell.cli import app
from vigie.contracts import Asset, AssetKind, District, Territory


def _registry(tmp_path, model: str):  # type: ignore[no-untyped-def]
    territory = Territory(
        id="t1", name="T1", lat=45.0, lon=5.0,
        districts=[District(id="d1", name="D1")],
        assets=[
            Asset(id="bin-1", kind=AssetKind.BIN, district="d1", lat=45.0, lon=5.0,
                  capacity_l=660, lorawan={"dev_eui": "a84041000181c6b1", "model": model}),
        ],
    )  # fmt: skip
    path = tmp_path / "t1.json"
    territory.save(path)
    return path


def test_an_unknown_lorawan_model_is_refused_naming_the_installed_ones(tmp_path):
    result = CliRunner().invoke(
        app, ["registry", "validate", str(_registry(tmp_path, "dragino-ldds99"))]
    )
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "bin-1: no LoRaWAN model 'dragino-ldds99'" in text
    assert "dragino-ldds75" in text and "bosch-tps110" in text


def test_a_known_model_validates(tmp_path):
    result = CliRunner().invoke(
        app, ["registry", "validate", str(_registry(tmp_path, "dragino-ldds75"))]
    )
    assert result.exit_code == 0, result.output


def test_an_id_not_found_names_the_stored_one_an_import_template_made():
    from shell.security.identities import _near

    ids = ["lamp-ep-0001", "lamp-ep-0002", "cab-0001"]
    assert _near("EP-0002", ids) == ["lamp-ep-0002"]
    assert sorted(_near("lamp-ep-0003", ids)) == ["lamp-ep-0001", "lamp-ep-0002"]
    assert _near("water-9", ids) == []
