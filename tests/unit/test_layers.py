"""Every package sits in the layering and is used through its face (docs/developers.md). The
import-linter contracts themselves run in the test command's lint step (``lint-imports``)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_sits_in_a_layer():
    """A new top-level package must be placed in the layering, not left outside the check."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    placed = {name.strip() for layer in layers for name in layer.split("|")}
    packages = {
        p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name not in {"tests", "bench"}
    }
    assert packages == placed == set(config["root_packages"])


def test_packages_use_each_other_only_through_their_face():
    """Each package's ``__all__`` names the modules the others may import; the rest is its
    inside (tests and benchmarks may reach in)."""
    import ast
    import importlib

    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    faces = {p: set(importlib.import_module(p).__all__) for p in packages}
    inside = []
    for package in packages:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [f"{node.module}.{a.name}" for a in node.names]
                else:
                    continue
                for name in names:
                    top, _, rest = name.partition(".")
                    module = rest.split(".")[0]
                    if top in packages and top != package and module not in faces[top]:
                        inside.append(f"{path.relative_to(ROOT)}: {name}")
    assert inside == []
