"""``ssbml stability``: table, JSON, plot and bad input."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ssbml.cli import app

runner = CliRunner()


def test_json_output(mirror):
    result = runner.invoke(app, ["stability", "Li3PS4", "--json", "-e", "Li", "-e", "LiCoO2"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert abs(report["reduction_V"] - 1.71) < 0.1
    assert abs(report["oxidation_V"] - 2.31) < 0.1
    assert report["source"]["reduction_V"] == "exact"
    assert report["e_above_hull_meV_atom"] == 0.0
    electrodes = [(r["electrode"], r["open_to_li"]) for r in report["reactions"]]
    assert electrodes == [("Li", False), ("LiCoO2", False), ("LiCoO2", True)]
    assert all(r["energy_meV_atom"] < 0 for r in report["reactions"])


def test_off_stoichiometric_json_uses_null_and_source(mirror):
    result = runner.invoke(app, ["stability", "Li0.33La0.56TiO3", "--json", "--closed"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["reduction_V"] < report["oxidation_V"]
    assert report["e_above_hull_meV_atom"] is None
    assert report["source"]["e_above_hull_meV_atom"] == "phase diagram"
    assert report["source"]["oxidation_V"] == "phase diagram"
    assert not any(r["open_to_li"] for r in report["reactions"])


def test_table_output_and_plot(mirror, tmp_path):
    png = tmp_path / "w.png"
    result = runner.invoke(
        app, ["stability", "Li3PS4", "Li7La3Zr2O12", "--closed", "--plot", str(png)]
    )
    assert result.exit_code == 0, result.output
    assert "reduction limit" in result.stdout and "Li7La3Zr2O12" in result.stdout
    assert "exact" in result.stdout
    assert png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_several_formulas_json_is_a_list(mirror):
    result = runner.invoke(app, ["stability", "Li3PS4", "Li2O", "--json", "--closed"])
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)
    assert [r["formula"] for r in reports] == ["Li3PS4", "Li2O"]


def test_uncovered_system_is_learned_and_marked(mirror):
    """Xe is in no compound of the reference: the learned model answers, marked so."""
    result = runner.invoke(app, ["stability", "LiXe", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report["source"].values()) == {"learned"}
    assert "Xe" in report["note"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["NaCl"], "no Li"),
        (["LiQq"], "Qq"),
        (["Li3PS4", "-e", "FooBar"], "FooBar"),
        (["Li3PS4", "--rel-tol", "2"], "rel-tol"),
    ],
)
def test_bad_input_exits_nonzero_with_one_line(mirror, args, message):
    result = runner.invoke(app, ["stability", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_plot_windows_direct(mirror, tmp_path):
    from ssbml.stability.interface import ELECTRODES
    from ssbml.stability.plot import plot_windows
    from ssbml.stability.window import electrochemical_window

    with pytest.raises(ValueError, match="at least one"):
        plot_windows([], tmp_path / "empty.png")
    point = electrochemical_window("Li0.33La0.56TiO3", rel_tol=0.0)  # zero-width window
    assert point.width_V == pytest.approx(0.0)
    out = plot_windows([point, electrochemical_window("Li3PS4")], tmp_path / "w.svg",
                       electrodes=[ELECTRODES["Li"], ELECTRODES["NMC811"]])
    text = out.read_text()
    assert out.suffix == ".svg" and "NMC811" in text and "V vs Li/Li+" in text
