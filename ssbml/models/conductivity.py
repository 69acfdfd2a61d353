"""Room-temperature conductivity model: featurizer + regressor + conformal intervals.

:class:`ConductivityModel` predicts log10 of the Li-ion conductivity (log10 S/cm) from
composition. Intervals are cross-conformal (CV+ style): the absolute out-of-fold
residuals of a grouped K-fold on the training data are stored, and an interval at
level ``1 - alpha`` is the point prediction plus/minus their ``1 - alpha`` quantile.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin, clone

from ssbml.models.featurizers import make_featurizer_by_name

__all__ = ["ConductivityModel", "chemical_system_groups", "conformal_quantile"]


def chemical_system_groups(compositions: pd.Series | list[str]) -> np.ndarray:
    """Group label per composition: its chemical system without Li (e.g. ``La-O-Zr``),
    so that doped variants of one host fall in one group."""
    from pymatgen.core import Composition

    out = []
    for formula in compositions:
        els = sorted(e.symbol for e in Composition(formula).elements if e.symbol != "Li")
        out.append("-".join(els) or "Li")
    return np.asarray(out, dtype=object)


def conformal_quantile(sorted_residuals: np.ndarray, alpha: float) -> float:
    """The ceil((n + 1)(1 - alpha))-th smallest absolute residual (split conformal)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    n = len(sorted_residuals)
    k = int(np.ceil((n + 1) * (1 - alpha))) - 1
    return float(sorted_residuals[min(max(k, 0), n - 1)])


def _compositions_of(X: Any) -> list[str] | None:
    """Training compositions as formulas (for distance-to-training checks), if known."""
    if isinstance(X, pd.DataFrame) and "composition" in X.columns:
        return [str(c) for c in X["composition"]]
    if hasattr(X, "to_formulas"):
        return list(X.to_formulas())
    if isinstance(X, list | tuple | pd.Series):
        return [str(c) for c in X]
    return None


class ConductivityModel(RegressorMixin, BaseEstimator):
    """Predict log10 S/cm from composition with conformal prediction intervals.

    Parameters
    ----------
    featurizer : transformer turning compositions into a feature DataFrame
        (default: ``ssbml.features.default_featurizer()``).
    regressor : sklearn regressor (default: histogram gradient boosting).
    n_splits : folds of the grouped K-fold giving the out-of-fold residuals.
    random_state : seed for the fold assignment.

    ``X`` may be a DataFrame with a ``composition`` column, a list of formulas,
    pymatgen Compositions or :class:`ssbml.composition.ElementFractions`.
    """

    def __init__(
        self,
        featurizer: TransformerMixin | None = None,
        regressor: RegressorMixin | None = None,
        n_splits: int = 5,
        random_state: int = 0,
    ) -> None:
        self.featurizer = featurizer
        self.regressor = regressor
        self.n_splits = n_splits
        self.random_state = random_state

    def _features(self, X: Any) -> pd.DataFrame:
        F = self.featurizer_.transform(X)
        return F if isinstance(F, pd.DataFrame) else pd.DataFrame(F)

    def fit(self, X: Any, y: Any, groups: Any = None) -> ConductivityModel:
        """Fit on compositions ``X`` and targets ``y`` (log10 S/cm). ``groups`` (e.g.
        :func:`chemical_system_groups`) keeps near-duplicates in one fold for the
        out-of-fold residuals that set the interval width."""

        from ssbml.models.regressors import make_regressor, single_thread

        with single_thread():
            return self._fit(X, y, groups, make_regressor)

    def _fit(self, X: Any, y: Any, groups: Any, make_regressor: Any) -> ConductivityModel:
        from sklearn.model_selection import GroupKFold, KFold

        y = np.asarray(y, dtype=float)
        if not np.isfinite(y).all():
            bad = np.flatnonzero(~np.isfinite(y))[:10].tolist()
            raise ValueError(f"log10_sigma is not finite in row(s) {bad}")
        featurizer = self.featurizer if self.featurizer is not None else make_featurizer_by_name()
        self.featurizer_ = clone(featurizer).fit(X)
        F = self._features(X)
        if len(F) != len(y):
            raise ValueError(f"{len(F)} feature rows but {len(y)} targets")
        self.feature_names_ = list(F.columns)
        base = self.regressor if self.regressor is not None else make_regressor("hgb")
        if groups is not None and len(np.unique(groups)) >= self.n_splits:
            splits = GroupKFold(n_splits=self.n_splits).split(F, y, groups)
        else:
            splits = KFold(self.n_splits, shuffle=True, random_state=self.random_state).split(F)
        oof = np.full(len(y), np.nan)
        for tr, va in splits:
            oof[va] = clone(base).fit(F.iloc[tr].values, y[tr]).predict(F.iloc[va].values)
        self.oof_predictions_ = oof
        self.residuals_ = np.sort(np.abs(y - oof))
        self.regressor_ = clone(base).fit(F.values, y)
        self.n_features_in_ = F.shape[1]
        # applicability-domain summary: feature means/stds of the training set
        self.train_feature_mean_ = F.mean().to_numpy()
        self.train_feature_std_ = F.std().replace(0, 1.0).fillna(1.0).to_numpy()
        self.domain_threshold_ = float(np.quantile(self._distance(F.to_numpy()), 0.99))
        self.train_compositions_ = _compositions_of(X)
        return self

    def _distance(self, F: np.ndarray) -> np.ndarray:
        z = (F - self.train_feature_mean_) / self.train_feature_std_
        return np.sqrt(np.nanmean(z**2, axis=1))

    def predict(self, X: Any) -> np.ndarray:
        """Point predictions, log10 S/cm."""
        return self.regressor_.predict(self._features(X).values)

    def interval_halfwidth(self, alpha: float = 0.1) -> float:
        """Conformal half-width (log10 units) for coverage ``1 - alpha``."""
        return conformal_quantile(self.residuals_, alpha)

    def predict_interval(self, X: Any, alpha: float = 0.1) -> pd.DataFrame:
        """Columns ``log10_sigma``, ``log10_sigma_lower``, ``log10_sigma_upper`` (log10
        S/cm), one row per input row, nominal coverage ``1 - alpha``."""
        mu = self.predict(X)
        h = self.interval_halfwidth(alpha)
        return pd.DataFrame(
            {"log10_sigma": mu, "log10_sigma_lower": mu - h, "log10_sigma_upper": mu + h}
        )

    def domain_distance(self, X: Any) -> np.ndarray:
        """RMS standardized feature distance to the training mean (applicability hint)."""
        return self._distance(self._features(X).to_numpy())

    def in_domain(self, X: Any) -> np.ndarray:
        """True where :meth:`domain_distance` is within the 99th percentile of training."""
        return self.domain_distance(X) <= self.domain_threshold_
