"""scikit-learn conformance of the composition featurizers.

The featurizers take one column of formulas (strings, pymatgen Compositions or
ElementFractions) and learn nothing, and their tags say so (``two_d_array=False``,
``string=True``, ``requires_fit=False``). sklearn's ``check_estimator`` therefore runs
only its clone check on them, so here every check sklearn would run on a 2-D numeric
transformer is run directly: each must pass unless it is listed in ``INAPPLICABLE``
with the reason, and a listed check must really fail (the list cannot go stale). The
checks that need data are then repeated with real compositions.
"""

from __future__ import annotations

import copy
import pickle
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_checks as ec
from sklearn.utils.validation import check_is_fitted

from ssbml.features import FEATURE_SETS, CompositionFeatureUnion, default_featurizer

NUMERIC = ("sklearn generates numeric 2-D arrays; the input here is one column of formulas, "
           "so the check's data cannot be featurized")
STATELESS = ("fit learns nothing and, like sklearn's stateless transformers, does not "
             "validate X; bad input is rejected by transform")
INAPPLICABLE = {
    "check_fit_score_takes_y": NUMERIC,
    "check_estimators_dtypes": NUMERIC,
    "check_dtype_object": NUMERIC,
    "check_pipeline_consistency": NUMERIC + " (repeated below with compositions)",
    "check_estimators_pickle": NUMERIC + " (repeated below with compositions)",
    "check_f_contiguous_array_estimator": NUMERIC,
    "check_transformer_general": NUMERIC + " (repeated below with compositions)",
    "check_transformer_preserve_dtypes": NUMERIC + " (float64 output checked below)",
    "check_transformer_data_not_an_array": NUMERIC,
    "check_methods_sample_order_invariance": NUMERIC + " (repeated below)",
    "check_methods_subset_invariance": NUMERIC + " (repeated below)",
    "check_dict_unchanged": NUMERIC + " (repeated below: transform writes no state)",
    "check_fit_idempotent": NUMERIC + " (repeated below)",
    "check_complex_data": STATELESS,
    "check_estimators_empty_data_messages": STATELESS,
    "check_estimator_sparse_tag": STATELESS,
    "check_fit1d": "the input is 1-D by design (one formula per row)",
    "check_fit2d_predict1d": "the input is 1-D by design; 1-D numbers fail as 'cannot "
                             "parse composition', not with sklearn's reshape message",
    "check_n_features_in": "one column of formulas: n_features_in_ would always be 1 and "
                           "tell nothing; output width is get_feature_names_out()",
}
ARRAY_API = {"check_array_api_input", "check_array_api_mixed_inputs",
             "check_array_api_same_namespace"}  # need array-API libraries; not for strings

FEATURIZERS = [cls() for cls in FEATURE_SETS.values()] + [default_featurizer()]
IDS = [type(f).__name__ for f in FEATURIZERS[:-1]] + ["CompositionFeatureUnion"]
FORMULAS = ["Li7La3Zr2O12", "Li6PS5Cl", "Li10GeP2S12", "Li3YCl6", "Li2O", "LiCoO2",
            "Li1.3Al0.3Ti1.7(PO4)3", "Li3N", "Li0.33La0.56TiO3", "Li4SiO4"]


def _sklearn_checks() -> list[str]:
    """Names of the checks sklearn runs on a 2-D numeric transformer without
    sample weights (StandardScaler without them is such a transformer)."""
    class Probe(StandardScaler):
        def fit(self, X, y=None):  # no sample_weight: those checks are not yielded
            return super().fit(X, y)

    names = []
    for check in ec._yield_all_checks(Probe(), legacy=True):
        name = check.func.__name__ if isinstance(check, partial) else check.__name__
        if name not in names and name not in ARRAY_API:
            names.append(name)
    return names


CHECKS = _sklearn_checks()


def test_inapplicable_checks_are_real_sklearn_checks():
    assert set(INAPPLICABLE) <= set(CHECKS)
    assert len(CHECKS) - len(INAPPLICABLE) >= 15


@pytest.mark.parametrize("featurizer", FEATURIZERS, ids=IDS)
@pytest.mark.parametrize("check", CHECKS)
def test_sklearn_check(featurizer, check):
    fn = getattr(ec, check)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if check in INAPPLICABLE:
            with pytest.raises((ValueError, TypeError, AssertionError)):
                fn(type(featurizer).__name__, clone(featurizer))
        else:
            fn(type(featurizer).__name__, clone(featurizer))


@pytest.mark.parametrize("featurizer", FEATURIZERS, ids=IDS)
def test_check_estimator_with_honest_tags(featurizer):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = ec.check_estimator(featurizer, on_fail=None)
    assert results and all(r["status"] == "passed" for r in results)
    tags = featurizer.__sklearn_tags__()
    assert not tags.input_tags.two_d_array and tags.input_tags.string
    assert not tags.requires_fit


@pytest.mark.parametrize("featurizer", FEATURIZERS, ids=IDS)
def test_transformer_contract_on_compositions(featurizer):
    fz = clone(featurizer)
    check_is_fitted(fz)  # stateless: usable without fit, as its tags say
    before = copy.deepcopy(fz.__dict__)
    out = fz.transform(FORMULAS)
    assert fz.__dict__.keys() == before.keys()  # transform writes no state
    assert fz.fit(FORMULAS) is fz
    after_fit = copy.deepcopy(fz.__dict__)
    again = fz.transform(FORMULAS)
    assert fz.__dict__.keys() == after_fit.keys()
    pd.testing.assert_frame_equal(out, again)  # fit is idempotent
    assert out.shape == (len(FORMULAS), len(fz.get_feature_names_out()))
    assert list(out.columns) == list(fz.get_feature_names_out())
    assert (out.dtypes == np.float64).all()
    pd.testing.assert_frame_equal(out, fz.fit_transform(FORMULAS))
    # sample order and subset invariance
    order = np.random.default_rng(0).permutation(len(FORMULAS))
    shuffled = fz.transform([FORMULAS[i] for i in order])
    # (to rounding: the batched matrix products may sum in another order)
    np.testing.assert_allclose(shuffled.to_numpy(), out.to_numpy()[order], rtol=1e-12)
    np.testing.assert_allclose(fz.transform(FORMULAS[3:6]).to_numpy(), out.to_numpy()[3:6],
                               rtol=1e-12)
    # pickle round trip and clone give the same features
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(fz)).transform(FORMULAS), out)
    np.testing.assert_array_equal(clone(fz).transform(FORMULAS), out)


def test_pipeline_consistency_and_thread_safety():
    fz = default_featurizer(errors="nan")
    pipe = make_pipeline(default_featurizer(), StandardScaler()).fit(FORMULAS)
    np.testing.assert_allclose(pipe.transform(FORMULAS), pipe.transform(FORMULAS))
    batches = [FORMULAS, ["Li2O", "Xx2O"], ["", "Li3N", "Na2O"]] * 4
    expected = [fz.transform_with_rejected(b) for b in batches]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(fz.transform_with_rejected, batches))
    for (e_table, e_rej), (g_table, g_rej) in zip(expected, got, strict=True):
        pd.testing.assert_frame_equal(e_table, g_table)
        pd.testing.assert_frame_equal(e_rej, g_rej)
    assert not hasattr(fz, "rejected_")


def test_union_names_match_members():
    union = CompositionFeatureUnion(feature_sets=("stoichiometry", "valence_orbital"))
    names = list(union.get_feature_names_out())
    members = [*FEATURE_SETS["stoichiometry"]().get_feature_names_out(),
               *FEATURE_SETS["valence_orbital"]().get_feature_names_out()]
    assert names == members
