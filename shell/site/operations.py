"""``vigie site init|up|run|down|status``: one server of a territory, made once, then kept.

``init`` writes ``site.toml``, copies the registry into the site and makes the identities (CA,
broker certificate for the names devices use, service accounts). ``up`` starts every server and
process on the site's fixed ports under a supervisor kept alive by a guard; ``run`` is the same
in the foreground for systemd, which then keeps the supervisor alive itself.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Any

from shell.security.acl import ServiceAccount
from shell.site import layout
from shell.site.config import SITE_FILE, Site, SiteError, SiteFile, clashes, load, render
from shell.stack.launcher import Stack, _cmdline_when_started
from shell.stack.supervisor import SupervisionPolicy, _stop_on_signals, supervise
from vigie.catalogue import CATALOGUE_FILE, catalogue_path
from vigie.registries import Registries


def init(
    home: Path,
    registry: Path,
    site: Site,
    extra: dict[str, Any] | None = None,
    simulator: bool = False,
) -> SiteFile:
    """Make a site in ``home``: its file, its registry copy (with the metric catalogue beside
    it) and its identities. A folder that
    already holds a site is left as it is (its identities are never made again)."""
    home = home.resolve()
    if (home / SITE_FILE).exists():
        raise SiteError(
            f"{home / SITE_FILE} exists: this folder is a site already. Edit that file, or "
            "choose another --dir"
        )
    if Stack(home).state_file.exists():
        raise SiteError(
            f"a local stack is recorded in {home}: stop it first (VIGIE_HOME={home} vigie "
            "stack down); its data and identities are kept and become the site's"
        )
    clash = clashes(site.ports_in_use())
    if clash:
        raise SiteError(f"{clash}: give each its own port")
    served = Registries.load(registry)  # exit 2 with the file, the place and the fix
    home.mkdir(parents=True, exist_ok=True)
    target = home / "registries"
    target.mkdir(exist_ok=True)
    for tid, territory_of in served.territories.items():  # one <territory>.json each
        territory_of.save(target / f"{tid}.json")
    if catalogue_path(registry).is_file():  # the territory's own metrics go with it
        shutil.copyfile(catalogue_path(registry), target / CATALOGUE_FILE)
    territory = next(iter(served.territories))
    data: dict[str, Any] = {"territory": territory, "registry": target, "site": site}
    made = SiteFile.model_validate({**(extra or {}), **data})
    text = render(made)
    (home / SITE_FILE).write_text(text)
    checked = load(home / SITE_FILE)  # what every process will read
    authority = layout.authority(home, checked, simulator=simulator)
    for account in layout.ROLE_ACCOUNTS:
        authority.service_account(account)
    if simulator:  # testers publish simulated telemetry for every device
        authority.service_account(ServiceAccount.SIMULATOR)
    return checked


def _stack(home: Path, guard: bool) -> tuple[Stack, SiteFile]:
    site = load(home / SITE_FILE)
    os.environ["VIGIE_HOME"] = str(home)  # the supervisor and the settings read this site
    os.environ.pop("VIGIE_CONFIG", None)
    stack = Stack(home)
    if not stack.supervised():
        stack.services = layout.services(home, site, guard)
    return stack, site


def up(home: Path) -> dict[str, Any]:
    """Start the site (or what of it is not running) under a supervisor and its guard."""
    stack, _ = _stack(home.resolve(), guard=True)
    stack.up(supervise=True)
    return stack.status()


def run(home: Path) -> None:
    """The site in the foreground, this process its supervisor (systemd keeps it alive)."""
    home = home.resolve()
    stack, _ = _stack(home, guard=False)
    stack.up(supervise=False)
    with stack.locked():
        me = os.getpid()
        stack.supervisor = {"pid": me, "cmd": _cmdline_when_started(me, [])}
        stack._save()
    stop: threading.Event = _stop_on_signals()
    supervise(home, stop, SupervisionPolicy())


def down(home: Path) -> None:
    """Stop the supervisor, its guard, every process and server of the site; data and
    identities stay."""
    Stack(home.resolve()).down()


def status(home: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The supervisor's record, and each server's and process's."""
    home = home.resolve()
    load(home / SITE_FILE)
    stack = Stack(home)
    rows = stack.status()
    sup = dict(stack.supervisor)
    sup["running"] = stack.supervised()
    sup |= stack.exits.get("supervisor", {})
    return sup, rows
