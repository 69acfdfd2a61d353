"""Candidate generation: site assignment, charge neutrality by construction, errors."""

from __future__ import annotations

import numpy as np
import pytest

from ssbml.composition import parse_formula
from ssbml.screening.candidates import (
    DopingError,
    assign_sites,
    generate_doped,
    parent_oxidation_states,
)


def _net_charge(cands, oxi: dict[str, int]) -> np.ndarray:
    q = np.array([oxi[el] for el in cands.fractions.elements], dtype=float)
    return cands.fractions.amounts() @ q


def test_parent_oxidation_states():
    assert parent_oxidation_states(parse_formula("Li7La3Zr2O12")) == {
        "Li": 1,
        "La": 3,
        "Zr": 4,
        "O": -2,
    }
    assert parent_oxidation_states(parse_formula("Li6PS5Cl")) == {
        "Li": 1,
        "P": 5,
        "S": -2,
        "Cl": -1,
    }
    # nominal off-stoichiometric perovskite LLTO balances to within 1 %
    assert parent_oxidation_states(parse_formula("Li0.33La0.56TiO3"))["Ti"] == 4


def test_sites_follow_literature_heuristic_and_user():
    sites = {
        a.dopant: (a.site, a.dopant_oxidation, a.rule)
        for a in assign_sites("Li7La3Zr2O12", ["Ta", "Nb", "Al", "Ga", "Sr"])
    }
    assert sites["Ta"] == ("Zr", 5, "heuristic")
    assert sites["Nb"] == ("Zr", 5, "heuristic")
    assert sites["Al"] == ("Li", 3, "literature")
    assert sites["Ga"] == ("Li", 3, "literature")
    assert sites["Sr"][0] == "La"
    thio = {a.dopant: a.site for a in assign_sites("Li3PS4", ["Cl", "Br", "I", "Si", "Ge"])}
    assert thio == {"Cl": "S", "Br": "S", "I": "S", "Si": "P", "Ge": "P"}
    user = assign_sites("Li7La3Zr2O12", ["Al"], sites={"Al": "Zr"})[0]
    assert (user.site, user.rule) == ("Zr", "user")


@pytest.mark.parametrize(
    ("parent", "dopants"),
    [
        ("Li7La3Zr2O12", ["Ta", "Nb", "Al", "Ga"]),
        ("Li3PS4", ["Cl", "Br", "I", "Si", "Sn", "Ge"]),
        ("Li6PS5Cl", ["Br", "Si"]),
        ("Li3YCl6", ["Zr", "In", "Br"]),
        ("LiTi2(PO4)3", ["Al", "Ge", "Sc"]),
    ],
)
def test_every_candidate_is_charge_neutral(parent, dopants):
    cands = generate_doped(parent, dopants, max_dopants=2)
    oxi = parent_oxidation_states(parse_formula(parent))
    oxi |= {a.dopant: a.dopant_oxidation for a in assign_sites(parent, dopants)}
    np.testing.assert_allclose(_net_charge(cands, oxi), 0.0, atol=1e-9)
    assert (cands.fractions.amounts() >= 0).all()
    assert (cands.labels["li_per_formula"] > 0).all()
    assert cands.labels["candidate_id"].is_unique
    assert cands.labels["doping"].iloc[0] == ""  # the parent itself comes first


def test_compensation_amounts_are_right():
    cands = generate_doped("Li7La3Zr2O12", ["Ta", "Al"], fractions=[0.25], max_dopants=1)
    formulas = dict(zip(cands.labels["doping"], cands.fractions.to_formulas(), strict=True))
    # Ta5+ on Zr4+: one Li vacancy per Ta; Al3+ on Li+: Al replaces Li and two vacancies
    assert parse_formula(formulas["Ta@Zr:0.5"]).almost_equals(
        parse_formula("Li6.5La3Zr1.5Ta0.5O12")
    )
    assert parse_formula(formulas["Al@Li:1.75"]).almost_equals(
        parse_formula("Li1.75Al1.75La3Zr2O12")
    )
    cl = generate_doped("Li3PS4", ["Cl"], fractions=[0.25], max_dopants=1)
    assert parse_formula(cl.fractions.to_formulas()[1]).almost_equals(parse_formula("Li2PS3Cl"))


def test_grid_and_codoping_counts():
    one = generate_doped("Li3PS4", ["Si", "Ge"], fractions=[0.1, 0.2], max_dopants=1)
    assert len(one) == 1 + 2 * 2
    two = generate_doped("Li3PS4", ["Si", "Ge"], fractions=[0.1, 0.2], max_dopants=2)
    assert len(two) == 1 + 2 * 2 + 4


def test_candidates_that_need_negative_li_are_left_out():
    cands = generate_doped("Li7La3Zr2O12", ["Al"], fractions=[0.1, 0.2, 0.5], max_dopants=1)
    # 0.5 of the Li site (3.5 Al) would need Li 7 - 3*3.5 < 0
    assert "Al@Li:3.5" not in set(cands.labels["doping"])
    assert (cands.labels["li_per_formula"] > 0).all()


@pytest.mark.parametrize(
    ("parent", "dopants", "kwargs", "message"),
    [
        ("Li7La3Zr2O12", ["Xx"], {}, "unknown dopant element 'Xx'"),
        ("Li7La3Zr2O12", ["La"], {}, "already in the parent"),
        ("Li7La3Zr2O12", ["Ne"], {}, "no known non-zero oxidation state"),
        ("Li3PS4", ["F"], {"sites": {"F": "P"}}, "cannot balance charge on site P"),
        ("Li3PS4", ["Si"], {"sites": {"Si": "Zr"}}, "not an element of Li3PS4"),
        ("Li3PS4", [], {}, "no dopants"),
        ("Li3PS4", ["Si", "Si"], {}, "repeated dopant"),
        ("Li3PS4", ["Si"], {"fractions": [0.0, 0.5]}, "fractions must lie in (0, 1]"),
        ("Li3PS4", ["Si"], {"fractions": [1.5]}, "fractions must lie in (0, 1]"),
        ("NaCl", ["K"], {}, "no Li"),
        ("Li0.01Al0.99O1.5", ["Mg"], {"sites": {"Mg": "Li"}, "fractions": [1.0]}, ""),
    ],
)
def test_bad_doping_requests_raise_clear_errors(parent, dopants, kwargs, message):
    if not message:  # Mg2+ on the whole Li site needs -Li: nothing can be made
        with pytest.raises(DopingError, match="no charge-neutral candidate"):
            generate_doped(parent, dopants, include_parent=False, max_dopants=1, **kwargs)
        return
    with pytest.raises(DopingError) as info:
        generate_doped(parent, dopants, **kwargs)
    assert message in str(info.value)
