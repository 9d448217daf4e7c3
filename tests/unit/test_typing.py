"""A type checker's silence is always explained on its line. The types themselves are checked
by mypy in the test command's lint step (``./scripts/vigie.sh test``), before pytest."""

from __future__ import annotations

import re
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


def test_every_type_ignore_names_its_code_and_its_reason():
    bare = []
    pattern = re.compile(r"#\s*type:\s*ignore(?!\[[a-z_, -]+\]\s+#\s*\S)")
    for package in [*PACKAGES, "bench"]:
        for path in (ROOT / package).rglob("*.py"):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if pattern.search(line):
                    bare.append(f"{path.relative_to(ROOT)}:{number}")
    assert bare == []
