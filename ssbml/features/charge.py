"""Fast bounded search for oxidation states that balance a composition.

Each element takes one oxidation state (no mixed valence such as Fe2+/Fe3+ in Fe3O4),
chosen from its common states (``Element.common_oxidation_states``) and, at a penalty,
its other ICSD states (``Element.icsd_oxidation_states``); Li is always +1. Only
assignments consistent with electronegativity are considered: every element with a
negative state must be at least as electronegative (Pauling) as every element with a
positive state. Rows with the same set of elements share one enumeration of candidate
assignments; the charge of every candidate for every row is one matrix product, and each
row takes the candidate closest to neutral, then the one with fewest uncommon states.
The enumeration is bounded (at most :data:`MAX_CANDIDATES` candidates per element set:
uncommon states are dropped first), so no composition, whatever its denominators, costs
more than one small matrix product: pymatgen's exhaustive ``oxi_state_guesses`` is never
called.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ssbml.composition import ANION_ELEMENTS
from ssbml.features.arrays import group_rows
from ssbml.features.elements import column_index, oxidation_states, property_table

if TYPE_CHECKING:  # a batch's arrays only; Batch itself builds on this module
    from ssbml.features.batch import Batch

__all__ = [
    "ANION_ELEMENTS",
    "MAX_CANDIDATES",
    "ChargeAssignment",
    "assign_oxidation_states",
    "assigned_radii_pm",
    "candidate_states",
    "ionic_sums",
]

MAX_CANDIDATES = 2048
"""Largest number of candidate assignments enumerated for one element set."""

_TIE_TOL = 1e-9
_BLOCK = 2_000_000  # rows x candidates per matrix product


@dataclass(frozen=True)
class ChargeAssignment:
    """Oxidation states chosen for a batch.

    ``table`` (A, k) int: the distinct assignments (oxidation state of each element
    column, 0 where absent); ``assignment`` (n,) which one each row takes;
    ``imbalance`` (n,) net charge per atom of the row's assignment (e/atom; 0 when the
    composition balances); ``uncommon`` (A,) number of elements in a non-common state;
    ``present`` (A, k) bool the element set of each assignment.
    """

    table: np.ndarray
    present: np.ndarray
    assignment: np.ndarray
    imbalance: np.ndarray
    uncommon: np.ndarray


def candidate_states(
    symbols: tuple[str, ...], electronegativity: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate assignments for one element set: (states (c, m) int, penalty (c,) int)."""
    if len(symbols) == 1:
        return np.zeros((1, 1), dtype=np.int64), np.zeros(1, dtype=np.int64)
    options = [((1, 0),) if s == "Li" else oxidation_states(s) for s in symbols]
    # bound the enumeration: drop uncommon states, then the largest |state| ones
    while np.prod([len(o) for o in options], dtype=float) > MAX_CANDIDATES:
        j = int(np.argmax([len(o) + 10 * any(p for _, p in o) for o in options]))
        opts = list(options[j])
        if any(p for _, p in opts):
            opts = [o for o in opts if o[1] == 0] or opts[:1]
        else:
            opts.remove(max(opts, key=lambda o: abs(o[0])))
        options[j] = tuple(opts)
    combos = np.array(list(itertools.product(*options)), dtype=np.int64)  # (c, m, 2)
    states, penalty = combos[..., 0], combos[..., 1].sum(axis=1)
    x = np.where(np.isnan(electronegativity), 0.0, electronegativity)
    pos_max = np.where(states > 0, x[None, :], -np.inf).max(axis=1)
    neg_min = np.where(states < 0, x[None, :], np.inf).min(axis=1)
    ok = pos_max <= neg_min
    return states[ok], penalty[ok]


