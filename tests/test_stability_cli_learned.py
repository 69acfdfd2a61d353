"""`ssbml stability` says for every number whether it is exact, from the phase diagram
or learned (with an interval): the shipped reference answers offline with no data
directory, the learned model only where the reference does not cover the system."""

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


def test_doped_composition_gets_phase_diagram_numbers(mirror):
    report = _json(["Li6.5La3Zr1.5Ta0.5O12"])
    assert report["source"]["reduction_V"] == "phase diagram"
    assert "learned" not in report
    assert report["e_above_hull_meV_atom"] is None  # its own energy is unknown
    assert 0.3 < report["reduction_V"] < report["oxidation_V"]


def test_uncovered_composition_gets_learned_numbers_with_intervals(mirror):
    report = _json(["LiXe0.5"])
    learned = report["learned"]
    for target in ("reduction_V", "oxidation_V", "rxn_Li_meV_atom", "rxn_LiCoO2_meV_atom"):
        v = learned[target]
        assert v["lower"] <= v["value"] <= v["upper"]
    assert "90%" in learned["interval"]
    assert set(report["source"].values()) == {"learned"}


def test_without_data_directory_numbers_are_exact_from_the_shipped_table(
    tmp_path, monkeypatch
):
    """No mirror, empty cache, no downloads: the shipped reference table answers, and
    Li6.9La3Zr1.9Ta0.1O12 matches the mirror-based route."""
    from ssbml.data.thermo import thermo_table
    from ssbml.stability.reference import _phase_diagram

    with_mirror = _json(["Li6.9La3Zr1.9Ta0.1O12"]) if _mirror_present() else None
    monkeypatch.setenv("SSBML_DATA_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("SSBML_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SSBML_OFFLINE", "1")
    thermo_table.cache_clear()
    _phase_diagram.cache_clear()
    try:
        report = _json(["Li7La3Zr2O12"])
        assert set(report["source"].values()) == {"exact"}
        assert report["reduction_V"] == pytest.approx(0.05, abs=0.01)
        assert report["oxidation_V"] == pytest.approx(2.91, abs=0.01)
        doped = _json(["Li6.9La3Zr1.9Ta0.1O12"])
        assert doped["source"]["reduction_V"] == "phase diagram"
        if with_mirror is not None:
            assert doped["reduction_V"] == pytest.approx(with_mirror["reduction_V"], abs=1e-9)
        bad = runner.invoke(app, ["stability", "Li3Xx"])
        assert bad.exit_code == 2 and "unknown element" in bad.output
    finally:
        thermo_table.cache_clear()
        _phase_diagram.cache_clear()


def _mirror_present() -> bool:
    import os
    from pathlib import Path

    d = os.environ.get("SSBML_DATA_DIR")
    return bool(d) and (Path(d) / "mp" / "mp_e_form.csv").is_file()
