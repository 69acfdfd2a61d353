"""`ssbml stability` says for every number whether it is exact or learned (with an
interval), and falls back to the shipped learned model when the reference data are not
on the machine."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ssbml.cli import app

runner = CliRunner()


def _json(args: list[str]) -> dict:
    result = runner.invoke(app, ["stability", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_reference_compound_is_exact_without_learned_block(mirror):
    report = _json(["Li3PS4"])
    assert report["source"]["reduction_V"] == "exact"
    assert "learned" not in report
    assert report["reduction_V"] == pytest.approx(1.71, abs=0.1)


def test_doped_composition_gets_learned_numbers_with_intervals(mirror):
    report = _json(["Li6.5La3Zr1.5Ta0.5O12"])
    assert report["source"]["reduction_V"] == "phase diagram"
    learned = report["learned"]
    for target in ("reduction_V", "oxidation_V", "rxn_Li_meV_atom", "rxn_LiCoO2_meV_atom"):
        v = learned[target]
        assert v["lower"] <= v["value"] <= v["upper"]
    assert learned["reduction_V"]["value"] <= learned["oxidation_V"]["value"]
    assert "90%" in learned["interval"]


def test_without_reference_data_every_number_is_learned(tmp_path, monkeypatch):
    monkeypatch.setenv("SSBML_DATA_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("SSBML_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SSBML_OFFLINE", "1")
    from ssbml.data.thermo import thermo_table

    thermo_table.cache_clear()
    try:
        report = _json(["Li7La3Zr2O12"])
        assert set(report["source"].values()) == {"learned"}
        assert report["reduction_V"] <= report["oxidation_V"]
        assert "not found" in report["note"]
        bad = runner.invoke(app, ["stability", "Li3Xx"])
        assert bad.exit_code == 2 and "unknown element" in bad.output
    finally:
        thermo_table.cache_clear()
