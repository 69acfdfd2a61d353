"""Conductivity at any temperature, anchored on the room-temperature model.

``log10 sigma(x, T) = log10 sigma_RT(x) - Ea(x) / (k_B ln10) * (1/T - 1/T0)``,
``T0 = 298.15 K``: the room-temperature model (:class:`~ssbml.models.conductivity.
ConductivityModel`) gives the value at ``T0`` (so both paths agree exactly there) and a
learned activation energy ``Ea(x)`` (eV, clipped to ``[ea_min_eV, ea_max_eV]``) the
Arrhenius slope, so the predicted conductivity never decreases as T rises.

The activation-energy targets are least-squares Arrhenius fits of *series*: the
measurements of one composition from one source paper (DOI) in one phase (the
source's family label and formula as written), spanning at least ``min_span_K``.
Series of the same composition from different papers or polymorphs are never merged;
each is one training row.

Intervals: the room-temperature interval (composition dependent) combined in
quadrature with the conformal interval of ``Ea`` (grouped out-of-fold, normalized by
the tree spread) scaled by ``|1/T - 1/T0| / (k_B ln10)``: they widen away from room
temperature and for compositions whose Ea is uncertain.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone

__all__ = ["K_B_EV", "T0_K", "ArrheniusModel", "arrhenius_fit", "arrhenius_series"]

K_B_EV = 8.617333262e-5
"""Boltzmann constant, eV/K."""
T0_K = 298.15
"""Reference (room) temperature, K."""
_LN10 = float(np.log(10.0))


def arrhenius_fit(temperature_K: np.ndarray, log10_sigma: np.ndarray) -> tuple[float, float]:
    """Least-squares ``log10 sigma = log10_A - Ea/(k_B ln10 T)``; returns (log10_A, Ea eV)."""
    inv = 1.0 / np.asarray(temperature_K, dtype=float)
    slope, intercept = np.polyfit(inv, np.asarray(log10_sigma, dtype=float), 1)
    return float(intercept), float(-slope * K_B_EV * _LN10)


def _series_key(data: pd.DataFrame) -> pd.Series:
    """composition | DOI | phase of every measurement (phase: the source's family label
    and the formula as written, so polymorphs reported separately stay apart)."""
    comp = data["composition_key"] if "composition_key" in data else data["composition"]
    doi = data["doi"].fillna("").astype(str) if "doi" in data else pd.Series("", data.index)
    fam = (data["family"].fillna("").astype(str) if "family" in data
           else pd.Series("", data.index))
    raw = (data["formula_raw"].fillna("").astype(str).str.strip() if "formula_raw" in data
           else pd.Series("", data.index))
    return comp.astype(str) + "|" + doi + "|" + fam + "|" + raw


def arrhenius_series(
    data: pd.DataFrame, min_span_K: float = 20.0, min_points: int = 2
) -> pd.DataFrame:
    """One Arrhenius fit per (composition, DOI, phase) series with at least
    ``min_points`` distinct temperatures spanning ``min_span_K`` (K).

    Columns: ``series``, ``composition``, ``composition_key``, ``doi``, ``family``,
    ``n_points``, ``T_min_K``, ``T_max_K``, ``log10_A``, ``Ea_fit_eV``.
    """
    key = _series_key(data)
    rows = []
    for k, part in data.groupby(key, sort=True):
        temps = part["temperature_K"].to_numpy(dtype=float)
        if np.unique(temps).size < max(min_points, 2) or temps.max() - temps.min() < min_span_K:
            continue
        a, ea = arrhenius_fit(temps, part["log10_sigma"].to_numpy(dtype=float))
        first = part.iloc[0]
        rows.append({
            "series": k,
            "composition": first["composition"],
            "composition_key": first.get("composition_key", first["composition"]),
            "doi": first.get("doi", ""),
            "family": first.get("family", ""),
            "n_points": int(np.unique(temps).size),
            "T_min_K": float(temps.min()),
            "T_max_K": float(temps.max()),
            "log10_A": a,
            "Ea_fit_eV": ea,
        })
    cols = ["series", "composition", "composition_key", "doi", "family", "n_points",
            "T_min_K", "T_max_K", "log10_A", "Ea_fit_eV"]
    return pd.DataFrame(rows, columns=cols)


def _inverse_temperature_term(temperature_K: Any, n: int) -> np.ndarray:
    """``(1/T - 1/T0) / (k_B ln10)`` per row (1/eV), after checking T (K)."""
    T = np.broadcast_to(np.asarray(temperature_K, dtype=float), (n,))
    if not (np.isfinite(T).all() and (T > 0).all()):
        raise ValueError("temperature_K must be positive and finite (K)")
    return (1.0 / T - 1.0 / T0_K) / (K_B_EV * _LN10)


class ArrheniusModel(RegressorMixin, BaseEstimator):
    """Predict log10 S/cm at temperature T (K) and the activation energy (eV).

    Parameters
    ----------
    room_temperature_model : a fitted :class:`~ssbml.models.conductivity.ConductivityModel`
        (the anchor at 298.15 K; its featurizer is shared).
    ea_regressor : regressor of Ea (default: a 300-tree random forest).
    min_span_K, min_points : smallest temperature span (K) and number of distinct
        temperatures of a series that gets an Arrhenius fit.
    ea_min_eV, ea_max_eV : physical range of Ea (eV); fitted targets and predictions
        are clipped to it. Series whose fit is <= 0 or above ``ea_reject_eV`` (e.g. a
        phase transition inside the series) are not used.
    n_splits : folds (grouped by chemical system) of the out-of-fold Ea residuals that
        set the Ea interval.

    ``X`` is anything the featurizer accepts (DataFrame with ``composition``, formulas,
    :class:`ssbml.composition.ElementFractions`).
    """

    def __init__(
        self,
        room_temperature_model: Any = None,
        ea_regressor: RegressorMixin | None = None,
        min_span_K: float = 20.0,
        min_points: int = 2,
        ea_min_eV: float = 0.1,
        ea_max_eV: float = 1.5,
        ea_reject_eV: float = 3.0,
        n_splits: int = 5,
        random_state: int = 0,
        difficulty_floor: float = 0.5,
    ) -> None:
        self.room_temperature_model = room_temperature_model
        self.ea_regressor = ea_regressor
        self.min_span_K = min_span_K
        self.min_points = min_points
        self.ea_min_eV = ea_min_eV
        self.ea_max_eV = ea_max_eV
        self.ea_reject_eV = ea_reject_eV
        self.n_splits = n_splits
        self.random_state = random_state
        self.difficulty_floor = difficulty_floor

    # -- fitting -----------------------------------------------------------------
    def fit(self, data: pd.DataFrame, y: Any = None) -> ArrheniusModel:
        """Fit Ea on the Arrhenius series of ``data`` (conductivity schema: ``composition``,
        ``log10_sigma``, ``temperature_K``; ``doi``, ``family``, ``formula_raw`` and
        ``composition_key`` when present); ``y`` is ignored."""
        from ssbml.models.regressors import single_thread

        with single_thread():
            return self._fit(data)

    def _fit(self, data: pd.DataFrame) -> ArrheniusModel:
        from ssbml.models.conductivity import chemical_system_groups, cv_splits
        from ssbml.models.regressors import make_regressor, predict_with_spread

        rt = self.room_temperature_model
        if rt is None or not hasattr(rt, "featurizer_"):
            raise ValueError("ArrheniusModel needs a fitted room_temperature_model "
                             "(ssbml.models.conductivity.ConductivityModel)")
        if not 0 <= self.ea_min_eV < self.ea_max_eV:
            raise ValueError(f"need 0 <= ea_min_eV < ea_max_eV, got {self.ea_min_eV}, "
                             f"{self.ea_max_eV}")
        missing = {"composition", "log10_sigma", "temperature_K"} - set(data.columns)
        if missing:
            raise ValueError(f"training data lacks column(s) {sorted(missing)}")
        data = data.reset_index(drop=True)
        T = data["temperature_K"].to_numpy(dtype=float)
        if not (np.isfinite(T).all() and (T > 0).all()):
            bad = np.flatnonzero(~(np.isfinite(T) & (T > 0)))[:10].tolist()
            raise ValueError(f"temperature_K must be positive (K); bad row(s) {bad}")
        yv = data["log10_sigma"].to_numpy(dtype=float)
        if not np.isfinite(yv).all():
            bad = np.flatnonzero(~np.isfinite(yv))[:10].tolist()
            raise ValueError(f"log10_sigma is not finite in row(s) {bad}")
        series = arrhenius_series(data, self.min_span_K, self.min_points)
        ok = (series["Ea_fit_eV"] > 0) & (series["Ea_fit_eV"] <= self.ea_reject_eV)
        self.n_series_rejected_ = int((~ok).sum())
        series = series[ok].reset_index(drop=True)
        if len(series) < self.n_splits:
            raise ValueError(
                f"only {len(series)} Arrhenius series (one composition, paper and phase) "
                f"over >= {self.min_span_K} K; cannot learn activation energies"
            )
        series["Ea_target_eV"] = np.clip(series["Ea_fit_eV"], self.ea_min_eV, self.ea_max_eV)
        self.series_ = series
        self.n_arrhenius_fits_ = len(series)
        self.featurizer_ = rt.featurizer_
        F = self._features(series[["composition"]])
        target = series["Ea_target_eV"].to_numpy()
        base = self.ea_regressor if self.ea_regressor is not None else make_regressor(
            "rf", {"n_estimators": 300, "min_samples_leaf": 2, "max_features": 0.33},
            random_state=self.random_state,
        )
        groups = chemical_system_groups(series["composition"])
        self.series_groups_ = groups
        oof = np.full(len(series), np.nan)
        spread = np.full(len(series), np.nan)
        base_oof = np.full(len(series), np.nan)
        for tr, va in cv_splits(self.n_splits, groups, self.random_state, len(series)):
            fold = clone(base).fit(F[tr], target[tr])
            both = predict_with_spread(fold, F[va], n_jobs=1)
            oof[va], spread[va] = both if both is not None else (fold.predict(F[va]), 0.0)
            base_oof[va] = np.median(target[tr])
        self.oof_activation_energy_eV_ = np.clip(oof, self.ea_min_eV, self.ea_max_eV)
        self.oof_activation_energy_eV_median_baseline_ = base_oof
        res = np.abs(target - self.oof_activation_energy_eV_)
        self.ea_difficulty_offset_ = float(self.difficulty_floor * max(np.median(spread), 1e-3))
        self.ea_scores_ = np.sort(res / (spread + self.ea_difficulty_offset_))
        self.oof_ea_spread_ = spread
        self.ea_regressor_ = clone(base).fit(F, target)
        self.n_features_in_ = F.shape[1]
        return self

    # -- prediction --------------------------------------------------------------
    def _features(self, X: Any) -> np.ndarray:
        F = self.featurizer_.transform(X)
        return np.asarray(F.values if isinstance(F, pd.DataFrame) else F, dtype=float)

    def _ea_from_features(self, F: np.ndarray, alpha: float) -> tuple[np.ndarray, ...]:
        """(Ea, lower, upper) in eV, clipped to the physical range."""
        from ssbml.models.conductivity import conformal_quantile
        from ssbml.models.regressors import predict_with_spread

        both = predict_with_spread(self.ea_regressor_, F, n_jobs=1)
        ea, spread = both if both is not None else (self.ea_regressor_.predict(F), 0.0)
        h = conformal_quantile(self.ea_scores_, alpha) * (spread + self.ea_difficulty_offset_)
        lo, hi = self.ea_min_eV, self.ea_max_eV
        return np.clip(ea, lo, hi), np.clip(ea - h, lo, hi), np.clip(ea + h, lo, hi)

    def activation_energy_eV(self, X: Any) -> np.ndarray:
        """Activation energy (eV) within ``[ea_min_eV, ea_max_eV]``, one per input row."""
        return self._ea_from_features(self._features(X), 0.1)[0]

    def predict(self, X: Any, temperature_K: Any = T0_K) -> np.ndarray:
        """log10 S/cm at ``temperature_K`` (scalar or one value per row, K)."""
        return self.predict_interval(X, temperature_K)["log10_sigma"].to_numpy()

    def predict_from_features(
        self, F: Any, temperature_K: Any = T0_K
    ) -> tuple[np.ndarray, np.ndarray]:
        """(log10 S/cm at ``temperature_K``, activation energy in eV) from a feature
        table computed by ``featurizer_`` (so callers featurize once)."""
        out = self.predict_interval_from_features(F, temperature_K)
        return out["log10_sigma"].to_numpy(), out["activation_energy_eV"].to_numpy()

    def predict_interval_from_features(
        self, F: Any, temperature_K: Any = T0_K, alpha: float = 0.1
    ) -> pd.DataFrame:
        """From a ``featurizer_`` feature table: ``log10_sigma`` with ``_lower``/``_upper``
        (log10 S/cm) at ``temperature_K`` (scalar or per row, K),
        ``activation_energy_eV`` with ``_lower``/``_upper`` (eV), and the room-temperature
        model's below-detection columns (the bound moved to T with the Ea interval end
        that gives the largest value, so it stays an upper bound)."""
        index = F.index if isinstance(F, pd.DataFrame) else None
        Fv = np.asarray(F.values if isinstance(F, pd.DataFrame) else F, dtype=float)
        g = _inverse_temperature_term(temperature_K, Fv.shape[0])
        rt = self.room_temperature_model.predict_interval_from_features(Fv, alpha=alpha)
        ea, ea_lo, ea_hi = self._ea_from_features(Fv, alpha)
        mu0 = rt["log10_sigma"].to_numpy()
        h_rt_lo = mu0 - rt["log10_sigma_lower"].to_numpy()
        h_rt_hi = rt["log10_sigma_upper"].to_numpy() - mu0
        h_ea = np.abs(g) * np.maximum(ea - ea_lo, ea_hi - ea)
        mu = mu0 - ea * g
        out = pd.DataFrame({
            "log10_sigma": mu,
            "log10_sigma_lower": mu - np.hypot(h_rt_lo, h_ea),
            "log10_sigma_upper": mu + np.hypot(h_rt_hi, h_ea),
            "activation_energy_eV": ea,
            "activation_energy_eV_lower": ea_lo,
            "activation_energy_eV_upper": ea_hi,
        }, index=index)
        if "below_detection" in rt.columns:
            below = rt["below_detection"].to_numpy(dtype=bool)
            # the largest value at T consistent with the bound at T0
            bound_T = rt["log10_sigma_bound"].to_numpy() - np.where(g < 0, ea_hi, ea_lo) * g
            out["p_below_detection"] = rt["p_below_detection"].to_numpy()
            out["below_detection"] = below
            out["log10_sigma_bound"] = np.where(below, bound_T, np.nan)
            out.loc[below, "log10_sigma_upper"] = bound_T[below]
            out["log10_sigma_lower"] = np.minimum(out["log10_sigma_lower"], out["log10_sigma"])
        return out

    def predict_interval(
        self, X: Any, temperature_K: Any = T0_K, alpha: float = 0.1
    ) -> pd.DataFrame:
        """:meth:`predict_interval_from_features` of compositions ``X``, with ``X``'s
        index when it is a DataFrame or Series."""
        from ssbml.models.conductivity import caller_index

        out = self.predict_interval_from_features(self._features(X), temperature_K, alpha)
        out.index = caller_index(X, len(out))
        return out

    def domain_table(self, X: Any) -> pd.DataFrame:
        """The room-temperature model's applicability domain (same features)."""
        return self.room_temperature_model.domain_table(X)

    def domain_table_from_features(self, F: Any, ef: Any = None, dtype: Any = np.float64):
        """See :meth:`ConductivityModel.domain_table_from_features`."""
        return self.room_temperature_model.domain_table_from_features(F, ef, dtype=dtype)
