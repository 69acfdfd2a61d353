"""Interface reactions (meV/atom of mixture) with Li metal and cathodes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pymatgen.analysis.interface_reactions import InterfacialReactivity
from pymatgen.core import Composition

from ssbml.stability.hull_lp import HullLP
from ssbml.stability.interface import ELECTRODES, get_electrode, interface_reaction
from ssbml.stability.reference import StabilityInputError, phase_diagram


def _pymatgen_minimum(electrolyte: str, electrode: str) -> tuple[float, float]:
    c1, c2 = Composition(electrolyte), get_electrode(electrode).composition
    pd = phase_diagram({e.symbol for e in c1.elements} | {e.symbol for e in c2.elements})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x, e = InterfacialReactivity(c1, c2, pd, norm=True, use_hull_energy=False).minimum
    return x, 1000 * e


@pytest.mark.parametrize(
    ("electrolyte", "electrode"),
    [("Li3PS4", "Li"), ("Li3PS4", "LiCoO2"), ("Li7La3Zr2O12", "LiCoO2"),
     ("Li2PO2N", "LiMn2O4")],
)
def test_matches_pymatgen_interfacial_reactivity(mirror, electrolyte, electrode):
    r = interface_reaction(electrolyte, electrode)
    x, e = _pymatgen_minimum(electrolyte, electrode)
    assert r.energy_meV_atom == pytest.approx(e, abs=1e-6)
    assert r.ratio == pytest.approx(x, abs=1e-9)
    assert r.source == "exact" and not r.open_to_li


def test_known_reactions(mirror):
    li = interface_reaction("Li3PS4", "Li")
    assert set(li.products) == {"Li2S", "Li3P"}  # full reduction by Li metal
    assert li.energy_meV_atom < -500
    lco = interface_reaction("Li3PS4", "LiCoO2")
    assert "Li3PO4" in lco.products and lco.energy_meV_atom < -300
    # oxide garnet vs oxide cathode: small reaction energy
    assert -50 < interface_reaction("Li7La3Zr2O12", "LiCoO2").energy_meV_atom <= 0


def test_lp_min_reaction_agrees(mirror):
    for electrolyte in ("Li3PS4", "Li0.33La0.56TiO3", "Li2PO2N"):
        c1 = Composition(electrolyte)
        lp = HullLP.from_reference({e.symbol for e in c1.elements} | {"Co", "O"})
        p1 = lp.vector(c1)
        from ssbml.stability.reference import reference_entry

        ref = reference_entry(c1)
        e1 = ref.e_form_eV_atom if ref else lp.hull_energy(p1)
        e2 = reference_entry(Composition("LiCoO2")).e_form_eV_atom
        energy, _, _ = lp.min_reaction(p1, e1, lp.vector(Composition("LiCoO2")), e2)
        assert 1000 * energy == pytest.approx(
            interface_reaction(electrolyte, "LiCoO2").energy_meV_atom, abs=1e-6
        )


def test_nmc811_and_open_to_li(mirror):
    r = interface_reaction("Li3PS4", "NMC811")
    assert r.electrode == "NMC811" and r.source == "not in reference"
    assert r.energy_meV_atom < -300
    opened = interface_reaction("Li3PS4", "LiCoO2", open_to_li=True)
    assert opened.open_to_li and opened.potential_V == ELECTRODES["LiCoO2"].potential_V
    assert "Li" in opened.products  # Li leaves to the reservoir at 4.2 V
    assert opened.energy_meV_atom < 0
    at_3v = interface_reaction("Li3PS4", "LiCoO2", open_to_li=True, potential_V=3.0)
    assert at_3v.potential_V == 3.0
    assert not np.isclose(at_3v.energy_meV_atom, opened.energy_meV_atom)


def test_electrode_lookup():
    assert get_electrode("nmc811").formula == "LiNi0.8Mn0.1Co0.1O2"
    assert get_electrode("LiNi0.8Mn0.1Co0.1O2").name == "NMC811"
    assert get_electrode("CoO2").name == "CoO2"  # any composition, no Li needed
    assert ELECTRODES["Li"].potential_V == 0.0
    for e in ELECTRODES.values():
        assert 0.0 <= e.range_V[0] <= e.range_V[1] < 5.0


def test_bad_input(mirror):
    with pytest.raises(StabilityInputError, match="unknown element"):
        get_electrode("FooBar")
    with pytest.raises(StabilityInputError, match="no Li"):
        interface_reaction("CoO2", "Li")
    with pytest.raises(StabilityInputError, match="below Li metal"):
        interface_reaction("Li3PS4", "LiCoO2", open_to_li=True, potential_V=-1.0)
    with pytest.raises(StabilityInputError, match="closed reaction"):
        interface_reaction("Li3PS4", "Li", open_to_li=True)
    with pytest.raises(StabilityInputError, match="potential"):
        interface_reaction("Li3PS4", "CoO2", open_to_li=True)
