"""scikit-learn conformance of the regressors and composition featurizers (issue 14.3).

The featurizers take compositions (formula strings / a DataFrame with a
``composition`` column), not numeric arrays: their tags say so
(``input_tags.two_d_array=False``, ``string=True``) and ``check_estimator`` then skips
the numeric-array checks (random float matrices are not formulas). No check is expected
to fail: ``EXPECTED_FAILED`` is empty for every estimator.
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
