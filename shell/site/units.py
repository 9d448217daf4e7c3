"""systemd units for a site (``vigie site install``). Pure: texts from a few values.

One unit runs the site's supervisor in the foreground (``vigie site run``): it starts the
servers and Vigie's processes and restarts what crashes. systemd keeps the supervisor itself
alive; ``KillMode=process`` lets the servers and processes outlive a supervisor crash (the next
supervisor adopts them, so a crash of the supervisor interrupts no data), and ``ExecStop``
stops them all on purpose. An exit 2 (a site file or registry that cannot be used) is not
retried: ``journalctl -u vigie-site`` says why.
"""

from __future__ import annotations

from pathlib import Path

from vigie.errors import Exit


def site_unit(home: Path, vigie: Path, user: str) -> str:
    """The ``vigie-site.service`` unit for the site under ``home``."""
    return f"""# Vigie site {home}: written by `vigie site install`
[Unit]
Description=Vigie site {home} (servers and processes, supervised)
Documentation=file://{home}/site.toml
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
User={user}
Environment=VIGIE_HOME={home}
WorkingDirectory={home}
ExecStart={vigie} site run
ExecStop={vigie} site down
KillMode=process
Restart=always
RestartSec=2
RestartPreventExitStatus={int(Exit.USAGE)}
TimeoutStopSec=90
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
"""


def backup_units(home: Path, vigie: Path, user: str, on_calendar: str) -> tuple[str, str]:
    """``vigie-site-backup.service`` and its timer: a backup on that schedule, kept archives
    pruned by the backup command itself."""
    service = f"""# Vigie site {home}: backup, written by `vigie site install`
[Unit]
Description=Vigie site {home}: backup
After=vigie-site.service

[Service]
Type=oneshot
User={user}
Environment=VIGIE_HOME={home}
WorkingDirectory={home}
ExecStart={vigie} site backup
"""
    timer = f"""# Vigie site {home}: backup schedule, written by `vigie site install`
[Unit]
Description=Vigie site {home}: backup schedule

[Timer]
OnCalendar={on_calendar}
Persistent=true
RandomizedDelaySec=600

[Install]
WantedBy=timers.target
"""
    return service, timer
