"""``ssbml.stability.stability_report``: the library form of ``ssbml stability``, with
the exact-then-learned rule shared by screening (real reference data and the shipped
learned model)."""

from __future__ import annotations

import json
import math
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from ssbml.errors import SsbmlError
from ssbml.stability import StabilityReport, stability_report
from ssbml.stability.reference import StabilityInputError
from ssbml.stability.report import (
    LearnedReaction,
    StabilityModelSkipped,
    learned_fallback,
)


def test_exported_lazily_from_the_package():
    import ssbml.stability as stability

    assert {"StabilityReport", "stability_report"} <= set(dir(stability))
    assert stability.StabilityReport is StabilityReport


@pytest.mark.parametrize(
    ("formula", "source"),
    [("Li3PS4", "exact"), ("Li7La3Zr2O12", "exact"), ("Li6.5La3Zr1.5Ta0.5O12", "phase diagram")],
)
def test_covered_formula_has_the_phase_diagram_numbers(mirror, formula, source):
    from ssbml.stability.decomposition import decomposition
    from ssbml.stability.interface import interface_reaction
    from ssbml.stability.window import electrochemical_window

    report = stability_report(formula, ("Li", "LiCoO2"), open_to_li=False)
    window = electrochemical_window(formula)
    assert not report.is_learned and report.learned == {}
    assert report.source["reduction_V"] == report.source["oxidation_V"] == source
    assert report.reduction_V == window.reduction_V
    assert report.oxidation_V == window.oxidation_V
    assert report.window == window
    assert report.reduction_V < report.oxidation_V
    dec = decomposition(formula)
    assert report.hull_energy_eV_atom == dec.hull_energy_eV_atom
    assert report.products == dec.products
    if source == "exact":
        assert report.e_above_hull_meV_atom == dec.e_above_hull_meV_atom >= 0
    else:  # its own energy is unknown
        assert math.isnan(report.e_above_hull_meV_atom)
        assert report.to_dict()["e_above_hull_meV_atom"] is None
    assert [(r.electrode, r.open_to_li) for r in report.reactions] == [
        ("Li", False), ("LiCoO2", False)
    ]
    for r in report.reactions:
        assert r.energy_meV_atom == interface_reaction(formula, r.electrode).energy_meV_atom
        assert r.energy_meV_atom <= 0


def test_open_to_li_adds_the_cathode_reaction(mirror):
    report = stability_report("Li3PS4")
    opened = [r for r in report.reactions if r.open_to_li]
    assert [r.electrode for r in opened] == ["LiCoO2"]
    assert opened[0].potential_V == pytest.approx(3.39, abs=0.01)


def test_uncovered_formula_is_learned_with_intervals(mirror):
    """Xe is in no reference compound: every number comes from the learned model."""
    report = stability_report("LiXe0.5")
    assert report.is_learned
    assert set(report.source.values()) == {"learned"}
    assert "Xe" in report.note
    for target, v in report.learned.items():
        assert v.lower <= v.value <= v.upper, target
    assert report.reduction_V == report.learned["reduction_V"].value
    assert report.oxidation_V == report.learned["oxidation_V"].value
    assert [(r.electrode, r.energy_meV_atom) for r in report.reactions] == [
        (e, report.learned[f"rxn_{e}_meV_atom"].value) for e in ("Li", "LiCoO2")
    ]
    assert all(isinstance(r, LearnedReaction) for r in report.reactions)
    assert report.window.source == "learned"
    wider = stability_report("LiXe0.5", alpha=0.02).learned["reduction_V"]
    assert wider.upper - wider.lower > report.learned["reduction_V"].upper - (
        report.learned["reduction_V"].lower)
    assert "98%" in stability_report("LiXe0.5", alpha=0.02).to_dict()["learned"]["interval"]


def test_too_many_elements_is_learned(mirror):
    report = stability_report("LiNaKRbCsMgCaSrBaO")
    assert report.is_learned and "10 elements" in report.note


@pytest.mark.parametrize("formula", ["Li3PS4", "Li0.33La0.56TiO3", "LiXe"])
def test_to_dict_round_trips_through_json_and_is_the_cli_output(mirror, formula):
    from ssbml.cli import app

    d = stability_report(formula).to_dict()
    text = json.dumps(d, indent=2, allow_nan=False)  # NaN became null
    assert json.loads(text) == d
    result = CliRunner().invoke(app, ["stability", formula, "--json"])
    assert result.exit_code == 0, result.output
    assert result.stdout == text + "\n"


