"""Interface reactions between a solid electrolyte and an electrode (meV/atom).

The electrolyte and electrode are mixed in every ratio along their tie line; the
reaction energy at atomic fraction ``x`` of electrolyte is
``E_hull(x c1 + (1 - x) c2) - x E(c1) - (1 - x) E(c2)`` (per atom of mixture), and the
most negative value over ``x`` is reported with its ratio and products (pymatgen's
:class:`InterfacialReactivity`; Richards et al., Chem. Mater. 28, 266 (2016)). The
open-to-Li variant (:class:`GrandPotentialInterfacialReactivity`) lets Li flow in or
out at the electrode's potential ``V``, i.e. mu_Li = -V eV relative to Li metal.

Reactant energies are the reference table's (``source = "exact"``); a reactant absent
from it (off-stoichiometric, doped, NMC811) is given the hull energy at its
composition, so the reported energy is an upper bound (``"not in reference"``).
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
    "InterfaceReaction",
    "get_electrode",
    "interface_reaction",
]


@dataclass(frozen=True)
class Electrode:
    """An electrode: composition and its operating potential range (V vs Li/Li+).

    ``potential_V`` is the potential used for the open-to-Li reaction: the top of the
    range for cathodes (the most oxidising, fully charged state), 0 V for Li metal.
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

    ``energy_meV_atom`` (<= 0) is per atom of mixture; ``ratio`` is the atomic
    fraction of electrolyte in the mixture at that minimum (for the open-to-Li variant,
    of the Li-free parts); ``products`` are the equilibrium phases there; ``potential_V``
    is the Li potential for ``open_to_li`` (else None).
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

    def to_dict(self) -> dict:
        """Plain-JSON dict."""
        d = asdict(self)
        d["products"] = list(self.products)
        return d


def _minimum(ir: InterfacialReactivity) -> tuple[float, float, str, tuple[str, ...]]:
    """(x, energy eV/atom, reaction, products) at the most negative kink of ``ir``.

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
    energies = [float(ir._get_energy(x)) for x in xs]
    i = int(np.argmin(energies))
    rxn = ir._get_reaction(xs[i])
    products = tuple(
        sorted(p.reduced_formula for p in rxn.products if abs(rxn.get_coeff(p)) > 1e-8)
    )
    x = float(ir._convert(xs[i], ir.factor1, ir.factor2))
    return x, energies[i], str(rxn), products


@lru_cache(maxsize=16)
def _grand_pd(chemsys: str, mu_li: float) -> GrandPotentialPhaseDiagram:
    pd = phase_diagram(chemsys.split("-"))
    return GrandPotentialPhaseDiagram(pd.all_entries, {Element(LI): mu_li})


def interface_reaction(
    electrolyte: object,
    electrode: str | Electrode = "Li",
    *,
    open_to_li: bool = False,
    potential_V: float | None = None,
    pd: PhaseDiagram | None = None,
) -> InterfaceReaction:
    """Most negative reaction energy (meV/atom of mixture) of ``electrolyte`` with
    ``electrode`` over all mixing ratios, with the ratio and products.

    ``electrode`` is a built-in name (see :data:`ELECTRODES`), an :class:`Electrode`
    or any composition. With ``open_to_li`` Li is exchanged with a reservoir at
    ``potential_V`` (V vs Li/Li+; default the electrode's ``potential_V``). ``pd`` may
    be any phase diagram containing both reactants' elements (closed reaction only).
    """
    comp = check_composition(electrolyte)
    elec = electrode if isinstance(electrode, Electrode) else get_electrode(electrode)
    ecomp = elec.composition
    elements = sorted({el.symbol for el in comp.elements} | {el.symbol for el in ecomp.elements})
    if pd is None:
        pd = phase_diagram(elements)
    ref1, ref2 = reference_entry(comp), reference_entry(ecomp)
    source = "exact" if ref1 is not None and ref2 is not None else "not in reference"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no matching entry ... hull energy used": see source
        if not open_to_li:
            ir = InterfacialReactivity(comp, ecomp, pd, norm=True, use_hull_energy=True)
            # Reference energies (eV/atom) where known; pymatgen's own lookup skips
            # compounds with positive formation energy and is slow.
            for attr, ref in (("e1", ref1), ("e2", ref2)):
                if ref is not None:
                    setattr(ir, attr, ref.e_form_eV_atom)
            voltage = None
        else:
            voltage = elec.potential_V if potential_V is None else float(potential_V)
            if voltage is None or not np.isfinite(voltage):
                raise StabilityInputError(
                    elec.name, "open-to-Li reaction needs the electrode potential (potential_V)"
                )
            if voltage < 0:
                raise StabilityInputError(
                    elec.name, f"potential {voltage} V vs Li/Li+ is below Li metal (0 V)"
                )
            if not [el for el in ecomp.elements if el.symbol != LI]:
                raise StabilityInputError(
                    elec.name, "open-to-Li reaction with Li metal is the closed reaction at 0 V"
                )
            gpd = _grand_pd("-".join(elements), -voltage + 0.0)
            ir = GrandPotentialInterfacialReactivity(
                comp, ecomp, gpd, pd_non_grand=pd, norm=True, include_no_mixing_energy=False,
                use_hull_energy=True,
            )
        x, energy, rxn, products = _minimum(ir)
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
    )
