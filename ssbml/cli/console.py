"""Rich consoles for the CLI: wrapped to the terminal on a terminal, never wrapped when
the output is piped or redirected (``ssbml data fetch | cat`` keeps whole lines)."""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["make_console"]

PIPE_WIDTH = 100_000
"""Columns assumed when the output is not a terminal (no line is ever broken)."""


def make_console(*, stderr: bool = False, **kwargs: Any):
    """A ``rich.console.Console`` for stdout (or stderr): terminal width on a terminal,
    otherwise unlimited width with soft wrapping so lines are printed unbroken."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    isatty = getattr(stream, "isatty", None)
    if not (isatty and isatty()) and "width" not in kwargs:
        kwargs.setdefault("soft_wrap", True)
        kwargs["width"] = PIPE_WIDTH
    return Console(stderr=stderr, **kwargs)
