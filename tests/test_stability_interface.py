"""Interface reactions (meV/atom of mixture) with Li metal and cathodes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from pymatgen.analysis.interface_reactions import InterfacialReactivity
from pymatgen.core import Composition

from ssbml.stability.hull_lp import HullLP
from ssbml.stability.interface import (
    ELECTRODES,
    charged_potential_V,
    get_electrode,
    interface_reaction,
)
from ssbml.stability.reference import StabilityInputError, phase_diagram


def _pymatgen_minimum(
    electrolyte: str, electrode: str, *, use_hull_energy: bool = True
) -> tuple[float, float]:
    c1, c2 = Composition(electrolyte), get_electrode(electrode).composition
    pd = phase_diagram({e.symbol for e in c1.elements} | {e.symbol for e in c2.elements})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ir = InterfacialReactivity(c1, c2, pd, norm=True, use_hull_energy=use_hull_energy)
        x, e = ir.minimum
    return x, 1000 * e


@pytest.mark.parametrize(
    ("electrolyte", "electrode"),
    [("Li3PS4", "Li"), ("Li3PS4", "LiCoO2"), ("Li7La3Zr2O12", "LiCoO2"),
     ("Li2PO2N", "LiMn2O4")],
)
def test_matches_pymatgen_interfacial_reactivity(mirror, electrolyte, electrode):
    """Mutual energy = pymatgen with both reactants at hull energy; total = pymatgen
    with the reference energies (these electrodes are on the hull)."""
    r = interface_reaction(electrolyte, electrode)
    x, e = _pymatgen_minimum(electrolyte, electrode)
    assert r.energy_meV_atom == pytest.approx(e, abs=1e-6)
    assert r.ratio == pytest.approx(x, abs=1e-9)
    assert r.source == "exact" and not r.open_to_li
    assert r.total_meV_atom <= r.energy_meV_atom + 1e-9
    if electrolyte == "Li3PS4":  # on the hull, like Li and LiCoO2: all routes agree
        _, e_own = _pymatgen_minimum(electrolyte, electrode, use_hull_energy=False)
        assert r.total_meV_atom == pytest.approx(e_own, abs=1e-6)


def test_mutual_and_total_on_metastable_electrolyte(mirror):
    """LLZO is 6.6 meV/atom above the hull: the total counts its own decomposition at
    the mutual minimum's ratio, the mutual energy does not."""
    from ssbml.stability.decomposition import decomposition

    r = interface_reaction("Li7La3Zr2O12", "LiCoO2")
    e_hull = decomposition("Li7La3Zr2O12").e_above_hull_meV_atom
    assert e_hull > 1
    assert r.total_meV_atom == pytest.approx(r.energy_meV_atom - r.ratio * e_hull, abs=1e-6)
    assert r.total_meV_atom < r.energy_meV_atom < 0


def test_no_reaction_at_the_ends(mirror):
    """LiNbO3 | LiMn2O4: pymatgen's minimum with reference energies sits at x = 0 (the
    cathode decomposing alone); ssbml reports no reaction instead."""
    x_own, e_own = _pymatgen_minimum("LiNbO3", "LiMn2O4", use_hull_energy=False)
    r = interface_reaction("LiNbO3", "LiMn2O4")
    assert r.energy_meV_atom == 0.0 and np.isnan(r.ratio) and r.products == ()
    assert r.reaction == "no reaction"
    if e_own < 0:
        assert min(x_own, 1 - x_own) < 1e-9  # an end point, not a reaction


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

        assert reference_entry(Composition("LiCoO2")) is not None
        p2 = lp.vector(Composition("LiCoO2"))
        energy, _, _ = lp.min_reaction(p1, lp.hull_energy(p1), p2, lp.hull_energy(p2))
        assert 1000 * energy == pytest.approx(
            interface_reaction(electrolyte, "LiCoO2").energy_meV_atom, abs=1e-6
        )


def test_nmc811_and_open_to_li(mirror):
    r = interface_reaction("Li3PS4", "NMC811")
    assert r.electrode == "NMC811" and r.source == "phase diagram"
    assert r.energy_meV_atom < -300
    opened = interface_reaction("Li3PS4", "LiCoO2", open_to_li=True)
    # the charged state comes from the table: LiCoO2's own computed delithiation onset
    onset = charged_potential_V("LiCoO2")
    assert 3.2 < onset < 3.6 < ELECTRODES["LiCoO2"].potential_V
    assert opened.open_to_li and opened.potential_V == pytest.approx(onset)
    assert "computed" in opened.potential_source
    assert "Li" in opened.products  # Li leaves to the reservoir
    assert opened.energy_meV_atom < 0
    at_3v = interface_reaction("Li3PS4", "LiCoO2", open_to_li=True, potential_V=3.0)
    assert at_3v.potential_V == 3.0 and at_3v.potential_source == "given"
    above = interface_reaction("Li3PS4", "LiCoO2", open_to_li=True, potential_V=4.2)
    assert "decomposes" in above.potential_source
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
