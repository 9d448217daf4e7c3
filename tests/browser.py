"""A page as a person sees it: Debian's headless Chromium loads the file, returns its DOM and a
screenshot, or audits it over the DevTools protocol with axe-core (``./scripts/vigie.sh test``
installs ``chromium-headless-shell`` and, with npm, axe-core)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image

FLAGS = ["--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--allow-file-access-from-files"]


def chromium() -> str:
    from reports.bulletin import chromium as found

    path = found()
    if path is None:
        pytest.fail("no headless Chromium: apt-get install chromium-headless-shell")
    return path


def load(
    page: Path, shot: Path, size: tuple[int, int] = (1400, 2400)
) -> tuple[str, np.ndarray, list[str]]:
    """The DOM after loading ``page`` from its file, a screenshot as an RGB(A) array, and the
    messages the page wrote to the browser console (Chromium logs them as CONSOLE lines)."""
    url = page.resolve().as_uri()
    run = subprocess.run(
        [chromium(), *FLAGS, "--enable-logging=stderr", "--v=0", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    console = [line for line in run.stderr.splitlines() if "CONSOLE" in line]
    subprocess.run(
        [chromium(), *FLAGS, f"--screenshot={shot}", f"--window-size={size[0]},{size[1]}", url],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return run.stdout, image.imread(shot), console


def artefact(name: str) -> Path:
    """Where a test keeps what a person may want to look at afterwards (test-artefacts/)."""
    folder = Path(__file__).resolve().parent.parent / "test-artefacts"
    folder.mkdir(exist_ok=True)
    return folder / name


AXE = Path(__file__).resolve().parent.parent / ".venv/node/node_modules/axe-core/axe.min.js"
WCAG21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@dataclass
class Audit:
    """A page as Chromium loaded it: its elements, every request it made (the page included)
    with the bytes received, and what axe-core found against WCAG 2.1 A and AA."""

    elements: int
    requests: list[str]
    received_bytes: int
    violations: list[dict]
    passes: int


async def _audit(page: Path, port: int) -> Audit:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/json/list") as answer:
            targets = await answer.json()
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
        async with http.ws_connect(ws_url, max_msg_size=0) as ws:
            ids = iter(range(1, 10_000))
            events: list[dict] = []

            async def call(method: str, **params: object) -> dict:
                n = next(ids)
                await ws.send_json({"id": n, "method": method, "params": params})
                while True:
                    msg = await ws.receive_json(timeout=120)
                    if msg.get("id") == n:
                        if "error" in msg:
                            raise RuntimeError(f"{method}: {msg['error']}")
                        return msg["result"]
                    events.append(msg)

            await call("Network.enable")
            await call("Page.enable")
            await call("Page.navigate", url=page.resolve().as_uri())
            while not any(e.get("method") == "Page.loadEventFired" for e in events):
                events.append(await ws.receive_json(timeout=120))

            async def evaluate(expression: str) -> object:
                done = await call(
                    "Runtime.evaluate", expression=expression, awaitPromise=True,
                    returnByValue=True,
                )  # fmt: skip
                if "exceptionDetails" in done:
                    raise RuntimeError(str(done["exceptionDetails"])[:500])
                return done["result"].get("value")

            elements = int(str(await evaluate("document.getElementsByTagName('*').length")))
            requests = [
                e["params"]["request"]["url"]
                for e in events
                if e.get("method") == "Network.requestWillBeSent"
            ]
            received = sum(
                int(e["params"]["encodedDataLength"])
                for e in events
                if e.get("method") == "Network.loadingFinished"
            )
            await evaluate(AXE.read_text())
            found = json.loads(
                str(
                    await evaluate(
                        "axe.run(document, {runOnly: {type: 'tag', values: "
                        f"{json.dumps(WCAG21_AA)}}}, resultTypes: ['violations']}})"
                        ".then(r => JSON.stringify({passes: r.passes.length, violations: "
                        "r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, "
                        "nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))}))"
                    )
                )
            )
    return Audit(elements, requests, received, found["violations"], found["passes"])


def audit(page: Path) -> Audit:
    """Load ``page`` in headless Chromium over the DevTools protocol and audit it."""
    if not AXE.exists():
        pytest.fail(f"axe-core missing at {AXE}: ./scripts/vigie.sh test installs it with npm")
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.Popen(
            [chromium(), *FLAGS, "--remote-debugging-port=0", f"--user-data-dir={profile}",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 30
            while not port_file.exists() or not port_file.read_text().strip():
                if time.monotonic() > deadline:
                    pytest.fail("headless Chromium did not open its DevTools port")
                time.sleep(0.1)
            port = int(port_file.read_text().split()[0])
            return asyncio.run(_audit(page, port))
        finally:
            proc.kill()
            proc.wait()
