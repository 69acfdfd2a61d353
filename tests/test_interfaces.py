"""User-facing interfaces: piped output is never wrapped, the per-user tracking store,
`compare` naming the experiments that exist, and the small lazy Python API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ssbml.cli import app

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO), **extra)
    env.pop("COLUMNS", None)
    return env


def test_piped_output_is_not_wrapped(tmp_path, mirror):
    # the mirror seen through a long path: every printed path is longer than 80 columns
    deep = tmp_path.joinpath(*["x" * 60] * 3)
    deep.mkdir(parents=True)
    (deep / "data").symlink_to(mirror, target_is_directory=True)
    out = subprocess.run(
        [sys.executable, "-m", "ssbml", "data", "fetch"], cwd=deep, capture_output=True,
        text=True, env=_env(SSBML_DATA_DIR=str(deep / "data")), check=True,
    ).stdout
    lines = out.splitlines()
    from ssbml.data.registry import DATASETS

    assert len(lines) == len(DATASETS), out
    assert all(line.endswith("(sha256 verified)") for line in lines), out


def test_error_paths_are_not_split_when_piped(tmp_path):
    long_dir = tmp_path / ("y" * 120)
    out = subprocess.run(
        [sys.executable, "-m", "ssbml", "data", "fetch", "obelix"], capture_output=True,
        text=True, env=_env(SSBML_DATA_DIR=str(long_dir), SSBML_OFFLINE="1",
                            SSBML_CACHE_DIR=str(tmp_path / "cache")),
    )
    assert out.returncode == 1
    assert str(long_dir) in out.stdout + out.stderr


def test_default_tracking_store_is_per_user_and_keeps_artifacts_beside_it(
    tmp_path, monkeypatch
):
    import mlflow

    from ssbml.tracking import default_tracking_uri, start_run

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    monkeypatch.chdir(tmp_path)
    with start_run("ssbml-test-default") as run:
        mlflow.log_metric("x", 1.0)
    store = tmp_path / "share" / "ssbml"
    assert (store / "mlflow.db").is_file()
    assert default_tracking_uri() == f"sqlite:///{store / 'mlflow.db'}"
    exp = mlflow.get_experiment_by_name("ssbml-test-default")
    assert exp.artifact_location.startswith((store / "mlartifacts").as_uri())
    assert not (tmp_path / "mlflow.db").exists() and not (tmp_path / "mlruns").exists()
    assert mlflow.get_run(run.info.run_id).data.metrics["x"] == 1.0


def test_compare_lists_the_experiments_that_exist(mlflow_uri):
    import mlflow

    mlflow.set_tracking_uri(mlflow_uri)
    mlflow.create_experiment("ssbml-screening")
    result = runner.invoke(app, ["compare", "--experiment", "nope"])
    assert result.exit_code == 1
    assert "no mlflow experiment named 'nope'" in result.output
    assert "'ssbml-screening'" in result.output


def test_import_ssbml_is_light_and_exports_the_api():
    code = (
        "import sys, ssbml; "
        "heavy = [m for m in ('pymatgen', 'mlflow', 'pandas', 'sklearn', 'dask') "
        "if m in sys.modules]; "
        "print(','.join(heavy)); print(' '.join(ssbml.__all__))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=_env()).stdout.splitlines()
    assert out[0] == ""
    assert set(out[1].split()) >= {"screen", "predict_conductivity", "stability"}


def test_lazy_modules_list_their_names():
    import ssbml
    import ssbml.stability

    assert {"screen", "predict_conductivity", "stability"} <= set(dir(ssbml))
    assert set(ssbml.stability.__all__) <= set(dir(ssbml.stability))
    assert callable(ssbml.stability.electrochemical_window)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ssbml.nope  # noqa: B018


def test_predict_conductivity_api_with_the_shipped_model():
    import ssbml
    from ssbml.ml.store import read_manifest

    if "conductivity" not in read_manifest().get("models", {}):
        pytest.skip("shipped models not present")
    out = ssbml.predict_conductivity(["Li7La3Zr2O12", "Li6PS5Cl", "Xx2O"])
    assert len(out) == 3
    good = out[out["error"] == ""]
    assert len(good) == 2
    assert ((good["log10_sigma_lower"] < good["log10_sigma"])
            & (good["log10_sigma"] < good["log10_sigma_upper"])).all()
    assert out.loc[2, "error"] != ""
    with pytest.raises(ValueError, match="alpha"):
        ssbml.predict_conductivity("Li7La3Zr2O12", alpha=2)
