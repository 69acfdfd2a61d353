"""Composition featurizers: contract (inputs, names, sklearn behaviour, bad rows), hand-
checked values, charge balance and Li descriptors on real data."""

from __future__ import annotations

import os

import joblib
import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Composition, Element
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from ssbml.composition import CompositionError, ElementFractions, parse_formulas
from ssbml.features import (
    FEATURE_SETS,
    ChargeBalanceFeaturizer,
    ElementPropertyFeaturizer,
    LiDescriptorFeaturizer,
    StoichiometryFeaturizer,
    default_featurizer,
    featurize,
    make_featurizer,
)
from ssbml.features.elements import oxidation_states, property_table, shannon_radius_pm

FORMULAS = [
    "Li7La3Zr2O12",
    "Li6PS5Cl",
    "Li6.4La3Zr1.4Ta0.6O12",
    "Li3PS4",
    "Li1.3Al0.3Ti1.7(PO4)3",
    "LiBH4",
    "Li10GeP2S12",
    "Li3YCl6",
    "Li2O",
    "Li3N",
]


@pytest.fixture(scope="module")
def default_table() -> pd.DataFrame:
    return default_featurizer().fit_transform(FORMULAS)


@pytest.fixture(scope="module")
def real_compositions() -> list[str]:
    if not os.environ.get("SSBML_DATA_DIR"):
        pytest.skip("../shared/data mirror not present")
    from ssbml.data.registry import fetch

    obelix = pd.read_csv(fetch("obelix"))["True Composition"].tolist()
    liverpool = pd.read_csv(fetch("liverpool"), encoding="utf-8-sig")["composition"].tolist()
    return obelix + liverpool


# --- contract -------------------------------------------------------------------------


def test_feature_sets_and_names(default_table):
    assert set(FEATURE_SETS) >= {
        "element_property", "stoichiometry", "valence_orbital", "ionic_character",
        "charge_balance", "li_descriptors",
    }
    fz = default_featurizer()
    names = list(fz.get_feature_names_out())
    assert names == list(default_table.columns)
    assert len(set(names)) == len(names)
    for expected in (
        "mean_atomic_radius_pm", "avg_dev_melting_point_K", "mode_electronegativity_pauling",
        "range_first_ionization_energy_eV", "n_elements", "frac_d_valence_electrons",
        "charge_imbalance_e_per_atom", "mean_cation_radius_pm", "li_per_anion",
        "li_vacancy_per_anion", "ionic_volume_per_atom_A3", "PS4_per_atom",
    ):
        assert expected in names
    # the union is the concatenation of the sets, in FEATURE_SETS order
    parts = [make_featurizer([n]).get_feature_names_out() for n in FEATURE_SETS]
    assert names == [c for p in parts for c in p]


def test_subset_by_name_matches_union_columns(default_table):
    sub = make_featurizer(["stoichiometry", "li_descriptors"]).fit_transform(FORMULAS)
    pd.testing.assert_frame_equal(sub, default_table[sub.columns])


@pytest.mark.parametrize(
    "names, error",
    [(["element_property", "magic"], ValueError), ("stoichiometry", TypeError), ([], ValueError),
     (["stoichiometry", "stoichiometry"], ValueError)],
)
def test_make_featurizer_rejects_bad_names(names, error):
    with pytest.raises(error):
        make_featurizer(names)


def test_all_input_kinds_agree(default_table):
    comps = [Composition(f) for f in FORMULAS]
    ef = ElementFractions.from_compositions(parse_formulas(FORMULAS).compositions)
    frame = pd.DataFrame({"composition": FORMULAS, "other": 1}, index=list("abcdefghij"))
    fz = default_featurizer()
    for X in (comps, np.array(FORMULAS), pd.Series(FORMULAS), ef, tuple(FORMULAS)):
        np.testing.assert_allclose(fz.transform(X).to_numpy(), default_table.to_numpy(),
                                   rtol=1e-12, atol=1e-12)
    by_frame = fz.transform(frame)
    assert list(by_frame.index) == list("abcdefghij")  # pandas index kept for alignment
    np.testing.assert_allclose(by_frame.to_numpy(), default_table.to_numpy(), rtol=1e-12)


def test_input_order_and_duplicates_kept(default_table):
    order = [3, 0, 3, 9]
    out = default_featurizer().fit_transform([FORMULAS[i] for i in order])
    np.testing.assert_allclose(out.to_numpy(), default_table.to_numpy()[order], rtol=1e-12)


def test_chunking_does_not_change_values(default_table):
    out = default_featurizer(chunk_size=3).fit_transform(FORMULAS)
    np.testing.assert_allclose(out.to_numpy(), default_table.to_numpy(), rtol=1e-12, atol=1e-12)


