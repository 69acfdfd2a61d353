"""Learned interfacial-stability predictor for compositions without a reference energy.

:class:`StabilityModel` predicts, from composition alone, the thermodynamic labels of
:mod:`ssbml.stability.labels`: the electrochemical window (``reduction_V``,
``oxidation_V``, V vs Li/Li+), the energy above hull and decomposition energy
(meV/atom) and the most negative reaction energies with Li metal and LiCoO2 (meV/atom
of mixture). It is meant for doped and hypothetical compositions, where the exact
route (:func:`ssbml.stability.electrochemical_window` etc.) has no energy for the
compound itself.

Model: one multi-output multilayer perceptron on the default composition features
(:func:`ssbml.features.default_featurizer`, standardized, NaN -> training mean plus a
missing-value indicator), energies log-transformed, outputs clipped to the training
label range widened by half its span. A network rather than boosted trees because
prediction must be fast: the forward pass is a few float32 matrix products for all six
targets (3-6 s per million rows on 2 shared cores), whereas histogram gradient boosting
took 4-85 s per target per million rows (see
``experiments/results/stability_learned.md``).

Intervals are cross-conformal (CV+ style, as :class:`ssbml.models.conductivity.
ConductivityModel`): the absolute out-of-fold residuals of a K-fold grouped by chemical
system (without Li) set a per-target half-width, in the space each target is learned
in (so energy intervals are multiplicative: narrow near 0 meV/atom, wide for large
energies). Physical constraints are enforced on every prediction:
``0 <= reduction_V <= oxidation_V`` (both set to their mean otherwise),
``e_above_hull >= 0``, ``decomposition_energy <= e_above_hull``, reaction energies
``<= 0``; interval bounds are clipped to the same ranges.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

__all__ = ["TARGETS", "StabilityModel"]

TARGETS = (
    "reduction_V",
    "oxidation_V",
    "e_above_hull_meV_atom",
    "decomposition_energy_meV_atom",
    "rxn_Li_meV_atom",
    "rxn_LiCoO2_meV_atom",
)
"""Predicted targets: window limits (V vs Li/Li+), energy above hull and decomposition
energy (meV/atom), reaction energies with Li metal and LiCoO2 (meV/atom of mixture)."""

_ENERGY_SCALE = {  # meV/atom scale of the log transform of each energy target
    "e_above_hull_meV_atom": 20.0,
    "decomposition_energy_meV_atom": 20.0,
    "rxn_LiCoO2_meV_atom": 50.0,
}
"""Energies learned as sign(E) log1p(|E| / scale): their distributions are skewed
(median-like fits); rxn_Li (median -609 meV/atom, little skew) is learned as is."""


def _forward_transform(Y: np.ndarray) -> np.ndarray:
    """Targets (columns :data:`TARGETS`) -> network outputs: energies to signed
    log1p(|E| / scale), window limits (V) and rxn_Li (meV/atom) unchanged."""
    Q = np.array(Y, dtype=float, copy=True)
    for j, name in enumerate(TARGETS):
        if name in _ENERGY_SCALE:
            Q[:, j] = np.sign(Y[:, j]) * np.log1p(np.abs(Y[:, j]) / _ENERGY_SCALE[name])
    return Q


def _inverse_transform(Q: np.ndarray) -> np.ndarray:
    """Network outputs -> targets (columns :data:`TARGETS`): inverse of
    :func:`_forward_transform`."""
    Y = np.array(Q, dtype=float, copy=True)
    for j, name in enumerate(TARGETS):
        if name in _ENERGY_SCALE:
            Y[:, j] = np.sign(Q[:, j]) * _ENERGY_SCALE[name] * np.expm1(np.abs(Q[:, j]))
    return Y


def _constrain(P: np.ndarray) -> np.ndarray:
    """Enforce the physical ranges on point predictions (columns :data:`TARGETS`; in
    place, returned): ``0 <= reduction_V <= oxidation_V`` (V), ``e_above_hull >= 0``,
    ``decomposition_energy <= e_above_hull``, reaction energies ``<= 0`` (meV/atom)."""
    idx = {n: j for j, n in enumerate(TARGETS)}
    r, o = idx["reduction_V"], idx["oxidation_V"]
    P[:, r] = np.maximum(P[:, r], 0.0)  # nothing is below Li metal (0 V)
    P[:, o] = np.maximum(P[:, o], 0.0)
    bad = P[:, r] > P[:, o]
    mid = 0.5 * (P[bad, r] + P[bad, o])
    P[bad, r] = mid
    P[bad, o] = mid
    h, d = idx["e_above_hull_meV_atom"], idx["decomposition_energy_meV_atom"]
    np.maximum(P[:, h], 0.0, out=P[:, h])
    np.minimum(P[:, d], P[:, h], out=P[:, d])
    for name in ("rxn_Li_meV_atom", "rxn_LiCoO2_meV_atom"):
        np.minimum(P[:, idx[name]], 0.0, out=P[:, idx[name]])
    return P


def _target_frame(y: Any, targets: Sequence[str]) -> np.ndarray:
    """The target matrix from a label DataFrame; names the first non-finite cell."""
    if not isinstance(y, pd.DataFrame):
        raise TypeError("y must be a DataFrame with the target columns " + ", ".join(targets))
    missing = [t for t in targets if t not in y.columns]
    if missing:
        raise ValueError(f"label table lacks target column(s) {missing}")
    Y = y[list(targets)].to_numpy(dtype=float)
    bad = ~np.isfinite(Y)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            f"target {targets[col]!r} is not finite in row {row} ({int(bad.sum())} such cells)"
        )
    return Y


class StabilityModel(BaseEstimator):
    """Predict stability windows (V vs Li/Li+) and energies (meV/atom) with intervals.

    Parameters
    ----------
    featurizer : composition transformer (default: ``ssbml.features.default_featurizer()``,
        the same as the conductivity model's so screening computes features once).
    hidden_layer_sizes : widths of the ReLU hidden layers.
    alpha : L2 penalty of the network.
    max_iter : maximum training epochs (early stopping on 10 % of the rows).
    batch_size : minibatch size.
    n_splits : folds of the grouped K-fold giving the out-of-fold residuals.
    random_state : seed of the network initialisation and of the early-stopping split.
    n_jobs : folds fitted in parallel (joblib).
    chunk_size : rows per block of the float32 forward pass.
    """

    def __init__(
        self,
        featurizer: TransformerMixin | None = None,
        hidden_layer_sizes: tuple[int, ...] = (128, 64),
        alpha: float = 1e-3,
        max_iter: int = 200,
        batch_size: int = 128,
        n_splits: int = 5,
        random_state: int = 0,
        n_jobs: int = 1,
        chunk_size: int = 32768,
    ) -> None:
        self.featurizer = featurizer
        self.hidden_layer_sizes = hidden_layer_sizes
        self.alpha = alpha
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.n_splits = n_splits
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.chunk_size = chunk_size

    # ----------------------------------------------------------------- fitting
    def fit(self, X: Any, y: pd.DataFrame, groups: Any = None) -> StabilityModel:
        """Fit on compositions ``X`` and the label table ``y`` (columns :data:`TARGETS`,
        e.g. from :func:`ssbml.stability.labels.load_labels`). ``groups`` (e.g. the
        chemical system without Li) keeps related compounds in one fold."""
        from ssbml.features import default_featurizer

        Y = _target_frame(y, TARGETS)
        featurizer = self.featurizer if self.featurizer is not None else default_featurizer()
        self.featurizer_ = clone(featurizer).fit(X)
        F = self._features(X)
        if len(F) != len(Y):
            raise ValueError(f"{len(F)} feature rows but {len(Y)} label rows")
        return self.fit_features(F, Y, groups)

    def fit_features(self, F: pd.DataFrame, Y: np.ndarray, groups: Any = None) -> StabilityModel:
        """Fit from a precomputed feature table (``featurizer_`` must already be set
        when the model is to be used on compositions)."""
        from joblib import Parallel, delayed

        from ssbml.ml.regressors import single_thread
        from ssbml.ml.splits import cv_splits

        Y = np.asarray(Y, dtype=float)
        self.targets_ = TARGETS
        self.feature_names_in_ = np.asarray(F.columns, dtype=object)
        self.n_features_in_ = F.shape[1]
        A = F.to_numpy(dtype=float)
        self.feature_mean_ = np.nan_to_num(np.nanmean(A, axis=0))
        std = np.nanstd(A, axis=0)
        self.feature_scale_ = np.where(np.isfinite(std) & (std > 0), std, 1.0)
        self.nan_columns_ = np.flatnonzero(np.isnan(A).any(axis=0))
        Z = self._design(A)
        Q = _forward_transform(Y)
        span = Y.max(axis=0) - Y.min(axis=0)
        self.output_min_ = Y.min(axis=0) - 0.5 * span
        self.output_max_ = Y.max(axis=0) + 0.5 * span
        self.target_mean_ = Q.mean(axis=0)
        q_std = Q.std(axis=0)
        self.target_scale_ = np.where(q_std > 0, q_std, 1.0)
        Qs = (Q - self.target_mean_) / self.target_scale_

        splits = cv_splits(self.n_splits, groups, self.random_state, len(Y))
        self.cv_fold_ = np.full(len(Y), -1)
        for k, (_, va) in enumerate(splits):
            self.cv_fold_[va] = k
        with single_thread():
            nets = Parallel(n_jobs=self.n_jobs)(
                delayed(self._fit_network)(Z[tr], Qs[tr]) for tr, _ in splits
            )
        oof = np.full_like(Y, np.nan)
        for net, (_, va) in zip(nets, splits, strict=True):
            oof[va] = self._output(self._fold(net), A[va])
        self.oof_predictions_ = pd.DataFrame(oof, columns=list(TARGETS))
        # conformity scores in the learned (log) space: multiplicative energy intervals
        self.residuals_ = np.sort(np.abs(Q - _forward_transform(oof)), axis=0)
        with single_thread():
            self.regressor_ = self._fit_network(Z, Qs)
        self.weights_ = self._fold(self.regressor_)
        return self

    def _fit_network(self, Z: np.ndarray, Qs: np.ndarray) -> Any:
        import warnings

        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPRegressor

        net = MLPRegressor(
            hidden_layer_sizes=tuple(self.hidden_layer_sizes),
            alpha=self.alpha,
            batch_size=min(self.batch_size, len(Z)),
            max_iter=self.max_iter,
            early_stopping=len(Z) >= 50,
            n_iter_no_change=15,
            random_state=self.random_state,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return net.fit(Z, Qs)

    # ---------------------------------------------------------- prediction core
    def _design(self, A: np.ndarray) -> np.ndarray:
        """Standardized features (NaN -> 0 = training mean) + NaN indicators (training)."""
        Z = (A - self.feature_mean_) / self.feature_scale_
        missing = np.isnan(Z[:, self.nan_columns_])
        np.nan_to_num(Z, copy=False, nan=0.0)
        return np.hstack([Z, missing.astype(Z.dtype)])

    def _fold(self, net: Any) -> dict[str, Any]:
        """float32 weights with the standardization folded into the first layer, and
        the output ranges (training label range widened by half its span)."""
        W, b = net.coefs_[0], net.intercepts_[0]
        n = self.n_features_in_
        layers = [
            (np.ascontiguousarray(W_, dtype=np.float32), np.asarray(b_, dtype=np.float32))
            for W_, b_ in zip(net.coefs_[1:], net.intercepts_[1:], strict=True)
        ]
        return {
            "W0": np.ascontiguousarray(W[:n] / self.feature_scale_[:, None], dtype=np.float32),
            "W0_missing": np.ascontiguousarray(W[n:], dtype=np.float32),
            "b0": np.asarray(b, dtype=np.float32),
            "layers": layers,
        }

    def _output(self, folded: dict[str, Any], A: np.ndarray) -> np.ndarray:
        """Constrained predictions in target units from raw features (float64 block)."""
        X = np.empty(A.shape, dtype=np.float32)
        np.subtract(A, self.feature_mean_, out=X, casting="unsafe")  # cast + center
        cols = self.nan_columns_
        missing = np.isnan(X[:, cols])
        if missing.any():
            X[:, cols] = np.where(missing, np.float32(0.0), X[:, cols])
        h = X @ folded["W0"]
        if len(cols):
            h += missing.astype(np.float32) @ folded["W0_missing"]
        h += folded["b0"]
        np.maximum(h, 0.0, out=h)
        for W, b in folded["layers"][:-1]:
            h = h @ W
            h += b
            np.maximum(h, 0.0, out=h)
        W, b = folded["layers"][-1]
        out = (h @ W + b).astype(float) * self.target_scale_ + self.target_mean_
        P = _inverse_transform(out)
        np.clip(P, self.output_min_, self.output_max_, out=P)
        return _constrain(P)

    def _check_features(self, F: pd.DataFrame) -> np.ndarray:
        if not isinstance(F, pd.DataFrame):
            raise TypeError("features must be a DataFrame from the model's featurizer_")
        if list(F.columns) != list(self.feature_names_in_):
            missing = [c for c in self.feature_names_in_ if c not in F.columns]
            raise ValueError(
                "feature table does not match the model's featurizer_ "
                f"({F.shape[1]} columns, expected {self.n_features_in_}; "
                f"missing e.g. {missing[:3]})"
            )
        return F.to_numpy(dtype=float)

    def _predict_array(self, F: pd.DataFrame) -> np.ndarray:
        A = self._check_features(F)
        out = np.empty((len(A), len(TARGETS)))
        for start in range(0, len(A), self.chunk_size):
            block = A[start : start + self.chunk_size]
            out[start : start + len(block)] = self._output(self.weights_, block)
        return out

    def _features(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "featurizer_")
        F = self.featurizer_.transform(X)
        return F if isinstance(F, pd.DataFrame) else pd.DataFrame(F)

    # ------------------------------------------------------------------ public
    def predict_from_features(self, F: pd.DataFrame) -> pd.DataFrame:
        """Point predictions (columns :data:`TARGETS`) from a table made by
        ``featurizer_``."""
        return pd.DataFrame(self._predict_array(F), columns=list(TARGETS))

    def predict(self, X: Any) -> pd.DataFrame:
        """Point predictions, one row per input composition: window limits (V vs
        Li/Li+) and energies (meV/atom)."""
        return self.predict_from_features(self._features(X))

    def interval_halfwidths(self, alpha: float = 0.1) -> dict[str, float]:
        """Conformal half-width per target for coverage ``1 - alpha``: V for the window
        limits and rxn_Li, log1p(|E| / scale) units for the log-learned energies."""
        from ssbml.ml.conformal import conformal_quantile

        return {
            t: conformal_quantile(self.residuals_[:, j], alpha) for j, t in enumerate(TARGETS)
        }

    def _intervals(self, P: np.ndarray, alpha: float) -> pd.DataFrame:
        half = np.array(list(self.interval_halfwidths(alpha).values()))
        Q = _forward_transform(P)
        lower = _inverse_transform(Q - half)
        upper = _inverse_transform(Q + half)
        out = np.empty((len(P), 3 * len(TARGETS)))
        names = []
        for j, t in enumerate(TARGETS):
            lo, hi = lower[:, j], upper[:, j]
            if t in ("e_above_hull_meV_atom", "reduction_V", "oxidation_V"):
                np.maximum(lo, 0.0, out=lo)
            if t.startswith("rxn_"):
                np.minimum(hi, 0.0, out=hi)
            out[:, 3 * j], out[:, 3 * j + 1], out[:, 3 * j + 2] = P[:, j], lo, hi
            names += [t, f"{t}_lower", f"{t}_upper"]
        return pd.DataFrame(out, columns=names, copy=False)

    def predict_interval_from_features(self, F: pd.DataFrame, alpha: float = 0.1) -> pd.DataFrame:
        """For each target ``t`` the columns ``t``, ``t_lower``, ``t_upper`` (nominal
        coverage ``1 - alpha``), one row per row of ``F``; bounds clipped to the
        physical ranges (window limits and energies above hull >= 0, reaction energies
        <= 0). Energy intervals are multiplicative (conformal in the log space they are
        learned in)."""
        return self._intervals(self._predict_array(F), alpha)

    def predict_interval(self, X: Any, alpha: float = 0.1) -> pd.DataFrame:
        """:meth:`predict_interval_from_features` on the compositions ``X``."""
        return self.predict_interval_from_features(self._features(X), alpha=alpha)

    def cv_coverage(self, y: pd.DataFrame, alpha: float = 0.1) -> dict[str, float]:
        """Empirical coverage of the ``1 - alpha`` interval per target, honestly: each
        fold's rows are judged with a half-width from the other folds' residuals."""
        from ssbml.ml.conformal import conformal_quantile

        Y = _target_frame(y, TARGETS)
        if len(Y) != len(self.cv_fold_):
            raise ValueError(
                f"{len(Y)} label rows but the model was fitted on {len(self.cv_fold_)}"
            )
        err = np.abs(
            _forward_transform(Y)
            - _forward_transform(self.oof_predictions_.to_numpy())
        )
        covered = np.zeros_like(err, dtype=bool)
        for k in np.unique(self.cv_fold_):
            rows = self.cv_fold_ == k
            for j in range(len(TARGETS)):
                h = conformal_quantile(np.sort(err[~rows, j]), alpha)
                covered[rows, j] = err[rows, j] <= h
        return {t: float(covered[:, j].mean()) for j, t in enumerate(TARGETS)}
