"""End to end: a home made by the previous release becomes a site, keeping its data and
identities.

The previous release had no site: a technical service ran the local stack (``vigie stack up``)
and provisioned devices into ``$VIGIE_HOME/security``. Here such a home is made as that release
made it, holding stored points and a device's identity; ``vigie site init`` on the same folder,
then ``vigie site up``: every point is still there, read with the same accounts, and the
device connects over TLS with the password and CA of the bundle it was given then (the broker
certificate is issued again for the site's names, by the same CA).
"""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509

from shell.security.identities import DeviceAuthority
from simulators.territory import generate
from tests.sites import init_args, tls_port, vigie
from vigie import influxql
from vigie.settings import Settings

pytestmark = pytest.mark.e2e
T = generate(80, seed=7, territory_id="commune")
LAMP = next(a for a in T.assets if a.kind == "lamp")
POINTS = 50


def _count(settings: Settings) -> int:
    return int(influxql.scalar(settings.influx, 'SELECT count("value") FROM "raw"."telemetry"'))


def test_a_home_of_the_previous_release_becomes_a_site_with_its_data_and_identities(
    tmp_path, monkeypatch
):
    home = tmp_path / "vigie"
    for key in [k for k in __import__("os").environ if k.startswith("VIGIE_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("VIGIE_HOME", str(home))
    try:
        vigie(home, "stack", "up")  # the previous release's way
        settings = Settings()
        now = int(time.time() * 1000)
        lines = [
            f"telemetry,territory=commune,vertical=lighting,device={LAMP.id},metric=power_w "
            f"value={i}.0 {now - i * 1000}"
            for i in range(POINTS)
        ]
        influxql.write_lines(settings.influx, lines, "raw")
        assert _count(settings) == POINTS
        bundle = DeviceAuthority(home / "security", T).provision(LAMP.id, "127.0.0.1", 8883)
        password = (bundle / "mqtt-password").read_text().strip()
        old_ca = (bundle / "ca.crt").read_bytes()
        vigie(home, "stack", "down")

        registry = tmp_path / "commune.json"
        T.save(registry)
        vigie(home, *init_args(home, registry, "127.0.0.1"))
        vigie(home, "site", "up")
        settings = Settings()
        assert _count(settings) == POINTS, "every point kept, read with the same accounts"
        assert (home / "security" / "ca.crt").read_bytes() == old_ca, "the same CA"
        cert = x509.load_pem_x509_certificate((home / "security" / "broker.crt").read_bytes())
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert "mqtt.commune.test" in names.get_values_for_type(x509.DNSName)

        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=LAMP.id, protocol=mqtt.MQTTv5
        )
        client.username_pw_set(LAMP.id, password)
        client.tls_set(ca_certs=str(bundle / "ca.crt"))
        answered, codes = threading.Event(), []
        client.on_connect = lambda _c, _u, _f, rc, _p: (codes.append(str(rc)), answered.set())
        client.connect("127.0.0.1", tls_port(home))
        client.loop_start()
        assert answered.wait(10)
        client.loop_stop()
        assert codes == ["Success"], "the device's old identity works on the site"
    finally:
        vigie(home, "site", "down", check=False)
        vigie(home, "stack", "down", check=False)
