"""Registered models in predict and screen (``--model-uri models:/NAME@ALIAS``), and the
inputs and model versions a screening run logs, on a real temporary mlflow store."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from typer.testing import CliRunner

from ssbml.cli import app
from ssbml.ml.store import read_manifest
from ssbml.models.conductivity.config import TrainConfig
from ssbml.models.conductivity.train import REGISTERED_MODEL, run_training

runner = CliRunner()
URI = f"models:/{REGISTERED_MODEL}@champion"
FORMULAS = ["Li7La3Zr2O12", "Li6PS5Cl", "Li3PS4"]


@pytest.fixture()
def registered(mlflow_uri, tmp_path, monkeypatch, mirror):
    """One tiny conductivity model trained, registered and made champion."""
    monkeypatch.setenv("SSBML_CACHE_DIR", str(tmp_path / "cache"))
    cfg = TrainConfig(name="tiny", include_liverpool=False, benchmark=True, regressor="rf",
                      params={"n_estimators": 8, "max_depth": 4})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_training(cfg, tracking_uri=mlflow_uri)


def test_predict_with_a_registered_model(registered, tmp_path):
    csv = tmp_path / "in.csv"
    pd.DataFrame({"composition": FORMULAS}).to_csv(csv, index=False)
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["predict", "conductivity", str(csv), "-o", str(out),
                                 "--model-uri", URI])
    assert result.exit_code == 0, result.output
    got = pd.read_csv(out)
    expected = registered["model"].predict_interval(FORMULAS)
    for col in ("log10_sigma", "log10_sigma_lower", "log10_sigma_upper"):
        assert got[col].to_numpy() == pytest.approx(expected[col].to_numpy(), rel=1e-12)
    # the shipped model predicts differently: the URI really was used
    if "conductivity" in read_manifest().get("models", {}):
        shipped = tmp_path / "shipped.csv"
        runner.invoke(app, ["predict", "conductivity", str(csv), "-o", str(shipped)])
        assert not (pd.read_csv(shipped)["log10_sigma"] == got["log10_sigma"]).all()


BAD_URIS = [
    (["--model-uri", "ssbml-conductivity"], "expected models:/NAME@ALIAS"),
    (["--model-uri", "models:/nope@champion"], "registered models: ssbml-conductivity"),
    (["--model-uri", URI, "-T", "350"], "needs 'conductivity-temperature'"),
]


def test_bad_model_uris_are_one_line_errors(registered, tmp_path):
    csv = tmp_path / "in.csv"
    csv.write_text("composition\nLi3PS4\n")
    for args, message in BAD_URIS:
        result = runner.invoke(app, ["predict", "conductivity", str(csv), "-o",
                                     str(tmp_path / "o.csv"), *args])
        assert result.exit_code == 2, args
        assert message in result.output and "Traceback" not in result.output, result.output


def test_screen_with_a_registered_model_logs_inputs_and_versions(registered, tmp_path,
                                                                   mlflow_uri):
    import mlflow

    import ssbml

    result = ssbml.screen("Li3PS4", ["Cl", "Si"], out_dir=tmp_path / "s", model_uri=URI,
                          track=True, tracking_uri=mlflow_uri, fractions=(0.1, 0.2))
    run = mlflow.MlflowClient(mlflow_uri).get_run(result.run_id)
    assert run.data.tags["model_version.conductivity"] == f"{REGISTERED_MODEL}/1"
    inputs = {d.dataset.name: d for d in run.inputs.dataset_inputs}
    assert "candidates" in inputs and inputs["candidates"].dataset.digest
    page = (tmp_path / "s" / "report.html").read_text()
    assert f"{REGISTERED_MODEL} v1" in page and result.run_id in page
    expected = registered["model"].predict_interval(result.table["composition"].tolist())
    assert result.table["log10_sigma"].to_numpy() == pytest.approx(
        expected["log10_sigma"].to_numpy(), rel=1e-12)
