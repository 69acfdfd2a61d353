"""scikit-learn API conformance of the property models (issue 14.3).

The models take compositions, not numeric arrays, so ``check_estimator``'s numeric
checks cannot apply (as for the featurizers, tests/test_sklearn_conformance.py); the API
checks that need no data do, and unfitted models raise ``NotFittedError``.
"""

from __future__ import annotations

import pytest
import sklearn.utils.estimator_checks as checks
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from ssbml.models.conductivity.model import ConductivityModel
from ssbml.models.conductivity.temperature import ArrheniusModel
from ssbml.models.stability.model import StabilityModel

MODELS = [ConductivityModel(), ArrheniusModel(ConductivityModel()), StabilityModel()]
API_CHECKS = [
    "check_no_attributes_set_in_init",
    "check_estimator_repr",
    "check_valid_tag_types",
    "check_get_params_invariance",
    "check_set_params",
    "check_parameters_default_constructible",
    "check_estimator_tags_renamed",
    "check_estimator_cloneable",
]


def _ids(est):
    return type(est).__name__


@pytest.mark.parametrize("check", API_CHECKS)
@pytest.mark.parametrize("est", MODELS, ids=_ids)
def test_property_model_api_checks(est, check):
    getattr(checks, check)(type(est).__name__, clone(est))


@pytest.mark.parametrize("method", ["predict", "predict_interval"])
@pytest.mark.parametrize("est", MODELS, ids=_ids)
def test_unfitted_property_model_raises_not_fitted(est, method):
    with pytest.raises(NotFittedError, match=type(est).__name__):
        getattr(clone(est), method)(["Li3PS4"])
