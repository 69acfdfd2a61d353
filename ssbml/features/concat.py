"""Feature tables side by side: a fitted transformer's features followed by extra
columns (used by the ``With*`` featurizers of :mod:`.featurizers`,
:mod:`.obelix_structure` and :mod:`ssbml.structure.model`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import TransformerMixin

__all__ = ["concat_feature_names", "concat_features"]


def concat_features(base: TransformerMixin, X: object, extra: pd.DataFrame) -> pd.DataFrame:
    """The fitted ``base`` transformer's features of ``X`` followed by ``extra``'s columns."""
    a = base.transform(X)
    a = a if isinstance(a, pd.DataFrame) else pd.DataFrame(a)
    return pd.concat([a.reset_index(drop=True), extra.reset_index(drop=True)], axis=1)


def concat_feature_names(base: TransformerMixin, extra: Sequence[str]) -> np.ndarray:
    """Output names of :func:`concat_features`."""
    return np.concatenate([np.asarray(base.get_feature_names_out(), dtype=object),
                           np.asarray(extra, dtype=object)])
