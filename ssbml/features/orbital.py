"""Valence-orbital features: mean s/p/d/f valence electrons and their fractions."""

from __future__ import annotations

import numpy as np

from ssbml.features.base import CompositionFeaturizer
from ssbml.features.batch import Batch
from ssbml.features.citations import MAGPIE, PYMATGEN
from ssbml.features.elements import column_index, property_table

__all__ = ["ValenceOrbitalFeaturizer"]

_ORBITALS = ("s", "p", "d", "f")


class ValenceOrbitalFeaturizer(CompositionFeaturizer):
    """``avg_{o}_valence_electrons`` = sum_i f_i N_o,i and ``frac_{o}_valence_electrons`` =
    that divided by the mean total valence electrons, for o in s, p, d, f (matminer's
    ``ValenceOrbital``; counts from pymatgen's electron configurations, identical to the
    Magpie table for Z <= 104)."""

    def __init__(
        self, *, errors: str = "raise", require_li: bool = False, chunk_size: int = 131072
    ) -> None:
        super().__init__(errors=errors, require_li=require_li, chunk_size=chunk_size)

    def _names(self) -> list[str]:
        return [f"{kind}_{o}_valence_electrons" for kind in ("avg", "frac") for o in _ORBITALS]

    def _compute(self, batch: Batch, out: np.ndarray) -> None:
        cols = [column_index(f"valence_{o}") for o in _ORBITALS] + [column_index("valence_total")]
        values = property_table(True)[np.ix_(batch.z_index, cols)]
        mean = (batch.fractions @ values).T
        out[:4] = mean[:4]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[4:] = mean[:4] / mean[4]

    def citations(self) -> list[str]:
        return [MAGPIE, PYMATGEN]
