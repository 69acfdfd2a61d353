"""OBELiX CIF archive (registry + loader), ``ssbml migration`` (BVSE with bvlain) and the
structure featurizer, on real structures taken from the mirror's archive."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from ssbml.cli import app

runner = CliRunner()
pytest.importorskip("bvlain")

ORDERED = "gvd"  # Li3N, ordered, 4 sites
DISORDERED = "nhq"  # beta-Li3PS4, partially occupied Li sites
NO_LI = "5tl"  # La1.24Ti2O6: OBELiX entry whose CIF has no Li site
FAST = ["--max-grid-points", "20000"]


@pytest.fixture()
def cif(mirror, tmp_path):
    """Write the archive's CIF of an OBELiX ID to a file, via the registry."""
    from ssbml.data.structures import obelix_cif_text

    def write(structure_id: str):
        path = tmp_path / f"{structure_id}.cif"
        path.write_text(obelix_cif_text(structure_id))
        return path

    return write


def test_archive_index_joins_obelix_by_id(mirror):
    from ssbml.data.registry import DATASETS, fetch, file_sha256
    from ssbml.data.structures import obelix_structure_index

    assert file_sha256(fetch("obelix-cifs")) == DATASETS["obelix-cifs"].sha256
    index = obelix_structure_index()
    assert len(index) == DATASETS["obelix-cifs"].rows == 321
    assert index["split"].value_counts().to_dict() == {"train": 254, "test": 67}
    assert index["id"].is_unique and index["log10_sigma"].notna().all()


def test_loader_parses_and_names_bad_inputs(mirror):
    from ssbml.data.structures import (
        StructureLoadError,
        load_obelix_structures,
        obelix_structure,
        parse_structure,
    )

    df = load_obelix_structures(ids=[ORDERED, DISORDERED])
    assert list(df["id"]) == [ORDERED, DISORDERED]
    assert df["structure"].iloc[0].composition.reduced_formula == "Li3N"
    assert not df["structure"].iloc[1].is_ordered and df["error"].isna().all()
    with pytest.raises(StructureLoadError, match=r"OBELiX ID 'zzz'.*no CIF"):
        obelix_structure("zzz")
    with pytest.raises(StructureLoadError, match=r"^broken\.cif: not a readable CIF"):
        parse_structure("data_x\n_cell_length_a nonsense\n", "broken.cif")


def test_migration_ordered_structure(cif):
    result = runner.invoke(app, ["migration", str(cif(ORDERED)), "--json", *FAST])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["formula"] == "Li3N" and report["structure_model"] == "ordered"
    assert report["oxidation_method"] == "bond valence"
    assert report["oxidation_states"] == {"Li": 1.0, "N": -3.0}
    e = report["barriers_eV"]
    # Li3N is a fast Li conductor: BVSE barriers well below 0.5 eV, percolating in 3D
    assert 0.05 < e["1D"] <= e["2D"] <= e["3D"] < 0.5
    r = report["percolation_radius_A"]
    assert r["1D"] >= r["2D"] >= r["3D"] > 0
    li = report["li_sublattice"]
    assert li["li_sites"] == 3 and li["li_per_cell"] == 3.0
    assert 1.9 < li["li_li_nearest_A"] < 2.4  # Li-Li in Li3N: about 2.1 A (Li2N plane)


