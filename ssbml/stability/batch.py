"""Phase-diagram stability for whole arrays of compositions at once.

For screening, every candidate is placed at the hull energy of its chemical system
(its own DFT energy is unknown) and gets, from one phase diagram per system:

* the electrochemical window (V vs Li/Li+), by the rule of
  :func:`ssbml.stability.window.electrochemical_window` (``zero`` or ``sign change``
  with the same ``rel_tol``);
* the equilibrium phases it decomposes into at that energy;
* the mutual reaction energy with each electrode (meV/atom of mixture; both reactants
  at their hull energies, Zhu, He and Mo, J. Mater. Chem. A 4, 3253 (2016)) with the
  electrolyte's atomic fraction at the minimum and the products.

The hull is held as its facets' chemical potentials ``mu_f`` (eV/atom, elements at 0):
the hull energy at fractions ``p`` is ``max_f mu_f . p``, the supporting planes at
``p`` are the facets attaining it, and along a tie line ``p(x) = x c1 + (1 - x) c2``
the hull is the upper envelope of the lines ``mu_f . p(x)``. Every quantity is then a
matrix product over (candidates x facets) plus a vectorized bisection for the
envelope's minimum, instead of one pymatgen profile or LP per composition. Tests and
``experiments/benchmarks/stability_batch.py`` check the numbers against pymatgen's
``get_element_profile`` and ``InterfacialReactivity``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from ssbml.stability.sources import (
    SOURCE_EXACT,
    SOURCE_MEANING,
    SOURCE_PHASE_DIAGRAM,
    UNCOVERED_PREFIX,
)
from ssbml.stability.tolerances import MIN_ZERO_WIDTH_V

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SOURCE_MEANING",
    "SystemHull",
    "covered",
    "hull_of",
    "mutual_reactions",
    "rxn_column",
    "stability_table",
    "windows",
]

ACTIVE_TOL_EV = 1e-9
"""eV/atom: a facet plane within this of the hull energy supports the hull at ``p``."""

_MAX_CUTS = 64


@dataclass(frozen=True)
class SystemHull:
    """The convex hull of one chemical system as arrays.

    ``elements`` (alphabetical), ``mu`` (n_facets, n_elements) facet chemical
    potentials in eV/atom (elements at 0), ``vertices`` (n_facets, n_elements) indices
    into ``phases`` (stable phase names), ``inverse`` (n_facets, n_elements,
    n_elements) maps fractions to barycentric coordinates in each facet.
    """

    elements: tuple[str, ...]
    mu: np.ndarray
    vertices: np.ndarray
    inverse: np.ndarray
    phases: tuple[str, ...]

    @classmethod
    def from_arrays(
        cls,
        elements: tuple[str, ...],
        fractions: np.ndarray,
        energies: np.ndarray,
        facets: np.ndarray,
        names: tuple[str, ...],
    ) -> SystemHull:
        """From hull points (atomic fractions in ``elements`` order, formation energies
        eV/atom) and facets (rows of point indices)."""
        A = fractions[facets]
        mu = np.linalg.solve(A, energies[facets][:, :, None])[:, :, 0]
        inverse = np.linalg.inv(np.transpose(A, (0, 2, 1)))
        return cls(elements, mu, facets, inverse, names)

    @property
    def vertex_names(self) -> frozenset[str]:
        """Names of the stable phases (hull vertices)."""
        return frozenset(self.phases[i] for i in np.unique(self.vertices))

    def products(self, p: np.ndarray, facet: np.ndarray, tol: float = 1e-9) -> np.ndarray:
        """Equilibrium phases at fractions ``p`` in the given facets, as strings
        ``"A + B + C"`` (atomic fractions above ``tol``)."""
        coords = np.einsum("nij,nj->ni", self.inverse[facet], p)
        keep = coords > tol
        key = np.concatenate([facet[:, None], keep.astype(np.int64)], axis=1)
        uniq, inv = np.unique(key, axis=0, return_inverse=True)
        labels = np.array(
            [
                " + ".join(sorted(self.phases[v] for v, k in zip(self.vertices[f], ks, strict=True)
                                  if k))
                for f, *ks in uniq
            ],
            dtype=object,
        )
        return labels[inv.ravel()]


@lru_cache(maxsize=4096)
def _hull(chemsys: str, exclude: frozenset[str]) -> SystemHull:
    """The hull from the reference table's points directly (no pymatgen PDEntry or
    Composition objects: the same qhull call and facet filter as
    ``PhaseDiagram._compute``, so the same facets)."""
    from pandas import unique as pd_unique
    from pymatgen.analysis.phase_diagram import PhaseDiagram, get_facets

    from ssbml.data.thermo import thermo_table
    from ssbml.stability.hull_lp import reference_points

    symbols = sorted(chemsys.split("-"))
    rows = thermo_table().within(symbols)
    if exclude:
        rows = rows[~rows["formula"].isin(exclude)]
    if len(symbols) > 2:
        # a compound of a proper subsystem is on this hull iff it is on its own
        # subsystem's hull (the hull restricted to a face of the simplex): qhull then
        # sees only those vertices plus this system's own compounds
        chems = rows["chemsys"].to_numpy()
        sub = [c for c in pd_unique(chems) if c != chemsys and "-" in c]
        vertices = set()
        for c in sub:
            vertices |= _hull(c, exclude).vertex_names
        own = chems == chemsys
        rows = rows[own | rows["formula"].isin(vertices).to_numpy() | (rows["n_elements"] == 1)]
    names, frac, energy = reference_points(symbols, rows)
    is_element = (frac > 0).sum(axis=1) == 1
    keep = np.flatnonzero((energy < -PhaseDiagram.formation_energy_tol) | is_element)
    pts, e = frac[keep], energy[keep]
    dim = len(symbols)
    if dim == 1:
        facets = np.zeros((1, 1), dtype=np.int64)
    else:
        data = np.column_stack([pts[:, 1:], e])
        extra = np.zeros(dim) + 1 / dim
        extra[-1] = np.max(data) + 1
        data = np.vstack([data, extra])
        facets = np.asarray(get_facets(data), dtype=np.int64).reshape(-1, dim)
        facets = facets[(facets != len(data) - 1).all(axis=1)]
        mats = data[facets]
        mats[:, :, -1] = 1
        facets = facets[np.abs(np.linalg.det(mats)) > 1e-14]
    return SystemHull.from_arrays(tuple(symbols), pts, e, facets, tuple(names[i] for i in keep))


def hull_of(elements, exclude: frozenset[str] = frozenset()) -> SystemHull:
    """The :class:`SystemHull` of a chemical system (cached per system and exclusion
    set), from the reference phase diagram minus the phases in ``exclude``."""
    return _hull("-".join(sorted(set(elements))), frozenset(exclude))


def _mu_li_range(
    hull: SystemHull, p: np.ndarray, j: int, m: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(min, max) mu_Li (eV) over the facets supporting the hull at each row of ``p``;
    ``m`` is ``p @ hull.mu.T`` if already computed."""
    m = p @ hull.mu.T if m is None else m
    top = m.max(axis=1, keepdims=True)
    active = m >= top - ACTIVE_TOL_EV
    mu_li = np.broadcast_to(hull.mu[:, j], m.shape)
    lo = np.where(active, mu_li, np.inf).min(axis=1)
    hi = np.where(active, mu_li, -np.inf).max(axis=1)
    return lo, hi


