"""CLI: ssbml train conductivity, ssbml compare, ssbml predict conductivity."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest
from typer.testing import CliRunner

from ssbml.cli import app

runner = CliRunner()

TINY = """
name = "cli-tiny"
[data]
include_liverpool = false
benchmark = true
[model]
regressor = "rf"
params = { n_estimators = 8, max_depth = 4 }
"""


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    """A models folder with small real models trained on OBELiX / Liverpool."""
    from ssbml.data.conductivity import load_liverpool, load_room_temperature
    from ssbml.ml.regressors import make_regressor
    from ssbml.ml.splits import chemical_system_groups
    from ssbml.ml.store import save_model
    from ssbml.models.conductivity.model import ConductivityModel
    from ssbml.models.conductivity.temperature import ArrheniusModel

    folder = tmp_path_factory.mktemp("models")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = load_room_temperature(benchmark=False, include_liverpool=False)
        lv = load_liverpool()
    rt = ConductivityModel(regressor=make_regressor("rf", {"n_estimators": 10}),
                           censoring="classifier")
    rt.fit(df[["composition"]], df["log10_sigma"], groups=chemical_system_groups(df["composition"]),
           censored=df["censored"].to_numpy())
    save_model(rt, "conductivity", models_dir=folder, data_names=("obelix",))
    temp = ArrheniusModel(rt, ea_regressor=make_regressor("rf", {"n_estimators": 10})).fit(lv)
    save_model(temp, "conductivity-temperature", models_dir=folder, data_names=("liverpool",))
    return folder


def test_train_config_then_compare(mlflow_uri, tmp_path):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    res = runner.invoke(app, ["train", "conductivity", "--config", str(cfg), "--json",
                              "--tracking-uri", mlflow_uri])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["config"] == "cli-tiny"
    assert 0.5 < out["metrics"]["test_mae"] < 4.0
    assert out["model_version"] == 1

    plot = tmp_path / "cmp.png"
    res = runner.invoke(app, ["compare", "--metric", "test_mae", "--plot", str(plot)])
    assert res.exit_code == 0, res.output
    assert "cli-tiny" in res.stdout and f"{out['metrics']['test_mae']:.3f}" in res.stdout
    assert plot.stat().st_size > 1000

    res = runner.invoke(app, ["compare", "--metric", "no_such_metric"])
    assert res.exit_code == 1
    assert "no_such_metric" in res.output


def test_train_rejects_bad_arguments(mlflow_uri, tmp_path):
    res = runner.invoke(app, ["train", "conductivity"])
    assert res.exit_code != 0
    res = runner.invoke(app, ["train", "conductivity", "--benchmark", "matbench"])
    assert res.exit_code != 0 and "matbench" in res.output
    bad = tmp_path / "bad.toml"
    bad.write_text("[model]\nregressor = 'rf'\nlearning_rat = 0.1\n")
    res = runner.invoke(app, ["train", "conductivity", "--config", str(bad)])
    assert res.exit_code == 2
    assert "learning_rat" in res.output


def test_predict_writes_good_rows_and_names_bad_ones(models_dir, tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({
        "id": ["a", "b", "c", "d", "e"],
        "composition": ["Li7La3Zr2O12", "not a formula", "Li10GeP2S12", "NaCl", ""],
    }).to_csv(src, index=False)
    dst = tmp_path / "out.csv"
    res = runner.invoke(app, ["predict", "conductivity", str(src), "-o", str(dst),
                              "--models-dir", str(models_dir)])
    assert res.exit_code == 0, res.output
    out = pd.read_csv(dst, keep_default_na=False)
    assert out["id"].tolist() == ["a", "b", "c", "d", "e"]
    good = out["error"] == ""
    assert good.tolist() == [True, False, True, False, False]
    assert (out.loc[good, "log10_sigma_lower"].astype(float)
            < out.loc[good, "log10_sigma_upper"].astype(float)).all()
    assert "wrote 2 prediction(s) for 5 row(s)" in res.stdout
    for row, text in [(1, "not a formula"), (3, "NaCl"), (4, "''")]:
        assert f"bad row {row} " in res.stderr
        assert text in res.stderr


def test_predict_at_temperature(models_dir, tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"composition": ["Li7La3Zr2O12", "Li3PS4"]}).to_csv(src, index=False)
    outs = []
    for t in ("300", "500"):
        dst = tmp_path / f"out{t}.csv"
        res = runner.invoke(app, ["predict", "conductivity", str(src), "-o", str(dst),
                                  "--temperature", t, "--models-dir", str(models_dir)])
        assert res.exit_code == 0, res.output
        outs.append(pd.read_csv(dst))
    assert (outs[1]["log10_sigma"] >= outs[0]["log10_sigma"]).all()
    assert (outs[0]["activation_energy_eV"] >= 0).all()
    assert (outs[0]["temperature_K"] == 300).all()


def test_predict_bad_inputs(models_dir, tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"formula": ["Li3PS4"]}).to_csv(src, index=False)
    res = runner.invoke(app, ["predict", "conductivity", str(src), "-o",
                              str(tmp_path / "o.csv"), "--models-dir", str(models_dir)])
    assert res.exit_code == 2 and "composition" in res.output
    pd.DataFrame({"composition": ["XeF2", "garbage"]}).to_csv(src, index=False)
    res = runner.invoke(app, ["predict", "conductivity", str(src), "-o",
                              str(tmp_path / "o.csv"), "--models-dir", str(models_dir)])
    assert res.exit_code == 1 and "bad row 0" in res.stderr
    res = runner.invoke(app, ["predict", "conductivity", str(src), "-o",
                              str(tmp_path / "o.csv"), "--temperature", "-3",
                              "--models-dir", str(models_dir)])
    assert res.exit_code != 0