def test_migration_disordered_structure_says_how(cif, tmp_path):
    png = tmp_path / "bvse.png"
    result = runner.invoke(
        app, ["migration", str(cif(DISORDERED)), "--json", "--plot", str(png), *FAST]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["formula"] == "Li3PS4" and not report["ordered"]
    assert report["structure_model"] == "occupancy-weighted framework"
    assert report["oxidation_method"] == "composition"
    assert report["oxidation_states"] == {"Li": 1.0, "P": 5.0, "S": -2.0}
    e = report["barriers_eV"]
    assert 0.1 < e["1D"] <= e["3D"] < 0.8
    assert report["li_sublattice"]["li_site_occupancy_mean"] == pytest.approx(0.75)
    assert any("partially occupied" in n for n in report["notes"])
    assert png.stat().st_size > 10_000

    majority = runner.invoke(
        app, ["migration", str(cif(DISORDERED)), "--json", "--disorder", "majority", *FAST]
    )
    assert majority.exit_code == 0, majority.output
    assert json.loads(majority.stdout)["structure_model"] == "majority-occupancy approximant"


def test_migration_without_li_is_a_one_line_error(cif):
    path = cif(NO_LI)
    result = runner.invoke(app, ["migration", str(path)])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert lines[0] == f"error: {path}: no Li site in La1.24Ti2O6"


def test_unreadable_inputs_are_one_line_errors(tmp_path):
    bad = tmp_path / "bad.cif"
    bad.write_text("this is not a cif\n")
    for path, reason in ((bad, "not a readable CIF"), (tmp_path / "none.cif", "no such file")):
        result = runner.invoke(app, ["migration", str(path)])
        assert result.exit_code == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {path}: {reason}")


def test_anion_without_bvse_parameters_and_mixed_valence():
    from pymatgen.core import Lattice, Structure

    from ssbml.structure.bvse import MigrationInputError, prepare_structure

    # Li3P (anti-BiF3-like cell): P3- has no Li+ BVSE parameters in softBV/bvlain
    li3p = Structure(Lattice.cubic(5.9), ["Li", "Li", "Li", "P"],
                     [[0.25, 0.25, 0.25], [0.75, 0.75, 0.75], [0.5, 0.5, 0.5], [0, 0, 0]])
    with pytest.raises(MigrationInputError, match=r"^Li3P\.cif: no Li\+ BVSE parameters for "
                       r"the anion P-3"):
        prepare_structure(li3p, "Li3P.cif")
    # Li0.5FeO2-like disordered cell: Fe must be +3.5 on average -> no integer valences
    mixed = Structure(Lattice.cubic(4.2), [{"Li": 0.5}, "Fe", "O", "O"],
                      [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0, 0], [0, 0.5, 0]])
    with pytest.raises(MigrationInputError, match=r"^m\.cif: no assignable valences for Li0\.5"):
        prepare_structure(mixed, "m.cif")


def test_weighted_framework_keeps_occupancy_as_charge():
    from pymatgen.core import Lattice, Structure

    from ssbml.structure.bvse import weighted_framework

    s = Structure(
        Lattice.cubic(6.0),
        [{"Ge": 0.5, "P": 0.5}, {"La": 0.5}, {"Li": 0.7}, "S", {"S": 0.4}],
        [[0, 0, 0], [0.5, 0.5, 0.5], [0.25, 0.25, 0.25], [0.5, 0, 0], [0, 0.5, 0]],
    )
    framework, partial, dropped = weighted_framework(
        s, {"Ge": 4, "P": 5, "La": 3, "Li": 1, "S": -2}
    )
    charges = {(sp.symbol, round(sp.oxi_state, 3)) for site in framework for sp in site.species}
    assert charges == {("Ge", 4.5), ("La", 1.5), ("S", -2)}  # Li left out, S0.4 dropped
    assert partial == 4 and dropped == 1 and len(framework) == 3


