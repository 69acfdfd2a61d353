"""Composition featurizers: vectorized Magpie-style element-property statistics,
stoichiometry, valence orbitals, ionic character, fast charge balance and Li-conductor
descriptors, as scikit-learn transformers returning pandas tables.

>>> from ssbml.features import default_featurizer
>>> default_featurizer().fit_transform(["Li7La3Zr2O12", "Li6PS5Cl"]).shape[0]
2
"""

from ssbml.features.base import CompositionFeaturizer
from ssbml.features.charge_balance import ChargeBalanceFeaturizer
from ssbml.features.element_property import STATS, ElementPropertyFeaturizer
from ssbml.features.elements import ELEMENT_PROPERTIES
from ssbml.features.ionic import IonicCharacterFeaturizer
from ssbml.features.li_descriptors import LiDescriptorFeaturizer
from ssbml.features.orbital import ValenceOrbitalFeaturizer
from ssbml.features.stoichiometry import StoichiometryFeaturizer
from ssbml.features.union import (
    FEATURE_SETS,
    CompositionFeatureUnion,
    default_featurizer,
    featurize,
    make_featurizer,
)

__all__ = [
    "ELEMENT_PROPERTIES",
    "FEATURE_SETS",
    "STATS",
    "ChargeBalanceFeaturizer",
    "CompositionFeatureUnion",
    "CompositionFeaturizer",
    "ElementPropertyFeaturizer",
    "IonicCharacterFeaturizer",
    "LiDescriptorFeaturizer",
    "StoichiometryFeaturizer",
    "ValenceOrbitalFeaturizer",
    "default_featurizer",
    "featurize",
    "make_featurizer",
]
