"""``vigie site backup|restore``: everything a site cannot make again, in one archive.

An archive holds InfluxDB's portable backup of the site's database (``influxd backup
-portable``, taken from the running server), the site file, the registries, the identities
(CA key, broker certificate, password file, ACL, device bundles, service accounts), InfluxDB's
own accounts, the notifier's store and the LoRaWAN frame-counter states (SQLite files copied
with SQLite's online backup, consistent while their processes run), and a manifest. It holds
secrets: it is written with mode 0600, and belongs on storage only the technical service reads.

Restore goes into a folder that is not a site yet: the files are put back (paths inside the
site file follow the new folder), InfluxDB is started alone with its restored accounts, the
database is restored into it, and ``vigie site up`` takes it from there.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from shell.site import layout
from shell.site.config import SITE_FILE, SiteError, load
from shell.stack.launcher import Stack
from shell.stack.services import InfluxDB1, find_binary

# what is copied as it is, relative to the site folder
FILES = ("site.toml", "notify.toml", "registries", "security", "stack/influxdb/secrets")
SQLITE = ("notify/*.sqlite", "lorawan/*.db")
FORMAT = 1


@dataclass(frozen=True)
class Archive:
    path: Path
    bytes: int
    seconds: float
    files: int


def _influxd() -> str:
    return find_binary(
        "influxd", "/usr/bin", hint="Install it with: sudo apt-get install -y influxdb"
    )


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite file that another process may be writing."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def backup(home: Path, out: Path | None = None) -> Archive:
    """Take a backup of the running site into ``out`` (default: the site's ``backups``),
    keeping the site's ``backup_keep`` newest archives there."""
    started = time.monotonic()
    site = load(home / SITE_FILE)
    influx = Stack(home).service("influxdb")
    if not isinstance(influx, InfluxDB1) or not influx.ready():
        raise SiteError(
            f"the site's InfluxDB does not answer: start the site first (vigie site up --dir "
            f"{home}), then take the backup"
        )
    target = out or home / "backups"
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vigie-backup-") as tmp:
        staging = Path(tmp) / "site"
        staging.mkdir()
        database = _settings_database(home)
        done = subprocess.run(
            [_influxd(), "backup", "-portable", "-db", database, "-host",
             f"127.0.0.1:{influx.rpc_port}", str(staging / "influxdb")],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode:
            raise SiteError(f"influxd backup failed: {done.stderr.strip()[-500:]}")
        for name in FILES:
            source = home / name
            if source.is_dir():
                shutil.copytree(source, staging / name)
            elif source.is_file():
                (staging / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, staging / name)
        for pattern in SQLITE:
            for source in home.glob(pattern):
                _copy_sqlite(source, staging / source.relative_to(home))
        count = sum(1 for p in staging.rglob("*") if p.is_file())
        manifest = {
            "format": FORMAT,
            "layout": site.site.layout,
            "site": site.site.name,
            "home": str(home),
            "database": database,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "files": count,
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=1))
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        path = target / f"vigie-{site.site.name}-{stamp}.tar.gz"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            tar.add(staging, arcname="site")
    _prune(target, site.site.name, site.site.backup_keep)
    return Archive(path, path.stat().st_size, time.monotonic() - started, count + 1)


def _prune(folder: Path, name: str, keep: int) -> None:
    archives = sorted(folder.glob(f"vigie-{name}-*.tar.gz"))
    for old in archives[:-keep]:
        old.unlink()


def _settings_database(home: Path) -> str:
    from vigie.settings import Settings

    os.environ["VIGIE_HOME"] = str(home)
    return Settings().influx.database


def restore(archive: Path, home: Path) -> dict[str, object]:
    """Put a backup back into ``home`` (not a site yet); returns the manifest."""
    started = time.monotonic()
    if (home / SITE_FILE).exists():
        raise SiteError(
            f"{home} is a site already: restore into an empty folder, then move it into place"
        )
    with tempfile.TemporaryDirectory(prefix="vigie-restore-") as tmp:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(tmp, filter="data")
        staging = Path(tmp) / "site"
        manifest = json.loads((staging / "manifest.json").read_text())
        if manifest.get("format") != FORMAT:
            raise SiteError(f"{archive}: backup format {manifest.get('format')} is not {FORMAT}")
        home.mkdir(parents=True, exist_ok=True)
        for item in staging.iterdir():
            if item.name not in ("influxdb", "manifest.json"):
                shutil.move(str(item), home / item.name)
        site_file = home / SITE_FILE
        site_file.write_text(site_file.read_text().replace(manifest["home"], str(home)))
        site = load(site_file)
        stack = Stack(home)
        stack.services = layout.services(home, site, guard=False)
        influx = stack.services["influxdb"]
        if not isinstance(influx, InfluxDB1):
            raise SiteError(f"{site_file}: this release restores InfluxDB 1.x sites only")
        stack.start("influxdb")
        try:
            done = subprocess.run(
                [_influxd(), "restore", "-portable", "-db", manifest["database"], "-host",
                 f"127.0.0.1:{influx.rpc_port}", str(staging / "influxdb")],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if done.returncode:
                raise SiteError(f"influxd restore failed: {done.stderr.strip()[-500:]}")
        finally:
            stack.down()
    manifest["seconds"] = round(time.monotonic() - started, 1)
    return manifest
