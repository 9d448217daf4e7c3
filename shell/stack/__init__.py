"""The local stack launcher: real servers as child processes, on free ports."""

from shell.stack.launcher import Stack, StartPolicy
from vigie.errors import StackError

__all__ = ["Stack", "StackError", "StartPolicy"]