def test_clone_pickle_and_pipeline(tmp_path, default_table):
    fz = default_featurizer(errors="nan")
    cloned = clone(fz)
    assert cloned.get_params() == fz.get_params()
    path = tmp_path / "featurizer.joblib"
    joblib.dump(fz.fit(FORMULAS), path)
    loaded = joblib.load(path)
    pd.testing.assert_frame_equal(loaded.transform(FORMULAS), default_table)
    y = np.linspace(-6, -2, len(FORMULAS))
    pipe = make_pipeline(default_featurizer(), Ridge(alpha=1.0)).fit(FORMULAS, y)
    assert pipe.predict(FORMULAS[:3]).shape == (3,)
    assert list(pipe[:-1].get_feature_names_out()) == list(default_table.columns)


def test_element_fraction_path_makes_no_pymatgen_objects(monkeypatch, default_table):
    ef = ElementFractions.from_compositions(parse_formulas(FORMULAS).compositions)

    def forbidden(*args, **kwargs):
        raise AssertionError("per-row pymatgen object made on the ElementFractions path")

    monkeypatch.setattr(Composition, "__init__", forbidden)
    monkeypatch.setattr("ssbml.features.inputs.parse_formula", forbidden)
    out = default_featurizer().fit_transform(ef)
    np.testing.assert_allclose(out.to_numpy(), default_table.to_numpy(), rtol=1e-12, atol=1e-12)


def test_citations():
    for name, cls in FEATURE_SETS.items():
        cites = cls().citations()
        assert cites and all(isinstance(c, str) and len(c) > 40 for c in cites), name
    assert any("Ward" in c for c in ElementPropertyFeaturizer().citations())
    assert any("Shannon" in c for c in ChargeBalanceFeaturizer().citations())
    union = default_featurizer().citations()
    assert len(union) == len(set(union)) >= 4


# --- bad input --------------------------------------------------------------------------

BAD_BATCH = ["Li2O", "Li7-xLa3Zr2O12", "", None, "Xx3PO4", "Li3PS4"]


def test_errors_raise_names_row_and_input():
    with pytest.raises(CompositionError) as info:
        default_featurizer().fit_transform(BAD_BATCH)
    assert "row 1" in str(info.value) and "Li7-xLa3Zr2O12" in str(info.value)
    assert "3 more bad row" in str(info.value)
    assert info.value.row == 1


def test_errors_nan_keeps_alignment_and_records_rejects():
    fz = default_featurizer(errors="nan")
    out, rejected = fz.fit(BAD_BATCH).transform_with_rejected(BAD_BATCH)
    pd.testing.assert_frame_equal(out, fz.transform(BAD_BATCH))
    assert len(out) == len(BAD_BATCH)
    assert out.iloc[[1, 2, 3, 4]].isna().all(axis=None)
    assert out.iloc[[0, 5]].notna().any(axis=1).all()
    assert rejected["row"].tolist() == [1, 2, 3, 4]
    assert list(rejected.columns) == ["row", "input", "reason"]
    reasons = dict(zip(rejected["row"], rejected["reason"], strict=True))
    assert "unknown element 'Xx'" in reasons[4] and "empty" in reasons[3]
    good = default_featurizer().fit_transform(["Li2O", "Li3PS4"])
    np.testing.assert_allclose(out.iloc[[0, 5]].to_numpy(), good.to_numpy(), rtol=1e-12)


def test_featurize_returns_good_rows_and_rejected():
    features, rejected = featurize(BAD_BATCH, names=["stoichiometry"])
    assert features.index.tolist() == [0, 5]
    assert list(features.columns) == list(StoichiometryFeaturizer().get_feature_names_out())
    assert rejected["row"].tolist() == [1, 2, 3, 4]
    assert rejected["input"].tolist()[0] == "Li7-xLa3Zr2O12"
    features, rejected = featurize(["Li2O", "Na2O"], require_li=True)
    assert features.index.tolist() == [0] and "no Li" in rejected.loc[0, "reason"]


def test_bad_compositions_objects_rejected():
    out = default_featurizer(errors="nan", require_li=True)
    comps = [Composition("Li2O"), Composition("Na2O"), Composition({})]
    table, rejected = out.transform_with_rejected(comps)
    assert rejected["row"].tolist() == [1, 2]
    assert "no Li" in rejected["reason"][0] and "empty" in rejected["reason"][1]
    assert table.iloc[1:].isna().all(axis=None) and table.iloc[0].notna().all()


