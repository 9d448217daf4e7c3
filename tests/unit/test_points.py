"""Line protocol from ``vigie.points``, escaped as InfluxDB reads it, and ``write_lines``'
retries: an InfluxDB that answers 503 twice is tried again, one that refuses a point (400) is
not, and its words reach the error."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from vigie.errors import StorageError
from vigie.influxql import write_lines
from vigie.points import Point
from vigie.sections import InfluxSettings


def test_a_point_escapes_names_tags_and_strings_and_types_its_fields():
    point = Point(
        "alert ops",
        {"territory": "t", "subject": "rue de la Paix, 3", "district": "", "kind": "a=b"},
        {"wait_s": 1, "held": 'maintenance "night"\\', "ok": True},
        1_000,
        ints={"count": 1},
    )
    assert point.line() == (
        r"alert\ ops,territory=t,subject=rue\ de\ la\ Paix\,\ 3,kind=a\=b "
        r'wait_s=1.0,held="maintenance \"night\"\\",ok=true,count=1i 1000'
    )
    with pytest.raises(ValueError, match="needs a field"):
        Point("m", {"t": "x"}, {}, 0).line()


class _Influx(BaseHTTPRequestHandler):
    """A stand-in for InfluxDB's /write that answers as told: a fault InfluxDB itself cannot
    be made to give on demand (503), then 204; or a refusal (400) with its words."""

    answers: ClassVar[list[int]] = []
    seen: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        self.seen.append(self.rfile.read(int(self.headers["Content-Length"])))
        code = self.answers.pop(0)
        body = b'{"error":"partial write: field type conflict"}' if code == 400 else b""
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def _serve(answers: list[int]) -> tuple[HTTPServer, InfluxSettings]:
    _Influx.answers, _Influx.seen = answers, []
    server = HTTPServer(("127.0.0.1", 0), _Influx)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, InfluxSettings(url=f"http://127.0.0.1:{server.server_port}")


def test_an_influxdb_failing_for_a_while_is_tried_again_and_a_refusal_is_not():
    line = Point("m", {"t": "x"}, {"v": 1.5}, 5).line()
    server, influx = _serve([503, 503, 204])
    waits: list[float] = []
    write_lines(influx, [line], "long", attempts=5, sleep=waits.append)
    assert len(_Influx.seen) == 3 and set(_Influx.seen) == {line.encode()} and len(waits) == 2
    server.shutdown()

    server, influx = _serve([400])
    with pytest.raises(StorageError, match="field type conflict"):
        write_lines(influx, [line], "long", attempts=5, sleep=waits.append)
    assert len(_Influx.seen) == 1, "a refusal is not sent again"
    server.shutdown()

    server, influx = _serve([503])
    with pytest.raises(OSError, match="503"):
        write_lines(influx, [line], "long")  # one attempt: the caller keeps its points
    server.shutdown()
