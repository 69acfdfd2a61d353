"""Candidate compositions: charge-neutral substitutional doping of a parent electrolyte.

A dopant D (oxidation state q_D) replaces x atoms per formula unit of site S (oxidation
state q_S, n_S atoms per formula unit as the parent is written). The charge this adds,
x * (q_D - q_S), is compensated by Li vacancies (positive) or Li interstitials
(negative): Li changes by -x * (q_D - q_S); on the Li site itself the substituted Li is
removed too. Every candidate is therefore charge-neutral by construction.

**Amounts** are dopant atoms per formula unit (``Ta@Zr:0.6`` is Li6.4La3Zr1.4Ta0.6O12),
on a grid per dopant, in this order of precedence: the user's grid for that dopant, the
user's grid for all dopants, a literature grid for well-studied parents
(:data:`PARENT_RULES`: Al, Ga, Fe 0.05-0.4 on the Li site of LLZO; Ta, Nb, Sb 0.1-1.0
on Zr; Cl, Br, I 0.05-0.6 on the S site of the argyrodites), else
:data:`DEFAULT_AMOUNTS` (0.05-1.0, stopping at the site's size). The legacy grid of site
fractions (``fractions``, x = f * n_S) is still accepted.

**Rules** (documented defaults, all overridable); a candidate that breaks any of them is
not made but listed in ``Candidates.rejected`` with every reason:

* ``site_size``: the dopants on one site together replace more than the whole site;
* ``negative_li``: charge cannot be balanced, the Li vacancies would need Li <= 0;
* ``min_li``: Li per formula unit below ``min_li`` (default
  :data:`DEFAULT_MIN_LI_FRACTION` = 70 % of the parent's Li: 4.9 for Li7La3Zr2O12, 2.1
  for Li3PS4): Li-poor garnets and thiophosphates lose the carriers they are screened for;
* ``site_cap``: dopants replace more than ``max_site_fraction`` of one site (default
  :data:`DEFAULT_MAX_SITE_FRACTION` = 0.5: beyond half a site it is another host);
* ``solubility_cap``: total dopant atoms per formula unit above ``solubility_cap`` (no
  cap by default; 1.2 for Li7La3Zr2O12, :data:`PARENT_RULES`).

The site of each dopant is, in order: the user's choice (``{"Al": "Li"}``), a
literature assignment for well-studied parents (e.g. Al and Ga on the Li site of
garnet LLZO, Cl on the S site of Li6PS5Cl), or the same-sign site with the closest
Shannon radius (coordination VI) and charge. The Li site is chosen by the heuristic only
for +1 dopants. A dopant may be an element of the parent (Cl in Li6PS5Cl gives the
halide-rich argyrodites Li6-xPS5-xCl1+x); it keeps its parent oxidation state and
goes to another site.

**Doped parents.** A parent that already carries dopants (Li6.25Al0.25La3Zr2O12,
Li6.4La3Zr1.4Ta0.6O12) is read as its host (:func:`match_host`: a parent of
:data:`PARENT_RULES` whose elements are the parent's minus known dopants of that host,
at the host's stoichiometry within 50 %) with *guests* on host sites (Al on Li, Ta on
Zr); with a parent structure the guests come from the structure's shared sites
instead. The host's literature sites and grids then apply, a new dopant never takes a
guest's place (Ga goes to the Li site of Al-LLZO, not onto Al), the guests count
towards the solubility cap and the site cap, and the Li minimum is 70 % of the host's
Li (4.9 for every garnet).

Candidates are produced as an :class:`~ssbml.composition.ElementFractions` matrix plus
a small table of labels, in whole arrays (no per-candidate pymatgen objects).
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import NamedTuple

import numpy as np
import pandas as pd
from pymatgen.core import Composition, Element, Species

from ssbml.composition import ANION_FORMERS, CompositionError, ElementFractions, parse_formula
from ssbml.errors import SsbmlError

__all__ = [
    "DEFAULT_AMOUNTS",
    "DEFAULT_FRACTIONS",
    "DEFAULT_MAX_SITE_FRACTION",
    "DEFAULT_MIN_LI_FRACTION",
    "LITERATURE_SITES",
    "PARENT_RULES",
    "REJECTED_COLUMNS",
    "Candidates",
    "DopantSite",
    "DopingError",
    "HostMatch",
    "ParentRules",
    "Substitution",
    "assign_sites",
    "doping_plan_text",
    "generate_doped",
    "match_host",
    "parent_oxidation_states",
]

DEFAULT_AMOUNTS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75, 1.0)
"""Default grid: dopant atoms per formula unit (values above the site's size are dropped)."""

DEFAULT_FRACTIONS = tuple(float(v) for v in np.round(np.arange(0.05, 0.501, 0.05), 3))
"""Legacy grid: fraction of the substituted site's atoms replaced (used only when asked)."""

DEFAULT_MIN_LI_FRACTION = 0.7
"""Default lowest Li per formula unit, as a fraction of the parent's Li."""

DEFAULT_MAX_SITE_FRACTION = 0.5
"""Default most of one site the dopants may replace together."""

_GARNET_LI_SITE = tuple(float(v) for v in np.round(np.arange(0.05, 0.401, 0.05), 3))
_GARNET_ZR_SITE = (0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0)
_ARGYRODITE_HALIDE = tuple(float(v) for v in np.round(np.arange(0.05, 0.601, 0.05), 3))


@dataclass(frozen=True)
class ParentRules:
    """Literature defaults for one parent: dopant grids (atoms per formula unit of the
    reduced formula), the solubility cap and the site cap; ``source`` says where from."""

    amounts: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    solubility_cap: float | None = None
    max_site_fraction: float = DEFAULT_MAX_SITE_FRACTION
    min_li_fraction: float = DEFAULT_MIN_LI_FRACTION
    source: str = ""


PARENT_RULES: dict[str, ParentRules] = {
    # Al3+/Ga3+ on the Li site stabilise cubic LLZO at 0.1-0.4 per formula unit
    # (Li6.25Al0.25La3Zr2O12, Li6.4Ga0.2La3Zr2O12); Ta5+/Nb5+ on Zr over 0.1-1.0 with the
    # conductivity maximum near 0.5-0.6 (Li6.4La3Zr1.4Ta0.6O12). Total cap 1.2 per formula
    # unit (e.g. Ta0.6 + Al0.2 co-doping stays inside it, Ta1.0 + Ga0.4 does not).
    "Li7La3Zr2O12": ParentRules(
        amounts={
            "Al": _GARNET_LI_SITE,
            "Ga": _GARNET_LI_SITE,
            "Fe": _GARNET_LI_SITE,
            "Ta": _GARNET_ZR_SITE,
            "Nb": _GARNET_ZR_SITE,
            "Sb": _GARNET_ZR_SITE,
        },
        solubility_cap=1.2,
        source="Geiger et al., Inorg. Chem. 50, 1089 (2011); Bernuy-Lopez et al., Chem. "
        "Mater. 26, 3610 (2014); Li, Han, Wang, Xie and Goodenough, J. Mater. Chem. 22, "
        "15357 (2012)",
    ),
    # halide-rich argyrodites Li6-xPS5-xX1+x: X on the S site with Li vacancies, up to
    # about x = 0.5 (Li5.5PS4.5Cl1.5); the grid runs to x = 0.6
    "Li6PS5Cl": ParentRules(
        amounts={"Cl": _ARGYRODITE_HALIDE, "Br": _ARGYRODITE_HALIDE},
        source="Adeli et al., Angew. Chem. Int. Ed. 58, 8681 (2019)",
    ),
    "Li6PS5Br": ParentRules(
        amounts={"Br": _ARGYRODITE_HALIDE, "Cl": _ARGYRODITE_HALIDE},
        source="Adeli et al., Angew. Chem. Int. Ed. 58, 8681 (2019)",
    ),
}
"""Per-parent defaults (keyed by reduced formula); other parents use the generic ones."""

LITERATURE_SITES: dict[str, dict[str, str]] = {
    # Garnet LLZO: Al3+, Ga3+ and Fe3+ occupy Li sites (24d/96h), stabilising the cubic
    # phase; Ta5+, Nb5+, Sb5+, W6+, Te6+ go to Zr; alkaline earths to La.
    # Geiger et al., Inorg. Chem. 50, 1089 (2011); Bernuy-Lopez et al., Chem. Mater. 26,
    # 3610 (2014); Rettenwander et al., Chem. Mater. 28, 2384 (2016).
    "Li7La3Zr2O12": {"Al": "Li", "Ga": "Li", "Fe": "Li", "Zn": "Li"},
    # halide-rich argyrodites: the extra halide takes the S (4d) site, Adeli et al. (2019)
    "Li6PS5Cl": {"Cl": "S"},
    "Li6PS5Br": {"Br": "S"},
}

REJECTED_COLUMNS = (
    "parent",
    "doping",
    "composition",
    "li_per_formula",
    "dopant_per_formula",
    "rule",
    "reason",
)
"""Columns of :attr:`Candidates.rejected`: ``rule`` is the first rule broken
(site_size, negative_li, min_li, site_cap, solubility_cap), ``reason`` lists all."""


class DopingError(SsbmlError, ValueError):
    """A doping request that cannot produce charge-neutral candidates; says why."""


class Substitution(NamedTuple):
    """One dopant of one candidate: ``amount`` atoms per formula unit of ``dopant`` on
    the site of ``site`` (the structured form of a label piece ``Ta@Zr:0.6``)."""

    dopant: str
    site: str
    amount: float


@dataclass(frozen=True)
class HostMatch:
    """A parent read as a known host with dopants (guests) already on its sites.

    ``host`` is the host's reduced formula (a key of :data:`PARENT_RULES`, or None when
    only the structure named the guests), ``factor`` the parent's formula units per
    host formula unit, ``guests`` maps each guest element to the host element whose
    site it sits on and ``source`` says how the guests were found."""

    host: str | None
    factor: float
    guests: Mapping[str, str]
    source: str

    def guest_atoms_on(self, parent: Composition) -> dict[str, float]:
        """Guest atoms per formula unit already on each host site."""
        out: dict[str, float] = {}
        for guest, site in self.guests.items():
            out[site] = out.get(site, 0.0) + float(parent.element_composition[guest])
        return out


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
                states = [s for s in states if (s < 0) == (el in ANION_FORMERS)]
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
    if dopant in ANION_FORMERS:
        return [int(s) for s in states if s < 0]
    return [int(s) for s in states if s > 0]


def _known_dopants(host: str) -> set[str]:
    """Elements the literature dopes into ``host`` (its sites and grids)."""
    return set(LITERATURE_SITES.get(host, {})) | set(PARENT_RULES[host].amounts)


def match_host(
    parent: Composition | str, guests: Mapping[str, str] | None = None
) -> HostMatch | None:
    """Read a doped parent as a host of :data:`PARENT_RULES` with guests on its sites.

    Without ``guests`` (a composition parent) the parent's elements must be a host's
    plus known dopants of that host (Al, Ga, Ta, ... for Li7La3Zr2O12), each host
    element within 50 % of the host's stoichiometry; a guest sits on its literature
    site, else on the site the heuristic gives it in the host. With ``guests`` (from a
    parent structure: element -> host element whose sites it shares) the host is the
    one with the parent's elements minus the guests, if any. None when the parent is a
    host itself or nothing matches (and no guests were given).
    """
    comp = parse_formula(parent) if isinstance(parent, str) else parent
    amounts = {el.symbol: float(v) for el, v in comp.element_composition.items()}
    if not guests and comp.reduced_formula in PARENT_RULES:
        return None
    for host in PARENT_RULES:
        h = parse_formula(host).element_composition
        host_els = {el.symbol for el in h}
        extra = set(amounts) - host_els
        if not host_els <= set(amounts):
            continue
        if guests:
            if extra != set(guests):
                continue
        elif not extra or not extra <= _known_dopants(host):
            continue
        anchor = max(host_els - {"Li"}, key=lambda e: h[e])
        factor = amounts[anchor] / float(h[anchor])
        if not all(0.5 <= amounts[e] / (factor * float(h[e])) <= 1.5 for e in host_els):
            continue
        if guests:
            return HostMatch(host, factor, dict(guests), "the parent structure's shared sites")
        where = {
            g: LITERATURE_SITES.get(host, {}).get(g) or assign_sites(host, [g])[0].site
            for g in sorted(extra)
        }
        return HostMatch(host, factor, where, f"composition: {host} with known dopants")
    if guests:
        return HostMatch(None, 1.0, dict(guests), "the parent structure's shared sites")
    return None


def assign_sites(
    parent: Composition | str,
    dopants: Sequence[str],
    sites: Mapping[str, str] | None = None,
    *,
    host: HostMatch | None = None,
) -> list[DopantSite]:
    """Choose the site (and oxidation state) of every dopant in ``parent``.

    A dopant that is already an element of the parent keeps its parent oxidation state
    and goes to another site. For a doped parent (``host``, by default
    :func:`match_host` of the parent) the host's literature sites apply and no new
    dopant takes the place of a guest (unless the user names that site). Raises
    :class:`DopingError` for an unknown dopant, Li as a dopant, a dopant on its own
    site, a site not in the parent, or a dopant with no oxidation state of the site's
    sign.
    """
    comp = parse_formula(parent) if isinstance(parent, str) else parent
    oxi = parent_oxidation_states(comp)
    reduced = comp.reduced_formula
    if host is None:
        host = match_host(comp)
    guests = dict(host.guests) if host is not None else {}
    literature = LITERATURE_SITES.get(reduced) or (
        LITERATURE_SITES.get(host.host, {}) if host is not None and host.host else {}
    )
    sites = dict(sites or {})
    out = []
    for dopant in dopants:
        dopant = dopant.strip()
        if not dopant:
            raise DopingError("empty dopant name")
        if not Element.is_valid_symbol(dopant):
            raise DopingError(f"unknown dopant element {dopant!r}")
        if dopant == "Li":
            raise DopingError(
                "Li cannot be a dopant: the Li content follows from charge compensation"
            )
        in_parent = dopant in oxi
        states = [oxi[dopant]] if in_parent else _dopant_states(dopant)
        if not states:
            raise DopingError(f"dopant {dopant} has no known non-zero oxidation state")
        if dopant in sites:
            site, rule = sites[dopant], "user"
            if site == dopant:
                raise DopingError(f"dopant {dopant} cannot substitute its own site in {reduced}")
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
            choices = [
                s
                for s in oxi
                if s != dopant
                and s not in guests
                and (s != "Li" or any(q == 1 for q in states))
            ]
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



def doping_plan_text(attrs: Mapping[str, object]) -> str:
    """One line: where each dopant goes and why, and how a doped parent was read
    (from the ``attrs`` of :attr:`Candidates.labels`); '' when there are no sites."""
    sites = attrs.get("sites") or []
    if not sites:
        return ""
    why = {"user": "your choice", "literature": "literature",
           "heuristic": "oxidation state and Shannon radius"}
    text = "dopant sites: " + ", ".join(
        f"{a['dopant']}{a['dopant_oxidation']:+d} on {a['site']} ({why.get(a['rule'], a['rule'])})"
        for a in sites)
    host = attrs.get("host")
    if host:
        amounts = host.get("guest_amounts") or {}
        guests = ", ".join(f"{g}{amounts.get(g, 0):g} on {site}"
                           for g, site in host["guests"].items())
        name = host["host"] or "the parent"
        text += (f"; doped parent read as {name} with {guests} per formula unit already "
                 f"(from {host['source']}); new dopants do not replace them")
    return text


def _empty_rejected() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in REJECTED_COLUMNS})