def test_bad_element_fraction_rows_rejected():
    f = np.array(
        [[0.5, 0.5, 0.0], [0.6, 0.6, 0.0], [-0.1, 0.6, 0.5], [np.nan, 0.5, 0.5], [0.2, 0.3, 0.5],
         [0.0, 0.5, 0.5]]
    )
    apf = np.array([2.0, 2.0, 2.0, 2.0, 0.0, 2.0])
    ef = ElementFractions(f, ("Li", "O", "S"), apf)
    fz = default_featurizer(errors="nan", require_li=True)
    table, rejected = fz.transform_with_rejected(ef)
    reasons = dict(zip(rejected["row"], rejected["reason"], strict=True))
    assert sorted(reasons) == [1, 2, 3, 4, 5]
    assert "sum to 1.2" in reasons[1] and "negative" in reasons[2]
    assert "non-finite" in reasons[3] and "atoms_per_formula" in reasons[4]
    assert "no Li" in reasons[5]
    assert table.iloc[0].notna().all() and table.iloc[1:].isna().all(axis=None)
    with pytest.raises(CompositionError, match="row 1"):
        default_featurizer().fit_transform(ef)


@pytest.mark.parametrize(
    "X, error",
    [("Li2O", TypeError), (pd.DataFrame({"formula": ["Li2O"]}), ValueError),
     (np.zeros((2, 3)), ValueError), (42, TypeError)],
)
def test_not_a_batch_raises(X, error):
    with pytest.raises(error):
        default_featurizer().fit_transform(X)


@pytest.mark.parametrize(
    "featurizer, error",
    [(default_featurizer(errors="ignore"), ValueError),
     (default_featurizer(chunk_size=0), ValueError),
     (ElementPropertyFeaturizer(properties=["density"]), KeyError),
     (ElementPropertyFeaturizer(stats=["median"]), ValueError),
     (StoichiometryFeaturizer(p_list=(2, -1)), ValueError)],
)
def test_bad_parameters_raise(featurizer, error):
    with pytest.raises(error):
        featurizer.fit_transform(["Li2O"])


def test_empty_batch():
    out = default_featurizer().fit_transform([])
    assert out.shape == (0, len(default_featurizer().get_feature_names_out()))


# --- values -------------------------------------------------------------------------------


def test_element_property_values_by_hand():
    out = ElementPropertyFeaturizer(["atomic_number", "atomic_radius_pm"]).fit_transform(
        ["Li7La3Zr2O12", "LiCl"]
    )
    z = np.array([3, 57, 40, 8])
    n = np.array([7, 3, 2, 12]) / 24
    assert out.loc[0, "mean_atomic_number"] == pytest.approx(z @ n)
    assert out.loc[0, "avg_dev_atomic_number"] == pytest.approx(np.abs(z - z @ n) @ n)
    assert out.loc[0, "min_atomic_number"] == 3 and out.loc[0, "max_atomic_number"] == 57
    assert out.loc[0, "range_atomic_number"] == 54
    assert out.loc[0, "mode_atomic_number"] == 8  # O has the largest amount
    assert out.loc[1, "mode_atomic_number"] == 3  # Li:Cl tie -> smaller value
    assert out.loc[1, "mean_atomic_radius_pm"] == pytest.approx(
        50 * (Element("Li").atomic_radius + Element("Cl").atomic_radius)
    )


def test_element_table_is_cached_and_read_only():
    table = property_table()
    assert table is property_table()
    assert not table.flags.writeable
    assert table.shape[0] == 118 and np.isfinite(table).all()


def test_oxidation_state_candidates_and_shannon_radii():
    assert (-2, 0) in oxidation_states("O")
    assert all(p in (0, 1) for _, p in oxidation_states("S"))
    assert shannon_radius_pm("Li", 1) == pytest.approx(76.0)
    assert shannon_radius_pm("O", -2) == pytest.approx(140.0)
    assert np.isnan(shannon_radius_pm("O", 3))


def test_charge_balance_known_materials(default_table):
    t = default_table.set_index(pd.Index(FORMULAS))
    assert (t["charge_balanced"] == 1).all()
    assert (t["charge_imbalance_e_per_atom"] < 1e-9).all()
    assert t.loc["Li7La3Zr2O12", "max_cation_charge_e"] == 4  # Zr4+
    assert t.loc["Li3PS4", "max_cation_charge_e"] == 5  # P5+
    assert t.loc["LiBH4", "min_anion_charge_e"] == -1  # hydride
    assert t.loc["Li3N", "min_anion_charge_e"] == -3
    assert t.loc["Li2O", "mean_cation_radius_pm"] == pytest.approx(76.0)
    assert t.loc["Li2O", "mean_anion_radius_pm"] == pytest.approx(140.0)
    assert t.loc["Li2O", "electronegativity_difference_anion_cation"] == pytest.approx(
        Element("O").X - Element("Li").X
    )


