"""OBELiX structure inputs (benchmark-only feature set) on the real OBELiX file."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from experiments.obelix_structure import (
    STRUCTURE_COLUMNS,
    WithStructure,
    attach_structure,
    obelix_structure_table,
    run_structure_benchmark,
)
from ssbml.features.presets import make_featurizer_by_name
from ssbml.models.conductivity.config import TrainConfig, model_inputs
from ssbml.models.conductivity.train import load_training_data


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return obelix_structure_table()


def test_structure_table_is_complete_and_physical(table):
    assert len(table) == 599
    assert table["id"].is_unique
    assert table[list(STRUCTURE_COLUMNS)].notna().all().all()
    assert table["space_group_number"].between(1, 230).all()
    # cubic cell: volume = a^3
    cubic = table[(table["lattice_alpha_deg"] == 90) & (table["lattice_beta_deg"] == 90)
                  & (table["lattice_gamma_deg"] == 90)].iloc[0]
    assert cubic["cell_volume_A3"] == pytest.approx(
        cubic["lattice_a_A"] * cubic["lattice_b_A"] * cubic["lattice_c_A"])
    # solids: 5 to 60 Angstrom^3 per atom
    assert table["volume_per_atom_A3"].between(5, 60).all()
    assert (table["li_per_volume_per_A3"] > 0).all()


def test_attach_structure_by_id_and_by_composition(table):
    test_rows = table[table["split"] == "test"].head(3)[["id", "composition_key"]]
    by_id = attach_structure(test_rows, table, "test")
    np.testing.assert_allclose(by_id["cell_volume_A3"],
                               table.set_index("id").loc[test_rows["id"], "cell_volume_A3"])
    train_key = table.loc[table["split"] == "train", "composition_key"].iloc[0]
    merged = pd.DataFrame({"composition_key": [train_key, "Li1 Xe9"]})
    out = attach_structure(merged, table, "train")
    assert out.loc[0, STRUCTURE_COLUMNS[0]] > 0
    assert out.loc[1, list(STRUCTURE_COLUMNS)].isna().all()  # unknown: NaN, not dropped
    # a train composition is not looked up in the test split
    assert attach_structure(merged, table, "test")[list(STRUCTURE_COLUMNS)].isna().all().all()


def test_with_structure_featurizer_and_bad_inputs(table):
    rows = table[table["split"] == "train"].head(6)
    X = pd.concat([pd.DataFrame({"composition": ["Li7La3Zr2O12", "Li3PS4", "Li6PS5Cl",
                                                  "Li3InCl6", "Li2O", "LiTaO3"]}),
                   rows[list(STRUCTURE_COLUMNS)].reset_index(drop=True)], axis=1)
    unfitted = WithStructure(make_featurizer_by_name("default+fractions"))
    with pytest.raises(NotFittedError):
        unfitted.transform(X)
    assert clone(unfitted).get_params()["base"] is not unfitted.base
    feat = unfitted.fit(X)
    F = feat.transform(X)
    assert list(F.columns) == list(feat.get_feature_names_out())
    np.testing.assert_allclose(F["cell_volume_A3"], rows["cell_volume_A3"])
    with pytest.raises(ValueError, match="lattice_a_A"):
        feat.transform(X.drop(columns=["lattice_a_A"]))
    with pytest.raises(ValueError, match="DataFrame"):
        feat.transform(["Li3PS4"])


def test_structure_feature_set_is_not_in_the_library():
    with pytest.raises(ValueError, match="experiments/obelix_structure.py"):
        make_featurizer_by_name("default+fractions+structure")
    cfg = TrainConfig(features="default+fractions+structure", include_liverpool=False)
    assert model_inputs(cfg) == ["composition"]  # the library reads compositions only


def test_structure_benchmark_data_and_refusals(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cfg = TrainConfig(features="default+fractions", include_liverpool=False)
        train, test = load_training_data(cfg)
        t = obelix_structure_table()
        test = attach_structure(test, t, "test")
        train = attach_structure(train, t, "train")
    assert test[list(STRUCTURE_COLUMNS)].notna().all().all()
    assert train[list(STRUCTURE_COLUMNS)].notna().all(axis=1).mean() > 0.9
    bad = tmp_path / "not-benchmark.toml"
    bad.write_text('[data]\nbenchmark = false\n[features]\nset = "default+structure"\n')
    with pytest.raises(SystemExit, match="benchmark = true"):
        run_structure_benchmark(str(bad))
