"""A screen's fingerprint follows the reference data it used, and a rerun that reuses
every chunk never logs a second mlflow run."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from ssbml.screening.chunks import RunMismatchError
from ssbml.screening.run import ScreenSpec, run_fingerprint, screen

SPEC = ScreenSpec(parent="Li3PS4", dopants=("Cl",), chunk_size=10, electrodes=("Li",))


def _clear_caches() -> None:
    from ssbml.data.thermo import thermo_table
    from ssbml.screening.exact import reference_available
    from ssbml.stability.batch import _hull
    from ssbml.stability.reference import _phase_diagram

    for f in (thermo_table, reference_available, _hull, _phase_diagram):
        f.cache_clear()


@pytest.fixture
def changed_reference(tmp_path, monkeypatch):
    """A copy of the shipped models whose reference table lacks LiS4 and P2S7."""
    from ssbml.data.registry import file_sha256
    from ssbml.ml.store import default_models_dir

    dst = tmp_path / "models"
    shutil.copytree(default_models_dir(), dst)
    path = dst / "mp_reference.parquet"
    table = pd.read_parquet(path)
    table[~table["formula"].isin(["LiS4", "P2S7"])].to_parquet(path, index=False)
    manifest = json.loads((dst / "manifest.json").read_text())
    manifest["data"]["mp-reference"]["sha256"] = file_sha256(path)
    (dst / "manifest.json").write_text(json.dumps(manifest))
    yield dst
    _clear_caches()


def test_reference_change_changes_the_run(tmp_path, monkeypatch, changed_reference):
    _clear_caches()
    first = screen(SPEC, tmp_path / "a", report=False)
    before = run_fingerprint(SPEC)
    parent = first.table[first.table["doping"] == ""].iloc[0]
    assert parent["oxidation_V"] == pytest.approx(2.36, abs=0.01)

    monkeypatch.setenv("SSBML_MODELS_DIR", str(changed_reference))
    _clear_caches()
    assert run_fingerprint(SPEC) != before  # the CLI's default folder changes with it
    with pytest.raises(RunMismatchError):  # never reuses the old chunks
        screen(SPEC, tmp_path / "a", report=False)
    again = screen(SPEC, tmp_path / "b", report=False)
    parent = again.table[again.table["doping"] == ""].iloc[0]
    assert parent["oxidation_V"] == pytest.approx(2.63, abs=0.01)  # recomputed


def test_resumed_complete_run_is_not_logged_twice(tmp_path):
    import mlflow

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    first = screen(SPEC, tmp_path / "out", report=False, track=True, tracking_uri=uri)
    second = screen(SPEC, tmp_path / "out", report=False, track=True, tracking_uri=uri)
    assert first.run_id and second.run_id == first.run_id
    client = mlflow.tracking.MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("ssbml-screening")
    assert len(client.search_runs([exp.experiment_id])) == 1
