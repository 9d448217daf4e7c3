"""Types are checked on every package (stricter on contracts, ingest, streams and edge), and a
checker's silence is always explained on its line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [
    "vigie",
    "ingest",
    "streams",
    "edge",
    "notify",
    "dashboards",
    "simulators",
    "reports",
    "shell",
]


def test_mypy_passes_on_every_package():
    done = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Success: no issues found" in done.stdout


def test_every_type_ignore_names_its_code_and_its_reason():
    bare = []
    pattern = re.compile(r"#\s*type:\s*ignore(?!\[[a-z_, -]+\]\s+#\s*\S)")
    for package in [*PACKAGES, "bench"]:
        for path in (ROOT / package).rglob("*.py"):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if pattern.search(line):
                    bare.append(f"{path.relative_to(ROOT)}:{number}")
    assert bare == []
