"""Structure-aware conductivity (log10 S/cm): composition features plus structure
descriptors where a crystal structure is known, composition-only otherwise.

Inputs are DataFrames with ``composition`` and the descriptor columns
:data:`ssbml.structure.descriptors.FEATURE_NAMES` (NaN for rows without a structure;
:func:`attach_descriptors` fills them). :class:`StructureAwareModel` routes each row:
rows with descriptors go to the structure model, the others to the composition model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from ssbml.features.concat import concat_feature_names, concat_features
from ssbml.structure.descriptors import FEATURE_NAMES

__all__ = ["StructureAwareModel", "WithDescriptors", "attach_descriptors", "has_structure"]


def _table_input_tags(tags):
    """Honest sklearn input tags of the structure-aware estimators: a DataFrame with a
    ``composition`` column (formula strings) and the descriptor columns (NaN where a row
    has no structure), not a numeric 2-D array, so sklearn's numeric-array checks do
    not apply (``check_estimator`` skips them)."""
    tags.input_tags.two_d_array = False
    tags.input_tags.string = True
    tags.input_tags.allow_nan = True
    return tags


def has_structure(X: pd.DataFrame) -> np.ndarray:
    """Rows whose structure descriptors are present (volume per atom is always defined
    for a parsed structure)."""
    if "volume_per_atom_A3" not in X.columns:
        return np.zeros(len(X), dtype=bool)
    return pd.to_numeric(X["volume_per_atom_A3"], errors="coerce").notna().to_numpy()


def attach_descriptors(df: pd.DataFrame, table: pd.DataFrame, *, by: str) -> pd.DataFrame:
    """``df`` plus the descriptor columns of ``table`` (one row per structure, with
    ``id`` and ``composition_key``): matched on ``id`` (``by="id"``) or as the median
    over the structures of the same ``composition_key`` (``by="composition_key"``, for
    rows merged by composition); NaN where nothing matches."""
    if by not in ("id", "composition_key"):
        raise ValueError(f"by must be 'id' or 'composition_key', got {by!r}")
    cols = list(FEATURE_NAMES)
    out = df.drop(columns=[c for c in cols if c in df.columns]).reset_index(drop=True)
    values = table.groupby(by)[cols].median() if by == "composition_key" else (
        table.drop_duplicates("id").set_index("id")[cols])
    keys = out[by].astype(str) if by == "id" else out[by]
    return pd.concat([out, values.reindex(keys).reset_index(drop=True)], axis=1)


class WithDescriptors(TransformerMixin, BaseEstimator):
    """``base`` composition features followed by the structure descriptor columns of
    the input DataFrame (NaN where a row has no structure; trees route NaN natively).

    ``base`` defaults to the ``"default+fractions"`` featurizer, ``columns`` to every
    descriptor of :data:`FEATURE_NAMES`."""

    def __init__(self, base: TransformerMixin | None = None,
                 columns: tuple[str, ...] | None = None) -> None:
        self.base = base
        self.columns = columns

    def __sklearn_tags__(self):
        tags = _table_input_tags(super().__sklearn_tags__())
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    def _columns(self) -> list[str]:
        cols = list(self.columns) if self.columns is not None else list(FEATURE_NAMES)
        unknown = sorted(set(cols) - set(FEATURE_NAMES))
        if unknown:
            raise ValueError(f"unknown descriptor column(s) {unknown}")
        return cols

    def _check(self, X: object) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            raise ValueError("the structure-aware featurizer needs a DataFrame with "
                             f"'composition' and the descriptor columns {self._columns()}")
        missing = [c for c in ("composition", *self._columns()) if c not in X.columns]
        if missing:
            raise ValueError(f"input DataFrame lacks column(s) {missing} (see "
                             "ssbml.structure.model.attach_descriptors)")
        return X.reset_index(drop=True)

    def fit(self, X: object, y: object = None) -> WithDescriptors:
        from ssbml.features.presets import make_featurizer_by_name

        X = self._check(X)
        base = self.base if self.base is not None else make_featurizer_by_name(
            "default+fractions")
        self.base_ = clone(base).fit(X[["composition"]])
        return self

    def transform(self, X: object) -> pd.DataFrame:
        check_is_fitted(self)
        X = self._check(X)
        s = X[self._columns()].apply(pd.to_numeric, errors="coerce").astype(float)
        return concat_features(self.base_, X[["composition"]], s)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self)
        return concat_feature_names(self.base_, self._columns())


class StructureAwareModel(RegressorMixin, BaseEstimator):
    """log10 S/cm from ``structure_model`` for rows with descriptors, else from
    ``composition_model`` (both :class:`ssbml.models.conductivity.ConductivityModel`)."""

    def __init__(self, composition_model: Any, structure_model: Any) -> None:
        self.composition_model = composition_model
        self.structure_model = structure_model

    def __sklearn_tags__(self):
        return _table_input_tags(super().__sklearn_tags__())

    def fit(self, X: pd.DataFrame, y: Any, groups: Any = None,
            censored: Any = None) -> StructureAwareModel:
        """Fit both models on every row (log10 S/cm targets); ``groups`` set the CV
        folds and ``censored`` (bool per row, below detection) is passed to both, whose
        ``censoring`` setting decides how such rows are learned."""
        X = X.reset_index(drop=True)
        self.composition_model_ = clone(self.composition_model).fit(
            X[["composition"]], y, groups=groups, censored=censored)
        self.structure_model_ = clone(self.structure_model).fit(
            X, y, groups=groups, censored=censored)
        return self

    def route(self, X: pd.DataFrame) -> np.ndarray:
        """``"structure"`` or ``"composition"`` per row: which model predicts it."""
        return np.where(has_structure(X), "structure", "composition")

    def predict_interval(self, X: pd.DataFrame, alpha: float = 0.1) -> pd.DataFrame:
        """The routed models' :meth:`ConductivityModel.predict_interval` tables (log10
        S/cm, interval at coverage ``1 - alpha``, below-detection columns where the
        models have them), one row per input row in the caller's index, plus
        ``route``."""
        check_is_fitted(self)
        index = X.index
        X = X.reset_index(drop=True)
        out = self.composition_model_.predict_interval(X[["composition"]], alpha=alpha)
        out = out.reset_index(drop=True)
        mask = has_structure(X)
        if mask.any():
            part = self.structure_model_.predict_interval(
                X[mask].reset_index(drop=True), alpha=alpha)
            for col in part.columns:
                if col not in out.columns:
                    out[col] = np.nan
                out.loc[mask, col] = part[col].to_numpy()
        out["route"] = self.route(X)
        out.index = index
        return out

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self)
        X = X.reset_index(drop=True)
        pred = np.array(self.composition_model_.predict(X[["composition"]]), dtype=float)
        mask = has_structure(X)
        if mask.any():
            pred[mask] = self.structure_model_.predict(X[mask].reset_index(drop=True))
        return pred
