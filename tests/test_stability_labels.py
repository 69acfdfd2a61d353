"""Label generation: agreement with the single-composition API, robustness, cache."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from ssbml.stability import labels as labels_mod
from ssbml.stability.decomposition import decomposition
from ssbml.stability.hull_lp import HullLP
from ssbml.stability.interface import interface_reaction
from ssbml.stability.labels import (
    LABEL_COLUMNS,
    compute_labels,
    label_cache_path,
    li_formulas,
    load_labels,
)
from ssbml.stability.reference import StabilityInputError
from ssbml.stability.window import electrochemical_window

SAMPLE = ["Li3PS4", "Li7La3Zr2O12", "Li2PNO2", "Li6PS5Cl", "Li2O", "LiCoO2", "LiBeCu2"]


def test_li_formulas(mirror):
    formulas = li_formulas()
    assert len(formulas) == 9160  # 9,161 Li formulas minus Li metal
    assert "Li" not in formulas and "Li3PS4" in formulas


def test_labels_match_the_api(mirror):
    out = compute_labels(SAMPLE, n_jobs=1)
    assert list(out.columns) == list(LABEL_COLUMNS)
    assert list(out["formula"]) == SAMPLE  # input order kept
    assert (out["error"] == "").all()
    for row in out.itertuples():
        w = electrochemical_window(row.formula)
        assert row.reduction_V == pytest.approx(w.reduction_V, abs=1e-4)
        assert row.oxidation_V == pytest.approx(w.oxidation_V, abs=1e-4)
        d = decomposition(row.formula)
        assert row.e_above_hull_meV_atom == pytest.approx(d.e_above_hull_meV_atom, abs=1e-3)
        if not math.isnan(d.decomposition_energy_meV_atom):
            assert row.decomposition_energy_meV_atom == pytest.approx(
                d.decomposition_energy_meV_atom, abs=1e-2)
        for name in ("Li", "LiCoO2"):
            r = interface_reaction(row.formula, name)
            assert getattr(row, f"rxn_{name}_meV_atom") == pytest.approx(
                r.energy_meV_atom, abs=1e-3), (row.formula, name)
    li3ps4 = out.set_index("formula").loc["Li3PS4"]
    assert li3ps4["chemsys"] == "Li-P-S" and li3ps4["n_elements"] == 3
    assert li3ps4["window_method"] == "zero"


def test_failing_composition_is_recorded_not_raised(mirror):
    # a reference system that lacks the compound's elements makes every LP fail
    wrong = HullLP.from_reference(["Li", "O"])
    row = labels_mod._label_one("Li3PS4", wrong, wrong, -1.0)
    assert math.isnan(row.get("reduction_V", math.nan))
    assert "window: ValueError" in row["error"] and "rxn_LiCoO2" in row["error"]


def test_unknown_formula_is_rejected(mirror):
    with pytest.raises(StabilityInputError, match="not a reduced formula"):
        compute_labels(["Li0.33La0.56TiO3"])


def test_cache_path_and_reuse(tmp_path, monkeypatch, mirror):
    monkeypatch.setenv("SSBML_CACHE_DIR", str(tmp_path))
    path = label_cache_path()
    assert path.parent == tmp_path / "stability" and path.suffix == ".parquet"
    monkeypatch.setattr(labels_mod, "LABELS_VERSION", labels_mod.LABELS_VERSION + 1)
    assert label_cache_path() != path  # code version is part of the key
    monkeypatch.undo()
    monkeypatch.setenv("SSBML_CACHE_DIR", str(tmp_path))
    small = compute_labels(SAMPLE[:2])
    path.parent.mkdir(parents=True)
    small.to_parquet(path, index=False)
    pd.testing.assert_frame_equal(load_labels(), small)  # read, not recomputed
