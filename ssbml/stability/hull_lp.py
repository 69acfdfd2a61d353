"""Convex-hull queries as small linear programs (HiGHS): the fast path of the label
generator.

pymatgen answers hull questions by walking every facet in Python (tens of ms per
query in a 5-element system). The same answers are linear programs over the stable
phases ``i`` (atomic-fraction vectors ``a_i``, formation energies ``E_i`` eV/atom):

* hull energy at ``p``: ``min sum n_i E_i`` s.t. ``sum n_i a_i = p``, ``n >= 0``;
* chemical potentials at ``p`` (eV, elements at 0): every ``mu`` with ``a_i . mu <= E_i``
  and ``p . mu = E_hull(p)``; the Li window is the range of ``mu_Li`` over that set;
* most negative reaction of ``c1`` and ``c2``: the hull LP with ``p = x c1 + (1-x) c2``
  and ``x`` a variable, minus ``x E(c1) + (1-x) E(c2)``.

:mod:`ssbml.stability.window` and :mod:`ssbml.stability.interface` are the reference
implementations (pymatgen); tests check that both agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pymatgen.analysis.phase_diagram import PhaseDiagram
from pymatgen.core import Composition
from scipy.optimize import linprog

from ssbml.stability.tolerances import MIN_ZERO_WIDTH_V

__all__ = ["HullLP"]

_EPS = 1e-9  # eV/atom slack on the supporting-plane equality


@lru_cache(maxsize=200_000)
def _fractions(formula: str) -> tuple[tuple[str, float], ...]:
    comp = Composition(formula)
    return tuple((el.symbol, comp.get_atomic_fraction(el)) for el in comp.elements)


def reference_points(symbols, rows) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(names, atomic fractions in the order of ``symbols``, formation energies eV/atom)
    of the reference-table ``rows`` (a :meth:`FormationEnergyTable.within` frame), plus
    each element of ``symbols`` the rows lack, at 0 eV/atom."""
    names = list(rows["formula"])
    energies = list(rows["e_form_eV_atom"].astype(float))
    col = {el: j for j, el in enumerate(symbols)}
    fractions = np.zeros((len(names) + len(symbols), len(symbols)))
    for i, name in enumerate(names):
        for el, x in _fractions(name):
            fractions[i, col[el]] = x
    present = set(rows.loc[rows["n_elements"] == 1, "chemsys"])
    for el in symbols:  # elements missing from the table, at 0 eV/atom
        if el not in present:
            fractions[len(names), col[el]] = 1.0
            names.append(el)
            energies.append(0.0)
    return names, fractions[: len(names)], np.array(energies)


