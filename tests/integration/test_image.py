"""The production image's file set, installed as the Dockerfile installs it, without Docker.

No Docker engine can run on the development machines, so this test does what the Dockerfile
does with the files it copies: it copies exactly those into an empty folder, installs that
folder (not the source tree) into a fresh virtual environment, then runs the image's entry
point, ``vigie --help``, and imports every package, from outside the source tree. The
dependencies come from the development environment (the image's ``pip install`` downloads
them; this machine reaches only the package registries, and installing them again would take
minutes for nothing the test checks).
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _copies() -> list[tuple[str, str]]:
    """The Dockerfile's COPY lines as (source, destination) pairs."""
    pairs = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        words = line.split()
        if words[:1] == ["COPY"]:
            *sources, dest = words[1:]
            pairs += [(s, dest) for s in sources]
    return pairs


def _packages() -> list[str]:
    """The top-level packages the distribution declares (pyproject's package find)."""
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())
    include = conf["tool"]["setuptools"]["packages"]["find"]["include"]
    return sorted(p.rstrip("*") for p in include)


def test_the_dockerfile_copies_every_package_the_distribution_declares():
    copied = {src for src, _ in _copies()}
    missing = [p for p in _packages() if p not in copied]
    assert not missing, f"the Dockerfile does not copy {missing}: the image cannot import them"


def test_the_image_file_set_installs_and_its_entry_point_runs(tmp_path):
    build = tmp_path / "app"
    build.mkdir()
    for src, dest in _copies():
        target = build / (src if dest in ("./", ".") else dest)
        if (ROOT / src).is_dir():
            shutil.copytree(ROOT / src, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copyfile(ROOT / src, target)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    # the dependencies, not Vigie: the development install is an editable finder that a path
    # line in a .pth file does not activate
    (Path(purelib) / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIGIE_", "PYTHON"))}
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", str(build)],
        check=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    shutil.rmtree(build)  # nothing may come from the copied sources: only from the install
    helped = subprocess.run(
        [venv / "bin" / "vigie", "--help"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert helped.returncode == 0, helped.stderr[-2000:]
    assert "site" in helped.stdout and "demo" in helped.stdout
    probe = (
        "import importlib, pkgutil, sys\n"
        f"for top in {_packages()!r}:\n"
        "    pkg = importlib.import_module(top)\n"
        "    assert pkg.__file__.startswith(sys.prefix), (top, pkg.__file__)\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, top + '.'):\n"
        "        if m.name.endswith('.__main__'):\n"
        "            continue  # runs the command line\n"
        "        if '.drivers.' in m.name and m.name.rsplit('.', 1)[-1] in "
        "('ina219', 'bh1750', 'vl53l1x', 'pulse'):\n"
        "            continue  # board-only drivers import their bus libraries lazily\n"
        "        importlib.import_module(m.name)\n"
        "print('imported')\n"
    )
    imported = subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300
    )
    assert imported.returncode == 0, (imported.stdout + imported.stderr)[-3000:]
    assert imported.stdout.strip() == "imported"
