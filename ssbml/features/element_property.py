"""Fraction-weighted statistics of element properties (Magpie-style), as matrix operations.

Statistics follow matminer's ``PropertyStats`` exactly (weights are the element amounts):

- ``mean``: sum_i f_i p_i
- ``avg_dev``: sum_i f_i |p_i - mean|
- ``min`` / ``max`` / ``range``: over the elements present
- ``mode``: the property of the element with the largest amount; among elements whose
  amounts are equal within ``numpy.isclose`` tolerances, the smallest property value.

A property that pymatgen lacks for an element is imputed with the mean over all elements
that have it (``impute_nan=True``), or left NaN, in which case every statistic of a row
that contains that element is NaN except ``mode`` when the element is not the modal one
(as in matminer with ``impute_nan=False``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ssbml.features.base import CompositionFeaturizer
from ssbml.features.batch import Batch
from ssbml.features.citations import MAGPIE, PYMATGEN
from ssbml.features.elements import ELEMENT_PROPERTIES, column_index, property_table

__all__ = ["STATS", "ElementPropertyFeaturizer", "property_stats"]

STATS = ("mean", "avg_dev", "min", "max", "range", "mode")
"""Statistics available (and computed by default)."""


_BLOCK_ROWS = 4096  # rows per block of the (rows, elements, properties) deviation array


def property_stats(
    batch: Batch, values: np.ndarray, stats: Sequence[str], out: np.ndarray
) -> None:
    """Statistics of per-element ``values`` ((k, p), one row per batch element column),
    written to ``out`` ((p * len(stats), n), property-major then statistic)."""
    n_stats, p = len(stats), values.shape[1]
    pos = {s: i for i, s in enumerate(stats)}
    nan = np.isnan(values)
    clean = np.where(nan, 0.0, values)
    mean_t = clean.T @ batch.fractions.T  # (p, n)
    if nan.any():
        mean_t[(nan.T.astype(float) @ batch.present.T.astype(float)) > 0] = np.nan
    rows_of = {s: np.arange(p) * n_stats + i for s, i in pos.items()}
    if "mean" in pos:
        out[rows_of["mean"]] = mean_t
    if "avg_dev" in pos:
        cols, fc, _ = batch.compact
        dev_rows = rows_of["avg_dev"]
        for start in range(0, len(batch), _BLOCK_ROWS):
            stop = start + _BLOCK_ROWS
            diff = clean[cols[start:stop]]  # (b, m, p)
            diff -= mean_t[:, start:stop].T[:, None, :]
            np.abs(diff, out=diff)
            dev = np.matmul(fc[start:stop, None, :], diff)[:, 0, :]  # NaN mean -> NaN
            out[dev_rows, start:stop] = dev.T
    if {"min", "max", "range"} & pos.keys():
        group_present, inverse = batch.groups
        mask = group_present[:, :, None]
        gmin = np.where(mask, values[None], np.inf).min(axis=1).T  # (p, g)
        gmax = np.where(mask, values[None], -np.inf).max(axis=1).T
        for stat, table in (("min", gmin), ("max", gmax), ("range", gmax - gmin)):
            if stat in pos:
                for j, row in enumerate(rows_of[stat]):
                    np.take(table[j], inverse, out=out[row])
    if "mode" in pos:
        first, tie_rows, tie_mask = batch.modal
        mode = np.take(values.T, first, axis=1)  # (p, n)
        if len(tie_rows):
            tied = np.where(tie_mask[:, :, None], values[None], np.inf).min(axis=1)
            mode[:, tie_rows] = tied.T
        out[rows_of["mode"]] = mode


class ElementPropertyFeaturizer(CompositionFeaturizer):
    """Fraction-weighted statistics of pymatgen element properties.

    properties : feature names from :data:`ssbml.features.elements.ELEMENT_PROPERTIES`
        (None = all of them).
    stats : any of :data:`STATS` (None = all).
    impute_nan : replace a property missing for an element by its mean over elements.

    Output columns are named ``{stat}_{property}``, e.g. ``mean_atomic_radius_pm``.
    """

    def __init__(
        self,
        properties: Sequence[str] | None = None,
        stats: Sequence[str] | None = None,
        impute_nan: bool = True,
        *,
        errors: str = "raise",
        require_li: bool = False,
        chunk_size: int = 131072,
    ) -> None:
        self.properties = properties
        self.stats = stats
        self.impute_nan = impute_nan
        super().__init__(errors=errors, require_li=require_li, chunk_size=chunk_size)

    def _props(self) -> list[str]:
        props = [p.name for p in ELEMENT_PROPERTIES] if self.properties is None else list(
            self.properties
        )
        for name in props:
            column_index(name)  # raises KeyError naming an unknown property
        return props

    def _stats(self) -> list[str]:
        stats = list(STATS) if self.stats is None else list(self.stats)
        bad = [s for s in stats if s not in STATS]
        if bad:
            raise ValueError(f"unknown statistic(s) {bad}; choose from {STATS}")
        return stats

    def _names(self) -> list[str]:
        return [f"{s}_{p}" for p in self._props() for s in self._stats()]

    def _compute(self, batch: Batch, out: np.ndarray) -> None:
        props, stats = self._props(), self._stats()
        cols = [column_index(p) for p in props]
        values = property_table(bool(self.impute_nan))[np.ix_(batch.z_index, cols)]
        property_stats(batch, values, stats, out)

    def citations(self) -> list[str]:
        return [MAGPIE, PYMATGEN]
