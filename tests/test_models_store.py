"""Shipped-model store: manifest, sha256 verification before unpickling."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ssbml.ml.store import (
    ModelIntegrityError,
    ModelNotFoundError,
    default_models_dir,
    load_model,
    read_manifest,
    save_model,
)


def test_round_trip_records_hashes_and_metadata(tmp_path):
    path = save_model({"weights": np.arange(5)}, "toy", models_dir=tmp_path,
                      metrics={"cv_mae": 1.25}, data_names=("obelix",), description="toy")
    manifest = read_manifest(tmp_path)["models"]["toy"]
    assert manifest["file"] == path.name
    assert len(manifest["sha256"]) == 64
    assert manifest["metrics"] == {"cv_mae": 1.25}
    assert manifest["training_data_sha256"]["obelix"].startswith("54f6265e")
    assert "scikit-learn" in manifest["library_versions"]
    np.testing.assert_array_equal(load_model("toy", tmp_path)["weights"], np.arange(5))


def test_tampered_file_is_refused_with_both_hashes(tmp_path):
    save_model([1, 2, 3], "toy", models_dir=tmp_path)
    expected = read_manifest(tmp_path)["models"]["toy"]["sha256"]
    with (tmp_path / "toy.joblib").open("ab") as fh:
        fh.write(b"\x00")
    with pytest.raises(ModelIntegrityError) as err:
        load_model("toy", tmp_path)
    msg = str(err.value)
    assert "toy.joblib" in msg and expected in msg
    assert len([w for w in msg.split() if len(w) == 64]) == 2


def test_missing_model_and_file(tmp_path):
    with pytest.raises(ModelNotFoundError, match="not in"):
        load_model("conductivity", tmp_path)
    save_model([1], "toy", models_dir=tmp_path)
    (tmp_path / "toy.joblib").unlink()
    with pytest.raises(ModelNotFoundError, match="missing"):
        load_model("toy", tmp_path)


def test_models_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SSBML_MODELS_DIR", str(tmp_path))
    assert default_models_dir() == tmp_path
    save_model("x", "toy")
    assert json.loads((tmp_path / "manifest.json").read_text())["models"]["toy"]
    assert load_model("toy") == "x"
    monkeypatch.delenv("SSBML_MODELS_DIR")
    assert default_models_dir().name == "models"


def test_shipped_models_verify_and_predict(monkeypatch):
    monkeypatch.delenv("SSBML_MODELS_DIR", raising=False)
    shipped = read_manifest()["models"]
    if "conductivity" not in shipped:
        pytest.skip("models/ not generated yet (python experiments/ship_models.py)")
    model = load_model("conductivity")
    pred = model.predict_interval(["Li10GeP2S12", "Li7La3Zr2O12", "LiAlSiO4"], alpha=0.1)
    assert len(pred) == 3
    assert (pred["log10_sigma_lower"] < pred["log10_sigma_upper"]).all()
    # a superionic sulfide is predicted far above an aluminosilicate insulator
    assert pred["log10_sigma"][0] > pred["log10_sigma"][2] + 1.0
    assert "conductivity-temperature" in shipped
    temp = load_model("conductivity-temperature")
    low, high = temp.predict(["Li7La3Zr2O12"], 250.0), temp.predict(["Li7La3Zr2O12"], 500.0)
    assert high[0] >= low[0]
    assert 0.0 <= temp.activation_energy_eV(["Li7La3Zr2O12"])[0] < 2.5
