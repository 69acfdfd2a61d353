"""Candidate compositions: charge-neutral substitutional doping of a parent electrolyte.

A dopant D (oxidation state q_D) replaces a fraction f of site S (oxidation state q_S,
amount n_S per formula unit), so x = f * n_S atoms of D enter. The charge this adds,
x * (q_D - q_S), is compensated by Li vacancies (positive) or Li interstitials
(negative): Li changes by -x * (q_D - q_S); on the Li site itself the substituted Li is
removed too. Every candidate is therefore charge-neutral by construction, and one whose
Li content would fall below zero is not generated.

The site of each dopant is, in order: the user's choice (``{"Al": "Li"}``), a
literature assignment for well-studied parents (e.g. Al and Ga on the Li site of
garnet LLZO), or the same-sign site with the closest Shannon radius (coordination VI)
and charge. The Li site is chosen by the heuristic only for +1 dopants.

Candidates are produced as an :class:`~ssbml.composition.ElementFractions` matrix plus
a small table of labels, in whole arrays (no per-candidate pymatgen objects).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from pymatgen.core import Composition, Element, Species

from ssbml.composition import CompositionError, ElementFractions, parse_formula

__all__ = [
    "DEFAULT_FRACTIONS",
    "LITERATURE_SITES",
    "Candidates",
    "DopantSite",
    "DopingError",
    "assign_sites",
    "generate_doped",
    "parent_oxidation_states",
]

DEFAULT_FRACTIONS = tuple(float(v) for v in np.round(np.arange(0.05, 0.501, 0.05), 3))
"""Default grid: fraction of the substituted site's atoms replaced by the dopant."""

LITERATURE_SITES: dict[str, dict[str, str]] = {
    # Garnet LLZO: Al3+, Ga3+ and Fe3+ occupy Li sites (24d/96h), stabilising the cubic
    # phase; Ta5+, Nb5+, Sb5+, W6+, Te6+ go to Zr; alkaline earths to La.
    # Geiger et al., Inorg. Chem. 50, 1089 (2011); Bernuy-Lopez et al., Chem. Mater. 26,
    # 3610 (2014); Rettenwander et al., Chem. Mater. 28, 2384 (2016).
    "Li7La3Zr2O12": {"Al": "Li", "Ga": "Li", "Fe": "Li", "Zn": "Li"},
}


_ANION_FORMERS = frozenset({"N", "O", "F", "S", "Cl", "Se", "Br", "Te", "I"})


class DopingError(ValueError):
    """A doping request that cannot produce charge-neutral candidates; says why."""


@dataclass(frozen=True)
class DopantSite:
    """Where a dopant goes: element, its oxidation state, the site element it replaces
    and that site's oxidation state, and which rule chose it."""

    dopant: str
    dopant_oxidation: int
    site: str
    site_oxidation: int
    rule: str


def parent_oxidation_states(parent: Composition) -> dict[str, int]:
    """Oxidation states that balance the parent, from bounded enumeration of each
    element's common states (most common first). Anion formers (N, O, F, S, Cl, Se, Br,
    Te, I) are tried as anions and every other element as a cation first; all signs
    only if that fails. Raises :class:`DopingError` if nothing balances."""
    elements = [el.symbol for el in parent.element_composition]
    amounts = np.array([parent.element_composition[el] for el in elements])
    for signed in (True, False):
        options = []
        for el in elements:
            states = [
                int(s)
                for s in (Element(el).common_oxidation_states or Element(el).oxidation_states)
                if s != 0
            ]
            if el == "Li":
                states = [1]
            elif signed:
                states = [s for s in states if (s < 0) == (el in _ANION_FORMERS)]
            options.append(states)
        if any(not o for o in options):
            continue
        best, best_key = None, None
        for combo in itertools.product(*[list(enumerate(o)) for o in options]):
            charges = np.array([q for _, q in combo], dtype=float)
            key = (round(abs(float(charges @ amounts)), 6), sum(rank for rank, _ in combo))
            if best_key is None or key < best_key:
                best, best_key = charges, key
        positive = float(np.clip(best, 0, None) @ amounts)
        # nominal formulas of real electrolytes (Li0.33La0.56TiO3) balance to within ~1 %
        if best_key[0] <= 0.02 * max(positive, 1e-12):
            return {el: int(q) for el, q in zip(elements, best, strict=True)}
    raise DopingError(
        f"parent {parent.formula} has no charge-balanced assignment of common oxidation "
        "states; give the dopant sites explicitly"
    )


