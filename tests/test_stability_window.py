"""Electrochemical stability windows (V vs Li/Li+) against published first-principles
values (Zhu, He and Mo, ACS Appl. Mater. Interfaces 7, 23685 (2015)), off-stoichiometric
compositions, the LP fast path, and bad input."""

from __future__ import annotations

import random

import pytest
from pymatgen.core import Composition

from ssbml.stability.hull_lp import HullLP
from ssbml.stability.reference import StabilityInputError, phase_diagram
from ssbml.stability.window import electrochemical_window, li_profile

PUBLISHED = [
    ("Li3PS4", 1.71, 2.31),
    ("Li7La3Zr2O12", 0.05, 2.91),
    ("Li2PO2N", 0.68, 2.63),  # LiPON
]


@pytest.mark.parametrize(("formula", "reduction", "oxidation"), PUBLISHED)
def test_published_windows_within_0p1_V(mirror, formula, reduction, oxidation):
    w = electrochemical_window(formula)
    assert abs(w.reduction_V - reduction) < 0.1
    assert abs(w.oxidation_V - oxidation) < 0.1
    assert w.method == "zero" and w.li_exchange == 0.0
    assert w.source == "exact"


def test_li3ps4_products(mirror):
    w = electrochemical_window("Li3PS4")
    assert set(w.reduction_products) == {"Li2S", "P"}
    assert "P2S7" in w.oxidation_products


@pytest.mark.parametrize(
    ("formula", "reduction", "oxidation"),
    # Zhu, He and Mo (2015), Table 1 (quoted from memory): LLTO 1.75-3.71, LATP 2.17-4.21 V
    [("Li0.33La0.56TiO3", 1.75, 3.71), ("Li1.3Al0.3Ti1.7(PO4)3", 2.17, 4.21)],
)
def test_off_stoichiometric_compositions_get_a_window(mirror, formula, reduction, oxidation):
    w = electrochemical_window(formula)
    assert w.source == "phase diagram"
    assert w.reduction_V < w.oxidation_V
    assert abs(w.reduction_V - reduction) < 0.1
    assert abs(w.oxidation_V - oxidation) < 0.1


def test_llto_window_comes_from_the_sign_change(mirror):
    comp = Composition("Li0.33La0.56TiO3")
    steps = li_profile(comp, phase_diagram(el.symbol for el in comp.elements))
    evolution = [s["evolution"] for s in steps]
    assert all(abs(e) > 1e-6 for e in evolution)  # no exact zero
    assert evolution[0] > 0 > evolution[-1]
    w = electrochemical_window(comp)
    assert w.method == "sign change"
    assert 0 < w.li_exchange <= 0.05
    # without tolerance the window shrinks to the potential of the sign change
    point = electrochemical_window(comp, rel_tol=0.0)
    assert point.reduction_V == pytest.approx(point.oxidation_V)
    assert w.reduction_V <= point.reduction_V <= w.oxidation_V


def test_compound_stable_against_li_metal(mirror):
    w = electrochemical_window("Li2O")
    assert w.reduction_V == 0.0 and w.reduction_products == ()
    assert 2.5 < w.oxidation_V < 3.2


def test_lp_fast_path_agrees_with_pymatgen_profile(mirror):
    from ssbml.stability.labels import li_formulas

    rng = random.Random(7)
    formulas = rng.sample(li_formulas(), 12) + ["Li0.33La0.56TiO3", "Li3PS4"]
    for formula in formulas:
        comp = Composition(formula)
        w = electrochemical_window(comp)
        lp = HullLP.from_reference(el.symbol for el in comp.elements)
        red, ox, method = lp.window(comp)
        assert (red, ox, method) == pytest.approx((w.reduction_V, w.oxidation_V, w.method),
                                                  abs=1e-4), formula


@pytest.mark.parametrize(
    ("formula", "match"),
    [
        ("NaCl", "no Li"),
        ("LiXe", "Xe"),
        ("Li", "pure Li"),
        ("Li7-xLa3Zr2O12", "symbolic|negative|'-'"),
        ("", "empty"),
        ("LiLaCeNdSmGdYbZrTiO", "at most"),
    ],
)
def test_bad_input_raises_clear_error(mirror, formula, match):
    with pytest.raises(StabilityInputError, match=match):
        electrochemical_window(formula)


def test_bad_tolerance(mirror):
    with pytest.raises(ValueError, match="rel_tol"):
        electrochemical_window("Li3PS4", rel_tol=1.5)
