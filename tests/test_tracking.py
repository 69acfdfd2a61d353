"""mlflow tracking: URI precedence, what a training run logs, champion registration."""

from __future__ import annotations

import warnings

import pytest

from ssbml.models.conductivity.config import TrainConfig
from ssbml.models.conductivity.train import REGISTERED_MODEL, run_training
from ssbml.tracking import default_tracking_uri, resolve_tracking_uri, standard_tags


def _tiny(name: str, n_estimators: int) -> TrainConfig:
    return TrainConfig(name=name, include_liverpool=False, benchmark=True, regressor="rf",
                       params={"n_estimators": n_estimators, "max_depth": 4})


def test_tracking_uri_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    expected = f"sqlite:///{tmp_path / 'share' / 'ssbml' / 'mlflow.db'}"
    # one per-user file, absolute, whatever the working folder
    assert resolve_tracking_uri() == default_tracking_uri() == expected
    assert (tmp_path / "share" / "ssbml").is_dir()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///env.db")
    assert resolve_tracking_uri() == "sqlite:///env.db"
    assert resolve_tracking_uri("sqlite:///flag.db") == "sqlite:///flag.db"


def test_standard_tags_have_commit_versions_and_data_hashes():
    tags = standard_tags(["obelix"])
    assert tags["data_sha256.obelix"].startswith("54f6265e")
    assert "version.scikit-learn" in tags and "git_commit" in tags
    with pytest.raises(KeyError):
        standard_tags(["no-such-dataset"])


def test_training_run_logs_everything_and_registers_champion(mlflow_uri):
    from mlflow import MlflowClient

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = run_training(_tiny("tiny-a", 8), tracking_uri=mlflow_uri)
    client = MlflowClient(tracking_uri=mlflow_uri)
    run = client.get_run(first["run_id"])
    m = run.data.metrics
    for key in ("test_mae", "test_rmse", "test_r2", "test_spearman",
                "test_roc_auc_superionic", "test_coverage90", "cv_mae"):
        assert key in m
    assert m["test_n"] == 121
    assert 0.5 < m["test_mae"] < 4.0
    assert m["test_mae"] == pytest.approx(first["metrics"]["test_mae"])
    assert run.data.params["regressor"] == "rf"
    assert run.data.tags["data_sha256.obelix-test"].startswith("b2c266eb")
    assert "version.mlflow" in run.data.tags
    # data sets with digests
    inputs = {d.dataset.name: d for d in run.inputs.dataset_inputs}
    assert {"train", "obelix-test"} <= set(inputs)
    assert all(len(d.dataset.digest) > 0 for d in inputs.values())
    # artifacts: plots and per-family errors
    names = {a.path for a in client.list_artifacts(first["run_id"])}
    assert {"parity_test.png", "parity_cv.png", "family_errors_test.csv",
            "family_errors.png"} <= names
    # model with signature and input example, registered as champion
    import mlflow.models

    mv = client.get_model_version_by_alias(REGISTERED_MODEL, "champion")
    assert mv.run_id == first["run_id"]
    info = mlflow.models.get_model_info(f"models:/{REGISTERED_MODEL}@champion")
    assert info.signature.inputs.input_names() == ["composition"]
    assert info.saved_input_example_info is not None

    # a second, worse run (depth-1 trees) is registered but does not take the alias;
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cfg = _tiny("tiny-b", 2)
        cfg.params["max_depth"] = 1
        second = run_training(cfg, tracking_uri=mlflow_uri)
    assert second["metrics"]["test_mae"] > first["metrics"]["test_mae"]
    assert second["model_version"] == 2
    mv = client.get_model_version_by_alias(REGISTERED_MODEL, "champion")
    assert mv.run_id == first["run_id"]
