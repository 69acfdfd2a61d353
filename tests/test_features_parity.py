"""Parity of ssbml's vectorized featurizers with matminer (test-only dependency) on every
OBELiX (True Composition) and Liverpool composition.

Where the definitions agree the values must match to 1e-6:

- ElementProperty(data_source="pymatgen") for the 14 pymatgen properties ssbml uses
  (radii converted from angstrom to pm), all six statistics;
- ElementProperty(data_source="magpie") for the 10 valence / unfilled electron counts
  (ssbml derives them from pymatgen's electron configurations; identical for Z <= 104);
- Stoichiometry(), ValenceOrbital(), and IonProperty's max / average ionic character.

matminer's default ``impute_nan=True`` treats a value of 0 as missing, which ssbml does
not, so element-property parity is checked with ``impute_nan=False`` on both sides (no
OBELiX / Liverpool element lacks any of these properties, so nothing is imputed there).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest

from experiments.matminer_names import (
    MAGPIE_PROPS,
    MATMINER_STATS,
    PYMATGEN_PROPS,
    SSBML_STATS,
)
from ssbml.composition import parse_formulas
from ssbml.data.registry import fetch
from ssbml.features import (
    ElementPropertyFeaturizer,
    IonicCharacterFeaturizer,
    StoichiometryFeaturizer,
    ValenceOrbitalFeaturizer,
)

matminer_composition = pytest.importorskip("matminer.featurizers.composition")

TOL = {"rtol": 1e-9, "atol": 1e-6}


@pytest.fixture(scope="module")
def compositions() -> list:
    if not os.environ.get("SSBML_DATA_DIR"):
        pytest.skip("../shared/data mirror not present")
    obelix = pd.read_csv(fetch("obelix"))["True Composition"].tolist()
    liverpool = pd.read_csv(fetch("liverpool"), encoding="utf-8-sig")["composition"].tolist()
    batch = parse_formulas(obelix + liverpool, require_li=False)
    assert len(batch.rejected) == 0, batch.rejected
    assert len(batch.compositions) == len(obelix) + len(liverpool) > 1400
    return batch.compositions


def _matminer(featurizer, comps) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.array([featurizer.featurize(c) for c in comps], dtype=float)


def _scale(props: dict[str, str]) -> np.ndarray:
    return np.repeat([100.0 if p.endswith("_pm") else 1.0 for p in props], len(MATMINER_STATS))


def _assert_parity(ours: pd.DataFrame, theirs: np.ndarray) -> None:
    values = ours.to_numpy()
    assert values.shape == theirs.shape
    bad = ~np.isclose(values, theirs, equal_nan=True, **TOL)
    if bad.any():
        rows, cols = np.nonzero(bad)
        pairs = zip(rows, cols, strict=True)
        detail = [(int(r), ours.columns[c], values[r, c], theirs[r, c]) for r, c in pairs][:10]
        raise AssertionError(f"{bad.sum()} values differ from matminer, e.g. {detail}")


def test_element_property_pymatgen_parity(compositions):
    mm = matminer_composition.ElementProperty(
        "pymatgen", list(PYMATGEN_PROPS.values()), MATMINER_STATS, impute_nan=False
    )
    theirs = _matminer(mm, compositions) * _scale(PYMATGEN_PROPS)
    ours = ElementPropertyFeaturizer(list(PYMATGEN_PROPS), SSBML_STATS, impute_nan=False)
    _assert_parity(ours.fit_transform(compositions), theirs)


def test_element_property_valence_counts_match_magpie(compositions):
    mm = matminer_composition.ElementProperty(
        "magpie", list(MAGPIE_PROPS.values()), MATMINER_STATS, impute_nan=False
    )
    theirs = _matminer(mm, compositions)
    ours = ElementPropertyFeaturizer(list(MAGPIE_PROPS), SSBML_STATS, impute_nan=False)
    _assert_parity(ours.fit_transform(compositions), theirs)


def test_stoichiometry_parity(compositions):
    theirs = _matminer(matminer_composition.Stoichiometry(), compositions)
    _assert_parity(StoichiometryFeaturizer().fit_transform(compositions), theirs)


def test_valence_orbital_parity(compositions):
    theirs = _matminer(matminer_composition.ValenceOrbital(), compositions)
    _assert_parity(ValenceOrbitalFeaturizer().fit_transform(compositions), theirs)


def test_ionic_character_parity(compositions):
    theirs = _matminer(matminer_composition.IonProperty(fast=True), compositions)[:, 1:]
    _assert_parity(IonicCharacterFeaturizer().fit_transform(compositions), theirs)


def test_missing_properties_follow_matminer_nan_rules():
    """Noble gases lack electronegativity and atomic radius in pymatgen: without
    imputation every statistic touching them is NaN, as in matminer (mode only when the
    noble gas is the modal element); with imputation nothing is NaN and rows without a
    missing value are unchanged."""
    formulas = ["LiAr", "Li2Ne", "LiAr2", "Li3PS4", "Li7La3Zr2O12"]
    comps = parse_formulas(formulas, require_li=False).compositions
    props = ["electronegativity_pauling", "atomic_radius_pm", "atomic_mass_amu"]
    mm = matminer_composition.ElementProperty(
        "pymatgen", [PYMATGEN_PROPS[p] for p in props], MATMINER_STATS, impute_nan=False
    )
    theirs = _matminer(mm, comps) * _scale({p: "" for p in props})
    raw = ElementPropertyFeaturizer(props, SSBML_STATS, impute_nan=False).fit_transform(formulas)
    _assert_parity(raw, theirs)
    assert np.isnan(raw.loc[0, "mean_electronegativity_pauling"])  # LiAr
    assert np.isfinite(raw.loc[1, "mode_electronegativity_pauling"])  # Li2Ne: Li is modal
    assert np.isnan(raw.loc[2, "mode_electronegativity_pauling"])  # LiAr2: Ar is modal
    imputed = ElementPropertyFeaturizer(props, SSBML_STATS).fit_transform(formulas)
    assert np.isfinite(imputed.to_numpy()).all()
    pd.testing.assert_frame_equal(imputed.iloc[3:], raw.iloc[3:])
