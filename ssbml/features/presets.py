"""Featurizers the conductivity models build on.

:func:`make_featurizer_by_name` resolves a config's feature set: ``"default"`` is
:func:`ssbml.features.default_featurizer`, ``"default+fractions"`` adds the atomic
fraction of every element seen in training (:class:`WithElementFractions`),
``"default+family"`` adds the OBELiX-provided family (benchmark-only: a new
composition has none), a list of names is :func:`ssbml.features.make_featurizer`, and
``"fallback"`` is a small built-in featurizer (element fractions + a few weighted
pymatgen element properties). All are vectorized over :class:`ssbml.composition.ElementFractions`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ssbml.composition import ElementFractions
from ssbml.features.concat import concat_feature_names, concat_features

__all__ = [
    "ElementFractionFeaturizer",
    "FallbackFeaturizer",
    "WithElementFractions",
    "WithFamily",
    "concat_feature_names",
    "concat_features",
    "make_featurizer_by_name",
    "to_element_fractions",
]

_PROPERTIES = ("Z", "X", "atomic_radius", "row", "group", "atomic_mass", "mendeleev_no")


def to_element_fractions(X: object) -> ElementFractions:
    """Accept ElementFractions, a DataFrame with ``composition``, or formula strings."""
    if isinstance(X, ElementFractions):
        return X
    if isinstance(X, pd.DataFrame):
        if "composition" not in X.columns:
            raise ValueError("input DataFrame needs a 'composition' column")
        X = X["composition"].tolist()
    from ssbml.composition import CompositionError, parse_formula

    comps = []
    for i, f in enumerate(list(X)):
        if hasattr(f, "element_composition"):
            comps.append(f)
            continue
        try:
            comps.append(parse_formula(f, require_li=False))
        except CompositionError as exc:
            raise ValueError(f"row {i}: composition {f!r} cannot be parsed ({exc})") from exc
    return ElementFractions.from_compositions(comps)


class _CompositionInput:
    """Honest sklearn tags for featurizers of compositions: the input is formulas
    (strings, pymatgen Compositions, ElementFractions or a DataFrame with a
    ``composition`` column), not a numeric 2-D array, so sklearn's numeric-array
    checks do not apply (``check_estimator`` skips them)."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags


def _property_table(elements: Sequence[str]) -> np.ndarray:
    from pymatgen.core import Element

    table = np.zeros((len(elements), len(_PROPERTIES)))
    for i, sym in enumerate(elements):
        el = Element(sym)
        for j, prop in enumerate(_PROPERTIES):
            value = getattr(el, prop, None)
            try:
                table[i, j] = float(value)
            except (TypeError, ValueError):
                table[i, j] = np.nan
    col_mean = np.nanmean(table, axis=0)
    return np.where(np.isnan(table), col_mean, table)


class FallbackFeaturizer(_CompositionInput, TransformerMixin, BaseEstimator):
    """Element fractions (fixed list, from ``fit``) + weighted property statistics."""

    def __init__(self, elements: Sequence[str] | None = None) -> None:
        self.elements = elements

    def fit(self, X: object, y: object = None) -> FallbackFeaturizer:
        ef = to_element_fractions(X)
        self.elements_ = tuple(self.elements) if self.elements is not None else ef.elements
        from pymatgen.core.periodic_table import Element

        all_symbols = [e.symbol for e in Element if e.Z <= 94]
        self.table_elements_ = tuple(all_symbols)
        self.table_ = _property_table(all_symbols)
        names = [f"frac_{e}" for e in self.elements_]
        for stat in ("mean", "std", "min", "max"):
            names += [f"{stat}_{p}" for p in _PROPERTIES]
        self.feature_names_out_ = np.asarray(names, dtype=object)
        return self

    def transform(self, X: object) -> pd.DataFrame:
        check_is_fitted(self)
        ef = to_element_fractions(X)
        index = {e: j for j, e in enumerate(self.table_elements_)}
        cols = [index[e] for e in ef.elements]
        f = ef.fractions
        props = self.table_[cols]
        mean = f @ props
        std = np.sqrt(np.clip(f @ props**2 - mean**2, 0, None))
        present = f > 0
        big = np.where(present[:, :, None], props[None], np.inf)
        pmin = big.min(axis=1)
        pmax = np.where(present[:, :, None], props[None], -np.inf).max(axis=1)
        fr = np.column_stack([ef.fraction_of(e) for e in self.elements_])
        data = np.hstack([fr, mean, std, pmin, pmax])
        return pd.DataFrame(data, columns=self.feature_names_out_)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self)
        return self.feature_names_out_