def test_charge_balance_large_denominators_and_unbalanced():
    out = ChargeBalanceFeaturizer().fit_transform(
        ["Li6.4321La3Zr1.4321Ta0.5679O12", "Li1.337Al0.337Ti1.663(PO4)3", "LiAl", "Li2O2.5"]
    )
    assert out["charge_balanced"].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert out.loc[2, "anion_fraction"] == 0 and np.isnan(out.loc[2, "mean_anion_charge_e"])
    # Li2O2.5 (4.5 atoms): Li+ and O2- leave |2 - 5| / 4.5 e per atom
    assert out.loc[3, "charge_imbalance_e_per_atom"] == pytest.approx(3 / 4.5)


def test_charge_balance_on_real_data(real_compositions):
    fz = make_featurizer(["charge_balance", "li_descriptors"])
    out = fz.fit_transform(real_compositions)
    assert len(out) == len(real_compositions)
    assert out["charge_balanced"].mean() > 0.85
    assert out["charge_imbalance_e_per_atom"].ge(0).all()
    assert out["cation_fraction"].add(out["anion_fraction"]).le(1 + 1e-9).all()
    assert out["li_fraction"].between(0, 1).all()


def test_li_descriptors_by_hand(default_table):
    t = default_table.set_index(pd.Index(FORMULAS))
    assert t.loc["Li3PS4", "li_per_anion"] == pytest.approx(0.75)
    assert t.loc["Li3PS4", "PS4_per_atom"] == pytest.approx(1 / 8)
    assert t.loc["Li3PS4", "PO4_per_atom"] == 0
    assert t.loc["Li1.3Al0.3Ti1.7(PO4)3", "PO4_per_atom"] == pytest.approx(3 / 18.3)
    assert t.loc["LiBH4", "BH4_per_atom"] == pytest.approx(1 / 6)
    assert t.loc["Li6PS5Cl", "anion_share_S"] == pytest.approx(5 / 6)
    assert t.loc["Li6PS5Cl", "anion_share_Cl"] == pytest.approx(1 / 6)
    assert t.loc["Li6PS5Cl", "anion_mixing_entropy"] == pytest.approx(
        -(5 / 6 * np.log(5 / 6) + 1 / 6 * np.log(1 / 6))
    )
    assert t.loc["Li6PS5Cl", "n_anion_elements"] == 2
    # Ta5+ on the Zr4+ site: 0.6 Li vacancies per 12 O relative to Li7La3Zr2O12
    assert t.loc["Li6.4La3Zr1.4Ta0.6O12", "li_vacancy_per_anion"] == pytest.approx(0.05)
    assert t.loc["Li7La3Zr2O12", "li_vacancy_per_anion"] == pytest.approx(0.0)
    # Al3+ on the Ti4+ site: 0.3 interstitial Li per 12 O relative to LiTi2(PO4)3
    assert t.loc["Li1.3Al0.3Ti1.7(PO4)3", "li_vacancy_per_anion"] == pytest.approx(-0.025)
    # a lone Al3+ (on the Li sublattice): parent Li7La3Zr2O12, 0.75 Li missing per 12 O
    vac = LiDescriptorFeaturizer().fit_transform(["Li6.25Al0.25La3Zr2O12", "Li5.4PS4.4Cl1.6"])
    assert vac.loc[0, "li_vacancy_per_anion"] == pytest.approx(0.75 / 12)
    # argyrodite S4.4Cl1.6 -> parent Li7PS6: 1.6 Li missing per 6 anions
    assert vac.loc[1, "li_vacancy_per_anion"] == pytest.approx(1.6 / 6)
    r_li, r_o = 76.0, 140.0
    v = 4 / 3 * np.pi * ((2 * r_li**3 + r_o**3) / 3) / 1e6
    assert t.loc["Li2O", "ionic_volume_per_atom_A3"] == pytest.approx(v)
    assert t.loc["Li2O", "ionic_volume_per_anion_A3"] == pytest.approx(3 * v)


def test_li_descriptors_without_anion_are_nan():
    out = LiDescriptorFeaturizer().fit_transform(["LiAl", "Li"])
    assert out["li_per_anion"].isna().all() and out["li_vacancy_per_anion"].isna().all()
    assert (out["n_anion_elements"] == 0).all()
    assert out.loc[1, "li_fraction"] == 1


def test_generated_element_fractions_batch():
    """Doped garnets as the candidate generator makes them: an amounts matrix."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, 200)
    amounts = np.column_stack([7 - x, np.full(200, 3.0), 2 - x, x, np.full(200, 12.0)])
    ef = ElementFractions.from_amounts(amounts, ["Li", "La", "Zr", "Ta", "O"])
    out = default_featurizer().fit_transform(ef)
    assert out.shape[0] == 200 and np.isfinite(out.to_numpy()).all()
    assert (out["charge_balanced"] == 1).all()
    np.testing.assert_allclose(out["li_vacancy_per_anion"], x / 12, atol=1e-9)
