"""Li-conductor descriptors: Li content, anion sublattice, polyanion groups, Li vacancy
estimate and ionic volume, from the composition and its charge-balanced assignment."""

from __future__ import annotations

import numpy as np

from ssbml.composition import ANION_ELEMENTS as ANIONS
from ssbml.features.arrays import ratio_or_nan
from ssbml.features.base import CompositionFeaturizer
from ssbml.features.batch import Batch
from ssbml.features.citations import PYMATGEN, SHANNON

__all__ = ["ANIONS", "POLYANIONS", "LiDescriptorFeaturizer"]

POLYANIONS = {
    "PO4": ("P", "O", 4),
    "PS4": ("P", "S", 4),
    "SiO4": ("Si", "O", 4),
    "GeO4": ("Ge", "O", 4),
    "BO3": ("B", "O", 3),
    "BH4": ("B", "H", 4),
}
"""Polyanion groups: name -> (central cation, ligand anion, ligands per group)."""

_NONINTEGER_TOL = 1e-3


def _li_vacancy(batch: Batch) -> np.ndarray:
    """Li vacancies (+) or interstitials (-) per formula unit relative to the
    charge-balanced parent.

    On the non-Li cation side and on the anion side separately, the elements with
    non-integer amounts are taken as one mixed site whose total amount, rounded to an
    integer, is given to its majority element (the host) in the parent; the parent's Li
    content is the one that balances the charge. So Ta0.6 + Zr1.4 becomes Zr2 (Ta5+ on the
    Zr4+ site), S4.5 + Cl1.5 becomes S6, and a lone Al0.25 in a garnet, which rounds to 0,
    is taken as sitting on the Li sublattice (parent Li7La3Zr2O12). An estimate from the
    composition alone: dopants written with integer amounts are not recognised."""
    a = batch.amounts
    s = batch.oxidation.table.astype(np.int8)[batch.oxidation.assignment]
    li = np.array([e == "Li" for e in batch.elements])
    nonint = np.abs(a - np.round(a)) > _NONINTEGER_TOL  # absent elements have a = 0
    parent_charge = np.zeros(len(batch))
    for side in (s > 0) & ~li[None, :], s < 0:
        mixed = side & nonint
        fixed = np.where(side & ~mixed, a * s, 0.0).sum(axis=1)
        mixed_amount = np.where(mixed, a, 0.0)
        host = mixed_amount.argmax(axis=1)
        host_state = s[np.arange(len(batch)), host]
        parent_charge += fixed + np.round(mixed_amount.sum(axis=1)) * host_state
    return -parent_charge - batch.amount("Li")


class LiDescriptorFeaturizer(CompositionFeaturizer):
    """Descriptors of Li-ion conductors.

    ``li_fraction`` (atomic fraction), ``li_per_anion`` (Li atoms per anion atom),
    ``anion_share_{X}`` (fraction of anion atoms that are X, for X in :data:`ANIONS`, i.e.
    :data:`ssbml.composition.ANION_ELEMENTS`; an element counts as anion when its
    assigned oxidation state is negative),
    ``n_anion_elements``, ``anion_mixing_entropy`` (-sum share ln share, nats),
    ``{group}_per_atom`` for the :data:`POLYANIONS` (min(f_center, f_ligand / n) when the
    centre is a cation and the ligand an anion), ``li_vacancy_per_anion`` (estimated Li
    vacancies, negative for interstitials, per anion atom relative to the charge-balanced
    parent; see :func:`_li_vacancy`), ``ionic_volume_per_atom_A3`` and
    ``ionic_volume_per_anion_A3`` (sum of 4/3 pi r^3 of Shannon radii of the assigned
    species, in cubic angstrom, per atom and per anion atom). Per-anion features are NaN
    for compositions without an anion.
    """

    def __init__(
        self, *, errors: str = "raise", require_li: bool = False, chunk_size: int = 131072
    ) -> None:
        super().__init__(errors=errors, require_li=require_li, chunk_size=chunk_size)

    def _names(self) -> list[str]:
        return (
            ["li_fraction", "li_per_anion"]
            + [f"anion_share_{x}" for x in ANIONS]
            + ["n_anion_elements", "anion_mixing_entropy"]
            + [f"{g}_per_atom" for g in POLYANIONS]
            + ["li_vacancy_per_anion", "ionic_volume_per_atom_A3", "ionic_volume_per_anion_A3"]
        )

    def _compute(self, batch: Batch, out: np.ndarray) -> None:
        ox = batch.oxidation
        sums = batch.ionic_sums
        f = batch.fractions
        an_total = sums["anion"]
        has_an = an_total > 0
        safe_total = np.where(has_an, an_total, 1.0)
        li = batch.column("Li")
        cols: list[np.ndarray] = [li, ratio_or_nan(li, an_total)]
        cols += [sums[f"anion_{x}"] / safe_total for x in ANIONS]
        anion_table = (ox.table < 0) & ox.present
        cols.append(anion_table.sum(axis=1)[ox.assignment].astype(float))
        # entropy of the anion shares: ln T - sum_j f_j ln f_j / T over anion columns
        flogf = np.zeros_like(f)
        np.log(f, out=flogf, where=f > 0)
        flogf *= f
        an_flogf = batch.assignment_dot(flogf, anion_table[:, :, None].astype(float))[:, 0]
        entropy = np.where(has_an, np.log(safe_total) - an_flogf / safe_total, 0.0)
        cols.append(np.maximum(entropy, 0.0))
        for center, ligand, n in POLYANIONS.values():
            if center in batch.elements and ligand in batch.elements:
                jc, jl = batch.elements.index(center), batch.elements.index(ligand)
                ok = ((ox.table[:, jc] > 0) & (ox.table[:, jl] < 0))[ox.assignment]
                cols.append(np.where(ok, np.minimum(f[:, jc], f[:, jl] / n), 0.0))
            else:
                cols.append(np.zeros(len(batch)))
        an_amount = an_total * np.asarray(batch.atoms_per_formula)
        cols.append(ratio_or_nan(_li_vacancy(batch), an_amount))
        volume = sums["ion_volume"]
        cols.append(volume)
        cols.append(ratio_or_nan(volume, an_total))
        for i, col in enumerate(cols):
            out[i] = col

    def citations(self) -> list[str]:
        return [PYMATGEN, SHANNON]
