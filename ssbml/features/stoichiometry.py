"""Stoichiometry features: number of elements and Lp norms of the atomic fractions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ssbml.features.base import CompositionFeaturizer
from ssbml.features.batch import Batch
from ssbml.features.citations import MAGPIE

__all__ = ["StoichiometryFeaturizer"]


class StoichiometryFeaturizer(CompositionFeaturizer):
    """``n_elements`` (p = 0) and ``stoich_l{p}_norm`` = (sum_i f_i^p)^(1/p) for each p,
    as matminer's ``Stoichiometry`` (Ward et al. 2016)."""

    def __init__(
        self,
        p_list: Sequence[int] = (0, 2, 3, 5, 7, 10),
        *,
        errors: str = "raise",
        require_li: bool = False,
        chunk_size: int = 131072,
    ) -> None:
        self.p_list = p_list
        super().__init__(errors=errors, require_li=require_li, chunk_size=chunk_size)

    def _names(self) -> list[str]:
        for p in self.p_list:
            if p < 0:
                raise ValueError(f"p-norm not defined for p < 0, got {p}")
        return ["n_elements" if p == 0 else f"stoich_l{p:g}_norm" for p in self.p_list]

    def _compute(self, batch: Batch, out: np.ndarray) -> None:
        _, fc, valid = batch.compact
        for i, p in enumerate(self.p_list):
            if p == 0:
                out[i] = valid.sum(axis=1)
            elif float(p).is_integer() and p <= 16:
                power = fc.copy()
                for _ in range(int(p) - 1):
                    power *= fc
                out[i] = power.sum(axis=1) ** (1.0 / p)
            else:
                out[i] = (fc**p).sum(axis=1) ** (1.0 / p)

    def citations(self) -> list[str]:
        return [MAGPIE]
