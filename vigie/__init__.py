"""Vigie: the shared package (contracts, settings, command line, local stack)."""
