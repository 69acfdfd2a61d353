"""Phase diagrams from the Materials Project formation-energy table, cached per
chemical system, and the input checks shared by every stability calculation.

Every entry's energy is its formation energy: ``PDEntry.energy = e_form (eV/atom) *
atoms in the reduced formula``, so every element sits at 0 eV/atom and the Li chemical
potential relative to Li metal is simply ``mu_Li`` (eV); a potential vs Li/Li+ is
``V = -mu_Li / e``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram, get_facets
from pymatgen.core import Composition, Element

from ssbml.composition import CHALCOGENS, CompositionError, parse_formula
from ssbml.data.thermo import thermo_table
from ssbml.errors import SsbmlError
from ssbml.stability.hull_lp import HullLP

__all__ = [
    "MAX_ELEMENTS",
    "ReferenceEntry",
    "StabilityInputError",
    "chemsys_of",
    "check_composition",
    "normalize_excluded",
    "phase_diagram",
    "reference_entry",
    "suspect_phases",
]

MAX_ELEMENTS = 8
"""Most elements a composition (plus electrode) may have: larger systems are out of
scope (the reference table has no Li compound with more than 8 elements)."""

LI = "Li"


class StabilityInputError(SsbmlError, ValueError):
    """A composition the thermodynamic calculator cannot handle; names input and reason."""

    def __init__(self, formula: object, reason: str) -> None:
        self.formula = formula
        self.reason = reason
        super().__init__(f"{formula}: {reason}")


def chemsys_of(elements: Iterable[str]) -> str:
    """Alphabetical ``"Li-P-S"`` chemical-system key of element symbols."""
    return "-".join(sorted(set(elements)))


def _elements(comp: Composition) -> list[str]:
    return sorted(el.symbol for el in comp.elements)


def check_composition(formula: object, *, require_li: bool = True) -> Composition:
    """Parse ``formula`` and check it is in scope for the phase-diagram calculator.

    Raises :class:`StabilityInputError` when the text does not parse, the composition
    has no Li (``require_li``), is pure Li, has more than :data:`MAX_ELEMENTS`
    elements, or has an element that appears in no compound of the reference table.
    """
    try:
        comp = parse_formula(formula, require_li=require_li)
    except CompositionError as err:
        raise StabilityInputError(formula, err.reason) from None
    table = thermo_table()
    els = _elements(comp)
    if require_li and els == [LI]:
        raise StabilityInputError(formula, "pure Li metal has no electrochemical window")
    missing = [el for el in els if el not in table.elements]
    if missing:
        raise StabilityInputError(
            formula,
            f"element(s) {', '.join(missing)} appear in no compound of the Materials Project "
            "formation-energy table, so no phase diagram can be built",
        )
    if len(els) > MAX_ELEMENTS:
        raise StabilityInputError(
            formula, f"{len(els)} elements; at most {MAX_ELEMENTS} are supported"
        )
    return comp


@dataclass(frozen=True)
class ReferenceEntry:
    """A composition's row of the reference table: reduced formula and its lowest
    formation energy (eV/atom)."""

    formula: str
    e_form_eV_atom: float


def reference_entry(comp: Composition) -> ReferenceEntry | None:
    """The reference-table row of ``comp`` (matched on the reduced formula), or None
    when the composition is not in the table (off-stoichiometric, doped, new)."""
    formula = comp.reduced_formula
    e = thermo_table().e_form_eV_atom(formula)
    return None if e is None else ReferenceEntry(formula, e)


def _computed_data(entries: list[PDEntry], elements: list[Element]) -> dict:
    """``PhaseDiagram._compute`` for entries that already have one (lowest-energy)
    entry per reduced composition: same hull, without pymatgen's sort of all entries
    by composition (most of the construction time for large systems)."""
    el_refs = {e.composition.elements[0]: e for e in entries if e.composition.is_element}
    data = np.array(
        [[e.composition.get_atomic_fraction(el) for el in elements] + [e.energy_per_atom]
         for e in entries]
    )
    form_e = data[:, -1]  # elements are at 0 eV/atom: energy per atom is formation energy
    idx = np.flatnonzero(form_e < -PhaseDiagram.formation_energy_tol).tolist()
    position = {id(e): i for i, e in enumerate(entries)}  # PDEntry == is slow (isclose)
    idx.extend(position[id(el_refs[el])] for el in elements)
    qhull_entries = [entries[i] for i in idx]
    qhull_data = data[idx][:, 1:]
    dim = len(elements)
    extra_point = np.zeros(dim) + 1 / dim
    extra_point[-1] = np.max(qhull_data) + 1
    qhull_data = np.concatenate([qhull_data, [extra_point]], axis=0)
    if dim == 1:
        facets = [qhull_data.argmin(axis=0)]
    else:
        facets = [f for f in get_facets(qhull_data) if max(f) != len(qhull_data) - 1]
        if facets:
            mats = qhull_data[np.asarray(facets)]
            mats[:, :, -1] = 1
            keep = np.abs(np.linalg.det(mats)) > 1e-14
            facets = [f for f, k in zip(facets, keep, strict=True) if k]
    return {
        "facets": facets,
        "all_entries": entries,
        "qhull_data": qhull_data,
        "el_refs": [(el.symbol, e) for el, e in el_refs.items()],
        "qhull_entries": qhull_entries,
    }


@lru_cache(maxsize=64)
def _phase_diagram(chemsys: str, exclude: frozenset[str] = frozenset()) -> PhaseDiagram:
    symbols = chemsys.split("-")
    rows = thermo_table().within(symbols)
    if exclude:
        rows = rows[~rows["formula"].isin(exclude)]
    entries = [
        PDEntry(Composition(f), float(e) * float(n), name=f)
        for f, e, n in zip(rows["formula"], rows["e_form_eV_atom"], rows["n_atoms"], strict=True)
    ]
    present = {e.composition.elements[0].symbol for e in entries if e.composition.is_element}
    entries += [PDEntry(Composition(el), 0.0, name=el) for el in symbols if el not in present]
    elements = sorted(Element(el) for el in symbols)
    return PhaseDiagram(entries, elements, computed_data=_computed_data(entries, elements))


def phase_diagram(
    elements: Iterable[str], *, exclude: Iterable[str] = ()
) -> PhaseDiagram:
    """The phase diagram of the chemical system of ``elements`` (symbols), from every
    reference compound within it plus the elements at 0 eV/atom, without the reduced
    formulas in ``exclude`` (see :func:`normalize_excluded`). Cached in memory per
    chemical system and exclusion set (64 most recent)."""
    return _phase_diagram(chemsys_of(str(e) for e in elements), normalize_excluded(exclude))


def normalize_excluded(phases: Iterable[str]) -> frozenset[str]:
    """Reduced formulas (pymatgen) of phases to leave out of every phase diagram; an
    element or an unparseable formula raises :class:`StabilityInputError`."""
    out = set()
    for text in phases:
        try:
            comp = Composition(str(text))
        except Exception:  # noqa: BLE001 - pymatgen raises several types
            raise StabilityInputError(text, "excluded phase is not a formula") from None
        if comp.is_element:
            raise StabilityInputError(
                text, "an element cannot be excluded (it is a reference state)"
            )
        out.add(comp.reduced_formula)
    return frozenset(out)


SUSPECT_SEPARATION_MEV = -100.0
"""meV/atom: a polychalcogenide this far below the hull of the other phases is flagged."""


def _formal_anion_charge(comp: Composition, anion: str) -> float | None:
    """Charge per ``anion`` atom if every other element takes its highest common
    oxidation state (None when some element has no positive common state)."""
    total = 0.0
    for el, amt in comp.items():
        if el.symbol == anion:
            continue
        states = [s for s in el.common_oxidation_states if s > 0]
        if not states:
            return None
        total += max(states) * amt
    return -total / comp[anion]


@lru_cache(maxsize=256)
def _suspects(chemsys: str, exclude: frozenset[str]) -> tuple[tuple[str, str], ...]:
    pd = _phase_diagram(chemsys, exclude)
    lp = None
    found = []
    for entry in pd.stable_entries:
        comp = entry.composition
        anions = [el.symbol for el in comp.elements if el.symbol in CHALCOGENS]
        if comp.is_element or len(anions) != 1:
            continue
        charge = _formal_anion_charge(comp, anions[0])
        if charge is None or charge < -1.75:
            continue
        lp = lp or HullLP.from_phase_diagram(pd)
        sep = 1000.0 * lp.separation_energy(lp.vector(comp), entry.name, entry.energy_per_atom)
        if sep < SUSPECT_SEPARATION_MEV:
            found.append(
                (
                    entry.name,
                    f"poly-{anions[0]} phase (formal {anions[0]} charge {charge:+.2f}) "
                    f"{-sep:.0f} meV/atom below the hull of the other phases: likely an "
                    "artefact of the legacy sulfide correction; check it or exclude it "
                    "(--exclude-phase)",
                )
            )
    return tuple(sorted(found))


def suspect_phases(elements: Iterable[str], *, exclude: Iterable[str] = ()) -> dict[str, str]:
    """Stable phases of the system that sit implausibly far below their neighbours'
    tie lines: polysulfides/-selenides/-tellurides (chalcogen formal charge above -1.75
    with every cation at its highest common oxidation state) more than 100 meV/atom
    below the hull of the other phases, e.g. LiS4 (-284) and P2S7 (-141) in Li-P-S.
    Returns ``{formula: reason}``. A heuristic flag, not a verdict: FeS2 (a real
    persulfide) is flagged too."""
    return dict(_suspects(chemsys_of(str(e) for e in elements), normalize_excluded(exclude)))
