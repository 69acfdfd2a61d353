"""scikit-learn conformance of the regressors, composition featurizers and structure
estimators (issue 14.3).

The featurizers take compositions (formula strings / a DataFrame with a
``composition`` column), not numeric arrays: their tags say so
(``input_tags.two_d_array=False``, ``string=True``) and ``check_estimator`` then skips
the numeric-array checks (random float matrices are not formulas). No check is expected
to fail: ``EXPECTED_FAILED`` is empty for every estimator. The structure estimators
(structures / descriptor tables in) follow the same pattern; see the comment above
``STRUCTURE_ESTIMATORS`` for the checks that cannot apply to them.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import check_estimator

from ssbml.features import default_featurizer
from ssbml.features.presets import (
    ElementFractionFeaturizer,
    FallbackFeaturizer,
    WithElementFractions,
    WithFamily,
)
from ssbml.ml.regressors import MedianExtraTreesRegressor, MedianForestRegressor
from ssbml.models.conductivity.model import ConductivityModel
from ssbml.structure.descriptors import FEATURE_NAMES, StructureFeaturizer
from ssbml.structure.model import StructureAwareModel, WithDescriptors

REGRESSORS = [
    MedianForestRegressor(n_estimators=10, random_state=0),
    MedianExtraTreesRegressor(n_estimators=10, random_state=0),
]
FEATURIZERS = [
    FallbackFeaturizer(),
    ElementFractionFeaturizer(),
    WithElementFractions(ElementFractionFeaturizer()),
    default_featurizer(),
]
# check name -> reason; empty: nothing is expected to fail (numeric-array checks are
# skipped by the honest input tags of the featurizers, not listed as failures)
EXPECTED_FAILED: dict[str, str] = {}

FORMULAS = ["Li7La3Zr2O12", "Li6PS5Cl", "Li3YCl6", "Li3PS4", "Li10GeP2S12"]


def _ids(est):
    return type(est).__name__


@pytest.mark.parametrize("est", REGRESSORS + FEATURIZERS, ids=_ids)
def test_check_estimator(est):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(
            est, expected_failed_checks=EXPECTED_FAILED, on_fail=None
        )
    failed = [
        (r["check_name"], str(r["exception"])[:200])
        for r in results
        if r["status"] == "failed"
    ]
    assert not failed, failed
    assert results


@pytest.mark.parametrize("est", REGRESSORS, ids=_ids)
def test_regressor_not_fitted_and_multi_output(est):
    from sklearn.base import clone

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    with pytest.raises(NotFittedError):
        clone(est).predict(X)
    Y = np.column_stack([X[:, 0], X[:, 1] * 2])
    m = clone(est).fit(X, Y)
    P = m.predict(X)
    assert P.shape == (40, 2)
    # median of the trees, per output
    trees = np.stack([t.predict(X.astype(np.float32)) for t in m.estimators_])
    np.testing.assert_array_equal(P, np.median(trees, axis=0))
    with pytest.raises(ValueError):
        m.predict(X[:, :2])  # wrong number of features is caught
    m1 = clone(est).fit(X, X[:, 0])
    assert m1.predict(X).shape == (40,)


@pytest.mark.parametrize(
    "est", FEATURIZERS[:3] + [WithFamily(ElementFractionFeaturizer())], ids=_ids
)
def test_featurizer_not_fitted_and_stateless_transform(est):
    from sklearn.base import clone

    X = pd.DataFrame({"composition": FORMULAS, "family": ["garnet"] * 3 + ["x"] * 2})
    with pytest.raises(NotFittedError):
        clone(est).transform(X)
    m = clone(est).fit(X)
    before = copy.deepcopy(vars(m))
    m.transform(X)
    after = vars(m)
    assert before.keys() == after.keys()
    for k in before:
        assert type(before[k]) is type(after[k]), k
        if isinstance(before[k], np.ndarray):
            np.testing.assert_array_equal(before[k], after[k])
        elif hasattr(before[k], "get_params"):
            assert vars(before[k]).keys() == vars(after[k]).keys(), k
        else:
            assert before[k] == after[k], k


def test_default_featurizer_stateless_transform():
    f = default_featurizer().fit(FORMULAS)
    keys = set(vars(f))
    f.transform(FORMULAS)
    assert set(vars(f)) == keys


# check_estimator runs only check_estimator_cloneable on the featurizers (their tags
# exclude numeric 2-D input); these API checks need no data and do apply:
_API_CHECKS = [
    "check_no_attributes_set_in_init",
    "check_estimator_repr",
    "check_valid_tag_types",
    "check_get_params_invariance",
    "check_set_params",
    "check_parameters_default_constructible",
    "check_estimator_tags_renamed",
]


@pytest.mark.parametrize("check", _API_CHECKS)
@pytest.mark.parametrize("est", FEATURIZERS, ids=_ids)
def test_featurizer_api_checks(est, check):
    import sklearn.utils.estimator_checks as checks
    from sklearn.base import clone

    getattr(checks, check)(type(est).__name__, clone(est))


# --- structure estimators ---------------------------------------------------------------
# StructureFeaturizer takes pymatgen Structures (a sequence, or a DataFrame with a
# ``structure`` column); WithDescriptors and StructureAwareModel take a DataFrame with
# ``composition`` (formula strings) and the descriptor columns (NaN without a
# structure). None takes a numeric 2-D array, so their tags say ``two_d_array=False``
# and check_estimator runs only check_estimator_cloneable on them. The numeric-array
# checks cannot apply, because they feed random float matrices: check_fit2d_1sample,
# check_fit2d_1feature, check_fit1d, check_transformer_general,
# check_transformer_data_not_an_array, check_transformers_unfitted,
# check_methods_subset_invariance, check_fit_idempotent, check_n_features_in,
# check_dtype_object, check_estimators_nan_inf, check_estimators_empty_data_messages,
# check_regressors_train, check_supervised_y_2d, check_estimators_pickle (pickling
# is checked here on real structures instead), check_readonly_memmap_input (a
# structure is not an array). The data-free API checks (_API_CHECKS) and the fit /
# transform contract (NotFittedError, no state written in transform or predict,
# get_feature_names_out) are tested below on real OBELiX structures.
FAST = {"max_grid_points": 20000}
STRUCTURE_IDS = ["gvd", "5tl"]  # OBELiX Li3N (4 sites) and La1.24Ti2O6 (no Li site)


def _small_model(featurizer):
    return ConductivityModel(featurizer=featurizer,
                             regressor=MedianForestRegressor(n_estimators=5, random_state=0),
                             n_splits=2)


STRUCTURE_ESTIMATORS = [
    StructureFeaturizer(),
    StructureFeaturizer(cache=False, n_jobs=2, settings=FAST),
    WithDescriptors(),
    WithDescriptors(ElementFractionFeaturizer(), columns=("volume_per_atom_A3",)),
    StructureAwareModel(_small_model(ElementFractionFeaturizer()),
                        _small_model(WithDescriptors(ElementFractionFeaturizer()))),
]


@pytest.fixture(scope="module")
def structures():
    import os

    if not os.environ.get("SSBML_DATA_DIR"):
        pytest.skip("data mirror not present")
    from ssbml.data.structures import obelix_structure

    return [obelix_structure(i) for i in STRUCTURE_IDS]


@pytest.fixture()
def featurizer(tmp_path, monkeypatch):
    monkeypatch.setenv("SSBML_CACHE_DIR", str(tmp_path / "cache"))
    return StructureFeaturizer(settings=FAST)


def _descriptor_table(featurizer, structures) -> pd.DataFrame:
    """Compositions of ``structures`` with their descriptor columns, plus one row
    without a structure (all descriptors NaN)."""
    X = featurizer.fit(structures).transform([*structures, None])
    table = pd.DataFrame(X, columns=featurizer.get_feature_names_out())
    table.insert(0, "composition",
                 [s.composition.reduced_formula for s in structures] + ["Li3PS4"])
    return table


def _assert_same_state(before: dict, after: dict) -> None:
    assert before.keys() == after.keys()
    for k in before:
        assert type(before[k]) is type(after[k]), k
        if isinstance(before[k], np.ndarray):
            np.testing.assert_array_equal(before[k], after[k])
        elif hasattr(before[k], "get_params"):
            assert vars(before[k]).keys() == vars(after[k]).keys(), k
        else:
            assert before[k] == after[k], k


@pytest.mark.parametrize("est", STRUCTURE_ESTIMATORS, ids=_ids)
def test_structure_estimators_check_estimator(est):
    from sklearn.utils import get_tags

    tags = get_tags(est)
    assert not tags.input_tags.two_d_array and tags.input_tags.allow_nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(est, expected_failed_checks=EXPECTED_FAILED, on_fail=None)
    assert results and not [r for r in results if r["status"] == "failed"]


@pytest.mark.parametrize("check", _API_CHECKS)
@pytest.mark.parametrize("est", STRUCTURE_ESTIMATORS, ids=_ids)
def test_structure_estimator_api_checks(est, check):
    import sklearn.utils.estimator_checks as checks
    from sklearn.base import clone

    getattr(checks, check)(type(est).__name__, clone(est))


def test_structure_featurizer_contract(structures, featurizer):
    import pickle

    with pytest.raises(NotFittedError):
        StructureFeaturizer().transform(structures)
    with pytest.raises(NotFittedError):
        StructureFeaturizer().get_feature_names_out()
    with pytest.raises(ValueError, match="row 1: expected a pymatgen Structure"):
        StructureFeaturizer().fit([structures[0], "Li3N"])
    params = featurizer.get_params()
    f = featurizer.fit(structures)
    assert f.get_params() == params and f.settings is FAST  # parameters untouched
    before = copy.deepcopy(vars(f))
    X = f.transform(pd.DataFrame({"structure": [*structures, None], "id": ["a", "b", "c"]}))
    _assert_same_state(before, vars(f))  # transform writes no state
    names = f.get_feature_names_out()
    assert list(names) == list(FEATURE_NAMES) and X.shape == (3, len(names))
    assert X.dtype == np.float64 and np.isnan(X[2]).all()
    assert set(f.errors(pd.DataFrame({"structure": structures, "id": ["a", "b"]}))) == {"b"}
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(f)).transform(structures), X[:2])
    assert f.transform([]).shape == (0, len(names))


def test_with_descriptors_contract(structures, featurizer):
    table = _descriptor_table(featurizer, structures)
    est = WithDescriptors(ElementFractionFeaturizer())
    with pytest.raises(NotFittedError):
        est.transform(table)
    with pytest.raises(NotFittedError):
        est.get_feature_names_out()
    m = est.fit(table)
    before = copy.deepcopy(vars(m))
    F = m.transform(table)
    _assert_same_state(before, vars(m))
    names = m.get_feature_names_out()
    assert len(names) == F.shape[1] and list(names[-len(FEATURE_NAMES):]) == list(FEATURE_NAMES)
    np.testing.assert_array_equal(F.iloc[:, -len(FEATURE_NAMES):].to_numpy(),
                                  table[list(FEATURE_NAMES)].to_numpy())
    with pytest.raises(ValueError, match="lacks column"):
        m.transform(table[["composition"]])


def test_structure_aware_model_contract(structures, featurizer):
    from sklearn.base import clone

    table = _descriptor_table(featurizer, structures)
    table = pd.concat([table] * 4, ignore_index=True)  # 12 rows: enough for 2 folds
    y = np.linspace(-6.0, -2.0, len(table))
    est = clone(STRUCTURE_ESTIMATORS[-1])
    with pytest.raises(NotFittedError):
        est.predict(table)
    m = est.fit(table, y, groups=np.arange(len(table)) % 4)
    before = copy.deepcopy(vars(m))
    pred = m.predict(table)
    _assert_same_state(before, vars(m))
    route = m.route(table)
    assert (route == "structure").tolist() == ([True, True, False] * 4)
    np.testing.assert_array_equal(pred[route == "composition"],
                                  m.composition_model_.predict(table[["composition"]])[
                                      route == "composition"])