def assign_oxidation_states(batch: Batch) -> ChargeAssignment:
    """Best single-valence oxidation-state assignment for every row of a batch.

    Candidates without uncommon states are tried first; only rows that none of them
    balances are compared against the full candidate list.
    """
    n, k = batch.fractions.shape
    assignment = np.zeros(n, dtype=np.intp)
    imbalance = np.zeros(n)
    tables: list[np.ndarray] = []
    presents: list[np.ndarray] = []
    uncommon: list[np.ndarray] = []
    n_assign = 0
    x_all = property_table(impute_nan=False)[:, column_index("electronegativity_pauling")]
    group_present, inverse = batch.groups
    order, bounds = group_rows(inverse, len(group_present))
    for g, present in enumerate(group_present):
        rows = order[bounds[g] : bounds[g + 1]]
        cols = np.flatnonzero(present)
        symbols = tuple(batch.elements[j] for j in cols)
        cand, penalty = candidate_states(symbols, x_all[batch.z_index[cols]])
        frac = batch.fractions[rows][:, cols]
        pick = np.empty(len(rows), dtype=np.intp)
        q_best = np.empty(len(rows))
        common = np.flatnonzero(penalty == 0)
        todo = np.arange(len(rows))
        if 0 < len(common) < len(cand):
            q = frac @ cand[common].T.astype(float)
            a = np.abs(q)
            first = a.argmin(axis=1)
            done = a[np.arange(len(rows)), first] <= _TIE_TOL
            pick[done] = common[first[done]]
            q_best[done] = q[done, first[done]]
            todo = np.flatnonzero(~done)
        step = max(1, _BLOCK // max(1, len(cand)))
        for start in range(0, len(todo), step):
            sel = todo[start : start + step]
            q = frac[sel] @ cand.T.astype(float)  # (r, c) net charge per atom
            a = np.abs(q)
            tied = a <= a.min(axis=1, keepdims=True) + _TIE_TOL
            best = np.where(tied, penalty[None, :], np.iinfo(np.int64).max).argmin(axis=1)
            pick[sel] = best
            q_best[sel] = q[np.arange(len(sel)), best]
        used, local = np.unique(pick, return_inverse=True)
        table = np.zeros((len(used), k), dtype=np.int64)
        table[:, cols] = cand[used]
        tables.append(table)
        presents.append(np.repeat(present[None, :], len(used), axis=0))
        uncommon.append(penalty[used])
        assignment[rows] = n_assign + local.ravel()
        imbalance[rows] = q_best
        n_assign += len(used)
    return ChargeAssignment(
        np.vstack(tables) if tables else np.zeros((0, k), dtype=np.int64),
        np.vstack(presents) if presents else np.zeros((0, k), dtype=bool),
        assignment,
        imbalance,
        np.concatenate(uncommon) if uncommon else np.zeros(0, dtype=np.int64),
    )


def assigned_radii_pm(batch: Batch) -> np.ndarray:
    """(A, k) Shannon ionic radius (pm) of each element column in each distinct
    assignment of ``batch.oxidation.table`` (0 where the element is absent).

    Six-fold coordination where tabulated (see :func:`shannon_radius_pm`). Where pymatgen
    has no Shannon radius for the species (e.g. the hydride H-) an anion gets its van der
    Waals radius and a cation (or state 0) the element's mean ionic radius over its
    oxidation states (``Element.average_ionic_radius``), or its atomic radius when that is
    0.
    """
    from ssbml.features.elements import shannon_radius_pm

    table = batch.oxidation.table
    radii = np.zeros(table.shape)
    props = property_table(True)
    avg = props[batch.z_index, column_index("average_ionic_radius_pm")]
    vdw = props[batch.z_index, column_index("van_der_waals_radius_pm")]
    atomic = props[batch.z_index, column_index("atomic_radius_pm")]
    for a, states in enumerate(table):
        for j in np.flatnonzero(batch.oxidation.present[a]):
            r = shannon_radius_pm(batch.elements[j], int(states[j])) if states[j] else np.nan
            if not r > 0:
                r = vdw[j] if states[j] < 0 else (avg[j] if avg[j] > 0 else atomic[j])
            radii[a, j] = r
    return radii


def ionic_sums(batch: Batch) -> dict[str, np.ndarray]:
    """Fraction-weighted sums over cations / anions of the assigned species, one (n,)
    array per key: ``cation``, ``anion`` (atomic fractions), ``cation_charge``,
    ``anion_charge`` (e/atom), ``cation_x``, ``anion_x`` (Pauling X), ``cation_radius``,
    ``anion_radius`` (pm), ``ion_volume`` (cubic angstrom per atom, all ions) and
    ``anion_{X}`` for X in :data:`ssbml.composition.ANION_ELEMENTS`."""
    ox = batch.oxidation
    s = ox.table.astype(float)
    present = ox.present
    cat = (s > 0) & present
    an = (s < 0) & present
    x = property_table(True)[batch.z_index, column_index("electronegativity_pauling")]
    r = batch.radii_pm
    keys = ["cation", "anion", "cation_charge", "anion_charge", "cation_x", "anion_x",
            "cation_radius", "anion_radius", "ion_volume"]
    cols = [cat, an, cat * s, an * s, cat * x, an * x, cat * r, an * r,
            present * (4.0 / 3.0) * np.pi * (r / 100.0) ** 3]
    for el in ANION_ELEMENTS:
        keys.append(f"anion_{el}")
        cols.append(an * np.array([e == el for e in batch.elements]))
    weights = np.stack([np.asarray(c, dtype=float) for c in cols], axis=2)  # (A, k, q)
    sums = batch.assignment_dot(batch.fractions, weights)
    return {key: sums[:, i] for i, key in enumerate(keys)}
