"""Candidate generation: site assignment, charge neutrality by construction, amounts per
formula unit, the candidate rules (minimum Li, caps), the rejected table, errors."""

from __future__ import annotations

import numpy as np
import pytest

from ssbml.composition import parse_formula
from ssbml.screening.candidates import (
    REJECTED_COLUMNS,
    Candidates,
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
    cands = generate_doped(
        "Li7La3Zr2O12", ["Ta", "Al"], amounts=[0.5, 1.75], max_dopants=1, min_li=0,
        max_site_fraction=1, solubility_cap=10,
    )
    formulas = dict(zip(cands.labels["doping"], cands.fractions.to_formulas(), strict=True))
    # Ta5+ on Zr4+: one Li vacancy per Ta; Al3+ on Li+: Al replaces Li and two vacancies
    assert parse_formula(formulas["Ta@Zr:0.5"]).almost_equals(
        parse_formula("Li6.5La3Zr1.5Ta0.5O12")
    )
    assert parse_formula(formulas["Al@Li:1.75"]).almost_equals(
        parse_formula("Li1.75Al1.75La3Zr2O12")
    )
    # the legacy site fractions still work: 0.25 of the 4 S of Li3PS4 is one Cl
    cl = generate_doped("Li3PS4", ["Cl"], fractions=[0.25], max_dopants=1, min_li=0)
    assert parse_formula(cl.fractions.to_formulas()[1]).almost_equals(parse_formula("Li2PS3Cl"))


def test_grid_and_codoping_counts():
    one = generate_doped("Li3PS4", ["Si", "Ge"], fractions=[0.1, 0.2], max_dopants=1)
    assert len(one) == 1 + 2 * 2
    two = generate_doped("Li3PS4", ["Si", "Ge"], fractions=[0.1, 0.2], max_dopants=2)
    assert len(two) == 1 + 2 * 2 + 4


def test_candidates_that_need_negative_li_are_left_out():
    cands = generate_doped(
        "Li7La3Zr2O12", ["Al"], fractions=[0.1, 0.2, 0.5], max_dopants=1, min_li=0
    )
    # 0.5 of the Li site (3.5 Al) would need Li 7 - 3*3.5 < 0
    assert "Al@Li:3.5" not in set(cands.labels["doping"])
    assert (cands.labels["li_per_formula"] > 0).all()
    row = cands.rejected.set_index("doping").loc["Al@Li:3.5"]
    assert row["rule"] == "negative_li" and "cannot balance charge" in row["reason"]
    assert row["li_per_formula"] == pytest.approx(-3.5)


def _formulas(cands) -> list:
    return [parse_formula(f) for f in cands.fractions.to_formulas()]


def _made(cands, formula: str) -> bool:
    target = parse_formula(formula)
    return any(c.almost_equals(target, rtol=0, atol=1e-6) for c in _formulas(cands))


def test_main_job_makes_the_literature_compositions_and_respects_min_li():
    cands = generate_doped("Li7La3Zr2O12", ["Ta", "Nb", "Al", "Ga"])
    for formula in (
        "Li6.25Al0.25La3Zr2O12",  # Geiger et al. 2011
        "Li6.4Ga0.2La3Zr2O12",  # Ga-LLZO
        "Li6.4La3Zr1.4Ta0.6O12",  # Li et al. 2012
        "Li6.5La3Zr1.5Nb0.5O12",
    ):
        assert _made(cands, formula), formula
    # default minimum Li: 70 % of the parent's 7
    li = cands.labels["li_per_formula"]
    assert li.min() >= 0.7 * 7 - 1e-9
    assert (cands.rejected["rule"] == "min_li").any()
    # amounts are per formula unit: Al and Ga on their literature grid 0.05-0.4
    al = cands.labels["doping"].str.extract(r"^Al@Li:([0-9.]+)$")[0].dropna().astype(float)
    assert al.min() == pytest.approx(0.05) and al.max() == pytest.approx(0.4)
    ta = cands.labels["doping"].str.extract(r"^Ta@Zr:([0-9.]+)$")[0].dropna().astype(float)
    assert ta.min() == pytest.approx(0.1) and ta.max() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("kwargs", "lowest"),
    [({"min_li": 6.0}, 6.0), ({"min_li_fraction": 0.9}, 6.3), ({"min_li": 0}, 0.0)],
)
def test_min_li_is_overridable(kwargs, lowest):
    cands = generate_doped("Li7La3Zr2O12", ["Ta", "Ga"], **kwargs)
    assert cands.labels["li_per_formula"].min() >= lowest - 1e-9
    below = cands.rejected[cands.rejected["rule"] == "min_li"]
    if lowest > 0:
        assert len(below) and (below["li_per_formula"] < lowest).all()
        assert below["reason"].str.contains(f"below the minimum {lowest:g}").all()


