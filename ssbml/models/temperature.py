"""Conductivity at any temperature: a learned Arrhenius law.

``log10 sigma(x, T) = log10_A(x) - Ea(x) / (k_B ln(10) T)`` with the activation energy
``Ea(x) >= 0`` (eV), so the predicted conductivity never decreases as T rises.

Training (:meth:`ArrheniusModel.fit`) has two stages:

1. every composition measured at two or more temperatures spanning at least
   ``min_span_K`` gets a least-squares Arrhenius fit; its Ea (clipped to
   ``[0, ea_max_eV]``) is the target of the activation-energy regressor;
2. every measurement gives a prefactor target ``log10 sigma + Ea/(k_B ln10 T)`` with
   the composition's own Ea where fitted, else the regressor's; a second regressor
   learns ``log10_A(x)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin, clone

__all__ = ["K_B_EV", "ArrheniusModel", "arrhenius_fit"]

K_B_EV = 8.617333262e-5
"""Boltzmann constant, eV/K."""
_LN10 = float(np.log(10.0))


def arrhenius_fit(temperature_K: np.ndarray, log10_sigma: np.ndarray) -> tuple[float, float]:
    """Least-squares ``log10 sigma = log10_A - Ea/(k_B ln10 T)``; returns (log10_A, Ea eV)."""
    inv = 1.0 / np.asarray(temperature_K, dtype=float)
    slope, intercept = np.polyfit(inv, np.asarray(log10_sigma, dtype=float), 1)
    return float(intercept), float(-slope * K_B_EV * _LN10)


class ArrheniusModel(RegressorMixin, BaseEstimator):
    """Predict log10 S/cm at temperature T (K) and the activation energy (eV).

    ``X`` is anything the featurizer accepts (DataFrame with ``composition``, formulas,
    :class:`ssbml.composition.ElementFractions`). ``fit`` takes a DataFrame in the
    conductivity schema (``composition``, ``log10_sigma``, ``temperature_K``,
    ``composition_key``).
    """

    def __init__(
        self,
        featurizer: TransformerMixin | None = None,
        ea_regressor: RegressorMixin | None = None,
        prefactor_regressor: RegressorMixin | None = None,
        min_span_K: float = 20.0,
        ea_max_eV: float = 2.5,
        n_splits: int = 5,
    ) -> None:
        self.featurizer = featurizer
        self.ea_regressor = ea_regressor
        self.prefactor_regressor = prefactor_regressor
        self.min_span_K = min_span_K
        self.ea_max_eV = ea_max_eV
        self.n_splits = n_splits

    def _features(self, X: Any) -> np.ndarray:
        F = self.featurizer_.transform(X)
        return np.asarray(F.values if isinstance(F, pd.DataFrame) else F, dtype=float)

    def fit(self, data: pd.DataFrame, y: Any = None) -> ArrheniusModel:
        """Fit on measurements (schema columns above); ``y`` is ignored.

        A grouped K-fold by composition first gives out-of-fold predictions
        (``oof_predictions_``, log10 S/cm) whose absolute residuals set the conformal
        interval width; then the model is refit on everything."""

        from ssbml.models.regressors import single_thread

        with single_thread():
            return self._fit(data)

    def _fit(self, data: pd.DataFrame) -> ArrheniusModel:
        from sklearn.model_selection import GroupKFold

        missing = {"composition", "log10_sigma", "temperature_K"} - set(data.columns)
        if missing:
            raise ValueError(f"training data lacks column(s) {sorted(missing)}")
        data = data.reset_index(drop=True)
        T = data["temperature_K"].to_numpy(dtype=float)
        if not (np.isfinite(T).all() and (T > 0).all()):
            bad = np.flatnonzero(~(np.isfinite(T) & (T > 0)))[:10].tolist()
            raise ValueError(f"temperature_K must be positive (K); bad row(s) {bad}")
        y = data["log10_sigma"].to_numpy(dtype=float)
        if not np.isfinite(y).all():
            bad = np.flatnonzero(~np.isfinite(y))[:10].tolist()
            raise ValueError(f"log10_sigma is not finite in row(s) {bad}")
        key = data["composition_key"] if "composition_key" in data else data["composition"]
        oof = np.full(len(data), np.nan)
        oof_ea = np.full(len(data), np.nan)
        for tr, va in GroupKFold(n_splits=self.n_splits).split(data, groups=key):
            part = clone(self)._fit_core(data.iloc[tr])
            F = part._features(data.iloc[va][["composition"]])
            oof[va], oof_ea[va] = part.predict_from_features(
                F, data.iloc[va]["temperature_K"].to_numpy()
            )
        self.oof_predictions_ = oof
        self.oof_activation_energy_eV_ = oof_ea
        self.residuals_ = np.sort(np.abs(data["log10_sigma"].to_numpy(dtype=float) - oof))
        return self._fit_core(data)

    def interval_halfwidth(self, alpha: float = 0.1) -> float:
        """Conformal half-width (log10 units) for coverage ``1 - alpha``."""
        from ssbml.models.conductivity import conformal_quantile

        return conformal_quantile(self.residuals_, alpha)

    def predict_interval(
        self, X: Any, temperature_K: Any = 298.15, alpha: float = 0.1
    ) -> pd.DataFrame:
        """``log10_sigma`` with ``_lower``/``_upper`` (log10 S/cm) at ``temperature_K``."""
        out = self.predict_interval_from_features(self._features(X), temperature_K, alpha)
        return out.drop(columns="activation_energy_eV")

    def predict_interval_from_features(
        self, F: Any, temperature_K: Any = 298.15, alpha: float = 0.1
    ) -> pd.DataFrame:
        """:meth:`predict_interval` plus ``activation_energy_eV`` (eV) from a feature table
        computed by ``featurizer_`` (one featurization for both): ``log10_sigma`` with
        ``_lower``/``_upper`` (log10 S/cm) at ``temperature_K`` (scalar or per row, K)."""
        mu, ea = self.predict_from_features(F, temperature_K)
        h = self.interval_halfwidth(alpha)
        return pd.DataFrame(
            {
                "log10_sigma": mu,
                "log10_sigma_lower": mu - h,
                "log10_sigma_upper": mu + h,
                "activation_energy_eV": ea,
            }
        )

    def _fit_core(self, data: pd.DataFrame) -> ArrheniusModel:
        from ssbml.models.featurizers import make_featurizer_by_name
        from ssbml.models.regressors import make_regressor

        data = data.reset_index(drop=True)
        T = data["temperature_K"].to_numpy(dtype=float)
        key = data["composition_key"] if "composition_key" in data else data["composition"]
        fits: dict[str, tuple[float, float]] = {}
        for k, part in data.groupby(key, sort=True):
            temps = part["temperature_K"].to_numpy()
            if np.unique(temps).size >= 2 and temps.max() - temps.min() >= self.min_span_K:
                fits[k] = arrhenius_fit(temps, part["log10_sigma"].to_numpy())
        if len(fits) < self.n_splits:
            raise ValueError(
                f"only {len(fits)} composition(s) measured over >= {self.min_span_K} K; "
                "cannot learn activation energies"
            )
        featurizer = self.featurizer if self.featurizer is not None else make_featurizer_by_name()
        self.featurizer_ = clone(featurizer).fit(data[["composition"]])
        F = self._features(data[["composition"]])

        first = ~key.duplicated().to_numpy()
        has_fit = key.isin(list(fits)).to_numpy()
        ea_rows = first & has_fit
        ea_target = np.clip([fits[k][1] for k in key[ea_rows]], 0.0, self.ea_max_eV)
        ea_base = self.ea_regressor if self.ea_regressor is not None else make_regressor(
            "hgb", {"max_iter": 200, "min_samples_leaf": 3}
        )
        self.ea_regressor_ = clone(ea_base).fit(F[ea_rows], ea_target)
        self.n_arrhenius_fits_ = int(ea_rows.sum())
        self.arrhenius_fits_ = {str(k): v for k, v in fits.items()}

        ea_row = np.clip(self.ea_regressor_.predict(F), 0.0, self.ea_max_eV)
        own = np.array([fits[k][1] if k in fits else np.nan for k in key])
        ea_row = np.where(np.isnan(own), ea_row, np.clip(own, 0.0, self.ea_max_eV))
        a_target = data["log10_sigma"].to_numpy(dtype=float) + ea_row / (K_B_EV * _LN10 * T)
        a_base = self.prefactor_regressor if self.prefactor_regressor is not None else (
            make_regressor("hgb", {"max_iter": 300})
        )
        self.prefactor_regressor_ = clone(a_base).fit(F, a_target)
        self.n_features_in_ = F.shape[1]
        return self

    def activation_energy_eV(self, X: Any) -> np.ndarray:
        """Activation energy (eV), >= 0, one per input row."""
        return np.clip(self.ea_regressor_.predict(self._features(X)), 0.0, self.ea_max_eV)

    def predict(self, X: Any, temperature_K: Any = 298.15) -> np.ndarray:
        """log10 S/cm at ``temperature_K`` (scalar or one value per row, K)."""
        return self.predict_from_features(self._features(X), temperature_K)[0]

    def predict_from_features(
        self, F: Any, temperature_K: Any = 298.15
    ) -> tuple[np.ndarray, np.ndarray]:
        """(log10 S/cm at ``temperature_K``, activation energy in eV) from a feature
        table computed by ``featurizer_`` (so callers featurize once)."""
        F = np.asarray(F.values if isinstance(F, pd.DataFrame) else F, dtype=float)
        T = np.broadcast_to(np.asarray(temperature_K, dtype=float), (F.shape[0],))
        if not (np.isfinite(T).all() and (T > 0).all()):
            raise ValueError("temperature_K must be positive and finite (K)")
        ea = np.clip(self.ea_regressor_.predict(F), 0.0, self.ea_max_eV)
        return self.prefactor_regressor_.predict(F) - ea / (K_B_EV * _LN10 * T), ea
