"""Energy above hull, decomposition energy (meV/atom) and equilibrium decomposition
products of a composition, from the reference phase diagram of its chemical system."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from pymatgen.analysis.phase_diagram import PDEntry, PhaseDiagram
from pymatgen.core import Composition

from ssbml.stability.hull_lp import HullLP
from ssbml.stability.reference import check_composition, phase_diagram, reference_entry

__all__ = ["STABLE_TOL_EV", "Decomposition", "decomposition"]

STABLE_TOL_EV = 1e-6
"""Energy above hull (eV/atom) below which a compound counts as on the hull."""


@dataclass(frozen=True)
class Decomposition:
    """Thermodynamic stability of one composition.

    ``products`` maps each equilibrium phase to its atomic fraction of the
    composition. ``e_above_hull_meV_atom`` (>= 0) and ``decomposition_energy_meV_atom``
    (energy to the competing phases, negative for a stable compound; Bartel et al.,
    npj Comput. Mater. 6, 97 (2020)) need the composition's own energy, so they are
    NaN with ``source = "phase diagram"`` for a composition absent from the table.
    ``hull_energy_eV_atom`` is the formation energy of the hull at the composition.
    """

    formula: str
    source: str
    e_form_eV_atom: float
    hull_energy_eV_atom: float
    e_above_hull_meV_atom: float
    decomposition_energy_meV_atom: float
    products: dict[str, float] = field(default_factory=dict)

    @property
    def is_stable(self) -> bool:
        """True when the composition is on the convex hull (within 1e-6 meV/atom)."""
        return self.e_above_hull_meV_atom <= 1e-6

    def to_dict(self) -> dict:
        """Plain-JSON dict."""
        return asdict(self)


def decomposition(
    formula: object,
    *,
    pd: PhaseDiagram | None = None,
    separation: bool = True,
    exclude: tuple[str, ...] = (),
) -> Decomposition:
    """Energy above hull and decomposition of a Li-containing composition.

    The decomposition energy of a stable compound is its energy relative to the hull
    of every other reference compound (a linear program, the same quantity as
    pymatgen's ``get_decomp_and_phase_separation_energy``); ``separation=False``
    skips it, leaving NaN.
    """
    comp = check_composition(formula)
    if pd is None:
        pd = phase_diagram((el.symbol for el in comp.elements), exclude=exclude)
    return _decomposition(comp, pd, separation)


def _decomposition(comp: Composition, pd: PhaseDiagram, separation: bool) -> Decomposition:
    ref = reference_entry(comp)
    hull = float(pd.get_hull_energy_per_atom(comp))
    nan = float("nan")
    if ref is None:
        decomp = pd.get_decomposition(comp)
        e_form, e_hull, e_dec = nan, nan, nan
        source = "phase diagram"
    else:
        rcomp = Composition(ref.formula)
        entry = PDEntry(rcomp, ref.e_form_eV_atom * rcomp.num_atoms, name=ref.formula)
        decomp, e_hull = pd.get_decomp_and_e_above_hull(entry, allow_negative=True)
        e_hull = max(float(e_hull), 0.0)  # the entry itself is in the diagram
        e_form, source = ref.e_form_eV_atom, "exact"
        if e_hull <= STABLE_TOL_EV:
            e_hull, e_dec = 0.0, nan
            if separation and len(comp.elements) > 1:
                lp = HullLP.from_phase_diagram(pd)
                sep = lp.separation_energy(lp.vector(rcomp), ref.formula, ref.e_form_eV_atom)
                e_dec = 1000.0 * sep
        else:
            e_dec = 1000.0 * e_hull
    products = {e.name: float(x) for e, x in sorted(decomp.items(), key=lambda t: -t[1])}
    return Decomposition(
        formula=comp.reduced_formula,
        source=source,
        e_form_eV_atom=float(e_form),
        hull_energy_eV_atom=hull,
        e_above_hull_meV_atom=1000.0 * e_hull,
        decomposition_energy_meV_atom=e_dec,
        products=products,
    )
