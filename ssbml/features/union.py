"""The default union of all composition feature sets, subsets by name, batch helper."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ssbml.features.base import CompositionFeaturizer
from ssbml.features.batch import Batch
from ssbml.features.charge_balance import ChargeBalanceFeaturizer
from ssbml.features.element_property import ElementPropertyFeaturizer
from ssbml.features.ionic import IonicCharacterFeaturizer
from ssbml.features.li_descriptors import LiDescriptorFeaturizer
from ssbml.features.orbital import ValenceOrbitalFeaturizer
from ssbml.features.stoichiometry import StoichiometryFeaturizer

__all__ = [
    "FEATURE_SETS",
    "CompositionFeatureUnion",
    "default_featurizer",
    "featurize",
    "make_featurizer",
]

FEATURE_SETS: dict[str, type[CompositionFeaturizer]] = {
    "element_property": ElementPropertyFeaturizer,
    "stoichiometry": StoichiometryFeaturizer,
    "valence_orbital": ValenceOrbitalFeaturizer,
    "ionic_character": IonicCharacterFeaturizer,
    "charge_balance": ChargeBalanceFeaturizer,
    "li_descriptors": LiDescriptorFeaturizer,
}
"""Feature-set name -> featurizer class (each with default parameters in the union)."""


def _check_names(names: Sequence[str] | None) -> list[str]:
    if names is None:
        return list(FEATURE_SETS)
    if isinstance(names, str):
        raise TypeError(f"feature_sets must be a list of names, got the string {names!r}")
    names = list(names)
    unknown = [n for n in names if n not in FEATURE_SETS]
    if unknown:
        raise ValueError(f"unknown feature set(s) {unknown}; choose from {list(FEATURE_SETS)}")
    if not names:
        raise ValueError("choose at least one feature set")
    if len(set(names)) != len(names):
        raise ValueError(f"feature set names repeated: {names}")
    return names


class CompositionFeatureUnion(CompositionFeaturizer):
    """Several feature sets computed on one pass over the compositions (the input is
    parsed once and intermediates such as the oxidation-state assignment are shared).

    feature_sets : names from :data:`FEATURE_SETS`, in output order (None = all).
    """

    def __init__(
        self,
        feature_sets: Sequence[str] | None = None,
        *,
        errors: str = "raise",
        require_li: bool = False,
        chunk_size: int = 131072,
    ) -> None:
        self.feature_sets = feature_sets
        super().__init__(errors=errors, require_li=require_li, chunk_size=chunk_size)

    def _members(self) -> list[CompositionFeaturizer]:
        return [FEATURE_SETS[n]() for n in _check_names(self.feature_sets)]

    def _names(self) -> list[str]:
        return [name for m in self._members() for name in m._names()]

    def _compute(self, batch: Batch, out: np.ndarray) -> None:
        row = 0
        for m in self._members():
            width = len(m._names())
            m._compute(batch, out[row : row + width])
            row += width

    def citations(self) -> list[str]:
        out: list[str] = []
        for m in self._members():
            out.extend(c for c in m.citations() if c not in out)
        return out


def default_featurizer(**params: object) -> CompositionFeatureUnion:
    """The default union of all feature sets used by the models (params: errors,
    require_li, chunk_size)."""
    return CompositionFeatureUnion(**params)  # type: ignore[arg-type]


def make_featurizer(names: Sequence[str], **params: object) -> CompositionFeatureUnion:
    """A union of the named feature sets (see :data:`FEATURE_SETS`)."""
    return CompositionFeatureUnion(feature_sets=tuple(_check_names(names)), **params)  # type: ignore[arg-type]


def featurize(
    X: object, names: Sequence[str] | None = None, *, require_li: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Featurize a batch; never raises for a bad row.

    Returns (features of the good rows indexed by input row position, rejected rows with
    columns row, input, reason).
    """
    featurizer = CompositionFeatureUnion(
        feature_sets=None if names is None else tuple(_check_names(names)),
        errors="nan",
        require_li=require_li,
    )
    table, rejected = featurizer.transform_with_rejected(X)
    good = np.ones(len(table), dtype=bool)
    good[rejected["row"].to_numpy(dtype=np.intp)] = False
    features = table.iloc[np.flatnonzero(good)]
    features.index = pd.Index(np.flatnonzero(good), name="row")
    return features, rejected