@lru_cache(maxsize=512)
def _radius_angstrom(element: str, oxidation: int) -> float:
    """Shannon radius (coordination VI, high spin where it matters) in angstrom, falling
    back to pymatgen's average ionic radius."""
    sp = Species(element, oxidation)
    for spin in ("", "High Spin"):
        try:
            return float(sp.get_shannon_radius(cn="VI", spin=spin))
        except Exception:  # noqa: BLE001, S112 - pymatgen raises several types here
            continue
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        radius = sp.ionic_radius
    if radius is None:
        raise DopingError(f"no ionic radius known for {element}{oxidation:+d}")
    return float(radius)


def _dopant_states(dopant: str) -> list[int]:
    """Oxidation states a dopant may take: only negative ones for the anion formers
    (N, O, F, S, Cl, Se, Br, Te, I), only positive ones for every other element."""
    el = Element(dopant)
    states = list(el.common_oxidation_states) or list(el.oxidation_states)
    if dopant in _ANION_FORMERS:
        return [int(s) for s in states if s < 0]
    return [int(s) for s in states if s > 0]


def assign_sites(
    parent: Composition | str,
    dopants: Sequence[str],
    sites: Mapping[str, str] | None = None,
) -> list[DopantSite]:
    """Choose the site (and oxidation state) of every dopant in ``parent``.

    Raises :class:`DopingError` for an unknown dopant, a dopant already in the parent,
    a site not in the parent, or a dopant with no oxidation state of the site's sign.
    """
    comp = parse_formula(parent) if isinstance(parent, str) else parent
    oxi = parent_oxidation_states(comp)
    reduced = comp.reduced_formula
    literature = LITERATURE_SITES.get(reduced, {})
    sites = dict(sites or {})
    out = []
    for dopant in dopants:
        dopant = dopant.strip()
        if not dopant:
            raise DopingError("empty dopant name")
        if not Element.is_valid_symbol(dopant):
            raise DopingError(f"unknown dopant element {dopant!r}")
        if dopant in oxi:
            raise DopingError(f"dopant {dopant} is already in the parent {reduced}")
        states = _dopant_states(dopant)
        if not states:
            raise DopingError(f"dopant {dopant} has no known non-zero oxidation state")
        if dopant in sites:
            site, rule = sites[dopant], "user"
            if site not in oxi:
                raise DopingError(
                    f"site {site!r} for dopant {dopant} is not an element of {reduced} "
                    f"(sites: {', '.join(oxi)})"
                )
            choices = [site]
        elif dopant in literature:
            choices, rule = [literature[dopant]], "literature"
        else:
            rule = "heuristic"
            choices = [s for s in oxi if s != "Li" or any(q == 1 for q in states)]
        best: tuple[float, DopantSite] | None = None
        for site in choices:
            q_site = oxi[site]
            same_sign = [q for q in states if np.sign(q) == np.sign(q_site)]
            for q in same_sign:
                try:
                    r_d, r_s = _radius_angstrom(dopant, q), _radius_angstrom(site, q_site)
                except DopingError:
                    continue
                score = abs(r_d - r_s) / r_s + 0.3 * abs(q - q_site)
                if best is None or score < best[0]:
                    best = (score, DopantSite(dopant, q, site, q_site, rule))
        if best is None:
            signs = "cation" if all(oxi[s] > 0 for s in choices) else "anion"
            raise DopingError(
                f"dopant {dopant} (oxidation states {states}) cannot balance charge on "
                f"{'site ' + choices[0] if len(choices) == 1 else 'any ' + signs + ' site'} "
                f"of {reduced}"
            )
        out.append(best[1])
    return out


@dataclass(frozen=True)
class Candidates:
    """Generated candidates: the element-fraction matrix and one label row each
    (``candidate_id``, ``parent``, ``doping`` such as ``Ta@Zr:0.25+Al@Li:0.1``
    in dopant atoms per formula unit, and ``li_per_formula``)."""

    fractions: ElementFractions
    labels: pd.DataFrame

    def __len__(self) -> int:
        return len(self.fractions)

    def take(self, rows: slice | np.ndarray) -> Candidates:
        return Candidates(self.fractions.take(rows), self.labels.iloc[rows].reset_index(drop=True))

    @classmethod
    def concat(cls, parts: Sequence[Candidates]) -> Candidates:
        """Stack candidate sets (element columns aligned; ids renumbered 0..n-1)."""
        elements: list[str] = []
        for p in parts:
            elements += [e for e in p.fractions.elements if e not in elements]
        col = {e: j for j, e in enumerate(elements)}
        blocks = []
        for p in parts:
            block = np.zeros((len(p), len(elements)))
            block[:, [col[e] for e in p.fractions.elements]] = p.fractions.fractions
            blocks.append(block)
        ef = ElementFractions(
            np.concatenate(blocks),
            tuple(elements),
            np.concatenate([p.fractions.atoms_per_formula for p in parts]),
        )
        labels = pd.concat([p.labels for p in parts], ignore_index=True)
        labels["candidate_id"] = np.arange(len(labels), dtype=np.int64)
        return cls(ef, labels)


