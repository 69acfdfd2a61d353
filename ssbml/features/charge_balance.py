"""Charge-balance features from the fast oxidation-state assignment (:mod:`.charge`)."""

from __future__ import annotations

import numpy as np

from ssbml.features.arrays import ratio_or_nan
from ssbml.features.base import CompositionFeaturizer
from ssbml.features.batch import Batch
from ssbml.features.citations import PAULING, PYMATGEN, SHANNON

__all__ = ["BALANCE_TOL", "ChargeBalanceFeaturizer"]

BALANCE_TOL = 1e-4
"""Largest |net charge| (e/atom) counted as charge balanced."""


class ChargeBalanceFeaturizer(CompositionFeaturizer):
    """Features of the best single-valence oxidation-state assignment.

    ``charge_imbalance_e_per_atom`` |net charge| of the best assignment (0 = balanced),
    ``charge_balanced`` 1.0 if within :data:`BALANCE_TOL`, ``n_uncommon_oxidation_states``,
    ``cation_fraction`` / ``anion_fraction`` atomic fractions of atoms with a positive /
    negative state, ``mean_cation_charge_e`` / ``max_cation_charge_e``,
    ``mean_anion_charge_e`` / ``min_anion_charge_e`` (fraction-weighted over cations or
    anions), ``electronegativity_difference_anion_cation`` (mean Pauling X of anions minus
    that of cations), ``mean_cation_radius_pm`` / ``mean_anion_radius_pm`` (Shannon radii of
    the assigned species) and ``cation_anion_radius_ratio``. Anion/cation features are NaN
    when the composition has no anion/cation.
    """

    def __init__(
        self, *, errors: str = "raise", require_li: bool = False, chunk_size: int = 131072
    ) -> None:
        super().__init__(errors=errors, require_li=require_li, chunk_size=chunk_size)

    def _names(self) -> list[str]:
        return [
            "charge_imbalance_e_per_atom",
            "charge_balanced",
            "n_uncommon_oxidation_states",
            "cation_fraction",
            "anion_fraction",
            "mean_cation_charge_e",
            "max_cation_charge_e",
            "mean_anion_charge_e",
            "min_anion_charge_e",
            "electronegativity_difference_anion_cation",
            "mean_cation_radius_pm",
            "mean_anion_radius_pm",
            "cation_anion_radius_ratio",
        ]

    def _compute(self, batch: Batch, out: np.ndarray) -> None:
        ox = batch.oxidation
        sums = batch.ionic_sums
        table = np.where(ox.present, ox.table, 0).astype(float)
        max_cat = np.where(table > 0, table, -np.inf).max(axis=1, initial=-np.inf)
        min_an = np.where(table < 0, table, np.inf).min(axis=1, initial=np.inf)
        max_cat[~np.isfinite(max_cat)] = np.nan
        min_an[~np.isfinite(min_an)] = np.nan
        imbalance = np.abs(ox.imbalance)
        cat, an = sums["cation"], sums["anion"]
        mean_cat_r = ratio_or_nan(sums["cation_radius"], cat)
        mean_an_r = ratio_or_nan(sums["anion_radius"], an)
        columns = (
            imbalance,
            (imbalance <= BALANCE_TOL).astype(float),
            ox.uncommon[ox.assignment].astype(float),
            cat,
            an,
            ratio_or_nan(sums["cation_charge"], cat),
            max_cat[ox.assignment],
            ratio_or_nan(sums["anion_charge"], an),
            min_an[ox.assignment],
            ratio_or_nan(sums["anion_x"], an) - ratio_or_nan(sums["cation_x"], cat),
            mean_cat_r,
            mean_an_r,
            ratio_or_nan(mean_cat_r, mean_an_r),
        )
        for i, col in enumerate(columns):
            out[i] = col

    def citations(self) -> list[str]:
        return [PYMATGEN, SHANNON, PAULING]
