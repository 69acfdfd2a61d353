"""Ionic character from Pauling electronegativity differences (Pauling 1960)."""

from __future__ import annotations

import numpy as np

from ssbml.features.base import CompositionFeaturizer
from ssbml.features.batch import Batch
from ssbml.features.citations import MAGPIE, PAULING, PYMATGEN
from ssbml.features.elements import column_index, property_table

__all__ = ["IonicCharacterFeaturizer"]


class IonicCharacterFeaturizer(CompositionFeaturizer):
    """Pair ionic character I(A, B) = 1 - exp(-(X_A - X_B)^2 / 4):
    ``max_ionic_character`` (over element pairs present; 0 for one element) and
    ``mean_ionic_character`` = sum over unordered pairs f_A f_B I(A, B), as matminer's
    ``IonProperty`` (pymatgen electronegativity, missing values imputed)."""

    def __init__(
        self, *, errors: str = "raise", require_li: bool = False, chunk_size: int = 131072
    ) -> None:
        super().__init__(errors=errors, require_li=require_li, chunk_size=chunk_size)

    def _names(self) -> list[str]:
        return ["max_ionic_character", "mean_ionic_character"]

    def _compute(self, batch: Batch, out: np.ndarray) -> None:
        x = property_table(True)[batch.z_index, column_index("electronegativity_pauling")]
        group_present, inverse = batch.groups
        xmax = np.where(group_present, x[None, :], -np.inf).max(axis=1)
        xmin = np.where(group_present, x[None, :], np.inf).min(axis=1)
        np.take(1.0 - np.exp(-0.25 * (xmax - xmin) ** 2), inverse, out=out[0])
        pair = 1.0 - np.exp(-0.25 * (x[:, None] - x[None, :]) ** 2)
        f = batch.fractions
        out[1] = 0.5 * np.einsum("ik,ik->i", f @ pair, f)

    def citations(self) -> list[str]:
        return [MAGPIE, PAULING, PYMATGEN]
