"""One error tree: every exception class the platform defines derives from VigieError, and
its exit code comes from the one mapping in vigie.errors."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from vigie.errors import Exit, VigieError, exit_code

PACKAGES = (
    "vigie",
    "ingest",
    "streams",
    "edge",
    "simulators",
    "dashboards",
    "reports",
    "notify",
    "shell",
)


def _defined_errors() -> list[type[BaseException]]:
    found = []
    for name in PACKAGES:
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, f"{name}."):
            if info.name.endswith("__main__"):
                continue  # runs the command line
            module = importlib.import_module(info.name)
            found += [
                cls
                for _, cls in inspect.getmembers(module, inspect.isclass)
                if issubclass(cls, BaseException) and cls.__module__ == module.__name__
            ]
    return found


def test_every_error_the_platform_defines_is_a_vigie_error():
    errors = _defined_errors()
    assert len(errors) >= 15
    strays = [f"{c.__module__}.{c.__name__}" for c in errors if not issubclass(c, VigieError)]
    assert strays == []


def test_exit_codes_come_from_the_error():
    from ingest.bridge import NoRegistryError
    from shell.stack.services import StackError
    from vigie.kafka import BrokerRestartedError
    from vigie.mqtt import MqttConnectError

    assert exit_code(NoRegistryError("no registry")) == Exit.USAGE
    assert exit_code(MqttConnectError("refused")) == Exit.CONNECT
    assert exit_code(StackError("down")) == Exit.STACK
    assert exit_code(BrokerRestartedError("empty")) == Exit.RESTART
    assert exit_code(KeyError("x")) == Exit.FAILED


def test_a_repeated_warning_is_one_line_per_window_then_says_how_many_were_held():
    import logging

    from vigie.logs import Repeats

    now = [0.0]
    repeats = Repeats(window_s=30, clock=lambda: now[0])

    def record(msg: str, level: int = logging.ERROR) -> logging.LogRecord:
        return logging.makeLogRecord({"name": "aiokafka", "msg": msg, "levelno": level,
                                      "args": ("node",)})  # fmt: skip

    passed = []
    for second in range(31):  # a 31 s outage, ten lines a second
        now[0] = float(second)
        for _ in range(10):
            r = record("Unable connect to %s")
            if repeats.filter(r):
                passed.append(r)
    assert len(passed) == 2, "the first line, then one after the window"
    assert passed[1].repeated == 299
    assert repeats.filter(record("another message")), "another message is another event"
    assert all(repeats.filter(record("periodic", logging.INFO)) for _ in range(5))