@pytest.mark.parametrize(
    ("formula", "reason"),
    [("Li3Xx", "unknown element 'Xx'"), ("NaCl", "no Li"), ("", "empty")],
)
def test_bad_formula_is_a_one_line_error_naming_it(mirror, formula, reason):
    with pytest.raises(StabilityInputError) as info:
        stability_report(formula)
    err = info.value
    assert isinstance(err, SsbmlError) and isinstance(err, ValueError)
    assert err.formula == formula and reason in err.reason
    assert str(err) == f"{formula}: {err.reason}" and "\n" not in str(err)


def test_unknown_electrode_is_a_one_line_error(mirror):
    with pytest.raises(StabilityInputError, match="^FooBar: ") as info:
        stability_report("Li3PS4", ("Li", "FooBar"))
    assert info.value.formula == "FooBar"


def test_uncovered_without_learned_model_says_so(mirror, tmp_path, monkeypatch):
    from ssbml.ml.store import default_models_dir

    (tmp_path / "manifest.json").write_text(json.dumps({"models": {}}))
    monkeypatch.setenv("SSBML_MODELS_DIR", str(tmp_path))
    assert default_models_dir() == tmp_path
    with pytest.raises(StabilityInputError, match="no learned stability model") as info:
        stability_report("LiXe")
    assert info.value.formula == "LiXe" and "Xe" in info.value.reason
    assert stability_report("Li3PS4").source["reduction_V"] == "exact"  # no model needed


def test_tampered_learned_model_is_skipped_with_a_warning(mirror, tmp_path, monkeypatch):
    from ssbml.ml.store import default_models_dir

    shipped = default_models_dir()
    shutil.copy(shipped / "manifest.json", tmp_path / "manifest.json")
    data = (shipped / "stability.joblib").read_bytes()
    (tmp_path / "stability.joblib").write_bytes(data + b"x")
    monkeypatch.setenv("SSBML_MODELS_DIR", str(tmp_path))
    with pytest.warns(StabilityModelSkipped, match="learned stability numbers skipped"), \
            pytest.raises(StabilityInputError, match="no learned stability model"):
        stability_report("LiXe")


def test_learned_fallback_is_the_same_rule_over_rows():
    route = np.array(["exact", "phase diagram", "uncovered: element(s) Xe", "uncovered: 9"],
                     dtype=object)
    with_model = learned_fallback(route, learned_available=True)
    assert with_model.learned_rows.tolist() == [2, 3]
    assert with_model.source.tolist() == ["exact", "phase diagram", "learned", "learned"]
    assert with_model.note.tolist() == ["", "", "element(s) Xe", "9"]
    without = learned_fallback(route, learned_available=False)
    assert without.learned_rows.size == 0
    assert without.source.tolist() == ["exact", "phase diagram", "unavailable", "unavailable"]
    assert without.note.tolist() == with_model.note.tolist()


def test_screening_and_report_agree(mirror):
    """The vectorised screening route gives every row the source and numbers that the
    per-formula report gives it."""
    from ssbml.composition import ElementFractions
    from ssbml.screening.exact import stability_columns
    from ssbml.stability.report import shipped_stability_model

    formulas = ["Li3PS4", "Li6.5La3Zr1.5Ta0.5O12", "LiXe0.5"]
    X, _ = ElementFractions.from_formulas(formulas)
    model = shipped_stability_model()
    table = stability_columns(X, learned=model, learned_features=model.featurizer_.transform(X))
    for i, formula in enumerate(formulas):
        report = stability_report(formula)
        row = table.iloc[i]
        assert row["stability_source"] == report.source["reduction_V"], formula
        assert row["reduction_V"] == pytest.approx(report.reduction_V, abs=1e-9), formula
        assert row["oxidation_V"] == pytest.approx(report.oxidation_V, abs=1e-9), formula
        assert (row["stability_note"] != "") == report.is_learned
    assert table["stability_source"].tolist() == ["exact", "phase diagram", "learned"]
