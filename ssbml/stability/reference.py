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

from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition

from ssbml.composition import CompositionError, parse_formula
from ssbml.data.thermo import FormationEnergyTable, thermo_table

__all__ = [
    "MAX_ELEMENTS",
    "ReferenceEntry",
    "StabilityInputError",
    "chemsys_of",
    "check_composition",
    "phase_diagram",
    "reference_entry",
]

MAX_ELEMENTS = 8
"""Most elements a composition (plus electrode) may have: larger systems are out of
scope (the reference table has no Li compound with more than 8 elements)."""

LI = "Li"


class StabilityInputError(ValueError):
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


def check_composition(
    formula: object, *, require_li: bool = True, table: FormationEnergyTable | None = None
) -> Composition:
    """Parse ``formula`` and check it is in scope for the phase-diagram calculator.

    Raises :class:`StabilityInputError` when the text does not parse, the composition
    has no Li (``require_li``), is pure Li, has more than :data:`MAX_ELEMENTS`
    elements, or has an element that appears in no compound of the reference table.
    """
    try:
        comp = parse_formula(formula, require_li=require_li)
    except CompositionError as err:
        raise StabilityInputError(formula, err.reason) from None
    table = table or thermo_table()
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


@lru_cache(maxsize=64)
def _phase_diagram(chemsys: str) -> PhaseDiagram:
    elements = chemsys.split("-")
    rows = thermo_table().within(elements)
    entries = [
        PDEntry(Composition(f), float(e) * float(n), name=f)
        for f, e, n in zip(rows["formula"], rows["e_form_eV_atom"], rows["n_atoms"], strict=True)
    ]
    present = set(rows["formula"])
    entries += [PDEntry(Composition(el), 0.0, name=el) for el in elements if el not in present]
    return PhaseDiagram(entries)


def phase_diagram(elements: Iterable[str]) -> PhaseDiagram:
    """The phase diagram of the chemical system of ``elements`` (symbols), from every
    reference compound within it plus the elements at 0 eV/atom. Cached in memory
    per chemical system (64 most recent)."""
    return _phase_diagram(chemsys_of(str(e) for e in elements))