def test_li3ps4_candidates_keep_li():
    cands = generate_doped("Li3PS4", ["Cl", "Br", "I", "Si", "Sn", "Ge"])
    assert cands.labels["li_per_formula"].min() >= 2.1 - 1e-9
    assert len(cands) > 100


def test_halide_rich_argyrodite_from_a_dopant_already_in_the_parent():
    site = assign_sites("Li6PS5Cl", ["Cl"])[0]
    assert (site.site, site.dopant_oxidation, site.site_oxidation) == ("S", -1, -2)
    cands = generate_doped("Li6PS5Cl", ["Cl"], max_dopants=1)
    assert _made(cands, "Li5.5PS4.5Cl1.5")  # Adeli et al. 2019, x = 0.5
    oxi = parent_oxidation_states(parse_formula("Li6PS5Cl"))
    np.testing.assert_allclose(_net_charge(cands, oxi), 0.0, atol=1e-9)
    # Br and I on the S site too: Li6PS5Br + Br, and Br forced onto S of Li6PS5Cl
    assert _made(generate_doped("Li6PS5Br", ["Br"], max_dopants=1), "Li5.5PS4.5Br1.5")
    assert _made(generate_doped("Li6PS5I", ["I"], max_dopants=1), "Li5.75PS4.75I1.25")
    forced = generate_doped("Li6PS5Cl", ["Br"], sites={"Br": "S"}, max_dopants=1)
    assert _made(forced, "Li5.5PS4.5ClBr0.5")
    # co-doping a parent element with a new one: Cl on S plus Br on Cl
    both = generate_doped("Li6PS5Cl", ["Cl", "Br"], amounts=[0.25])
    assert _made(both, "Li5.75PS4.75Cl1Br0.25")


def test_caps_and_every_rejected_candidate_has_a_reason():
    cands = generate_doped("Li7La3Zr2O12", ["Ta", "Nb", "Al", "Ga"])
    rej = cands.rejected
    assert list(rej.columns) == list(REJECTED_COLUMNS)
    assert len(rej) == cands.n_rejected > 0
    assert rej["reason"].str.len().gt(0).all() and rej["rule"].str.len().gt(0).all()
    assert set(rej["rule"]) <= {"site_size", "negative_li", "min_li", "site_cap",
                                "solubility_cap"}
    # made and rejected are disjoint and together the whole grid
    assert not set(rej["doping"]) & set(cands.labels["doping"])
    n_grid = 12 + 12 + 8 + 8  # Ta, Nb, Al, Ga literature grids
    n_pairs = 12 * 12 + 4 * 12 * 8 + 8 * 8
    assert len(cands) - 1 + len(rej) == n_grid + n_pairs
    # the LLZO solubility cap (1.2 dopant atoms per formula unit) and the site cap (0.5)
    made = cands.labels["doping"].str.split("+")
    total = made.apply(lambda parts: sum(float(p.split(":")[1]) for p in parts if p))
    assert total.max() <= 1.2 + 1e-9
    assert (rej["rule"] == "solubility_cap").any() and (rej["rule"] == "site_cap").any()
    ta_nb = rej[rej["doping"] == "Ta@Zr:0.5+Nb@Zr:0.6"].iloc[0]
    assert ta_nb["reason"] == "replaces 0.55 of site Zr, above the cap 0.5"
    # caps are overridable: no cap on the total, half the Zr site as before
    loose = generate_doped("Li7La3Zr2O12", ["Ta", "Nb", "Al", "Ga"], solubility_cap=10)
    assert len(loose) > len(cands) and loose.labels["li_per_formula"].min() >= 4.9 - 1e-9
    tight = generate_doped("Li3PS4", ["Si"], amounts=[0.2, 0.4], max_site_fraction=0.3)
    assert list(tight.labels["doping"]) == ["", "Si@P:0.2"]
    assert tight.rejected["rule"].tolist() == ["site_cap"]
    # co-dopants that would take more than the whole site
    over = generate_doped("Li3YCl6", ["Zr", "Hf"], amounts=[0.6], max_site_fraction=1)
    assert "site_size" in set(over.rejected["rule"])


def test_rejected_table_survives_concat_and_take():
    a = generate_doped("Li7La3Zr2O12", ["Ta", "Ga"])
    b = generate_doped("Li3PS4", ["Si"], amounts=[0.2, 0.8])
    both = Candidates.concat([a, b])
    assert both.n_rejected == a.n_rejected + b.n_rejected
    assert set(both.rejected["parent"]) == {"Li7La3Zr2O12", "Li3PS4"}
    assert both.take(slice(0, 3)).n_rejected == both.n_rejected


