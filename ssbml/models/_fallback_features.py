"""A small composition featurizer used only when :mod:`ssbml.features` is unavailable.

Element fractions over a fixed element list plus fraction-weighted mean, standard
deviation, minimum and maximum of a few pymatgen element properties. Vectorized over
:class:`ssbml.composition.ElementFractions`, so it featurizes a million rows quickly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from ssbml.composition import ElementFractions

__all__ = ["FallbackFeaturizer", "to_element_fractions"]

_PROPERTIES = ("Z", "X", "atomic_radius", "row", "group", "atomic_mass", "mendeleev_no")


def to_element_fractions(X: object) -> ElementFractions:
    """Accept ElementFractions, a DataFrame with ``composition``, or formula strings."""
    if isinstance(X, ElementFractions):
        return X
    if isinstance(X, pd.DataFrame):
        if "composition" not in X.columns:
            raise ValueError("input DataFrame needs a 'composition' column")
        X = X["composition"].tolist()
    from ssbml.composition import parse_formula

    comps = []
    for i, f in enumerate(list(X)):
        comps.append(f if hasattr(f, "element_composition") else parse_formula(f, require_li=False))
        del i
    return ElementFractions.from_compositions(comps)


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


class FallbackFeaturizer(TransformerMixin, BaseEstimator):
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
        return self.feature_names_out_