class ElementFractionFeaturizer(_CompositionInput, TransformerMixin, BaseEstimator):
    """Atomic fraction of each element seen in ``fit`` (``frac_<El>``); elements unseen
    in training are ignored (their share shows in ``frac_other``)."""

    def fit(self, X: object, y: object = None) -> ElementFractionFeaturizer:
        ef = to_element_fractions(X)
        used = ef.fractions.max(axis=0) > 0
        self.elements_ = tuple(e for e, u in zip(ef.elements, used, strict=True) if u)
        self.feature_names_out_ = np.asarray(
            [f"frac_{e}" for e in self.elements_] + ["frac_other"], dtype=object
        )
        return self

    def transform(self, X: object) -> pd.DataFrame:
        check_is_fitted(self)
        ef = to_element_fractions(X)
        fr = np.column_stack([ef.fraction_of(e) for e in self.elements_])
        other = np.clip(1.0 - fr.sum(axis=1), 0.0, 1.0)
        return pd.DataFrame(np.column_stack([fr, other]), columns=self.feature_names_out_)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self)
        return self.feature_names_out_


class WithElementFractions(_CompositionInput, TransformerMixin, BaseEstimator):
    """``base`` features followed by :class:`ElementFractionFeaturizer` columns."""

    def __init__(self, base: TransformerMixin | None = None) -> None:
        self.base = base

    def fit(self, X: object, y: object = None) -> WithElementFractions:
        from sklearn.base import clone

        ef = to_element_fractions(X)
        self.base_ = clone(self.base).fit(ef)
        self.fractions_ = ElementFractionFeaturizer().fit(ef)
        return self

    def transform(self, X: object) -> pd.DataFrame:
        check_is_fitted(self)
        ef = to_element_fractions(X)
        return concat_features(self.base_, ef, self.fractions_.transform(ef))

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return concat_feature_names(self.base_, self.fractions_.get_feature_names_out())


class WithFamily(_CompositionInput, TransformerMixin, BaseEstimator):
    """``base`` features plus a one-hot of the structural ``family`` column (families
    with at least ``min_count`` training rows; others are all-zero). Needs a DataFrame
    with ``composition`` and ``family``: for benchmarks where the family is known, not
    for screening new compositions."""

    def __init__(self, base: TransformerMixin | None = None, min_count: int = 3) -> None:
        self.base = base
        self.min_count = min_count

    @staticmethod
    def _family(X: object) -> pd.Series:
        if not isinstance(X, pd.DataFrame) or "family" not in X.columns:
            raise ValueError("this model needs a DataFrame with 'composition' and 'family'")
        return X["family"].fillna("unknown").astype(str).str.lower().reset_index(drop=True)

    def fit(self, X: object, y: object = None) -> WithFamily:
        from sklearn.base import clone

        counts = self._family(X).value_counts()
        self.families_ = tuple(sorted(counts.index[counts >= self.min_count]))
        self.base_ = clone(self.base).fit(X[["composition"]])
        return self

    def transform(self, X: object) -> pd.DataFrame:
        check_is_fitted(self)
        fam = self._family(X)
        onehot = pd.DataFrame(
            {f"family_{f}": (fam == f).astype(float).to_numpy() for f in self.families_}
        )
        return concat_features(self.base_, X[["composition"]], onehot)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return concat_feature_names(self.base_, [f"family_{f}" for f in self.families_])


def make_featurizer_by_name(name: str | list[str] = "default") -> TransformerMixin:
    """Resolve a feature-set name (see the module docstring)."""
    if name == "fallback":
        return FallbackFeaturizer()
    from ssbml.features import default_featurizer, make_featurizer

    if isinstance(name, list | tuple):
        return make_featurizer(list(name))
    if name == "default":
        return default_featurizer()
    if name == "default+fractions":
        return WithElementFractions(default_featurizer())
    if name == "default+family":
        return WithFamily(default_featurizer())
    if isinstance(name, str) and "structure" in name:
        raise ValueError(
            f"feature set {name!r} needs the OBELiX crystal-structure inputs, a "
            "benchmark-only option of the experiments: run "
            "`python experiments/obelix_structure.py --config FILE`"
        )
    raise ValueError(
        f"unknown feature set {name!r}: use 'default', 'default+fractions', 'fallback', "
        "'default+family' (OBELiX benchmark only) "
        "or a list of ssbml.features.FEATURE_SETS names"
    )
