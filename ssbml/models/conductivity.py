"""Room-temperature conductivity model: featurizer + regressor + conformal intervals.

:class:`ConductivityModel` predicts log10 of the Li-ion conductivity (log10 S/cm) from
composition. Intervals are conformal, calibrated on the out-of-fold residuals of a
grouped K-fold on the training data:

* ``interval="adaptive"`` (default; normalized conformal): each residual is divided by a
  difficulty estimate ``d(x)`` (log10 units) -- the standard deviation of the individual
  tree predictions for forest regressors, else a gradient-boosting model of the absolute
  out-of-fold residual -- plus a floor; the interval is ``mu(x) +/- q * d(x)`` with ``q``
  the conformal ``1 - alpha`` quantile of the normalized residuals, so hard (e.g. far
  from training, or where trees disagree) compositions get wider intervals.
* ``interval="constant"``: ``mu(x) +/- h`` with ``h`` the conformal quantile of the
  absolute residuals (the marginal half-width, :meth:`ConductivityModel.interval_halfwidth`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin, clone

from ssbml.models.featurizers import make_featurizer_by_name

__all__ = ["ConductivityModel", "chemical_system_groups", "conformal_quantile", "cv_splits"]

_INTERVALS = ("adaptive", "constant")


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


def cv_splits(
    n_splits: int, groups: Any, random_state: int, n: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, validation) row indices of ``n`` rows: ``GroupKFold`` on ``groups`` when
    there are at least ``n_splits`` distinct groups, else a shuffled ``KFold`` seeded with
    ``random_state``."""
    from sklearn.model_selection import GroupKFold, KFold

    rows = np.zeros((n, 1))
    if groups is not None and len(np.unique(groups)) >= n_splits:
        return list(GroupKFold(n_splits=n_splits).split(rows, groups=groups))
    return list(KFold(n_splits, shuffle=True, random_state=random_state).split(rows))