def windows(
    hull: SystemHull, amounts: np.ndarray, rel_tol: float = 0.05, m: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Electrochemical windows (reduction V, oxidation V vs Li/Li+, method ``"zero"``
    or ``"sign change"``) of compositions at their hull energy.

    ``amounts`` (n, n_elements) are atoms per formula unit in the hull's element
    order. Same rule as :meth:`ssbml.stability.hull_lp.HullLP.window`. ``m`` is
    ``fractions @ hull.mu.T`` of these compositions if already computed.
    """
    j = hull.elements.index("Li")
    n_li = amounts[:, j]
    p = amounts / amounts.sum(axis=1, keepdims=True)
    lo, hi = _mu_li_range(hull, p, j, m)
    zero = (hi - lo) > MIN_ZERO_WIDTH_V
    red = -hi + 0.0
    ox = -lo + 0.0
    if (~zero).any():
        rows = np.flatnonzero(~zero)
        sub = amounts[rows]
        plus = sub.copy()
        plus[:, j] += rel_tol * n_li[rows]
        minus = sub.copy()
        minus[:, j] -= rel_tol * n_li[rows]
        _, hi_plus = _mu_li_range(hull, plus / plus.sum(axis=1, keepdims=True), j)
        lo_minus, _ = _mu_li_range(hull, minus / minus.sum(axis=1, keepdims=True), j)
        red[rows] = -hi_plus + 0.0
        ox[rows] = -lo_minus + 0.0
    method = np.where(zero, "zero", "sign change")
    return red, ox, method


def _envelope_minimum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x in [0, 1] minimizing ``max_k (a[:, k] x + b[:, k])`` for every row, exactly.

    Cutting planes in 1D: keep the steepest-descending line active at the left end
    (slope <= 0) and the steepest-ascending one active at the right end (slope >= 0);
    their crossing ``x*`` minimizes the maximum of the two, a lower bound of the
    envelope. If the envelope equals that bound at ``x*`` it is the minimum; otherwise
    the line active at ``x*`` replaces the one on its side. Each line enters at most
    once, so this ends after a few steps (at most :data:`_MAX_CUTS`, then bisection
    finishes the rare rest).
    """
    n, k = a.shape
    rows = np.arange(n)
    at0 = b  # values at x = 0
    at1 = a + b
    top0 = at0.max(axis=1, keepdims=True)
    top1 = at1.max(axis=1, keepdims=True)
    left = np.argmin(np.where(at0 >= top0 - 1e-14, a, np.inf), axis=1)
    right = np.argmax(np.where(at1 >= top1 - 1e-14, a, -np.inf), axis=1)
    x = np.full(n, np.nan)
    x[a[rows, left] >= 0] = 0.0  # rises from the left end: minimum at x = 0
    x[a[rows, right] <= 0] = 1.0  # still falls at the right end: minimum at x = 1
    todo = np.flatnonzero(np.isnan(x))
    for _ in range(_MAX_CUTS):
        if todo.size == 0:
            break
        li, ri = left[todo], right[todo]
        al, bl, ar, br = a[todo, li], b[todo, li], a[todo, ri], b[todo, ri]
        with np.errstate(divide="ignore", invalid="ignore"):
            xs = np.where(np.abs(al - ar) > 1e-15, (br - bl) / (al - ar), 0.5)
        xs = np.clip(xs, 0.0, 1.0)
        vals = a[todo] * xs[:, None] + b[todo]
        k_star = np.argmax(vals, axis=1)
        f = vals[np.arange(todo.size), k_star]
        bound = np.maximum(al * xs + bl, ar * xs + br)
        done = f <= bound + 1e-13
        x[todo[done]] = xs[done]
        up = a[todo, k_star] > 0
        right[todo[~done & up]] = k_star[~done & up]
        left[todo[~done & ~up]] = k_star[~done & ~up]
        todo = todo[~done]
    if todo.size:  # pathological rows: bisection on the slope of the active line
        lo, hi = np.zeros(todo.size), np.ones(todo.size)
        sub_a, sub_b = a[todo], b[todo]
        idx = np.arange(todo.size)
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            up = sub_a[idx, np.argmax(sub_a * mid[:, None] + sub_b, axis=1)] > 0
            hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
        x[todo] = 0.5 * (lo + hi)
    return x


def mutual_reactions(
    hull: SystemHull, c1: np.ndarray, c2: np.ndarray, m1: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Most negative mutual reaction energy (eV/atom of mixture) of each row of ``c1``
    (fractions, n x d) with the single composition ``c2`` (fractions, d), both at their
    hull energies; returns (energy <= 0, x = atomic fraction of ``c1`` at the minimum or
    NaN when they do not react). ``m1`` is ``c1 @ hull.mu.T`` if already computed.

    The envelope ``F(x) = max_f [x u_f + (1 - x) v_f]`` with ``u_f = mu_f . c1 - E(c1)``
    and ``v_f = mu_f . c2 - E(c2)`` is convex with F(0) = F(1) = 0; its minimum on (0, 1)
    is found exactly by 1D cutting planes (:func:`_envelope_minimum`). Lines that can
    never reach the envelope (below its lower bound ``max_f min(u_f, v_f)`` at both
    ends) are pruned first.
    """
    n = len(c1)
    m1 = c1 @ hull.mu.T if m1 is None else m1  # (n, f)
    u = m1 - m1.max(axis=1, keepdims=True)
    m2 = hull.mu @ c2  # (f,)
    v = m2 - m2.max()
    bound = np.minimum(u, v[None, :]).max(axis=1, keepdims=True)
    relevant = (np.maximum(u, v[None, :]) >= bound - 1e-12).any(axis=0)
    cols = np.flatnonzero(relevant)
    b = np.broadcast_to(v[cols], (n, cols.size))  # intercepts
    a = u[:, cols] - b  # slopes
    x = _envelope_minimum(a, b)
    energy = (a * x[:, None] + b).max(axis=1)
    reacts = energy < -1e-9  # eV/atom; at x = 0 or 1 the mutual energy is 0 by definition
    return np.where(reacts, energy, 0.0), np.where(reacts, x, np.nan)


MAX_REACTION_ELEMENTS = 10
"""Most elements in an electrolyte + electrode system for which reactions are computed
(larger hulls take minutes to build); beyond it the reaction is NaN with a reason."""


def rxn_column(electrode: str) -> str:
    """Column name of the mutual reaction energy (meV/atom) with ``electrode``."""
    return f"rxn_{electrode}_meV_atom"


def _present_groups(amounts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    present = amounts > 0
    uniq, inv = np.unique(present, axis=0, return_inverse=True)
    return uniq, inv.ravel()


def covered(elements, *, max_elements: int | None = None) -> str | None:
    """None when the reference table covers the chemical system of ``elements``, else
    the reason it does not."""
    from ssbml.data.thermo import thermo_table
    from ssbml.stability.reference import MAX_ELEMENTS

    limit = MAX_ELEMENTS if max_elements is None else max_elements
    missing = sorted(set(elements) - thermo_table().elements)
    if missing:
        return f"element(s) {', '.join(missing)} in no compound of the reference table"
    if len(set(elements)) > limit:
        return f"{len(set(elements))} elements (at most {limit})"
    return None


def stability_table(
    amounts: np.ndarray,
    elements: tuple[str, ...],
    *,
    electrodes: tuple[str, ...] = ("Li", "LiCoO2"),
    exclude: frozenset[str] = frozenset(),
    rel_tol: float = 0.05,
    products: bool = True,
) -> pd.DataFrame:
    """Phase-diagram stability of every composition (rows of ``amounts``, atoms per
    formula unit in the columns ``elements``), one hull per chemical system.

    Columns: ``reduction_V``, ``oxidation_V`` (V vs Li/Li+), ``window_method``,
    ``equilibrium_phases`` (at the hull energy), ``e_above_hull_meV_atom`` and
    ``decomposition_energy_meV_atom`` (reference compounds only, else NaN), per
    electrode ``rxn_<E>_meV_atom`` (mutual, <= 0), ``rxn_<E>_total_meV_atom``
    (including the electrolyte's own decomposition energy at the same ratio),
    ``rxn_<E>_ratio`` (electrolyte atomic fraction; NaN = no reaction), and
    ``stability_source`` (``exact``, ``phase diagram``, or ``uncovered: <reason>``
    for rows the reference cannot handle, whose numbers are NaN). Compositions whose
    reduced formula is in the reference table are recognised as reference compounds.
    """
    import pandas as pd

    from ssbml.stability.interface import get_electrode
    from ssbml.stability.reference import normalize_excluded

    exclude = normalize_excluded(exclude)
    n = len(amounts)
    nan = np.full(n, np.nan)
    out: dict[str, np.ndarray] = {
        "reduction_V": nan.copy(),
        "oxidation_V": nan.copy(),
        "window_method": np.full(n, None, dtype=object),
        "equilibrium_phases": np.full(n, None, dtype=object),
        "e_above_hull_meV_atom": nan.copy(),
        "decomposition_energy_meV_atom": nan.copy(),
        "stability_source": np.full(n, "", dtype=object),
    }
    elecs = [get_electrode(e) for e in electrodes]
    for e in elecs:
        for suffix in ("_meV_atom", "_total_meV_atom", "_ratio"):
            out[f"rxn_{e.name}{suffix}"] = nan.copy()
    amounts = np.asarray(amounts, dtype=float)
    # eV/atom above the hull, reference compounds only
    own_excess = _apply_reference(out, amounts, elements, exclude)
    masks, group = _present_groups(amounts)
    for g, mask in enumerate(masks):
        rows = np.flatnonzero(group == g)
        system = tuple(el for el, m in zip(elements, mask, strict=True) if m)
        why = covered(system)
        if why is not None:
            out["stability_source"][rows] = f"{UNCOVERED_PREFIX}{why}"
            continue
        hull = hull_of(system, exclude)
        am = _reorder(amounts[rows], elements, hull.elements)
        p = am / am.sum(axis=1, keepdims=True)
        m = p @ hull.mu.T  # supporting planes at every candidate: shared below
        red, ox, method = windows(hull, am, rel_tol, m)
        out["reduction_V"][rows], out["oxidation_V"][rows] = red, ox
        out["window_method"][rows] = method
        if products:
            out["equilibrium_phases"][rows] = hull.products(p, np.argmax(m, axis=1))
        src = out["stability_source"]
        src[rows] = np.where(src[rows] == SOURCE_EXACT, SOURCE_EXACT, SOURCE_PHASE_DIAGRAM)
        for e in elecs:
            e_system = tuple(sorted(set(system) | {el.symbol for el in e.composition.elements}))
            col = f"rxn_{e.name}"
            why = covered(e_system, max_elements=MAX_REACTION_ELEMENTS)
            if why is not None:
                continue
            c2_of = e.composition.get_atomic_fraction
            if e_system == hull.elements:  # Li metal: the candidate's own hull
                c2 = np.array([c2_of(el) for el in hull.elements])
                energy, x = mutual_reactions(hull, p, c2, m)
            else:
                ehull = hull_of(e_system, exclude)
                c1 = _reorder(amounts[rows], elements, ehull.elements)
                c1 = c1 / c1.sum(axis=1, keepdims=True)
                c2 = np.array([c2_of(el) for el in ehull.elements])
                energy, x = mutual_reactions(ehull, c1, c2)
            out[f"{col}_meV_atom"][rows] = 1000.0 * energy + 0.0
            out[f"{col}_ratio"][rows] = x
            total = energy - np.nan_to_num(x) * own_excess[rows]
            out[f"{col}_total_meV_atom"][rows] = 1000.0 * total + 0.0
    return pd.DataFrame(out)


def _reorder(amounts: np.ndarray, elements: tuple[str, ...], target: tuple[str, ...]):
    col = {el: k for k, el in enumerate(elements)}
    out = np.zeros((amounts.shape[0], len(target)))
    for j, el in enumerate(target):
        k = col.get(el)
        if k is not None:
            out[:, j] = amounts[:, k]
    return out


_MULTIPLIERS = (1, 2, 3, 4, 5, 6, 8, 10)


def integer_formula_rows(amounts: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """Rows whose amounts become whole numbers with a multiplier up to 10 (only those
    can be reference compounds)."""
    ok = np.zeros(len(amounts), dtype=bool)
    for m in _MULTIPLIERS:
        scaled = amounts * m
        ok |= (np.abs(scaled - np.round(scaled)) < tol).all(axis=1)
    return np.flatnonzero(ok)


def _apply_reference(
    out: dict, amounts: np.ndarray, elements: tuple[str, ...], exclude: frozenset[str]
) -> np.ndarray:
    """Mark reference compounds ``exact`` and fill their energy above hull and
    decomposition energy (meV/atom); returns their excess over the hull (eV/atom).

    Distinct integer compositions are looked up once each."""
    import warnings

    from pymatgen.core import Composition

    from ssbml.data.thermo import thermo_table
    from ssbml.stability.decomposition import decomposition
    from ssbml.stability.reference import StabilityInputError, phase_diagram

    table = thermo_table()
    excess = np.zeros(len(amounts))
    rows = integer_formula_rows(amounts)
    if rows.size == 0:
        return excess
    uniq, inv = np.unique(np.round(amounts[rows], 6), axis=0, return_inverse=True)
    inv = inv.ravel()
    for u, vec in enumerate(uniq):
        comp = Composition({el: float(v) for el, v in zip(elements, vec, strict=True) if v > 0})
        red = comp.reduced_formula
        if red in exclude or table.lookup(red) is None:
            continue
        try:
            pd_ = phase_diagram((el.symbol for el in comp.elements), exclude=exclude)
            d = decomposition(red, pd=pd_)
        except (StabilityInputError, RuntimeError, ValueError) as err:
            warnings.warn(
                f"exact stability of {red} failed ({err}); placed at the hull energy instead",
                RuntimeWarning,
                stacklevel=3,
            )
            continue
        hit = rows[inv == u]
        out["e_above_hull_meV_atom"][hit] = d.e_above_hull_meV_atom
        out["decomposition_energy_meV_atom"][hit] = d.decomposition_energy_meV_atom
        out["stability_source"][hit] = SOURCE_EXACT
        excess[hit] = d.e_above_hull_meV_atom / 1000.0
    return excess
