"""The root of ssbml's exceptions.

Every exception class ssbml defines derives from :class:`SsbmlError` and from the
builtin it has always derived from (``ValueError``, ``FileNotFoundError``,
``RuntimeError`` ...), so both ``except SsbmlError`` and the builtin keep working.
Only the standard library is imported here; every ssbml module may import it.
"""

from __future__ import annotations

__all__ = ["SsbmlError"]


class SsbmlError(Exception):
    """Every ssbml error: the CLI turns one into a one-line ``error: message`` on stderr
    (exit code 2) unless the command handles it itself."""
