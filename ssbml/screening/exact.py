"""Exact stability numbers for screened candidates that are reference compounds.

A candidate whose reduced formula is in the Materials Project formation-energy table
gets its window (V vs Li/Li+), energy above hull, decomposition energy and reaction
energies with Li metal and LiCoO2 (meV/atom) from the phase diagram instead of the
learned model, and is marked ``stability_source = "exact"``. Only formulas whose
amounts are whole numbers after a small multiplier can be reference compounds, so the
expensive check runs on those few rows. The reference is used only if it is already on
this machine (mirror or user cache): screening never downloads.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd

from ssbml.composition import ElementFractions

__all__ = ["apply_exact_stability", "reference_available"]

_MULTIPLIERS = (1, 2, 3, 4, 5, 6, 8, 10)


@lru_cache(maxsize=1)
def reference_available() -> bool:
    """True when the formation-energy table is on this machine (no download)."""
    from ssbml.data.registry import DataHashError, DataNotFoundError, fetch

    try:
        fetch("mp-e-form", download=False)
    except (DataNotFoundError, DataHashError):
        return False
    return True


def _integer_rows(X: ElementFractions, tol: float = 1e-6) -> np.ndarray:
    """Rows whose amounts become whole numbers with a multiplier up to 10."""
    amounts = X.amounts()
    ok = np.zeros(len(X), dtype=bool)
    for m in _MULTIPLIERS:
        scaled = amounts * m
        ok |= (np.abs(scaled - np.round(scaled)) < tol).all(axis=1)
    return np.flatnonzero(ok)


def _pad_stability(table: pd.DataFrame) -> pd.DataFrame:
    """Without learned stability (no ``stability_source`` column): every target column,
    NaN, and ``stability_source = "unavailable"``, so every chunk has the same columns."""
    if "stability_source" in table.columns:
        return table
    from ssbml.stability.learned import TARGETS

    out = table.copy()
    for col in TARGETS:
        if col not in out.columns:
            out[col] = np.nan
    out["stability_source"] = "unavailable"
    return out


def apply_exact_stability(table: pd.DataFrame, X: ElementFractions) -> pd.DataFrame:
    """Overwrite stability columns with exact values for reference compounds.

    ``table`` has one row per row of ``X`` and a ``composition`` column. When the
    reference is on this machine, a table without learned stability first gets every
    target column (NaN) and ``stability_source = "unavailable"``. Returns the table (a
    copy if anything changed).
    """
    if not reference_available():
        return table
    table = _pad_stability(table)
    if table.empty:
        return table
    from pymatgen.core import Composition

    from ssbml.data.thermo import thermo_table
    from ssbml.stability.decomposition import decomposition
    from ssbml.stability.interface import interface_reaction
    from ssbml.stability.window import electrochemical_window

    rows = _integer_rows(X)
    ref = thermo_table()
    hits: dict[int, dict[str, float]] = {}
    cache: dict[str, dict[str, float]] = {}
    for i in rows:
        formula = Composition(table["composition"].iat[i]).reduced_formula
        if ref.lookup(formula) is None:
            continue
        if formula not in cache:
            try:
                w = electrochemical_window(formula)
                d = decomposition(formula)
                values = {
                    "reduction_V": w.reduction_V,
                    "oxidation_V": w.oxidation_V,
                    "e_above_hull_meV_atom": d.e_above_hull_meV_atom,
                    "decomposition_energy_meV_atom": d.decomposition_energy_meV_atom,
                    "rxn_Li_meV_atom": interface_reaction(formula, "Li").energy_meV_atom,
                    "rxn_LiCoO2_meV_atom": interface_reaction(formula, "LiCoO2").energy_meV_atom,
                }
            except Exception as err:  # noqa: BLE001 - a failed exact calculation keeps the learned one
                warnings.warn(
                    f"exact stability for {formula} failed ({type(err).__name__}: {err}); "
                    "keeping the learned values",
                    RuntimeWarning,
                    stacklevel=2,
                )
                values = {}
            cache[formula] = values
        if cache[formula]:
            hits[i] = cache[formula]
    if not hits:
        return table
    out = table.copy()
    for i, values in hits.items():
        for col, v in values.items():
            for suffix in ("", "_lower", "_upper"):
                name = col + suffix
                if suffix and name not in out.columns:
                    continue
                if name not in out.columns:
                    out[name] = np.nan
                out.iat[i, out.columns.get_loc(name)] = v
        out.iat[i, out.columns.get_loc("stability_source")] = "exact"
    return out
