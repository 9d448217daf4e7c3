"""The local stack launcher: real servers as child processes, on free ports."""

from shell.stack.launcher import Stack, StartPolicy
from shell.stack.services import StackError

__all__ = ["Stack", "StackError", "StartPolicy"]