@dataclass(frozen=True)
class _Limits:
    min_li: float
    max_site_fraction: float
    solubility_cap: float | None
    guest_atoms: Mapping[str, float] = field(default_factory=dict)  # already on each site


def _apply(
    base: np.ndarray, col: Mapping[str, int], combo: Sequence[DopantSite], x: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Amounts per formula unit of every grid point ``x`` (n, k) of ``combo``, and the
    dopant atoms on each substituted site."""
    rows = np.repeat(base[None, :], len(x), axis=0)
    site_used: dict[str, np.ndarray] = {}
    for j, a in enumerate(combo):
        rows[:, col[a.dopant]] += x[:, j]
        rows[:, col[a.site]] -= x[:, j]
        # charge compensation by Li vacancies (+) or interstitials (-)
        rows[:, col["Li"]] -= x[:, j] * (a.dopant_oxidation - a.site_oxidation)
        site_used[a.site] = site_used.get(a.site, 0) + x[:, j]
    return rows, site_used


def _checks(
    base: np.ndarray,
    col: Mapping[str, int],
    rows: np.ndarray,
    x: np.ndarray,
    site_used: Mapping[str, np.ndarray],
    limits: _Limits,
) -> list[tuple[str, np.ndarray, np.ndarray, str, str]]:
    """The rules, in order: (rule, broken where, the number shown, text before, after)."""
    li, total = rows[:, col["Li"]], x.sum(axis=1)
    out = []
    for s, used in site_used.items():
        n = base[col[s]]
        out.append(("site_size", used > n + 1e-9, used,
                    f"dopants on site {s} total ", f" > its {n:g} atoms"))
    out.append(("negative_li", li <= 1e-9, li,
                "cannot balance charge: needs Li ", " per formula unit"))
    out.append(("min_li", (li > 1e-9) & (li < limits.min_li - 1e-9), li,
                "Li ", f" per formula unit below the minimum {limits.min_li:g}"))
    for s, used in site_used.items():
        n, g = base[col[s]], limits.guest_atoms.get(s, 0.0)
        share = (used + g) / (n + g)
        over = (used <= n + 1e-9) & (share > limits.max_site_fraction + 1e-9)
        before = "with the dopants already on it replaces " if g else "replaces "
        out.append(("site_cap", over, share, before,
                    f" of site {s}, above the cap {limits.max_site_fraction:g}"))
    if limits.solubility_cap is not None:
        cap = limits.solubility_cap
        out.append(("solubility_cap", total > cap + 1e-9, total, "total dopant ",
                    f" per formula unit above the solubility cap {cap:g}"))
    return out


def _doping_text(combo: Sequence[DopantSite], x: np.ndarray) -> np.ndarray:
    """Labels such as ``Ta@Zr:0.6+Al@Li:0.2`` (atoms per formula unit), an object array."""
    text = np.full(len(x), "", dtype=object)
    for j, a in enumerate(combo):
        piece = f"{a.dopant}@{a.site}:" + _text(x[:, j])
        text = piece if j == 0 else text + "+" + piece
    return text


@dataclass(frozen=True)
class _RejectedBlock:
    """Grid points of one dopant combination that broke a rule, kept compact (their
    amounts only); the table with reasons is built when asked for."""

    parent: str
    elements: tuple[str, ...]
    base: np.ndarray
    combo: tuple[DopantSite, ...]
    x: np.ndarray
    limits: _Limits

    def table(self) -> pd.DataFrame:
        col = {el: j for j, el in enumerate(self.elements)}
        rows, site_used = _apply(self.base, col, self.combo, self.x)
        checks = _checks(self.base, col, rows, self.x, site_used, self.limits)
        rule = np.full(len(self.x), "", dtype=object)
        reason = np.full(len(self.x), "", dtype=object)
        for name, mask, value, before, after in checks:
            if not mask.any():
                continue
            msg = np.full(len(mask), "", dtype=object)
            msg[mask] = before + _text(value[mask]) + after
            rule = np.where(mask & (rule == ""), name, rule)
            reason = np.where(mask, np.where(reason == "", msg, reason + "; " + msg), reason)
        return pd.DataFrame(
            {
                "parent": self.parent,
                "doping": _doping_text(self.combo, self.x),
                "composition": _formula_texts(rows, self.elements),
                "li_per_formula": rows[:, col["Li"]],
                "dopant_per_formula": self.x.sum(axis=1),
                "rule": rule,
                "reason": reason,
            }
        )


@dataclass(frozen=True)
class Candidates:
    """Generated candidates: the element-fraction matrix and one label row each
    (``candidate_id``, ``parent``, ``doping`` such as ``Ta@Zr:0.25+Al@Li:0.1``
    in dopant atoms per formula unit, and ``li_per_formula``), plus the grid points
    that were not made (:attr:`rejected`)."""

    fractions: ElementFractions
    labels: pd.DataFrame
    rejected_blocks: tuple[_RejectedBlock, ...] = ()
    dopant_amounts: np.ndarray | None = None  # (n, len(dopant_sites)) atoms per formula unit
    dopant_sites: tuple[DopantSite, ...] = ()

    def __len__(self) -> int:
        return len(self.fractions)

    def substitutions(self, row: int) -> list[Substitution]:
        """The dopants of candidate ``row`` (position, not id) in structured form; [] for
        the parent itself and for candidates read from a file."""
        if self.dopant_amounts is None:
            return []
        return [
            Substitution(a.dopant, a.site, float(x))
            for a, x in zip(self.dopant_sites, self.dopant_amounts[row], strict=True)
            if x > 0
        ]

    @property
    def n_rejected(self) -> int:
        """How many grid points were not made."""
        return sum(len(b.x) for b in self.rejected_blocks)

    @cached_property
    def rejected(self) -> pd.DataFrame:
        """One row per grid point not made: parent, doping, composition (Li may be
        negative), li_per_formula, dopant_per_formula, the first ``rule`` broken
        (site_size, negative_li, min_li, site_cap, solubility_cap) and the ``reason``
        listing every rule broken with its numbers. Built on first access."""
        if not self.rejected_blocks:
            return _empty_rejected()
        return pd.concat([b.table() for b in self.rejected_blocks], ignore_index=True)

    def take(self, rows: slice | np.ndarray) -> Candidates:
        """A subset of the candidates (the rejected grid points are kept whole)."""
        return Candidates(
            self.fractions.take(rows),
            self.labels.iloc[rows].reset_index(drop=True),
            self.rejected_blocks,
            None if self.dopant_amounts is None else self.dopant_amounts[rows],
            self.dopant_sites,
        )

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
        sites: list[DopantSite] = []
        for p in parts:
            sites += [a for a in p.dopant_sites if a not in sites]
        amounts = None
        if all(p.dopant_amounts is not None for p in parts):
            amounts = np.zeros((len(labels), len(sites)))
            start = 0
            for p in parts:
                cols = [sites.index(a) for a in p.dopant_sites]
                amounts[start : start + len(p), cols] = p.dopant_amounts
                start += len(p)
        return cls(ef, labels, tuple(b for p in parts for b in p.rejected_blocks), amounts,
                   tuple(sites))


def _grid(values: Sequence[float], what: str) -> np.ndarray:
    """A sorted, de-duplicated grid of finite positive numbers, or a DopingError."""
    try:
        arr = np.asarray([float(v) for v in values], dtype=float)
    except (TypeError, ValueError):
        raise DopingError(f"{what} must be numbers, got {list(values)!r}") from None
    if arr.size == 0:
        raise DopingError(f"{what} is empty")
    bad = arr[~np.isfinite(arr) | (arr <= 0)]
    if bad.size:
        raise DopingError(f"{what} must be finite numbers > 0, got {bad[0]:g}")
    return np.unique(np.round(arr, 6))


def _check_limit(value: float | None, what: str, upper: float | None = None) -> None:
    if value is None:
        return
    try:
        ok = math.isfinite(float(value)) and value >= 0 and (upper is None or value <= upper)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        bound = f"between 0 and {upper:g}" if upper is not None else "a finite number >= 0"
        raise DopingError(f"{what} must be {bound}, got {value!r}")


def _text(values: np.ndarray) -> np.ndarray:
    """Numbers as short strings (4 decimals), an object array; each distinct value is
    formatted once (a grid has few)."""
    codes, uniques = pd.factorize(np.round(values, 4))
    return np.array([f"{v:g}" for v in uniques] or [""], dtype=object)[codes]


def _formula_texts(amounts: np.ndarray, elements: Sequence[str]) -> np.ndarray:
    """Formula strings of absolute amounts (negative ones kept, e.g. ``Li-0.5``), each
    column's distinct values formatted once."""
    out = np.full(len(amounts), "", dtype=object)
    amounts = np.round(amounts, 4)
    for j, el in enumerate(elements):
        codes, values = pd.factorize(amounts[:, j])
        text = np.array(
            ["" if v == 0 else el if v == 1 else f"{el}{v:g}" for v in values], dtype=object
        )
        out = out + text[codes]
    return out


def generate_doped(
    parent: str | Composition,
    dopants: Sequence[str],
    *,
    amounts: Sequence[float] | None = None,
    dopant_amounts: Mapping[str, Sequence[float]] | None = None,
    fractions: Sequence[float] | None = None,
    sites: Mapping[str, str] | None = None,
    max_dopants: int = 2,
    include_parent: bool = True,
    min_li: float | None = None,
    min_li_fraction: float | None = None,
    max_site_fraction: float | None = None,
    solubility_cap: float | None = None,
    guests: Mapping[str, str] | None = None,
) -> Candidates:
    """All single and (up to ``max_dopants``) co-doped variants of ``parent``.

    Grids are dopant atoms per formula unit of ``parent`` as written: ``dopant_amounts``
    per dopant, else ``amounts`` for every dopant, else the literature grid of
    :data:`PARENT_RULES`, else :data:`DEFAULT_AMOUNTS`; ``fractions`` (fractions of the
    site, 0 < f <= 1) is the legacy alternative to ``amounts``. Candidates breaking a
    rule (see the module docstring) go to ``Candidates.rejected`` with their reasons:
    ``min_li`` Li atoms per formula unit (default ``min_li_fraction`` x the parent's Li,
    0.7), ``max_site_fraction`` of any one site (0.5) and ``solubility_cap`` total dopant
    atoms per formula unit (per parent; none by default). A doped parent is read as its
    host with guests (:func:`match_host`; ``guests``, element -> host site element,
    as a parent structure gives them). Raises :class:`DopingError` for a bad option or
    when no candidate at all can be made.
    """
    try:
        comp = parse_formula(parent) if isinstance(parent, str) else parent
    except CompositionError as err:
        raise DopingError(f"parent: {err}") from None
    if not dopants:
        raise DopingError("no dopants given")
    dopants = [d.strip() if isinstance(d, str) else d for d in dopants]
    if len(set(dopants)) != len(dopants):
        raise DopingError(f"repeated dopant in {list(dopants)}")
    if amounts is not None and fractions is not None:
        raise DopingError("give amounts (per formula unit) or fractions (of the site), not both")
    user_grid = None if amounts is None else _grid(amounts, "amounts")
    frac_grid = None
    if fractions is not None:
        try:
            frac_grid = _grid(fractions, "doping fractions")
        except DopingError:
            frac_grid = np.array([np.nan])
        if not ((frac_grid > 0) & (frac_grid <= 1)).all():
            raise DopingError(f"doping fractions must lie in (0, 1], got {list(fractions)}")
    per_dopant = {str(k).strip(): v for k, v in (dopant_amounts or {}).items()}
    unknown = sorted(set(per_dopant) - set(dopants))
    if unknown:
        raise DopingError(
            f"amounts given for {', '.join(unknown)}, which is not among the dopants "
            f"{', '.join(dopants)}"
        )
    host = match_host(comp, guests)
    assigned = assign_sites(comp, dopants, sites, host=host)

    reduced, factor = comp.get_reduced_formula_and_factor()
    rules = PARENT_RULES.get(reduced)
    host_li = float(comp.element_composition["Li"])
    guest_atoms: dict[str, float] = {}
    if host is not None:
        guest_atoms = host.guest_atoms_on(comp)
        if rules is None and host.host is not None:
            rules, factor = PARENT_RULES[host.host], host.factor
            host_li = float(parse_formula(host.host).element_composition["Li"]) * factor
    rules = rules or ParentRules()
    _check_limit(min_li, "min_li (Li atoms per formula unit)")
    _check_limit(min_li_fraction, "min_li_fraction (of the parent's Li)")
    _check_limit(max_site_fraction, "max_site_fraction (of a site)", upper=1.0)
    _check_limit(solubility_cap, "solubility_cap (dopant atoms per formula unit)")
    if min_li is None:
        fraction = rules.min_li_fraction if min_li_fraction is None else float(min_li_fraction)
        min_li = fraction * host_li
    if max_site_fraction is None:
        max_site_fraction = rules.max_site_fraction
    if solubility_cap is None and rules.solubility_cap is not None:
        # the guests already in a doped parent use part of the host's cap
        solubility_cap = max(0.0, rules.solubility_cap * factor - sum(guest_atoms.values()))

    parent_els = [el.symbol for el in comp.element_composition]
    # each new dopant is written right after the element whose site it takes
    elements = [
        x
        for el in parent_els
        for x in [el] + [a.dopant for a in assigned if a.site == el and a.dopant not in parent_els]
    ]
    col = {el: j for j, el in enumerate(elements)}
    base = np.zeros(len(elements))
    for el in parent_els:
        base[col[el]] = comp.element_composition[el]

    grids: dict[str, np.ndarray] = {}
    for a in assigned:
        size = base[col[a.site]]
        if a.dopant in per_dopant:
            grid, what = _grid(per_dopant[a.dopant], f"amounts for {a.dopant}"), "user"
        elif frac_grid is not None:
            grid, what = frac_grid * size, "fractions"
        elif user_grid is not None:
            grid, what = user_grid, "user"
        elif a.dopant in rules.amounts:
            grid, what = np.asarray(rules.amounts[a.dopant]) * factor, "default"
        else:
            grid, what = np.asarray(DEFAULT_AMOUNTS), "default"
        if what == "default":
            grid = grid[grid <= size + 1e-9]
            if grid.size == 0:
                grid = np.asarray([size * DEFAULT_FRACTIONS[0]])
        elif what == "user" and (grid > size + 1e-9).any():
            formula = _formula_texts(base[None, :], elements)[0]
            raise DopingError(
                f"amounts for {a.dopant}: {grid.max():g} per formula unit is above the size "
                f"of its site {a.site} ({size:g} per formula unit of {formula})"
            )
        grids[a.dopant] = grid

    limits = _Limits(float(min_li), float(max_site_fraction), solubility_cap, guest_atoms)
    blocks, labels, subs = [], [], []
    rejected: list[_RejectedBlock] = []
    where = {a.dopant: j for j, a in enumerate(assigned)}
    if include_parent:
        blocks.append(base[None, :])
        labels.append(np.array([""], dtype=object))
        subs.append(np.zeros((1, len(assigned))))
    for k in range(1, max(1, max_dopants) + 1):
        for combo in itertools.combinations(assigned, k):
            mesh = np.meshgrid(*[grids[a.dopant] for a in combo], indexing="ij")
            x = np.stack([g.ravel() for g in mesh], axis=1)  # (m, k) atoms per formula unit
            rows, site_used = _apply(base, col, combo, x)
            bad = np.zeros(len(x), dtype=bool)
            for check in _checks(base, col, rows, x, site_used, limits):
                bad |= check[1]
            if bad.any():
                rejected.append(
                    _RejectedBlock(reduced, tuple(elements), base, tuple(combo), x[bad], limits)
                )
                rows, x = rows[~bad], x[~bad]
            if len(x):
                blocks.append(np.clip(rows, 0, None))
                labels.append(_doping_text(combo, x))
                block_subs = np.zeros((len(x), len(assigned)))
                block_subs[:, [where[a.dopant] for a in combo]] = x
                subs.append(block_subs)
    n_made = sum(len(b) for b in blocks) - (1 if include_parent else 0)
    if n_made == 0:
        counts: dict[str, int] = {}
        for block in rejected:
            table = block.table()
            for r, n in table["rule"].value_counts().items():
                counts[r] = counts.get(r, 0) + int(n)
        why = ", ".join(f"{n} {r}" for r, n in counts.items()) or "no grid point"
        raise DopingError(
            f"no charge-neutral candidate of {reduced} with dopants {', '.join(dopants)} on "
            f"this grid (rejected: {why}; min Li {min_li:g} per formula unit)"
        )
    amounts_all = np.concatenate(blocks)
    ef = ElementFractions.from_amounts(amounts_all, elements)
    label_df = pd.DataFrame(
        {
            "candidate_id": np.arange(len(amounts_all), dtype=np.int64),
            "parent": reduced,
            "doping": np.concatenate(labels),
            "li_per_formula": amounts_all[:, col["Li"]],
        }
    )
    label_df.attrs["sites"] = [vars(a) for a in assigned]
    label_df.attrs["rules"] = {
        "min_li": float(min_li),
        "max_site_fraction": float(max_site_fraction),
        "solubility_cap": None if solubility_cap is None else float(solubility_cap),
        "amounts": {d: g.tolist() for d, g in grids.items()},
        "source": rules.source,
    }
    label_df.attrs["host"] = None if host is None else {
        "host": host.host, "guests": dict(host.guests), "source": host.source,
        "guest_atoms_per_formula": guest_atoms,
        "guest_amounts": {g: float(comp.element_composition[g]) for g in host.guests},
    }
    return Candidates(ef, label_df, tuple(rejected), np.concatenate(subs), tuple(assigned))
