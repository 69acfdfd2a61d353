"""Interface reactions between a solid electrolyte and an electrode (meV/atom).

The electrolyte and electrode are mixed in every ratio along their tie line; the
reaction energy at atomic fraction ``x`` of electrolyte is
``E_hull(x c1 + (1 - x) c2) - x E(c1) - (1 - x) E(c2)`` (per atom of mixture), and the
most negative value over ``x`` is reported with its ratio and products (pymatgen's
:class:`InterfacialReactivity`; Richards et al., Chem. Mater. 28, 266 (2016)). The
open-to-Li variant (:class:`GrandPotentialInterfacialReactivity`) lets Li flow in or
out at the electrode's potential ``V``, i.e. mu_Li = -V eV relative to Li metal.

Two energies are reported (Zhu, He and Mo, J. Mater. Chem. A 4, 3253 (2016)):

* ``energy_meV_atom``, the **mutual** reaction energy: both reactants at their hull
  energies, so a metastable reactant's own decomposition is never counted as a
  reaction. It is 0 at x = 0 and x = 1 by construction; only interior kinks count.
* ``total_meV_atom``: the same mixture with the electrolyte at its own reference
  energy (``mutual - x * E_above_hull(electrolyte)``), i.e. including the
  electrolyte's own decomposition. Equal to the mutual energy for compositions not in
  the reference table (placed at the hull energy).

For the open-to-Li reaction the Li potential defaults to the cathode's **computed**
delithiation onset: the oxidation limit of the cathode composition in the same
reference table (LiCoO2 3.39 V, not the experimental 4.2 V), so the cathode itself is
stable in the grand-potential diagram and the run is consistent with the DFT energies.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
from pymatgen.analysis.interface_reactions import (
    GrandPotentialInterfacialReactivity,
    InterfacialReactivity,
)
from pymatgen.analysis.phase_diagram import GrandPotentialPhaseDiagram, PhaseDiagram
from pymatgen.core import Composition, Element

from ssbml.stability.reference import (
    LI,
    StabilityInputError,
    check_composition,
    phase_diagram,
    reference_entry,
)

__all__ = [
    "ELECTRODES",
    "Electrode",
    "charged_potential_V",
    "InterfaceReaction",
    "get_electrode",
    "interface_reaction",
]


@dataclass(frozen=True)
class Electrode:
    """An electrode: composition and its operating potential range (V vs Li/Li+).

    ``range_V`` is the experimental operating range; ``potential_V`` its top. The
    open-to-Li reaction uses :func:`charged_potential_V` (computed from the reference
    table) unless a potential is given.
    """

    name: str
    formula: str
    range_V: tuple[float, float]

    @property
    def potential_V(self) -> float:
        return self.range_V[1]

    @property
    def composition(self) -> Composition:
        return Composition(self.formula)


ELECTRODES: dict[str, Electrode] = {
    e.name: e
    for e in [
        Electrode("Li", "Li", (0.0, 0.0)),
        Electrode("LiCoO2", "LiCoO2", (3.9, 4.2)),
        Electrode("LiNiO2", "LiNiO2", (3.6, 4.3)),
        Electrode("NMC811", "LiNi0.8Mn0.1Co0.1O2", (3.8, 4.3)),
        Electrode("LiFePO4", "LiFePO4", (3.4, 3.5)),
        Electrode("LiMn2O4", "LiMn2O4", (3.9, 4.2)),
    ]
}
"""Built-in electrodes by name (Li metal and common cathodes)."""

_ALIASES = {"LiNi0.8Mn0.1Co0.1O2": "NMC811", "NCM811": "NMC811", "Li metal": "Li"}


def get_electrode(name_or_formula: str) -> Electrode:
    """A built-in electrode by name (case-insensitive) or any composition (with Li).

    A composition that is not built in gets no potential range unless it is pure Li:
    its open-to-Li reaction needs an explicit ``potential_V``.
    """
    key = _ALIASES.get(name_or_formula, name_or_formula)
    for name, electrode in ELECTRODES.items():
        if name.lower() == str(key).lower():
            return electrode
    comp = check_composition(name_or_formula, require_li=False)
    for electrode in ELECTRODES.values():
        if electrode.composition.reduced_composition == comp.reduced_composition:
            return electrode
    return Electrode(comp.reduced_formula, comp.formula.replace(" ", ""), (np.nan, np.nan))


@dataclass(frozen=True)
class InterfaceReaction:
    """The most negative reaction of an electrolyte with an electrode.

    ``energy_meV_atom`` (<= 0) is the mutual reaction energy per atom of mixture and
    ``total_meV_atom`` the same including the electrolyte's own decomposition (see the
    module docstring); ``ratio`` is the atomic fraction of electrolyte in the mixture at
    the minimum (for the open-to-Li variant, of the Li-free parts; NaN when the two do
    not react); ``products`` are the equilibrium phases there; ``potential_V`` is the
    Li potential (V vs Li/Li+) for ``open_to_li`` (else None) and
    ``potential_source`` says where it came from.
    """

    electrolyte: str
    electrode: str
    energy_meV_atom: float
    ratio: float
    products: tuple[str, ...]
    reaction: str
    open_to_li: bool
    potential_V: float | None
    source: str
    total_meV_atom: float = float("nan")
    potential_source: str = ""

    def to_dict(self) -> dict:
        """Plain-JSON dict."""
        d = asdict(self)
        d["products"] = list(self.products)
        return d


def _minimum(ir: InterfacialReactivity) -> tuple[float, float, str, tuple[str, ...]]:
    """(x, energy eV/atom, reaction, products) at the most negative interior kink of
    ``ir`` (0 < x < 1); (NaN, 0, "no reaction", ()) when no interior kink is negative.

    Same kinks as :meth:`InterfacialReactivity.get_kinks`, but the reaction is balanced
    only at the minimum (balancing every kink is the slow part).
    """
    pd = ir.pd
    c1 = pd.pd_coords(ir.comp1)
    c2 = pd.pd_coords(ir.comp2)
    n1, n2 = ir.comp1.num_atoms, ir.comp2.num_atoms
    if np.allclose(c1, c2):
        xs = [0.0, 1.0]
    else:
        xs = []
        for cc in pd.get_critical_compositions(ir.comp1, ir.comp2):
            r = float(np.linalg.norm(pd.pd_coords(cc) - c2) / np.linalg.norm(c1 - c2))
            xs.append(r * n2 / (n1 + r * (n2 - n1)))
    interior = [x for x in xs if 1e-9 < x < 1 - 1e-9]
    energies = [float(ir._get_energy(x)) for x in interior]
    if not interior or min(energies) > -1e-12:
        return float("nan"), 0.0, "no reaction", ()
    i = int(np.argmin(energies))
    xs = interior
    rxn = ir._get_reaction(xs[i])
    products = tuple(
        sorted(p.reduced_formula for p in rxn.products if abs(rxn.get_coeff(p)) > 1e-8)
    )
    x = float(ir._convert(xs[i], ir.factor1, ir.factor2))
    return x, energies[i], str(rxn), products


@lru_cache(maxsize=16)
def _grand_pd(
    chemsys: str, mu_li: float, exclude: tuple[str, ...] = ()
) -> GrandPotentialPhaseDiagram:
    pd = phase_diagram(chemsys.split("-"), exclude=exclude)
    return GrandPotentialPhaseDiagram(pd.all_entries, {Element(LI): mu_li})


def charged_potential_V(electrode: str | Electrode, *, exclude: tuple[str, ...] = ()) -> float:
    """The cathode's computed delithiation onset (V vs Li/Li+): the oxidation limit of
    its composition in the reference phase diagram (LiCoO2 3.39 V in this table).
    Above it the cathode itself decomposes, so open-to-Li reactions at higher
    potentials would count the cathode's own decomposition."""
    from ssbml.stability.reference import phase_diagram
    from ssbml.stability.window import electrochemical_window

    elec = electrode if isinstance(electrode, Electrode) else get_electrode(electrode)
    if not [el for el in elec.composition.elements if el.symbol != LI]:
        return 0.0
    if LI not in {el.symbol for el in elec.composition.elements}:
        raise StabilityInputError(
            elec.name,
            "has no Li, so no delithiation onset can be computed; the open-to-Li reaction "
            "needs an explicit potential (potential_V)",
        )
    pd = phase_diagram((el.symbol for el in elec.composition.elements), exclude=exclude)
    return float(electrochemical_window(elec.formula, pd=pd).oxidation_V)


