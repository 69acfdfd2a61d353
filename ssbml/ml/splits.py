"""Grouped cross-validation splits: near-duplicate compositions (one chemical system,
e.g. the doped variants of one host) never sit on both sides of a split."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["chemical_system_groups", "cv_splits", "make_groups"]


def chemical_system_groups(compositions: pd.Series | list[str]) -> np.ndarray:
    """Group label per composition: its chemical system without Li (e.g. ``La-O-Zr``),
    so that doped variants of one host fall in one group."""
    from pymatgen.core import Composition

    out = []
    for formula in compositions:
        els = sorted(e.symbol for e in Composition(formula).elements if e.symbol != "Li")
        out.append("-".join(els) or "Li")
    return np.asarray(out, dtype=object)


def cv_splits(
    n_splits: int, groups: Any, random_state: int, n: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, validation) row indices of ``n`` rows: ``GroupKFold`` on ``groups`` when
    there are at least ``n_splits`` distinct groups, else a shuffled ``KFold`` seeded with
    ``random_state``."""
    from sklearn.model_selection import GroupKFold, KFold

    rows = np.zeros((n, 1))
    if groups is not None and len(np.unique(groups)) >= n_splits:
        return list(GroupKFold(n_splits=n_splits).split(rows, groups=groups))
    return list(KFold(n_splits, shuffle=True, random_state=random_state).split(rows))


def make_groups(df: pd.DataFrame, by: str = "chemsys") -> np.ndarray:
    """Fold groups: ``chemsys`` (elements other than Li), ``family`` or ``composition``."""
    if by == "chemsys":
        return chemical_system_groups(df["composition"])
    if by in ("family", "composition"):
        return df[by].astype(str).to_numpy()
    raise ValueError(f"groups must be 'chemsys', 'family' or 'composition', got {by!r}")
