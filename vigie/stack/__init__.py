"""The local stack launcher: real servers as child processes, on free ports."""

from vigie.stack.launcher import Stack, StartPolicy
from vigie.stack.services import StackError

__all__ = ["Stack", "StackError", "StartPolicy"]
