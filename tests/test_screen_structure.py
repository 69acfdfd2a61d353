"""``ssbml screen --parent-structure``: candidates made on a parent CIF by site
substitution, both conductivity values, the agreement flag, the report's provenance and
one-line errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ssbml.cli import app
from ssbml.composition import parse_formula
from ssbml.data.structures import obelix_cif_text
from ssbml.screening.candidates import Substitution
from ssbml.screening.parent_structure import (
    apply_structure_agreement,
    candidate_structure,
    load_parent_structure,
)
from ssbml.screening.run import ScreenSpec, build_candidates, screen

runner = CliRunner()


@pytest.fixture(scope="module")
def cifs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("parents")
    out = {}
    for oid in ("72f", "wyu", "122"):
        out[oid] = folder / f"{oid}.cif"
        out[oid].write_text(obelix_cif_text(oid))
    return out


def test_parent_structure_names_its_source(cifs):
    p = load_parent_structure(cifs["72f"])
    assert p.source == "72f.cif" and len(p.sha256) == 64 and p.z == 8
    assert p.space_group_number == 230
    assert p.formula.startswith("Li6.258") and "Al0.24" in p.formula


def test_candidates_are_made_on_the_structure(cifs):
    spec = ScreenSpec(parent_structure=str(cifs["72f"]), dopants=("Ta", "Ga"),
                      sites={"Ga": "Li"}, max_dopants=2)
    p = spec.parent_structure_info
    cands, _ = build_candidates(spec)
    formulas = cands.fractions.formula_array().to_pylist()
    picks = [i for i, d in enumerate(cands.labels["doping"]) if "Ta" in d and "Ga" in d][:3]
    picks += [0]
    for i in picks:
        s = candidate_structure(p, cands.substitutions(i), cands.labels["li_per_formula"][i])
        got = s.composition.element_composition
        want = parse_formula(formulas[i]).element_composition
        for el in set(map(str, got)) | set(map(str, want)):
            assert got[el] / p.z == pytest.approx(want[el], abs=1e-6), (formulas[i], el)
        assert s.lattice == p.structure.lattice


def test_both_values_flag_and_report(cifs, tmp_path):
    spec = ScreenSpec(parent_structure=str(cifs["wyu"]), dopants=("Ta", "Al"),
                      exact_stability=False, max_dopants=1)
    result = screen(spec, tmp_path / "wyu", track=False, top=5)
    t = result.table
    for col in ("log10_sigma_composition", "log10_sigma_composition_lower",
                "log10_sigma_structure", "log10_sigma_structure_lower",
                "log10_sigma_structure_upper", "structure_flag", "structure_flag_reason",
                "structure_in_domain", "rank_source"):
        assert col in t.columns
    assert t["log10_sigma_composition"].notna().all()
    # the ordered tetragonal parent: structure-aware far below composition-only, flagged
    assert t["structure_flag"].all()
    assert t["structure_flag_reason"].str.contains("decades below").all()
    assert (t["rank_source"] == "composition (fallback)").all()
    assert np.allclose(t["score"], t["log10_sigma_composition_lower"])
    page = (tmp_path / "wyu" / "report.html").read_text()
    p = spec.parent_structure_info
    for text in ("wyu.cif", p.sha256, "Li7La3Zr2O12", "I4_1/acd"):
        assert text in page


def test_agreeing_parent_ranks_on_the_conservative_bound(cifs):
    spec = ScreenSpec(parent_structure=str(cifs["122"]), dopants=("Br",), max_dopants=1)
    cands, _ = build_candidates(spec)
    from ssbml.ml.store import load_model
    from ssbml.screening.parent_structure import structure_columns
    from ssbml.screening.predict import ScreeningModels, predict_chunk

    st = structure_columns(spec.parent_structure_info, cands,
                           load_model("conductivity-structure"))
    comp = predict_chunk(cands.fractions, cands.labels, ScreeningModels.load(),
                         exact_stability=False)
    t = apply_structure_agreement(comp.merge(st, on="candidate_id"))
    assert t["structure_in_domain"].all() and not t["structure_flag"].any()
    assert np.allclose(t["rank_log10_sigma_lower"],
                       np.fmin(t["log10_sigma_composition_lower"],
                               t["log10_sigma_structure_lower"]))


def test_out_of_domain_falls_back_to_composition():
    import pandas as pd

    df = pd.DataFrame({
        "log10_sigma": [-3.0], "log10_sigma_lower": [-3.5], "log10_sigma_upper": [-2.5],
        "log10_sigma_structure": [math.nan], "log10_sigma_structure_lower": [math.nan],
        "log10_sigma_structure_upper": [math.nan],
        "structure_note": ["parent structure far from the training CIFs"]})
    t = apply_structure_agreement(df)
    assert t["rank_log10_sigma_lower"].iloc[0] == -3.5
    assert "far from the training CIFs" in t["structure_flag_reason"].iloc[0]


def _cli(*args: str):
    return runner.invoke(app, ["screen", "--no-track", *args])


def test_cli_errors_are_one_line(cifs, tmp_path):
    bad = tmp_path / "bad.cif"
    bad.write_text("data_x\nthis is not a CIF\n")
    r = _cli("--parent-structure", str(bad), "--dopants", "Ta", "--out", str(tmp_path / "o1"))
    assert r.exit_code != 0 and "bad.cif" in r.output and "Traceback" not in r.output
    from pymatgen.core import Lattice, Structure

    nacl = tmp_path / "noli.cif"
    Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]).to(
        filename=str(nacl))
    r = _cli("--parent-structure", str(nacl), "--dopants", "K", "--out", str(tmp_path / "o2"))
    assert r.exit_code != 0 and "noli.cif" in r.output and "no Li" in r.output
    r = _cli("--parent-structure", str(cifs["122"]), "--dopants", "He",
             "--out", str(tmp_path / "o3"))
    assert r.exit_code != 0 and "He" in r.output and "Traceback" not in r.output
    r = _cli("--parent-structure", str(cifs["122"]), "--parent", "Li6PS5Cl",
             "--dopants", "Br")
    assert r.exit_code == 2 and "not both" in r.output


def test_cli_screen_on_a_structure(cifs, tmp_path):
    r = _cli("--parent-structure", str(cifs["122"]), "--dopants", "Br", "--max-dopants", "1",
             "--no-exact", "--out", str(tmp_path / "o"), "--top", "3")
    assert r.exit_code == 0, r.output
    assert "structure-aware" in r.output


def test_tracked_run_names_the_parent_structure(cifs, tmp_path, mlflow_uri):
    import mlflow

    from ssbml import api

    result = api.screen(parent_structure=cifs["122"], dopants=["Br"], max_dopants=1,
                        out_dir=tmp_path / "t", track=True, tracking_uri=mlflow_uri,
                        exact_stability=False, top=3)
    run = mlflow.MlflowClient(mlflow_uri).get_run(result.run_id)
    assert run.data.tags["parent_structure"] == "122.cif"
    assert run.data.tags["model_sha256.conductivity-structure"]


def test_li_interstitials_that_do_not_fit_are_said(cifs):
    p = load_parent_structure(cifs["wyu"])  # fully occupied Li sites
    from ssbml.screening.parent_structure import candidate_sites

    _, reason = candidate_sites(p, [Substitution("Y", "Zr", 0.5)], 7.5)
    assert "do not fit" in reason


def test_structured_substitutions_match_the_labels(cifs):
    spec = ScreenSpec(parent_structure=str(cifs["72f"]), dopants=("Ta", "Ga", "Nb"))
    cands, _ = build_candidates(spec)
    for i, label in enumerate(cands.labels["doping"]):
        text = "+".join(f"{d}@{s}:{x:g}" for d, s, x in cands.substitutions(i))
        assert text == label
    # the chunk reordering keeps rows and substitutions together
    order = np.arange(len(cands))[::-1]
    part = cands.take(order)
    assert part.substitutions(0) == cands.substitutions(len(cands) - 1)


def test_a_doped_parent_structure_keeps_its_dopant(cifs, tmp_path):
    """72f is Al-doped cubic LLZO (Al shares the Li sites): Ga goes onto the Li site
    next to Al with Li vacancies, it does not replace Al; Ta goes to Zr."""
    from ssbml.screening.parent_structure import structure_guests

    spec = ScreenSpec(parent_structure=str(cifs["72f"]), dopants=("Ta", "Ga"))
    p = spec.parent_structure_info
    assert structure_guests(p) == {"Al": "Li"}
    cands, _ = build_candidates(spec)
    sites = {a["dopant"]: a["site"] for a in cands.labels.attrs["sites"]}
    assert sites == {"Ta": "Zr", "Ga": "Li"}
    assert cands.labels.attrs["host"]["host"] == "Li7La3Zr2O12"
    amounts = cands.fractions.amounts()
    col = {el: j for j, el in enumerate(cands.fractions.elements)}
    al0 = p.formula_unit["Al"]
    assert np.allclose(amounts[:, col["Al"]], al0)  # Al is never replaced
    li0 = p.formula_unit["Li"]
    for i in range(len(cands)):
        subs = {d: x for d, _, x in cands.substitutions(i)}
        want = li0 - 3 * subs.get("Ga", 0.0) - subs.get("Ta", 0.0)
        assert amounts[i, col["Li"]] == pytest.approx(want, abs=1e-9)
    # the host's Li minimum and solubility cap (1.2 per formula unit, Al counted)
    rules = cands.labels.attrs["rules"]
    assert rules["min_li"] == pytest.approx(4.9)
    assert rules["solubility_cap"] == pytest.approx(1.2 - al0)
    r = _cli("--parent-structure", str(cifs["72f"]), "--dopants", "Ga", "--max-dopants", "1",
             "--no-exact", "--out", str(tmp_path / "o"), "--top", "3")
    assert r.exit_code == 0, r.output
    assert "doped parent read as Li7La3Zr2O12" in " ".join(r.output.split())
    assert "doped parent read as Li7La3Zr2O12" in (tmp_path / "o" / "report.html").read_text()


def test_an_ordered_argyrodite_chloride_is_not_a_guest(cifs):
    """Cl in Li6PS5Cl is a host anion (one per formula unit), not a dopant, even where
    the CIF mixes it with S."""
    from ssbml.screening.parent_structure import structure_guests

    p = load_parent_structure(cifs["122"])
    assert p.formula == "Li6PS5Cl"
    assert structure_guests(p) == {}


def test_the_parent_bvse_is_in_the_screen_and_the_report(cifs, tmp_path):
    """One BVSE run on the parent: barriers in the printed line, the report and the
    result; a parent whose BVSE cannot run says why instead of failing the screen."""
    from ssbml.screening.parent_structure import (
        parent_migration,
        parent_migration_text,
    )

    m = parent_migration(load_parent_structure(cifs["122"]))
    assert set(m["barriers_eV"]) == {"1D", "2D", "3D"}
    b3 = m["barriers_eV"]["3D"]
    assert b3 is not None and 0.05 < b3 < 1.5
    assert "1D" in parent_migration_text(m) and "122.cif" in parent_migration_text(m)
    r = _cli("--parent-structure", str(cifs["122"]), "--dopants", "Br", "--max-dopants", "1",
             "--no-exact", "--out", str(tmp_path / "o"), "--top", "3")
    assert r.exit_code == 0, r.output
    flat = " ".join(r.output.split())
    assert "BVSE Li+ migration barriers of the parent 122.cif" in flat
    assert f"3D {b3:.2f}" in flat
    assert "BVSE Li+ migration barriers" in (tmp_path / "o" / "report.html").read_text()
    failed = {"error": "no Li+ BVSE parameters for H-", "source": "x.cif"}
    assert "not computed (no Li+ BVSE parameters for H-)" in parent_migration_text(failed)
