"""A site's file: written, read back the same, and refused with a reason when it cannot be used."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from shell.site.config import Site, SiteError, SiteFile, SitePorts, load, render


def _site(**over) -> Site:  # type: ignore[no-untyped-def]
    return Site(**{"name": "commune", "mqtt_hosts": ["mqtt.commune.fr"], **over})


def test_the_file_written_reads_back_the_same(tmp_path):
    made = SiteFile(
        territory="commune",
        registry=Path("/srv/vigie/registries"),
        site=_site(lorawan=["chirpstack"], bridges=2),
        notify={"config": "/srv/vigie/notify.toml"},
    )
    path = tmp_path / "site.toml"
    path.write_text(render(made))
    again = load(path)
    assert again.site == made.site and again.registry == made.registry
    assert again.model_extra == {"notify": {"config": "/srv/vigie/notify.toml"}}
    assert again.site.process_names() == [
        "ingest-0", "ingest-1", "streams-0", "lorawan-chirpstack",
    ]  # fmt: skip


def test_a_port_given_twice_is_refused_naming_both_roles(tmp_path):
    made = SiteFile(territory="t", registry=Path("/r"), site=_site(ports=SitePorts(kafka=8883)))
    path = tmp_path / "site.toml"
    path.write_text(render(made))
    with pytest.raises(SiteError, match="port 8883 is given to both mqtt \\(TLS\\) and kafka"):
        load(path)


def test_an_address_that_is_a_name_is_refused():
    with pytest.raises(ValidationError, match="is not an IP address"):
        _site(mqtt_address="mqtt.commune.fr")


def test_a_missing_or_broken_file_says_what_to_do(tmp_path):
    with pytest.raises(SiteError, match="vigie site init"):
        load(tmp_path / "site.toml")
    (tmp_path / "site.toml").write_text("territory = \n")
    with pytest.raises(SiteError, match="not valid TOML"):
        load(tmp_path / "site.toml")