@dataclass
class HullLP:
    """Phases of a chemical system as arrays (atomic fractions, formation energies
    eV/atom), for LP queries; phases above the hull may be included."""

    elements: tuple[str, ...]
    fractions: np.ndarray  # (n_stable, n_elements)
    energies: np.ndarray  # (n_stable,) eV/atom
    names: tuple[str, ...]

    @classmethod
    def from_phase_diagram(cls, pd: PhaseDiagram) -> HullLP:
        """From every entry of ``pd``, stable or not (the LPs only need the points)."""
        entries = sorted(pd.all_entries, key=lambda e: e.name)
        fractions = np.array(
            [[e.composition.get_atomic_fraction(el) for el in pd.elements] for e in entries]
        )
        energies = np.array([e.energy_per_atom for e in entries])  # elements at 0 eV/atom
        return cls(tuple(el.symbol for el in pd.elements), fractions, energies,
                   tuple(e.name for e in entries))

    @classmethod
    def from_reference(cls, elements: Iterable[str]) -> HullLP:
        """From every reference-table compound within ``elements`` (no convex hull is
        built: the LPs only need the points)."""
        from ssbml.data.thermo import thermo_table

        symbols = tuple(sorted(set(elements)))
        names, fractions, energies = reference_points(symbols, thermo_table().within(symbols))
        return cls(symbols, fractions, energies, tuple(names))

    def vector(self, comp: Composition) -> np.ndarray:
        """Atomic-fraction vector of ``comp`` in this diagram's element order."""
        extra = {el.symbol for el in comp.elements} - set(self.elements)
        if extra:
            raise ValueError(f"{comp.reduced_formula}: element(s) {sorted(extra)} not in diagram")
        return np.array([comp.get_atomic_fraction(el) for el in self.elements])

    def hull_energy(self, p: np.ndarray) -> float:
        """Hull formation energy (eV/atom) at fractions ``p``."""
        res = linprog(
            self.energies, A_eq=self.fractions.T, b_eq=p, bounds=(0, None), method="highs"
        )
        if res.status != 0:
            raise RuntimeError(f"hull LP failed: {res.message}")
        return float(res.fun)

    def mu_range(
        self,
        p: np.ndarray,
        element: str = "Li",
        *,
        hull: float | None = None,
        sides: tuple[str, ...] = ("min", "max"),
    ) -> tuple[float, float]:
        """(min, max) chemical potential (eV, vs the element at 0) of ``element`` over
        every supporting plane of the hull at ``p``.

        ``hull`` is the hull energy (eV/atom) at ``p`` if already known; only the
        bounds named in ``sides`` are solved for, the others are NaN.
        """
        h = self.hull_energy(p) if hull is None else hull
        j = self.elements.index(element)
        a_ub = np.vstack([self.fractions, -p])
        b_ub = np.append(self.energies, -h + _EPS)
        out = [np.nan, np.nan]
        for k, (side, sign) in enumerate((("min", 1.0), ("max", -1.0))):
            if side not in sides:
                continue
            c = np.zeros(len(self.elements))
            c[j] = sign
            res = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(None, None), method="highs")
            if res.status != 0:
                raise RuntimeError(f"chemical-potential LP failed: {res.message}")
            out[k] = float(res.x[j])
        return out[0], out[1]

    def window(
        self, comp: Composition, rel_tol: float = 0.05, *, hull: float | None = None
    ) -> tuple[float, float, str]:
        """(reduction V, oxidation V, method) with the rule of
        :func:`ssbml.stability.window.electrochemical_window`; ``hull`` is the hull
        energy (eV/atom) at ``comp`` if already known."""
        lo, hi = self.mu_range(self.vector(comp), hull=hull)
        if hi - lo > MIN_ZERO_WIDTH_V:
            return -hi + 0.0, -lo + 0.0, "zero"
        n_li = float(comp["Li"])
        plus = comp + Composition({"Li": rel_tol * n_li})
        minus = comp - Composition({"Li": rel_tol * n_li})
        _, hi_plus = self.mu_range(self.vector(plus), sides=("max",))
        lo_minus, _ = self.mu_range(self.vector(minus), sides=("min",))
        return -hi_plus + 0.0, -lo_minus + 0.0, "sign change"

    def min_reaction(
        self, c1: np.ndarray, e1: float, c2: np.ndarray, e2: float
    ) -> tuple[float, float, tuple[str, ...]]:
        """Most negative reaction energy (eV/atom of mixture) along the tie line of
        fractions ``c1`` (energy ``e1`` eV/atom) and ``c2``; returns (energy, x, products)
        with ``x`` the atomic fraction of ``c1``."""
        n = len(self.energies)
        cost = np.append(self.energies, -(e1 - e2))
        a_eq = np.hstack([self.fractions.T, -(c1 - c2)[:, None]])
        bounds = [(0, None)] * n + [(0, 1)]
        res = linprog(cost, A_eq=a_eq, b_eq=c2, bounds=bounds, method="highs")
        if res.status != 0:
            raise RuntimeError(f"reaction LP failed: {res.message}")
        amounts = res.x[:n]
        products = tuple(sorted(self.names[i] for i in np.flatnonzero(amounts > 1e-9)))
        return float(res.fun - e2), float(res.x[n]), products

    def separation_energy(self, p: np.ndarray, name: str, e: float) -> float:
        """Energy (eV/atom) of the phase ``name`` (energy ``e``) relative to the hull
        of the *other* stable phases at its composition (negative when stable)."""
        keep = np.array([n != name for n in self.names])
        res = linprog(
            self.energies[keep], A_eq=self.fractions[keep].T, b_eq=p, bounds=(0, None),
            method="highs",
        )
        if res.status != 0:
            raise RuntimeError(f"separation LP failed: {res.message}")
        return e - float(res.fun)
