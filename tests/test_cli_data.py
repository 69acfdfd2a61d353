"""The `ssbml` CLI skeleton: help, data list/show/fetch and their error paths."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ssbml.cli import app

runner = CliRunner()


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys; from ssbml.cli import app; "
        "heavy = [m for m in ('pymatgen', 'mlflow', 'dask', 'sklearn', 'pandas', 'matplotlib') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_data_list_names_every_dataset(mirror):
    result = runner.invoke(app, ["data", "list"])
    assert result.exit_code == 0, result.output
    for name in ("obelix", "obelix-train", "obelix-test", "liverpool", "mp-e-form"):
        assert name in result.output


def test_data_show_prints_schema_license_and_rows(mirror):
    result = runner.invoke(app, ["data", "show", "obelix", "--rows", "2"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "599 rows" in result.output
    assert "CC BY 4.0" in result.output and "Therrien" in result.output
    assert "log10_sigma" in result.output and "Li7BiO6" in result.output


def test_data_show_raw_file(mirror):
    result = runner.invoke(app, ["data", "show", "mp-e-form", "-n", "1"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "132,752 rows" in result.output


@pytest.mark.parametrize("command", [["data", "show", "nope"], ["data", "fetch", "nope"]])
def test_unknown_dataset_is_a_clear_error(command):
    result = runner.invoke(app, command)
    assert result.exit_code == 2
    assert "unknown data set 'nope'" in result.output


def test_fetch_offline_missing_exits_nonzero(tmp_path, monkeypatch):
    monkeypatch.setenv("SSBML_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SSBML_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SSBML_OFFLINE", "1")
    result = runner.invoke(app, ["data", "fetch", "obelix"], terminal_width=300)
    assert result.exit_code == 1
    assert "not found" in result.output and "SSBML_DATA_DIR" in result.output


def test_fetch_all_verifies(mirror):
    result = runner.invoke(app, ["data", "fetch"], terminal_width=200)
    assert result.exit_code == 0, result.output
    from ssbml.data.registry import DATASETS

    assert result.output.count("sha256 verified") == len(DATASETS) == 6
