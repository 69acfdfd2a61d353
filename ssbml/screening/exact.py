"""Stability columns of screened candidates: the phase-diagram route for every
candidate whose chemical system the reference covers, the learned model elsewhere.

Every row carries ``stability_source``:

* ``exact``: a reference compound (its own DFT energy);
* ``phase diagram``: doped or off-stoichiometric, placed at the hull energy of its
  chemical system (window and mutual reaction energies exact for that energy; energy
  above hull and decomposition energy unknown, NaN);
* ``learned``: the reference does not cover the system (an element absent from the
  table, or too many elements): the shipped stability model with its interval;
* ``unavailable``: neither (no learned model shipped).

The choice is :func:`ssbml.stability.report.learned_fallback`, the rule of
``ssbml stability`` (:func:`ssbml.stability.report.stability_report`) over all rows at
once.

The reference table ships with ssbml, so this works offline with no data directory
(see :mod:`ssbml.stability.batch` for the batched computation).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from ssbml.composition import ElementFractions
from ssbml.stability.report import DEFAULT_ELECTRODES

__all__ = ["DEFAULT_ELECTRODES", "reference_available", "stability_columns"]


@lru_cache(maxsize=1)
def reference_available() -> bool:
    """True when the reference table is on this machine (shipped, mirror or cache)."""
    from ssbml.data.registry import DataHashError, DataNotFoundError, fetch
    from ssbml.data.thermo import shipped_reference_entry

    if shipped_reference_entry() is not None:
        return True
    try:
        fetch("mp-e-form", download=False)
    except (DataNotFoundError, DataHashError):
        return False
    return True


def stability_columns(
    X: ElementFractions,
    *,
    learned: Any | None = None,
    learned_features: pd.DataFrame | None = None,
    alpha: float = 0.1,
    electrodes: tuple[str, ...] = DEFAULT_ELECTRODES,
    exclude: tuple[str, ...] = (),
    rel_tol: float = 0.05,
    exact: bool = True,
    parents: np.ndarray | None = None,
) -> pd.DataFrame:
    """Stability columns for every row of ``X`` (index 0..n-1).

    With ``exact`` (and the reference on this machine) the phase-diagram route answers
    every covered row; ``learned`` (a fitted stability model with
    ``predict_interval_from_features``) answers the rest from ``learned_features``
    (the rows of ``X``'s features). ``parents`` (the parent formula of each doped
    row, "" for none) adds ``parent_e_above_hull_meV_atom``: the parent's exact energy
    above hull, the best available indication of a doped variant's metastability.
    """
    from ssbml.stability.report import learned_fallback
    from ssbml.stability.sources import UNCOVERED_PREFIX

    n = len(X)
    if exact and reference_available():
        from ssbml.stability.batch import stability_table

        out = stability_table(
            X.amounts(), X.elements, electrodes=electrodes, exclude=frozenset(exclude),
            rel_tol=rel_tol,
        )
    else:
        out = pd.DataFrame({"stability_source": np.full(
            n, f"{UNCOVERED_PREFIX}exact route off", dtype=object)})
    # the exact-then-learned rule of ssbml stability, over every row at once
    route = learned_fallback(
        out["stability_source"].to_numpy(),
        learned_available=learned is not None and learned_features is not None,
    )
    out["stability_note"] = route.note
    todo = route.learned_rows
    if todo.size:
        pred = learned.predict_interval_from_features(
            learned_features.iloc[todo], alpha=alpha
        )
        for col in pred.columns:
            if col not in out.columns:
                out[col] = np.nan
            out.loc[todo, col] = pred[col].to_numpy()
    out["stability_source"] = route.source
    if parents is not None and exact and reference_available():
        out["parent_e_above_hull_meV_atom"] = _parent_e_hull(np.asarray(parents, dtype=object))
    return out


def _parent_e_hull(parents: np.ndarray) -> np.ndarray:
    """Exact energy above hull (meV/atom) of each distinct parent (NaN if not a
    reference compound)."""
    from ssbml.stability.decomposition import decomposition
    from ssbml.stability.reference import (
        StabilityInputError,
        check_composition,
        reference_entry,
    )

    values: dict[str, float] = {}
    for parent in pd.unique(parents):
        values[parent] = np.nan
        if not parent:
            continue
        try:
            comp = check_composition(parent)
            if reference_entry(comp) is not None:
                values[parent] = decomposition(comp, separation=False).e_above_hull_meV_atom
        except StabilityInputError:
            pass
    return np.array([values[p] for p in parents], dtype=float)
