"""Composition parsing on the messy forms found in literature data, and on garbage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Composition

from ssbml.composition import (
    MAX_FORMULA_LENGTH,
    CompositionError,
    ElementFractions,
    composition_key,
    parse_formula,
    parse_formulas,
)
from ssbml.data.registry import fetch


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Li6.4La3Zr1.4Ta0.6O12", {"Li": 6.4, "La": 3, "Zr": 1.4, "Ta": 0.6, "O": 12}),
        ("Li1.4Al0.4Ti1.6 (PO4)3", {"Li": 1.4, "Al": 0.4, "Ti": 1.6, "P": 3, "O": 12}),
        ("Li0.6[Li0.2Sn0.8S2]", {"Li": 0.8, "Sn": 0.8, "S": 2}),
        ("LiBH4*H2O", {"Li": 1, "B": 1, "H": 6, "O": 1}),
        ("LiBH4·H2O", {"Li": 1, "B": 1, "H": 6, "O": 1}),
        ("LiOH·2H2O", {"Li": 1, "O": 3, "H": 5}),
        ("Li2SO4(H2O)2", {"Li": 2, "S": 1, "O": 6, "H": 4}),
        (
            "Li3(Mo8S8O8(OH)8(HWO5(H2O)))*(H2O)18",
            {"Li": 3, "Mo": 8, "S": 8, "O": 40, "H": 47, "W": 1},
        ),
        ("Li₃PS₄", {"Li": 3, "P": 1, "S": 4}),
        ("Li₆PS₅Cl", {"Li": 6, "P": 1, "S": 5, "Cl": 1}),
        ("  Li6PS5Br \t", {"Li": 6, "P": 1, "S": 5, "Br": 1}),
        ('"(Li2S)0.75 (P2S5)0.25"', {"Li": 1.5, "S": 2, "P": 0.5}),
        ("0.75Li2S\u22120.25P2S5", {"Li": 1.5, "S": 2, "P": 0.5}),
        ("70Li2S-30P2S5", {"Li": 140, "S": 220, "P": 60}),
        ("((Li2S)0.6 (SiS2)0.4 )95 (Li4SiO4)5", {"Li": 134, "S": 133, "Si": 43, "O": 20}),
        (
            "Li0.022 La0.117 Ti0.208 Al0.001 O0.626",
            {"Li": 0.022, "La": 0.117, "Ti": 0.208, "Al": 0.001, "O": 0.626},
        ),
        ("Li7La3Zr2O12", {"Li": 7, "La": 3, "Zr": 2, "O": 12}),
    ],
)
def test_messy_forms_parse(text, expected):
    comp = parse_formula(text)
    assert comp.almost_equals(Composition(expected), rtol=1e-9, atol=1e-9), comp.formula


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        (None, "empty"),
        (float("nan"), "empty"),
        (42, "expected a formula string"),
        ("Xx2O", "unknown element 'Xx'"),
        ("Li-1O", "negative amount"),
        ("Li\u22121O", "negative amount"),
        ("LiO0", "non-positive amount"),
        ("Li0O", "non-positive amount"),
        ("Li7-xLa3Zr2O12", "'-'"),
        ("LixLa3Zr2O12", "symbolic"),
        ("NaCl", "no Li"),
        ("Li3(PO4", "unbalanced"),
        ("LiCl)", "unbalanced"),
        ("Li()", "empty parentheses"),
        ("Li2O;", "unexpected character"),
        ("li2o", "lowercase"),
        ("2.5", "number without an element"),
        ("Li" + "O2" * 200, "too long"),
    ],
)
def test_garbage_is_rejected_with_reason(text, reason):
    with pytest.raises(CompositionError) as info:
        parse_formula(text)
    assert reason in info.value.reason
    assert repr(text)[:20] in str(info.value) or "..." in str(info.value)


def test_no_li_allowed_when_asked():
    assert parse_formula("LiCoO2") == Composition("LiCoO2")
    assert parse_formula("CoO2", require_li=False) == Composition("CoO2")


def test_very_long_string_limit_is_exact():
    ok = "Li" + "O" * (MAX_FORMULA_LENGTH - 2)
    assert parse_formula(ok)["O"] == MAX_FORMULA_LENGTH - 2
    with pytest.raises(CompositionError, match="too long"):
        parse_formula(ok + "O")


def test_composition_key_is_scale_invariant():
    assert composition_key(parse_formula("Li6PS5Cl")) == composition_key(
        parse_formula("Li12P2S10Cl2")
    )
    assert composition_key(parse_formula("Li3PS4")) != composition_key(parse_formula("Li7P3S11"))


def test_batch_keeps_good_rows_and_names_bad_ones():
    inputs = ["Li3PS4", "", "Xx2O", "Li7La3Zr2O12", "NaCl", "Li3PS4", None]
    batch = parse_formulas(inputs)
    assert batch.rows.tolist() == [0, 3, 5]
    assert [c.reduced_formula for c in batch.compositions] == ["Li3PS4", "Li7La3Zr2O12", "Li3PS4"]
    assert batch.rejected["row"].tolist() == [1, 2, 4, 6]
    assert batch.rejected.loc[1, "input"] == "Xx2O"
    assert "unknown element" in batch.rejected.loc[1, "reason"]
    assert batch.n_input == len(inputs)


def test_every_obelix_reduced_composition_parses_or_is_rejected(mirror):
    raw = pd.read_csv(fetch("obelix"))
    batch = parse_formulas(raw["Reduced Composition"])
    assert batch.n_input == len(raw) == 599
    assert set(batch.rows) | set(batch.rejected["row"]) == set(range(len(raw)))
    assert (batch.rejected["reason"].str.len() > 0).all()
    # 'True Composition' parses cleanly for every row, and agrees with the reduced form
    true = parse_formulas(raw["True Composition"])
    assert len(true.rejected) == 0
    reduced = dict(zip(batch.rows, batch.compositions, strict=True))
    mismatches = [
        i
        for i, c in zip(true.rows, true.compositions, strict=True)
        if i in reduced and composition_key(c, 2) != composition_key(reduced[i], 2)
    ]
    assert len(mismatches) < 0.05 * len(raw), raw.loc[
        mismatches[:5], ["Reduced Composition", "True Composition"]
    ]


def test_every_liverpool_composition_parses(mirror):
    raw = pd.read_csv(fetch("liverpool"), encoding="utf-8-sig")
    batch = parse_formulas(raw["composition"])
    assert len(batch.rejected) == 0, batch.rejected.head()


def test_element_fractions_matrix():
    comps = [parse_formula(f) for f in ["Li3PS4", "Li7La3Zr2O12", "Li6PS5Cl"]]
    ef = ElementFractions.from_compositions(comps)
    assert ef.elements == ("Li", "O", "P", "S", "Cl", "Zr", "La")  # by atomic number
    np.testing.assert_allclose(ef.fractions.sum(axis=1), 1.0)
    np.testing.assert_allclose(ef.fraction_of("Li"), [3 / 8, 7 / 24, 6 / 13])
    np.testing.assert_allclose(ef.atoms_per_formula, [8, 24, 13])
    assert ef.to_formulas() == [
        "Li3P1S4".replace("P1", "P"),
        "Li7O12Zr2La3",
        "Li6P1S5Cl".replace("P1", "P"),
    ]
    sub = ef.take(np.array([1]))
    assert len(sub) == 1 and sub.fraction_of("Zr")[0] == pytest.approx(2 / 24)
    assert ef.fraction_of("Ta").tolist() == [0, 0, 0]


def test_element_fractions_from_amounts_and_errors():
    ef = ElementFractions.from_amounts(np.array([[7, 3, 2, 12.0]]), ["Li", "La", "Zr", "O"])
    np.testing.assert_allclose(ef.amounts(), [[7, 3, 2, 12]])
    with pytest.raises(ValueError, match="no atoms"):
        ElementFractions.from_amounts(np.zeros((2, 2)), ["Li", "O"])
    with pytest.raises(ValueError, match="non-negative"):
        ElementFractions.from_amounts(np.array([[-1.0, 2.0]]), ["Li", "O"])
    with pytest.raises(ValueError, match="unknown element"):
        ElementFractions(np.ones((1, 1)), ("Qq",), np.ones(1))


def test_element_fractions_from_formulas_reports_bad_rows():
    ef, batch = ElementFractions.from_formulas(["Li3PS4", "garbage", "Li2S"])
    assert len(ef) == 2
    assert batch.rejected["row"].tolist() == [1]


def test_one_set_of_anion_lists():
    from ssbml.composition import ANION_ELEMENTS, ANION_FORMERS, CHALCOGENS, HALOGENS
    from ssbml.features.charge import ANION_ELEMENTS as charge_anions
    from ssbml.features.li_descriptors import ANIONS

    assert frozenset({"N", "O", "F", "S", "Cl", "Se", "Br", "Te", "I"}) == ANION_FORMERS
    assert set(ANION_ELEMENTS) == (ANION_FORMERS - {"Te"}) | {"H"}
    assert set(HALOGENS) | set(CHALCOGENS) <= ANION_FORMERS
    assert charge_anions is ANION_ELEMENTS and ANIONS is ANION_ELEMENTS
