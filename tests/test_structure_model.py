"""Structure-aware conductivity model: descriptor join and routing (structure model for
rows with a structure, composition model otherwise), on real OBELiX rows and CIFs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import RandomForestRegressor

from ssbml.structure.descriptors import FEATURE_NAMES


def _table(mirror) -> tuple[pd.DataFrame, pd.DataFrame]:
    from ssbml.data.conductivity import load_obelix
    from ssbml.data.structures import load_obelix_structures, obelix_structure_ids

    obelix = load_obelix(censored="paper").astype({"id": str})
    train = obelix[obelix["split"] == "train"].head(80).reset_index(drop=True)
    with_cif = train.loc[train["id"].isin(obelix_structure_ids()), "id"]
    cifs = load_obelix_structures(ids=list(with_cif.head(20)))
    rows = {c: np.nan for c in FEATURE_NAMES}
    table = pd.DataFrame([
        {**rows, "id": i, "volume_per_atom_A3": s.volume / s.composition.num_atoms,
         "li_per_volume_per_A3": s.composition["Li"] / s.volume}
        for i, s in zip(cifs["id"], cifs["structure"], strict=True)
    ]).merge(obelix[["id", "composition_key"]], on="id")
    return train, table


def test_attach_and_route(mirror):
    from ssbml.features.presets import make_featurizer_by_name
    from ssbml.models.conductivity.model import ConductivityModel
    from ssbml.structure.model import StructureAwareModel, WithDescriptors, attach_descriptors

    train, table = _table(mirror)
    by_id = attach_descriptors(train, table, by="id")
    by_key = attach_descriptors(train, table, by="composition_key")
    assert list(by_id.columns[-len(FEATURE_NAMES):]) == list(FEATURE_NAMES)
    matched = train["id"].isin(table["id"]).to_numpy()
    assert 0 < matched.sum() < len(train)
    assert by_id["volume_per_atom_A3"].notna().to_numpy().tolist() == matched.tolist()
    assert by_key["volume_per_atom_A3"].notna().sum() >= matched.sum()
    with pytest.raises(ValueError, match="by must be"):
        attach_descriptors(train, table, by="formula")

    reg = RandomForestRegressor(n_estimators=20, random_state=0)  # routes NaN natively
    model = StructureAwareModel(
        ConductivityModel(featurizer=make_featurizer_by_name("default"), regressor=reg),
        ConductivityModel(featurizer=WithDescriptors(make_featurizer_by_name("default")),
                          regressor=reg),
    ).fit(by_id, by_id["log10_sigma"].to_numpy())
    route = model.route(by_id)
    assert (route == "structure").tolist() == matched.tolist()
    pred = model.predict(by_id)
    comp = model.composition_model_.predict(by_id[["composition"]])
    struct = model.structure_model_.predict(by_id)
    np.testing.assert_allclose(pred[~matched], comp[~matched])
    np.testing.assert_allclose(pred[matched], struct[matched])
    names = model.structure_model_.featurizer_.get_feature_names_out()
    assert list(names[-len(FEATURE_NAMES):]) == list(FEATURE_NAMES)
    with pytest.raises(ValueError, match="lacks column"):
        model.structure_model_.featurizer_.transform(train[["composition"]])


def test_interval_table_routes_keeps_index_and_passes_censored_rows(mirror):
    """predict_interval: each row from its routed model, the caller's index kept, and
    the censored flags reach both models (their below-detection classifiers exist)."""
    from ssbml.features.presets import make_featurizer_by_name
    from ssbml.models.conductivity.model import ConductivityModel
    from ssbml.structure.model import StructureAwareModel, WithDescriptors, attach_descriptors

    train, table = _table(mirror)
    by_id = attach_descriptors(train, table, by="id")
    cens = by_id["censored"].to_numpy(dtype=bool)
    assert cens.any() and (~cens).sum() > 10
    reg = RandomForestRegressor(n_estimators=20, random_state=0)
    model = StructureAwareModel(
        ConductivityModel(featurizer=make_featurizer_by_name("default"), regressor=reg,
                          censoring="bound"),
        ConductivityModel(featurizer=WithDescriptors(make_featurizer_by_name("default")),
                          regressor=reg, censoring="bound"),
    ).fit(by_id, by_id["log10_sigma"].to_numpy(), censored=cens)
    assert model.composition_model_.classifier_ is not None
    assert model.structure_model_.classifier_ is not None

    shuffled = by_id.iloc[::-1].set_axis(np.arange(len(by_id)) * 10 + 7)
    out = model.predict_interval(shuffled)
    assert out.index.tolist() == shuffled.index.tolist()
    matched = model.route(shuffled) == "structure"
    assert out["route"].tolist() == model.route(shuffled).tolist()
    comp = model.composition_model_.predict_interval(shuffled[["composition"]])
    struct = model.structure_model_.predict_interval(shuffled.reset_index(drop=True))
    for col in ("log10_sigma", "log10_sigma_lower", "log10_sigma_upper", "below_detection"):
        np.testing.assert_array_equal(out[col].to_numpy()[~matched],
                                      comp[col].to_numpy()[~matched])
        np.testing.assert_array_equal(out[col].to_numpy()[matched],
                                      struct[col].to_numpy()[matched])
    np.testing.assert_allclose(model.predict(shuffled), out["log10_sigma"].to_numpy())
