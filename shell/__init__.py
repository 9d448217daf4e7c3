"""The shell: what people and services run (the ``vigie`` command line, the demo, the local
stack launcher and its supervisor, identities, ACLs and certificates). It sits on top of
everything else and nothing imports it."""

# the command line; nothing imports the shell
__all__ = ["cli"]
