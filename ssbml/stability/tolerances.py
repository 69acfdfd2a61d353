"""Numerical tolerances shared by the pymatgen reference implementation
(:mod:`.window`), the linear-program fast path (:mod:`.hull_lp`) and the batched
screen (:mod:`.batch`), so that all three apply the same rule."""

from __future__ import annotations

__all__ = ["MIN_ZERO_WIDTH_V"]

MIN_ZERO_WIDTH_V = 1e-3
"""A zero-evolution step narrower than this (V) is treated as a sign change."""
