"""Energy above hull, decomposition energy and products (meV/atom)."""

from __future__ import annotations

import math

import pytest
from pymatgen.core import Composition

from ssbml.stability.decomposition import decomposition
from ssbml.stability.reference import StabilityInputError, phase_diagram


def _pymatgen_entry(formula):
    comp = Composition(formula)
    pd = phase_diagram(el.symbol for el in comp.elements)
    entry = next(e for e in pd.all_entries if e.name == comp.reduced_formula)
    return pd, entry


def test_stable_compound(mirror):
    d = decomposition("Li3PS4")
    assert d.source == "exact" and d.is_stable
    assert d.e_above_hull_meV_atom == 0.0
    assert d.products == {"Li3PS4": pytest.approx(1.0)}
    pd, entry = _pymatgen_entry("Li3PS4")
    _, sep = pd.get_decomp_and_phase_separation_energy(entry)
    assert d.decomposition_energy_meV_atom == pytest.approx(1000 * sep, abs=1e-3)
    assert d.decomposition_energy_meV_atom < 0


def test_metastable_compound(mirror):
    d = decomposition("Li6PS5Cl")  # argyrodite: above the 0 K hull
    pd, entry = _pymatgen_entry("Li6PS5Cl")
    assert d.e_above_hull_meV_atom == pytest.approx(1000 * pd.get_e_above_hull(entry))
    assert d.e_above_hull_meV_atom > 10
    assert d.decomposition_energy_meV_atom == d.e_above_hull_meV_atom
    assert set(d.products) == {"Li3PS4", "Li2S", "LiCl"}
    assert sum(d.products.values()) == pytest.approx(1.0)
    assert not d.is_stable


def test_not_in_reference(mirror):
    d = decomposition("Li1.3Al0.3Ti1.7(PO4)3")
    assert d.source == "phase diagram"
    assert math.isnan(d.e_above_hull_meV_atom) and math.isnan(d.e_form_eV_atom)
    assert {"LiTi2(PO4)3", "AlPO4", "Li3PO4"} == set(d.products)
    assert d.hull_energy_eV_atom < -2.5


def test_bad_input(mirror):
    with pytest.raises(StabilityInputError, match="no Li"):
        decomposition("TiO2")