@pytest.mark.parametrize(
    ("parent", "dopants", "kwargs", "message"),
    [
        ("Li7La3Zr2O12", ["Xx"], {}, "unknown dopant element 'Xx'"),
        ("Li6PS5Cl", ["Cl"], {"sites": {"Cl": "Cl"}}, "cannot substitute its own site"),
        ("Li3PS4", ["Li"], {}, "Li cannot be a dopant"),
        ("Li7La3Zr2O12", ["Ne"], {}, "no known non-zero oxidation state"),
        ("Li3PS4", ["F"], {"sites": {"F": "P"}}, "cannot balance charge on site P"),
        ("Li3PS4", ["Si"], {"sites": {"Si": "Zr"}}, "not an element of Li3PS4"),
        ("Li3PS4", [], {}, "no dopants"),
        ("Li3PS4", ["Si", "Si"], {}, "repeated dopant"),
        ("Li3PS4", ["Si"], {"fractions": [0.0, 0.5]}, "fractions must lie in (0, 1]"),
        ("Li3PS4", ["Si"], {"fractions": [1.5]}, "fractions must lie in (0, 1]"),
        ("Li3PS4", ["Si"], {"amounts": [0.1, -0.2]}, "amounts must be finite numbers > 0"),
        ("Li3PS4", ["Si"], {"amounts": [float("nan")]}, "amounts must be finite numbers > 0"),
        ("Li3PS4", ["Si"], {"amounts": ["a"]}, "amounts must be numbers"),
        ("Li3PS4", ["Si"], {"amounts": []}, "amounts is empty"),
        ("Li3PS4", ["Si"], {"amounts": [1.5]}, "1.5 per formula unit is above the size of "
         "its site P (1 per formula unit of Li3PS4)"),
        ("Li3PS4", ["Si"], {"dopant_amounts": {"Si": [0.1, 2]}}, "amounts for Si: 2 per"),
        ("Li3PS4", ["Si"], {"dopant_amounts": {"Ge": [0.1]}}, "amounts given for Ge"),
        ("Li3PS4", ["Si"], {"amounts": [0.1], "fractions": [0.1]}, "not both"),
        ("Li3PS4", ["Si"], {"min_li": -1}, "min_li (Li atoms per formula unit) must be"),
        ("Li3PS4", ["Si"], {"min_li": float("nan")}, "min_li (Li atoms"),
        ("Li3PS4", ["Si"], {"max_site_fraction": 1.5}, "max_site_fraction (of a site) must be"),
        ("Li3PS4", ["Si"], {"solubility_cap": float("inf")}, "solubility_cap (dopant atoms"),
        ("Li3PS4", ["Cl"], {"min_li": 3.5}, "rejected: 11 min_li"),
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


def test_a_doped_parent_is_read_as_its_host_with_guests():
    """Li6.25Al0.25La3Zr2O12: Al is a dopant already on the Li site. Ga (literature: Li
    site of garnet) joins it there with Li vacancies instead of replacing Al, the
    heuristic never puts a new dopant on the Al 'site', and the host's rules hold
    (Li >= 4.9, total dopants <= 1.2 per formula unit with Al counted)."""
    from ssbml.screening.candidates import match_host

    host = match_host("Li6.25Al0.25La3Zr2O12")
    assert host is not None and host.host == "Li7La3Zr2O12"
    assert dict(host.guests) == {"Al": "Li"}
    assert match_host("Li7La3Zr2O12") is None
    assert match_host("Li3PS4") is None
    # far from the host's stoichiometry: not read as a garnet
    assert match_host("Li2La3Zr6Al0.2O12") is None
    c = generate_doped("Li6.25Al0.25La3Zr2O12", ["Ga", "Ta"])
    sites = {a["dopant"]: (a["site"], a["rule"]) for a in c.labels.attrs["sites"]}
    assert sites == {"Ga": ("Li", "literature"), "Ta": ("Zr", "heuristic")}
    amounts = c.fractions.amounts()
    col = {el: j for j, el in enumerate(c.fractions.elements)}
    assert np.allclose(amounts[:, col["Al"]], 0.25)
    assert amounts[:, col["Li"]].min() >= 4.9 - 1e-9
    assert c.labels.attrs["rules"]["solubility_cap"] == pytest.approx(0.95)
    assert (amounts[:, col["Ga"]] + amounts[:, col["Ta"]] <= 0.95 + 1e-9).all()


def test_a_ta_doped_garnet_counts_its_ta_on_the_zr_site():
    """Li6.4La3Zr1.4Ta0.6O12 + Nb: Nb goes to the Zr site (not onto Ta) and the site cap
    of half the (Zr + Ta) site counts the Ta already there: Nb <= 0.4 per formula unit."""
    c = generate_doped("Li6.4La3Zr1.4Ta0.6O12", ["Nb"])
    assert c.labels.attrs["sites"][0]["site"] == "Zr"
    nb = c.fractions.amounts()[:, c.fractions.elements.index("Nb")]
    assert nb.max() == pytest.approx(0.4)
    capped = c.rejected[c.rejected["rule"] == "site_cap"]
    assert len(capped) and capped["reason"].str.contains("already on it").all()
