"""A chunk of compositions as arrays, with lazily computed shared intermediates.

Featurizers compute on a :class:`Batch`: the element-fraction matrix restricted to the
element columns present, absolute amounts, the element-set group of every row (rows
with the same set of elements share min/max statistics and the oxidation-state search),
and the charge-balanced oxidation-state assignment (computed by :mod:`.charge`, which
works on a batch's arrays and imports this module only for type hints).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from ssbml.composition import ElementFractions
from ssbml.features.arrays import group_rows
from ssbml.features.charge import (
    ChargeAssignment,
    assign_oxidation_states,
    assigned_radii_pm,
    ionic_sums,
)

__all__ = ["Batch"]


class Batch:
    """Arrays for one chunk of good rows.

    ``fractions`` (n, k) atomic fractions, ``amounts`` (n, k) atoms per formula unit as
    written, ``elements`` the k symbols present in the chunk, ``z_index`` their row in the
    element tables (Z - 1).
    """

    def __init__(self, ef: ElementFractions) -> None:
        f = np.asarray(ef.fractions, dtype=float)
        used = np.flatnonzero((f > 0).any(axis=0)) if f.shape[0] else np.arange(0)
        self.elements: tuple[str, ...] = tuple(ef.elements[j] for j in used)
        self.fractions = np.ascontiguousarray(f[:, used])
        self.atoms_per_formula = np.asarray(ef.atoms_per_formula, dtype=float)
        self.amounts = self.fractions * self.atoms_per_formula[:, None]
        from pymatgen.core import Element

        self.z_index = np.array([Element(e).Z - 1 for e in self.elements], dtype=np.intp)

    def __len__(self) -> int:
        return self.fractions.shape[0]

    @cached_property
    def present(self) -> np.ndarray:
        """(n, k) bool: element present in the row."""
        return self.fractions > 0

    @cached_property
    def compact(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The present elements of each row packed to the left: (columns (n, m) int,
        fractions (n, m) with 0 in padding, valid (n, m) bool), m = most elements in a row."""
        present = self.present
        m = max(1, int(present.sum(axis=1).max())) if len(self) else 1
        order = np.argsort(~present, axis=1, kind="stable")[:, :m]
        return (
            order,
            np.take_along_axis(self.fractions, order, axis=1),
            np.take_along_axis(present, order, axis=1),
        )

    @cached_property
    def modal(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(modal column (n,), tied rows (t,), their tie mask (t, k)): the element with the
        largest amount, and the rows where several amounts tie within numpy.isclose
        tolerances (as in matminer's mode)."""
        amounts = self.amounts
        top = amounts.max(axis=1, keepdims=True) if len(self) else np.zeros((0, 1))
        tied = self.present & (np.abs(amounts - top) <= 1e-8 + 1e-5 * np.abs(top))
        first = tied.argmax(axis=1)
        tie_rows = np.flatnonzero(tied.sum(axis=1) > 1)
        return first, tie_rows, tied[tie_rows]

    @cached_property
    def groups(self) -> tuple[np.ndarray, np.ndarray]:
        """(group_presence (g, k) bool, inverse (n,) int): rows grouped by element set."""
        present = self.present
        n, k = present.shape
        if n == 0:
            return np.zeros((0, k), dtype=bool), np.zeros(0, dtype=np.intp)
        packed = np.packbits(present, axis=1)
        if packed.shape[1] <= 8:
            padded = np.zeros((n, 8), dtype=np.uint8)
            padded[:, : packed.shape[1]] = packed
            keys = padded.view(np.uint64).ravel()
            _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        else:
            _, first, inverse = np.unique(
                packed, axis=0, return_index=True, return_inverse=True
            )
        return present[first], inverse.ravel()

    def column(self, symbol: str) -> np.ndarray:
        """Atomic fraction of one element in every row (0 where absent)."""
        if symbol in self.elements:
            return self.fractions[:, self.elements.index(symbol)]
        return np.zeros(len(self))

    def amount(self, symbol: str) -> np.ndarray:
        """Atoms of one element per formula unit as written (0 where absent)."""
        if symbol in self.elements:
            return self.amounts[:, self.elements.index(symbol)]
        return np.zeros(len(self))

    @cached_property
    def oxidation(self) -> ChargeAssignment:
        """Charge-balancing oxidation states of every element in every row."""
        return assign_oxidation_states(self)

    @cached_property
    def radii_pm(self) -> np.ndarray:
        """(A, k) Shannon ionic radius (pm) of each element in each distinct assignment."""
        return assigned_radii_pm(self)

    @cached_property
    def ionic_sums(self) -> dict[str, np.ndarray]:
        """Cation / anion sums of the assigned species (see :func:`charge.ionic_sums`)."""
        return ionic_sums(self)

    @cached_property
    def _assignment_order(self) -> tuple[np.ndarray, np.ndarray]:
        return group_rows(self.oxidation.assignment, len(self.oxidation.table))

    def assignment_dot(self, matrix: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Row-wise products with per-assignment weights: ``out[i] = matrix[i] @
        weights[assignment[i]]`` for ``matrix`` (n, k) and ``weights`` (A, k, q); (n, q)."""
        order, bounds = self._assignment_order
        out = np.empty((len(self), weights.shape[2]))
        for a in range(len(weights)):
            rows = order[bounds[a] : bounds[a + 1]]
            if len(rows):
                out[rows] = matrix[rows] @ weights[a]
        return out
