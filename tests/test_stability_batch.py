"""The batched phase-diagram route agrees with pymatgen's per-composition route, and
the shipped reference table is the mirror's file, reduced by ssbml's own code."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from ssbml.composition import ElementFractions
from ssbml.stability.batch import SOURCE_MEANING, stability_table
from ssbml.stability.interface import interface_reaction
from ssbml.stability.window import electrochemical_window

DOPED = [
    "Li6.9La3Zr1.9Ta0.1O12",
    "Li6.4La3Zr1.4Ta0.6O12",
    "Li6.25Al0.25La3Zr2O12",
    "Li6.4Ga0.2La3Zr2O12",
    "Li5.5PS4.5Cl1.5",
    "Li6PS5Cl0.9Br0.1",
    "Li3.25P0.75Si0.25S4",
    "Li1.3Al0.3Ti1.7(PO4)3",
    "Li0.33La0.56TiO3",
    "Li3YCl6",
]


@pytest.fixture(scope="module")
def table():
    X, batch = ElementFractions.from_formulas(DOPED + ["Li7La3Zr2O12", "Li3PS4"])
    assert len(batch.rejected) == 0
    return stability_table(X.amounts(), X.elements, electrodes=("Li", "LiCoO2", "NMC811"))


def test_windows_and_mutual_reactions_match_pymatgen(table):
    """get_element_profile and InterfacialReactivity, one composition at a time."""
    for i, formula in enumerate(DOPED + ["Li7La3Zr2O12", "Li3PS4"]):
        w = electrochemical_window(formula)
        assert table["reduction_V"].iat[i] == pytest.approx(w.reduction_V, abs=1e-6), formula
        assert table["oxidation_V"].iat[i] == pytest.approx(w.oxidation_V, abs=1e-6), formula
        assert table["window_method"].iat[i] == w.method
        for electrode in ("Li", "LiCoO2", "NMC811"):
            r = interface_reaction(formula, electrode)
            got = table[f"rxn_{electrode}_meV_atom"].iat[i]
            assert got == pytest.approx(r.energy_meV_atom, abs=1e-3), (formula, electrode)
            total = table[f"rxn_{electrode}_total_meV_atom"].iat[i]
            assert total == pytest.approx(r.total_meV_atom, abs=1e-3), (formula, electrode)
            ratio = table[f"rxn_{electrode}_ratio"].iat[i]
            if np.isnan(r.ratio):
                assert np.isnan(ratio)
            else:
                assert ratio == pytest.approx(r.ratio, abs=1e-6)


def test_sources_and_unknown_energies(table):
    src = table["stability_source"].tolist()
    assert src[: len(DOPED)] == ["phase diagram"] * len(DOPED)
    assert src[len(DOPED):] == ["exact", "exact"]
    doped = table.iloc[: len(DOPED)]
    assert doped["e_above_hull_meV_atom"].isna().all()  # own energy unknown
    llzo = table.iloc[len(DOPED)]
    assert llzo["e_above_hull_meV_atom"] > 0  # metastable in this table
    assert llzo["rxn_LiCoO2_total_meV_atom"] < llzo["rxn_LiCoO2_meV_atom"]
    assert set(SOURCE_MEANING) == {"exact", "phase diagram", "learned"}
    # Ta-LLZO: its own phase-diagram window, not the undoped parent's 0.05 V
    assert table["reduction_V"].iat[0] == pytest.approx(0.35, abs=0.01)
    assert "Li5TaO5" in table["equilibrium_phases"].iat[0]


def test_uncovered_system_is_marked():
    X, _ = ElementFractions.from_formulas(["Li0.01Xe", "Li3PS4"])
    t = stability_table(X.amounts(), X.elements)
    assert t["stability_source"].iat[0].startswith("uncovered") and "Xe" in t[
        "stability_source"
    ].iat[0]
    assert np.isnan(t["reduction_V"].iat[0]) and t["stability_source"].iat[1] == "exact"


def test_excluded_suspect_phases_change_li3ps4_oxidation():
    """LiS4 and P2S7 are flagged; leaving them out can only widen the window."""
    from ssbml.stability.reference import suspect_phases

    flagged = suspect_phases(["Li", "P", "S"])
    assert {"LiS4", "P2S7"} <= set(flagged)
    assert "Li3PS4" not in flagged and "Li2S" not in flagged
    X, _ = ElementFractions.from_formulas(["Li3PS4"])
    base = stability_table(X.amounts(), X.elements)
    without = stability_table(X.amounts(), X.elements, exclude=frozenset({"LiS4", "P2S7"}))
    assert base["oxidation_V"].iat[0] == pytest.approx(2.36, abs=0.01)
    assert without["oxidation_V"].iat[0] == pytest.approx(2.63, abs=0.01)
    assert without["oxidation_V"].iat[0] > base["oxidation_V"].iat[0]


def test_shipped_reference_is_the_mirror_table(mirror):
    """The shipped file equals ssbml's reduction of the registry file, row for row."""
    from ssbml.data.registry import get_dataset
    from ssbml.data.thermo import load_mp_formation_energies, load_shipped_reference
    from ssbml.ml.store import read_manifest

    shipped = load_shipped_reference()
    assert shipped is not None
    parsed = load_mp_formation_energies()
    assert len(shipped) == len(parsed) == 95_118
    assert (shipped["formula"].to_numpy() == parsed["formula"].to_numpy()).all()
    # equal to float parsing precision (pandas versions parse the CSV's decimals
    # differently in the last bit)
    np.testing.assert_allclose(shipped["e_form_eV_atom"], parsed["e_form_eV_atom"],
                               rtol=0, atol=1e-12)
    entry = read_manifest()["data"]["mp-reference"]
    assert entry["source_sha256"] == get_dataset("mp-e-form").sha256
    assert entry["license"] == "CC BY 4.0" and "Jain" in entry["attribution"]


def test_tampered_reference_is_refused(tmp_path, monkeypatch):
    from ssbml.data.thermo import load_shipped_reference
    from ssbml.ml.store import default_models_dir

    src = default_models_dir()
    dst = tmp_path / "models"
    shutil.copytree(src, dst)
    with (dst / "mp_reference.parquet").open("ab") as fh:
        fh.write(b"x")
    monkeypatch.setenv("SSBML_MODELS_DIR", str(dst))
    with pytest.raises(ValueError, match="sha256"):
        load_shipped_reference()
    manifest = json.loads((dst / "manifest.json").read_text())
    assert "mp-reference" in manifest["data"]