def generate_doped(
    parent: str | Composition,
    dopants: Sequence[str],
    *,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    sites: Mapping[str, str] | None = None,
    max_dopants: int = 2,
    include_parent: bool = True,
) -> Candidates:
    """All single and (up to ``max_dopants``) co-doped variants of ``parent`` over the
    grid ``fractions`` (fraction of the substituted site replaced, 0 < f <= 1).

    Co-dopants on the same site never replace more than the whole site; candidates that
    would need negative Li are left out. Raises :class:`DopingError` when no candidate
    at all can be made.
    """
    try:
        comp = parse_formula(parent) if isinstance(parent, str) else parent
    except CompositionError as err:
        raise DopingError(f"parent: {err}") from None
    grid = np.asarray(sorted(set(float(f) for f in fractions)))
    if grid.size == 0 or (grid <= 0).any() or (grid > 1).any():
        raise DopingError(f"doping fractions must lie in (0, 1], got {list(fractions)}")
    if not dopants:
        raise DopingError("no dopants given")
    if len(set(dopants)) != len(dopants):
        raise DopingError(f"repeated dopant in {list(dopants)}")
    assigned = assign_sites(comp, dopants, sites)

    parent_els = [el.symbol for el in comp.element_composition]
    # each dopant is written right after the element whose site it takes
    elements = [x for el in parent_els for x in [el] + [a.dopant for a in assigned if a.site == el]]
    col = {el: j for j, el in enumerate(elements)}
    base = np.zeros(len(elements))
    for el in parent_els:
        base[col[el]] = comp.element_composition[el]

    blocks, labels = [], []
    if include_parent:
        blocks.append(base[None, :])
        labels.append(np.array([""], dtype=object))
    for k in range(1, max(1, max_dopants) + 1):
        for combo in itertools.combinations(assigned, k):
            grids = np.meshgrid(*[grid] * k, indexing="ij")
            f = np.stack([g.ravel() for g in grids], axis=1)  # (m, k) site fractions
            amounts = np.repeat(base[None, :], len(f), axis=0)
            site_used: dict[str, np.ndarray] = {}
            for j, a in enumerate(combo):
                x = f[:, j] * base[col[a.site]]  # dopant atoms per formula unit
                amounts[:, col[a.dopant]] += x
                amounts[:, col[a.site]] -= x
                # charge compensation by Li vacancies (+) or interstitials (-)
                amounts[:, col["Li"]] -= x * (a.dopant_oxidation - a.site_oxidation)
                site_used[a.site] = site_used.get(a.site, 0) + f[:, j]
            ok = np.ones(len(f), dtype=bool)
            for used in site_used.values():
                ok &= used <= 1 + 1e-9
            ok &= amounts[:, col["Li"]] > 1e-9
            ok &= (amounts >= -1e-9).all(axis=1)
            if not ok.any():
                continue
            amounts, f = np.clip(amounts[ok], 0, None), f[ok]
            text = np.full(len(f), "", dtype=object)
            for j, a in enumerate(combo):
                x = np.round(f[:, j] * base[col[a.site]], 4)
                piece = np.char.add(f"{a.dopant}@{a.site}:", x.astype(str)).astype(object)
                text = piece if j == 0 else text + "+" + piece
            blocks.append(amounts)
            labels.append(text)
    if not blocks or sum(len(b) for b in blocks) == (1 if include_parent else 0):
        raise DopingError(
            f"no charge-neutral candidate of {comp.reduced_formula} with dopants "
            f"{', '.join(dopants)} on this grid (Li would become negative)"
        )
    amounts = np.concatenate(blocks)
    ef = ElementFractions.from_amounts(amounts, elements)
    label_df = pd.DataFrame(
        {
            "candidate_id": np.arange(len(amounts), dtype=np.int64),
            "parent": comp.reduced_formula,
            "doping": np.concatenate(labels),
            "li_per_formula": amounts[:, col["Li"]],
        }
    )
    label_df.attrs["sites"] = [vars(a) for a in assigned]
    return Candidates(ef, label_df)