def interface_reaction(
    electrolyte: object,
    electrode: str | Electrode = "Li",
    *,
    open_to_li: bool = False,
    potential_V: float | None = None,
    pd: PhaseDiagram | None = None,
    exclude: tuple[str, ...] = (),
) -> InterfaceReaction:
    """Most negative mutual reaction energy (meV/atom of mixture) of ``electrolyte``
    with ``electrode`` over all interior mixing ratios, with the total energy (including
    the electrolyte's own decomposition), the ratio and products.

    ``electrode`` is a built-in name (see :data:`ELECTRODES`), an :class:`Electrode`
    or any composition. With ``open_to_li`` Li is exchanged with a reservoir at
    ``potential_V`` (V vs Li/Li+; default :func:`charged_potential_V`). ``pd`` may be
    any phase diagram containing both reactants' elements (closed reaction only);
    ``exclude`` leaves reduced formulas out of the phase diagrams.
    """
    from ssbml.stability.reference import normalize_excluded

    exclude = tuple(sorted(normalize_excluded(exclude)))
    comp = check_composition(electrolyte)
    elec = electrode if isinstance(electrode, Electrode) else get_electrode(electrode)
    ecomp = elec.composition
    elements = sorted({el.symbol for el in comp.elements} | {el.symbol for el in ecomp.elements})
    if pd is None:
        pd = phase_diagram(elements, exclude=exclude)
    ref1, ref2 = reference_entry(comp), reference_entry(ecomp)
    if ref1 is not None and ref1.formula in exclude:
        ref1 = None
    source = "exact" if ref1 is not None and ref2 is not None else "phase diagram"
    potential_source = ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no matching entry ... hull energy used": intended
        if not open_to_li:
            # mutual: both reactants at their hull energies
            ir = InterfacialReactivity(comp, ecomp, pd, norm=True, use_hull_energy=True)
            voltage = None
        else:
            if not [el for el in ecomp.elements if el.symbol != LI]:
                raise StabilityInputError(
                    elec.name, "open-to-Li reaction with Li metal is the closed reaction at 0 V"
                )
            if potential_V is None or LI in {el.symbol for el in ecomp.elements}:
                onset = charged_potential_V(elec, exclude=exclude)
            else:
                onset = np.inf
            if potential_V is None:
                voltage = onset
                potential_source = (
                    f"computed delithiation onset of {elec.name} in the reference table"
                )
            else:
                voltage = float(potential_V)
                potential_source = "given"
                if voltage > onset + 1e-6:
                    potential_source += (
                        f"; above the computed delithiation onset of {elec.name} "
                        f"({onset:.2f} V): the cathode itself decomposes there"
                    )
            if not np.isfinite(voltage):
                raise StabilityInputError(elec.name, f"potential {voltage} V is not finite")
            if voltage < 0:
                raise StabilityInputError(
                    elec.name, f"potential {voltage} V vs Li/Li+ is below Li metal (0 V)"
                )
            gpd = _grand_pd("-".join(elements), -voltage + 0.0, exclude)
            ir = GrandPotentialInterfacialReactivity(
                comp, ecomp, gpd, pd_non_grand=pd, norm=True, include_no_mixing_energy=False,
                use_hull_energy=True,
            )
        x, energy, rxn, products = _minimum(ir)
    total = energy
    if not open_to_li and ref1 is not None and np.isfinite(x):
        excess = ref1.e_form_eV_atom - float(pd.get_hull_energy_per_atom(comp))
        total = energy - x * max(excess, 0.0)
    return InterfaceReaction(
        electrolyte=comp.reduced_formula,
        electrode=elec.name,
        energy_meV_atom=min(1000.0 * energy, 0.0) + 0.0,
        ratio=x,
        products=products,
        reaction=rxn,
        open_to_li=open_to_li,
        potential_V=voltage,
        source=source,
        total_meV_atom=min(1000.0 * total, 0.0) + 0.0,
        potential_source=potential_source,
    )
