"""Integration: the stack launcher starts real servers and stops exactly what it started."""

import socket
from pathlib import Path

import pytest

from vigie.stack import Stack

pytestmark = pytest.mark.integration


def test_up_status_down_leaves_no_process(tmp_path):
    stack = Stack(tmp_path)
    state = stack.up()
    pids = [p["pid"] for p in state["processes"].values()]
    assert len(pids) == 3
    status = Stack(tmp_path).status()
    assert all(s["running"] and s["answers"] for s in status.values()), status
    Stack(tmp_path).down()
    for pid in pids:
        stat = Path(f"/proc/{pid}/stat")
        assert not stat.exists() or stat.read_text().split(")")[1].split()[0] == "Z"
    for svc in status.values():
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", svc["port"])) != 0


def test_second_up_reuses_running_servers(stack):
    before = {k: v["pid"] for k, v in stack.processes.items()}
    again = Stack(stack.home)
    after = {k: v["pid"] for k, v in again.up()["processes"].items()}
    assert before == after
