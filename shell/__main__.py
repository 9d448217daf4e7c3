"""``python -m shell`` runs the ``vigie`` command line."""

from shell.cli import main

main()
