"""A page as a person sees it: Debian's headless Chromium loads the file, returns its DOM and a
screenshot (``./scripts/vigie.sh test`` installs ``chromium-headless-shell``)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image

FLAGS = ["--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--allow-file-access-from-files"]


def chromium() -> str:
    for name in ("chromium-headless-shell", "chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("no headless Chromium: apt-get install chromium-headless-shell")


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
