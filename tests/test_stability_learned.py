"""Learned stability model: contract, physical constraints, conformal intervals,
grouped CV against baselines, shipping, mlflow tracking and the training CLI.

Trained on real labels computed here (compute_labels on ~140 ternary Li compounds of
the MP table, ~10 s) with a small network so the file stays fast."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ssbml.models.stability.evaluate import CHAMPION_METRIC, evaluate
from ssbml.models.stability.model import TARGETS, StabilityModel
from ssbml.models.stability.train import (
    REGISTERED_MODEL,
    save_stability_model,
    train_stability_model,
)

SMALL = {"hidden_layer_sizes": (32,), "max_iter": 150, "batch_size": 32}
SCREENING_TARGETS = (
    "reduction_V",
    "oxidation_V",
    "e_above_hull_meV_atom",
    "rxn_Li_meV_atom",
    "rxn_LiCoO2_meV_atom",
)


@pytest.fixture(scope="module")
def labels() -> pd.DataFrame:
    """Real thermodynamic labels of every 20th ternary Li compound of the table."""
    if not (Path(__file__).resolve().parents[2] / "shared" / "data").is_dir():
        pytest.skip("../shared/data mirror not present")
    from ssbml.data.thermo import thermo_table
    from ssbml.stability.labels import compute_labels, li_formulas

    frame = thermo_table().frame.set_index("formula")
    ternary = [f for f in li_formulas() if frame.at[f, "n_elements"] == 3]
    out = compute_labels(ternary[::20], n_jobs=1)
    assert (out["error"] == "").all()
    return out


@pytest.fixture(scope="module")
def model(labels) -> StabilityModel:
    from ssbml.ml.splits import chemical_system_groups

    groups = chemical_system_groups(labels["formula"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return StabilityModel(**SMALL).fit(labels["formula"].tolist(), labels, groups=groups)


QUERY = ["Li3PS4", "Li7La3Zr2O12", "Li0.33La0.56TiO3", "Li6PS5Cl", "Li1.3Al0.3Ti1.7(PO4)3"]


def test_prediction_contract_and_physical_ranges(model):
    assert set(SCREENING_TARGETS) <= set(model.targets_)
    out = model.predict_interval(QUERY, alpha=0.1)
    assert len(out) == len(QUERY)
    for t in model.targets_:
        assert {t, f"{t}_lower", f"{t}_upper"} <= set(out.columns)
        assert (out[f"{t}_lower"] <= out[t] + 1e-9).all()
        assert (out[t] <= out[f"{t}_upper"] + 1e-9).all()
    assert (out["reduction_V"] <= out["oxidation_V"]).all()
    assert (out[["reduction_V_lower", "oxidation_V_lower"]] >= 0).all().all()
    assert (out["e_above_hull_meV_atom"] >= 0).all()
    assert (out["e_above_hull_meV_atom_lower"] >= 0).all()
    assert (out["decomposition_energy_meV_atom"] <= out["e_above_hull_meV_atom"] + 1e-9).all()
    for t in ("rxn_Li_meV_atom", "rxn_LiCoO2_meV_atom"):
        assert (out[t] <= 0).all() and (out[f"{t}_upper"] <= 0).all()
    # the screening path (precomputed features) gives the same numbers, in input order
    F = model.featurizer_.transform(QUERY)
    pd.testing.assert_frame_equal(model.predict_interval_from_features(F, alpha=0.1), out)
    reversed_out = model.predict_interval(QUERY[::-1], alpha=0.1)
    # float32 network: the BLAS blocking of the forward pass depends on the batch, so
    # row order moves values by a few ulps (1.6e-6 relative seen on a 2-core x86 host)
    np.testing.assert_allclose(reversed_out.to_numpy()[::-1], out.to_numpy(), rtol=1e-5)
    point = model.predict(QUERY)
    np.testing.assert_allclose(point[list(model.targets_)].to_numpy(),
                               out[list(model.targets_)].to_numpy())
    # wider nominal coverage, wider intervals
    wide = model.predict_interval(QUERY, alpha=0.02)
    assert (wide["oxidation_V_upper"] - wide["oxidation_V_lower"]
            >= out["oxidation_V_upper"] - out["oxidation_V_lower"] - 1e-12).all()


def test_constraints_hold_on_many_random_inputs(model, labels):
    rng = np.random.default_rng(0)
    F = model.featurizer_.transform(labels["formula"].tolist())
    noisy = F + rng.normal(0, 3, F.shape) * F.std().fillna(1).to_numpy()  # far off-domain
    out = model.predict_interval_from_features(noisy)
    assert np.isfinite(out.to_numpy()).all()
    assert (out["reduction_V"] >= 0).all()
    assert (out["reduction_V"] <= out["oxidation_V"]).all()
    assert (out["e_above_hull_meV_atom"] >= 0).all()
    assert (out[["rxn_Li_meV_atom", "rxn_LiCoO2_meV_atom"]] <= 0).all().all()


def test_grouped_cv_beats_median_baseline_and_covers(model, labels):
    metrics, table = evaluate(model, labels)
    assert list(table["target"]) == list(TARGETS)
    # folds are grouped: no chemical system is split between folds
    folds = pd.Series(model.cv_fold_).groupby(labels["chemsys"].to_numpy()).nunique()
    assert (folds == 1).all()
    # on 141 labels only the window limits are learned reliably (full data: all targets)
    for t in ("reduction_V", "oxidation_V"):
        assert metrics[f"cv_mae_{t}"] < 0.8 * metrics[f"baseline_median_mae_{t}"], t
    for t in TARGETS:
        assert 0.75 <= metrics[f"cv_coverage90_{t}"] <= 1.0, t
    assert 0 < metrics[CHAMPION_METRIC] < 1.0
    assert metrics["n_train"] == len(labels)


def test_bad_inputs_are_named(model, labels):
    with pytest.raises(ValueError, match="lacks target column"):
        StabilityModel(**SMALL).fit(labels["formula"].tolist(), labels.drop(columns="oxidation_V"))
    broken = labels.copy()
    broken.loc[3, "rxn_Li_meV_atom"] = np.nan
    with pytest.raises(ValueError, match="'rxn_Li_meV_atom' is not finite in row 3"):
        StabilityModel(**SMALL).fit(broken["formula"].tolist(), broken)
    with pytest.raises(TypeError, match="DataFrame"):
        StabilityModel(**SMALL).fit(["Li2O"], np.zeros((1, 6)))
    F = model.featurizer_.transform(QUERY)
    with pytest.raises(ValueError, match="does not match the model's featurizer_"):
        model.predict_interval_from_features(F.drop(columns=F.columns[5]))
    with pytest.raises(ValueError, match="alpha must be in"):
        model.predict_interval(QUERY, alpha=1.5)
    with pytest.raises(ValueError, match="Xx"):
        model.predict(["Li2O", "LiXx3"])


def test_ship_and_load(model, tmp_path):
    from ssbml.ml.store import load_model, read_manifest

    result = {"model": model, "metrics": dict.fromkeys(
        [CHAMPION_METRIC, "n_train", *(f"cv_{k}_{t}" for k in ("mae", "coverage90", "mean_width90")
                                       for t in TARGETS)], 0.5),
        "run_id": "test", "max_rows": None}
    save_stability_model(result, tmp_path)
    entry = read_manifest(tmp_path)["models"]["stability"]
    assert entry["class"] == "ssbml.models.stability.model.StabilityModel"
    assert "mp-e-form" in entry["training_data_sha256"]
    loaded = load_model("stability", tmp_path)
    pd.testing.assert_frame_equal(loaded.predict_interval(QUERY), model.predict_interval(QUERY))


@pytest.mark.slow  # two tracked runs with model logging: ~20 s on the shared cores
def test_training_run_is_tracked_and_champion_kept(mlflow_uri, labels):
    import mlflow.models
    from mlflow import MlflowClient

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = train_stability_model(labels, tracking_uri=mlflow_uri, model_params=SMALL)
    client = MlflowClient(tracking_uri=mlflow_uri)
    run = client.get_run(first["run_id"])
    m = run.data.metrics
    for t in TARGETS:
        for key in ("cv_mae", "baseline_median_mae", "baseline_knn_mae", "cv_coverage90"):
            assert f"{key}_{t}" in m
    assert m[CHAMPION_METRIC] == pytest.approx(first["metrics"][CHAMPION_METRIC])
    assert run.data.tags["data_sha256.mp-e-form"].startswith("90e89563")
    assert run.data.params["groups"] == "chemical system without Li"
    names = {a.path for a in client.list_artifacts(first["run_id"])}
    assert {"parity_cv.png", "target_errors_cv.csv", "predictions_cv.csv"} <= names
    champion = client.get_model_version_by_alias(REGISTERED_MODEL, "champion")
    assert champion.run_id == first["run_id"]
    info = mlflow.models.get_model_info(f"models:/{REGISTERED_MODEL}@champion")
    assert info.signature.inputs.input_names() == ["composition"]
    assert {"reduction_V", "rxn_LiCoO2_meV_atom"} <= set(info.signature.outputs.input_names())
    # a much worse model (one epoch, one hidden unit) is registered but not promoted
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        worse = train_stability_model(labels, tracking_uri=mlflow_uri,
                                      model_params={"hidden_layer_sizes": (1,), "max_iter": 1})
    assert worse["metrics"][CHAMPION_METRIC] > first["metrics"][CHAMPION_METRIC]
    assert worse["model_version"] is not None
    champion = client.get_model_version_by_alias(REGISTERED_MODEL, "champion")
    assert champion.run_id == first["run_id"]


def test_cli_trains_ships_and_rejects_bad_options(labels, tmp_path, monkeypatch, mlflow_uri):
    import typer
    from typer.testing import CliRunner

    from ssbml.cli.train_stability import stability
    from ssbml.stability.labels import label_cache_path

    # the CLI reads the label cache; point it at a cache holding the real small table
    monkeypatch.setenv("SSBML_CACHE_DIR", str(tmp_path / "cache"))
    path = label_cache_path()
    path.parent.mkdir(parents=True)
    labels.to_parquet(path, index=False)
    app = typer.Typer()
    app.command()(stability)
    runner = CliRunner()
    res = runner.invoke(app, ["--tracking-uri", mlflow_uri, "--json", "--ship",
                              "--models-dir", str(tmp_path / "models"), "--max-rows", "100"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["metrics"]["n_train"] == 100 and out["n_excluded"] == 0
    assert out["shipped"].endswith("stability.joblib")
    assert (tmp_path / "models" / "manifest.json").is_file()
    bad = runner.invoke(app, ["--max-rows", "5"])
    assert bad.exit_code == 2