def test_featurizer_caches_and_degrades(mirror, tmp_path, monkeypatch):
    from ssbml.data.structures import obelix_structure
    from ssbml.structure.descriptors import FEATURE_NAMES, StructureFeaturizer

    monkeypatch.setenv("SSBML_CACHE_DIR", str(tmp_path / "cache"))
    structures = [obelix_structure(ORDERED), None, obelix_structure(NO_LI)]
    feat = StructureFeaturizer(settings={"max_grid_points": 20000})
    X = feat.fit_transform(structures)
    names = list(feat.get_feature_names_out())
    assert X.shape == (3, len(FEATURE_NAMES)) and names == list(FEATURE_NAMES)
    row = dict(zip(names, X[0], strict=True))
    assert 0.05 < row["bvse_barrier_3D_eV"] < 0.5
    assert row["anion_fraction_N"] == 1.0 and row["disordered"] == 0.0
    assert 0 < row["free_volume_fraction"] < 1
    assert row["li_per_volume_per_A3"] == pytest.approx(3 / obelix_structure(ORDERED).volume)
    assert np.isnan(X[1]).all()
    no_li = dict(zip(names, X[2], strict=True))
    assert math.isnan(no_li["bvse_barrier_1D_eV"]) and no_li["volume_per_atom_A3"] > 0
    assert no_li["anion_fraction_O"] == 1.0
    assert "no Li site" in feat.errors(structures)["row 2"]
    assert not hasattr(feat, "errors_")  # transform writes no state
    cached = list((tmp_path / "cache" / "structure-descriptors").glob("*.json"))
    assert len(cached) == 2
    # the second featurizer reads the cache: an edited cache entry shows up in its output
    for path in cached:
        entry = json.loads(path.read_text())
        if entry["error"] is None:
            entry["volume_per_atom_A3"] = 123.0
            path.write_text(json.dumps(entry))
    again = StructureFeaturizer(settings={"max_grid_points": 20000}).fit_transform(structures)
    assert again[0, names.index("volume_per_atom_A3")] == 123.0
    assert again[0, names.index("bvse_barrier_3D_eV")] == row["bvse_barrier_3D_eV"]
    assert any("Adams" in c for c in feat.citations())


def test_vectorized_percolation_matches_bvlain(mirror):
    from bvlain import Lain

    from ssbml.data.structures import obelix_structure
    from ssbml.structure.bvse import _lain_class, prepare_structure

    work, _ = prepare_structure(obelix_structure(DISORDERED), DISORDERED)
    results = []
    for cls in (Lain, _lain_class()):
        calc = cls(verbose=False)
        calc.read_structure(work, oxi_check=False)
        calc.bvse_distribution(mobile_ion="Li1+", resolution=0.35)
        energies = calc.percolation_barriers(encut=5.0)
        calc.void_distribution(mobile_ion="Li1+", resolution=0.35)
        results.append((energies, calc.percolation_radii()))
    assert results[0] == results[1]
    assert results[1][0]["E_1D"] < results[1][0]["E_3D"]  # beta-Li3PS4: 1D path first


def test_bond_valence_mixed_valence_falls_back_to_composition():
    from pymatgen.core import Lattice, Structure

    from ssbml.structure.bvse import prepare_structure

    # olivine LiFePO4, experimental coordinates (as in experiments/bvse_reference.py)
    clean = Structure.from_spacegroup(
        "Pnma", Lattice.orthorhombic(10.332, 6.010, 4.692),
        ["Li", "Fe", "P", "O", "O", "O"],
        [[0, 0, 0], [0.2822, 0.25, 0.9747], [0.0949, 0.25, 0.4183], [0.0968, 0.25, 0.7424],
         [0.4571, 0.25, 0.2060], [0.1658, 0.0466, 0.2847]],
    )

    def _randomized(structure, seed):
        rng = np.random.default_rng(seed)
        noisy = structure.copy()
        for i, site in enumerate(structure):
            noisy.replace(i, site.species, site.frac_coords + rng.normal(0, 0.01, 3))
        return noisy

    _, info = prepare_structure(clean, "LiFePO4")
    assert info["oxidation_method"] == "bond valence"
    assert info["oxidation_states"] == {"Fe": 2.0, "Li": 1.0, "O": -2.0, "P": 5.0}
    # OBELiX-like noise (sigma 0.01 fractional) makes BVAnalyzer split Fe and P over two
    # states on this seed; the composition assignment (Fe2+, P5+) is used instead
    _, info = prepare_structure(_randomized(clean, 0), "noisy LiFePO4")
    assert info["oxidation_method"] == "composition"
    assert info["oxidation_states"] == {"Fe": 2.0, "Li": 1.0, "O": -2.0, "P": 5.0}
    assert any("mixed valence for Fe, P" in n for n in info["notes"])