class ConductivityModel(RegressorMixin, BaseEstimator):
    """Predict log10 S/cm from composition with conformal prediction intervals.

    Parameters
    ----------
    featurizer : transformer turning compositions into a feature DataFrame
        (default: ``ssbml.features.default_featurizer()``).
    regressor : sklearn regressor (default: histogram gradient boosting).
    n_splits : folds of the grouped K-fold giving the out-of-fold residuals.
    random_state : seed for the fold assignment.
    interval : ``"adaptive"`` (normalized conformal, width varies per row) or
        ``"constant"`` (one half-width for every row); see the module docstring.
    difficulty_floor : added to the difficulty estimate, as a fraction of the median
        out-of-fold difficulty (keeps near-zero tree spreads from giving empty intervals;
        0.5 gave the narrowest intervals at 90% coverage in a grouped split of the
        OBELiX train out-of-fold residuals, see experiments/results/conductivity.md).

    ``X`` may be a DataFrame with a ``composition`` column, a list of formulas,
    pymatgen Compositions or :class:`ssbml.composition.ElementFractions`.
    """

    def __init__(
        self,
        featurizer: TransformerMixin | None = None,
        regressor: RegressorMixin | None = None,
        n_splits: int = 5,
        random_state: int = 0,
        interval: str = "adaptive",
        difficulty_floor: float = 0.5,
    ) -> None:
        self.featurizer = featurizer
        self.regressor = regressor
        self.n_splits = n_splits
        self.random_state = random_state
        self.interval = interval
        self.difficulty_floor = difficulty_floor

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
        from ssbml.models.regressors import predict_with_spread

        if self.interval not in _INTERVALS:
            raise ValueError(f"interval must be one of {_INTERVALS}, got {self.interval!r}")
        if not self.difficulty_floor > 0:
            raise ValueError(f"difficulty_floor must be > 0, got {self.difficulty_floor}")
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
        splits = cv_splits(self.n_splits, groups, self.random_state, len(y))
        Fv = F.to_numpy(dtype=float)
        oof = np.full(len(y), np.nan)
        spread = np.full(len(y), np.nan)
        for tr, va in splits:
            fold = clone(base).fit(Fv[tr], y[tr])
            both = predict_with_spread(fold, Fv[va], n_jobs=1)
            if both is None:
                oof[va] = fold.predict(Fv[va])
            else:
                oof[va], spread[va] = both
        self.oof_predictions_ = oof
        abs_res = np.abs(y - oof)
        self.residuals_ = np.sort(abs_res)
        self.regressor_ = clone(base).fit(Fv, y)
        self.n_features_in_ = F.shape[1]
        self._fit_difficulty(Fv, abs_res, spread, splits)
        # applicability-domain summary: feature means/stds of the training set
        self.train_feature_mean_ = F.mean().to_numpy()
        self.train_feature_std_ = F.std().replace(0, 1.0).fillna(1.0).to_numpy()
        self.domain_threshold_ = float(np.quantile(self.domain_distance_from_features(Fv), 0.99))
        return self

    def _fit_difficulty(
        self, F: np.ndarray, abs_res: np.ndarray, spread: np.ndarray, splits: list
    ) -> None:
        """Difficulty estimate d(x) (log10 units) and the normalized residuals
        ``|y - oof| / d`` (sorted, ``scores_``) for the adaptive intervals."""
        self.difficulty_model_ = None
        if np.isfinite(spread).all():
            self.difficulty_kind_ = "tree_spread"
            raw = spread
        else:
            from sklearn.ensemble import HistGradientBoostingRegressor

            self.difficulty_kind_ = "residual_model"
            model = HistGradientBoostingRegressor(
                loss="absolute_error", max_iter=100, learning_rate=0.05,
                max_leaf_nodes=7, min_samples_leaf=20, random_state=self.random_state,
            )
            raw = np.full(len(abs_res), np.nan)
            for tr, va in splits:
                raw[va] = clone(model).fit(F[tr], abs_res[tr]).predict(F[va])
            self.difficulty_model_ = clone(model).fit(F, abs_res)
            raw = np.clip(raw, 0.0, None)
        self.difficulty_offset_ = float(self.difficulty_floor * max(np.median(raw), 1e-6))
        self.oof_difficulty_ = raw + self.difficulty_offset_
        self.scores_ = np.sort(abs_res / self.oof_difficulty_)

    def predict(self, X: Any) -> np.ndarray:
        """Point predictions, log10 S/cm."""
        return self.regressor_.predict(self._features(X).to_numpy(dtype=float))

    def _difficulty(self, F: np.ndarray, spread: np.ndarray | None) -> np.ndarray:
        if self.difficulty_kind_ == "tree_spread":
            if spread is None:
                raise RuntimeError("tree spread needed but the regressor has no trees")
            raw = spread
        else:
            raw = np.clip(self.difficulty_model_.predict(F), 0.0, None)
        return raw + self.difficulty_offset_

    def interval_halfwidth(self, alpha: float = 0.1, X: Any = None) -> float | np.ndarray:
        """Conformal half-width (log10 units) at coverage ``1 - alpha``.

        Without ``X``: the marginal (constant-width) half-width, the ``1 - alpha``
        quantile of the absolute grouped out-of-fold residuals; valid on average over
        compositions like the training ones but the same for every row. With ``X``
        (compositions): the per-row half-widths of :meth:`predict_interval` (adaptive
        when ``interval="adaptive"``).
        """
        if X is None:
            return conformal_quantile(self.residuals_, alpha)
        out = self.predict_interval(X, alpha=alpha)
        return ((out["log10_sigma_upper"] - out["log10_sigma_lower"]) / 2).to_numpy()

    def predict_interval_from_features(
        self, F: pd.DataFrame | np.ndarray, alpha: float = 0.1
    ) -> pd.DataFrame:
        """:meth:`predict_interval` from precomputed features (``featurizer_`` output,
        same columns in the same order): point prediction and interval in one pass over
        the trees. Columns ``log10_sigma``, ``log10_sigma_lower``, ``log10_sigma_upper``
        (log10 S/cm)."""
        from ssbml.models.regressors import predict_with_spread

        if isinstance(F, pd.DataFrame):
            if list(F.columns) != list(self.feature_names_):
                missing = sorted(set(self.feature_names_) - set(F.columns))[:5]
                raise ValueError(
                    f"features do not match the model's {len(self.feature_names_)} columns"
                    f" (got {F.shape[1]}; missing e.g. {missing})"
                )
            F = F.to_numpy()
        F = np.asarray(F)
        if F.dtype not in (np.float32, np.float64):
            F = F.astype(float)
        if F.ndim != 2 or F.shape[1] != len(self.feature_names_):
            raise ValueError(
                f"features must have {len(self.feature_names_)} columns, got shape {F.shape}"
            )
        mode = getattr(self, "interval", "constant")
        if mode == "constant":
            mu = self.regressor_.predict(F)
            h = np.full(len(mu), conformal_quantile(self.residuals_, alpha))
        else:
            both = (predict_with_spread(self.regressor_, F)
                    if self.difficulty_kind_ == "tree_spread" else None)
            mu, spread = both if both is not None else (self.regressor_.predict(F), None)
            h = conformal_quantile(self.scores_, alpha) * self._difficulty(F, spread)
        return pd.DataFrame(
            {"log10_sigma": mu, "log10_sigma_lower": mu - h, "log10_sigma_upper": mu + h}
        )

    def predict_interval(self, X: Any, alpha: float = 0.1) -> pd.DataFrame:
        """Columns ``log10_sigma``, ``log10_sigma_lower``, ``log10_sigma_upper`` (log10
        S/cm), one row per input row, nominal coverage ``1 - alpha`` (adaptive width
        when ``interval="adaptive"``)."""
        return self.predict_interval_from_features(self._features(X), alpha=alpha)

    def domain_distance_from_features(
        self, F: pd.DataFrame | np.ndarray, dtype: Any = np.float64
    ) -> np.ndarray:
        """:meth:`domain_distance` from precomputed features (``featurizer_`` output): RMS
        standardized distance of each row to the training feature mean, NaN features
        skipped (dimensionless). ``dtype`` is the precision of the standardized features
        (``np.float32`` halves the memory of large screening chunks; the sum of squares is
        always accumulated in float64). ``F`` is not modified."""
        F = np.asarray(F, dtype=dtype)
        Z = F - self.train_feature_mean_.astype(dtype)
        Z /= self.train_feature_std_.astype(dtype)
        missing = np.isnan(Z)
        n_valid = Z.shape[1] - missing.sum(axis=1)
        Z[missing] = 0.0
        ss = np.einsum("ij,ij->i", Z, Z, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sqrt(ss / n_valid)

    def domain_distance(self, X: Any) -> np.ndarray:
        """RMS standardized feature distance to the training mean (applicability hint)."""
        return self.domain_distance_from_features(self._features(X))

    def in_domain(self, X: Any) -> np.ndarray:
        """True where :meth:`domain_distance` is within the 99th percentile of training."""
        return self.domain_distance(X) <= self.domain_threshold_
