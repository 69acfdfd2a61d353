"""The MP formation-energy table: lowest energy per reduced formula, chemical-system
lookups, disk cache."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Composition

from ssbml.data import thermo
from ssbml.data.registry import fetch, file_sha256
from ssbml.data.thermo import (
    COLUMNS,
    FormationEnergyTable,
    element_mask,
    thermo_table,
)


@pytest.fixture()
def table(mirror) -> FormationEnergyTable:
    return thermo_table()


def test_table_shape_and_units(table):
    frame = table.frame
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 95118  # distinct reduced formulas (data README)
    has_li = frame["chemsys"].str.split("-").map(lambda els: "Li" in els)
    assert has_li.sum() == 9161
    assert frame["formula"].is_unique
    assert frame["e_form_eV_atom"].between(-5, 3).all()
    assert (frame.loc[frame["n_elements"] == 1, "e_form_eV_atom"] == 0).all()


def test_lowest_energy_per_reduced_formula(table, mirror):
    raw = pd.read_csv(fetch("mp-e-form"))
    raw = raw[raw["formula"].str.contains("Li")]
    reduced = raw["formula"].map(lambda f: Composition(f).reduced_formula)
    for formula in ("Li3PS4", "LiCoO2", "Li2O"):
        rows = raw.loc[reduced == formula, "target"]
        assert len(rows) >= 1
        assert table.e_form_eV_atom(formula) == pytest.approx(rows.min())
        assert table.lookup(formula)["n_polymorphs"] == len(rows)
    assert table.e_form_eV_atom("Li0.33La0.56TiO3") is None
    assert table.lookup("NotAFormula") is None


def test_within_matches_brute_force(table):
    frame = table.frame
    system = {"Li", "P", "S"}
    expected = frame[frame["chemsys"].str.split("-").map(lambda e: set(e) <= system)]
    got = table.within(["S", "P", "Li"])
    assert sorted(got["formula"]) == sorted(expected["formula"])
    assert {"Li3PS4", "Li2S", "P2S5", "Li", "S", "P"} <= set(got["formula"])
    # heavy elements use the high half of the mask (Z > 64)
    got_u = table.within(["Li", "U", "O"])
    assert "Li2UO4" in set(got_u["formula"]) or len(got_u) > 3
    assert all(set(c.split("-")) <= {"Li", "U", "O"} for c in got_u["chemsys"])


def test_element_mask():
    lo, hi = element_mask(["H", "Li"])
    assert (lo, hi) == (0b101, 0)
    lo, hi = element_mask(["U"])  # Z = 92
    assert lo == 0 and hi == 1 << (92 - 65)


def test_disk_cache_roundtrip(tmp_path, monkeypatch):
    """The parsed table is cached as parquet keyed by sha256; a corrupt cache file is
    rebuilt, and a file whose hash does not match is refused. (A small real-format file
    keeps the test fast; the full table goes through the same function.)"""
    monkeypatch.setenv("SSBML_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "small.csv"
    path.write_text("formula,target\nLi2S1,-1.5\nLi3P1S4,-1.2\nP2S5,-0.6\nS1,0.0\n")
    sha = file_sha256(path)
    first = thermo._load_cached(str(path), sha)
    files = list((tmp_path / "cache" / "thermo").glob(f"mp_e_form_{sha[:16]}_*.parquet"))
    assert len(files) == 1
    pd.testing.assert_frame_equal(first, thermo._load_cached(str(path), sha))
    files[0].write_bytes(b"not parquet")
    pd.testing.assert_frame_equal(first, thermo._load_cached(str(path), sha))
    with pytest.raises(ValueError, match="changed while loading"):
        thermo._load_cached(str(path), "0" * 64)


def test_bad_raw_file_is_rejected(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("composition,energy\nLi2O,-2.0\n")
    with pytest.raises(ValueError, match="expected columns"):
        thermo._parse_table(bad)
    empty = tmp_path / "empty.csv"
    empty.write_text("formula,target\nLi2O,\n")
    with pytest.raises(ValueError, match="row"):
        thermo._parse_table(empty)


def test_small_file_parses_to_lowest_energy(tmp_path):
    path = tmp_path / "small.csv"
    path.write_text("formula,target\nLi2O2,-1.0\nLi1O1,-1.5\nO2,0.3\nLi4,0.01\n")
    frame = thermo._parse_table(path)
    row = frame.set_index("formula")
    assert row.loc["Li2O2", "e_form_eV_atom"] == -1.5  # pymatgen keeps peroxide O2
    assert row.loc["Li2O2", "n_polymorphs"] == 2
    assert np.allclose(row.loc[["O2", "Li"], "e_form_eV_atom"], 0.0)
