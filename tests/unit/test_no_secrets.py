"""The repository holds no secret material: no private keys, no credentials in files."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PATTERNS = [
    re.compile(r"-----BEGIN (RSA |EC |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"),
    re.compile(r"(?i)\b(password|passwd|secret|token)\s*[=:]\s*['\"][^'\"\s]{6,}['\"]"),
    re.compile(r"AKIA[0-9A-Z]{16}"),
    re.compile(r"(?i)mqtts?://[^/\s:]+:[^@\s]+@"),  # credentials inside a URL
]


def _tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:  # not a checkout: scan the tree
        return [p for p in ROOT.rglob("*") if p.is_file() and ".venv" not in p.parts]
    return [ROOT / line for line in out.stdout.splitlines()]


def test_no_secret_material_in_the_repository():
    hits = []
    for path in _tracked_files():
        if not path.is_file() or path.suffix in {".png", ".db"}:
            continue
        text = path.read_text(errors="ignore")
        for pattern in PATTERNS:
            for match in pattern.finditer(text):
                if path.name == "test_no_secrets.py":
                    continue
                hits.append(f"{path.relative_to(ROOT)}: {match.group(0)[:40]}")
    assert not hits, hits


def test_the_scan_would_find_a_planted_secret(tmp_path):
    planted = 'password = "hunter2-but-longer"\n-----BEGIN EC PRIVATE KEY-----\n'
    assert sum(bool(p.search(planted)) for p in PATTERNS) == 2
