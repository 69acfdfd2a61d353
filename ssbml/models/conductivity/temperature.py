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
from sklearn.utils.validation import check_is_fitted

__all__ = [
    "K_B_EV",
    "T0_K",
    "ArrheniusModel",
    "arrhenius_fit",
    "arrhenius_series",
    "interval_scores",
    "temperature_term_scores",
]

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


def interval_scores(table: pd.DataFrame) -> np.ndarray:
    """Dimensionless nonconformity of held-out rows for the temperature term: the
    smallest scale ``c`` with ``|y - pred| <= hypot(h_rt, c * h_ea)``, i.e.
    ``sqrt(max(dev^2 - h_rt^2, 0)) / h_ea`` (``h_rt``: ``h_rt_upper`` above the
    prediction, ``h_rt_lower`` below). Columns ``log10_sigma``, ``pred``,
    ``h_rt_lower``, ``h_rt_upper``, ``h_ea`` (log10 S/cm). A row is inside the interval
    with scale ``q`` exactly when its score is <= ``q``; a row outside the
    room-temperature half-width with no temperature term (``h_ea = 0``) scores 1e6
    (finite, so calibration keeps it)."""
    y = table["log10_sigma"].to_numpy(dtype=float)
    mu = table["pred"].to_numpy(dtype=float)
    h_rt = np.where(y >= mu, table["h_rt_upper"].to_numpy(dtype=float),
                    table["h_rt_lower"].to_numpy(dtype=float))
    h_ea = table["h_ea"].to_numpy(dtype=float)
    excess = np.sqrt(np.clip((y - mu) ** 2 - h_rt**2, 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(h_ea > 0, excess / h_ea, np.where(excess > 0, 1e6, 0.0))
    return np.minimum(s, 1e6)


def temperature_term_scores(table: pd.DataFrame) -> np.ndarray:
    """:func:`interval_scores` of the rows measured outside the room-temperature range
    (``temperature_K`` column, K), NaN elsewhere: the calibration set of the
    temperature term."""
    from ssbml.data.conductivity import ROOM_TEMPERATURE_RANGE_K

    lo, hi = ROOM_TEMPERATURE_RANGE_K
    away = ~table["temperature_K"].between(lo, hi).to_numpy()
    return np.where(away, interval_scores(table), np.nan)


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
        are clipped to it. Series whose fit is <= 0 or above ``ea_reject_eV`` are not
        used: with the default (= ``ea_max_eV``, 1.5 eV) that drops fits such as a
        LATP series rising 2.9 decades over 37 K (1.53 eV, log10 prefactor 19.7), a
        phase transition or a sintering change inside the series, not an activation
        energy.
    n_splits : folds (grouped by chemical system) of the out-of-fold Ea residuals that
        set the Ea interval.
    interval_groups : ``"none"`` or ``"family"``: with ``"family"``,
        :meth:`calibrate_intervals` rescales the log10 S/cm interval per family of the
        nearest training composition (Mondrian conformal on grouped-CV residuals of
        the whole temperature path, :mod:`ssbml.ml.conformal`).
    min_group_rows : calibration rows a family needs for its own scale.

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
        ea_reject_eV: float = 1.5,
        n_splits: int = 5,
        random_state: int = 0,
        difficulty_floor: float = 0.5,
        interval_groups: str = "none",
        min_group_rows: int = 20,
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
        self.interval_groups = interval_groups
        self.min_group_rows = min_group_rows

    # -- fitting -----------------------------------------------------------------
    def fit(self, data: pd.DataFrame, y: Any = None) -> ArrheniusModel:
        """Fit Ea on the Arrhenius series of ``data`` (conductivity schema: ``composition``,
        ``log10_sigma``, ``temperature_K``; ``doi``, ``family``, ``formula_raw`` and
        ``composition_key`` when present); ``y`` is ignored."""
        from ssbml.ml.regressors import single_thread

        with single_thread():
            return self._fit(data)

    def _fit(self, data: pd.DataFrame) -> ArrheniusModel:
        from ssbml.ml.regressors import make_regressor, predict_with_spread
        from ssbml.ml.splits import chemical_system_groups, cv_splits

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
        self.interval_calibrator_ = None
        return self

    def calibrate_intervals(self, cv_table: pd.DataFrame) -> ArrheniusModel:
        """Per-family rescaling of the log10 S/cm interval (``interval_groups="family"``).

        ``cv_table``: held-out predictions of the whole temperature path by models that
        did not see the rows' chemical systems
        (:func:`ssbml.models.conductivity.evaluate.temperature_cv`)
        with columns ``log10_sigma``, ``pred``, ``h_rt_lower``, ``h_rt_upper``, ``h_ea``
        (log10 S/cm, 90 %), ``temperature_K`` and ``nearest_family``. The scale of a
        family's temperature term is the conformal quantile of the
        :func:`interval_scores` of its rows measured outside the room-temperature range
        (15-35 degC; there the interval is the room-temperature model's own)."""
        from ssbml.ml.conformal import FamilyConformal

        if self.interval_groups != "family":
            raise ValueError('calibrate_intervals needs interval_groups="family"')
        scores = temperature_term_scores(cv_table)
        self.interval_calibrator_ = FamilyConformal(self.min_group_rows).fit(
            scores, cv_table["nearest_family"].to_numpy())
        return self

    # -- prediction --------------------------------------------------------------
    def _features(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "featurizer_")
        F = self.featurizer_.transform(X)
        return np.asarray(F.values if isinstance(F, pd.DataFrame) else F, dtype=float)

    def _ea_spread(self, F: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(raw Ea in eV, its difficulty: tree spread plus the offset, eV)."""
        from ssbml.ml.regressors import predict_with_spread

        both = predict_with_spread(self.ea_regressor_, F, n_jobs=1)
        ea, spread = both if both is not None else (self.ea_regressor_.predict(F), 0.0)
        return ea, spread + self.ea_difficulty_offset_

    def _ea_interval(
        self, ea: np.ndarray, difficulty: np.ndarray, alpha: float
    ) -> tuple[np.ndarray, ...]:
        """(Ea, lower, upper) in eV at coverage ``1 - alpha``, clipped to the physical
        range."""
        from ssbml.ml.conformal import conformal_quantile

        h = conformal_quantile(self.ea_scores_, alpha) * difficulty
        lo, hi = self.ea_min_eV, self.ea_max_eV
        return np.clip(ea, lo, hi), np.clip(ea - h, lo, hi), np.clip(ea + h, lo, hi)

    def _ea_from_features(self, F: np.ndarray, alpha: float) -> tuple[np.ndarray, ...]:
        """(Ea, lower, upper) in eV, clipped to the physical range."""
        return self._ea_interval(*self._ea_spread(F), alpha)

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
        self, F: Any, temperature_K: Any = T0_K, alpha: float = 0.1, families: Any = None,
        clip_to_physical: bool = True, return_parts: bool = False,
    ) -> pd.DataFrame:
        """From a ``featurizer_`` feature table: ``log10_sigma`` with ``_lower``/``_upper``
        (log10 S/cm) at ``temperature_K`` (scalar or per row, K),
        ``activation_energy_eV`` with ``_lower``/``_upper`` (eV), and the room-temperature
        model's below-detection columns (the bound moved to T with the Ea interval end
        that gives the largest value, so it stays an upper bound).

        The log10 S/cm half-width is ``hypot(h_rt, h_T)``: ``h_rt`` the room-temperature
        model's half-width, ``h_T`` the Ea half-width times |1/T - 1/T0| / (k_B ln 10).
        Once :meth:`calibrate_intervals` has run, ``h_T`` is built from the 90 % Ea
        interval and scaled by the conformal quantile of the row's family
        (``interval_family``), so at 298.15 K the interval is exactly the
        room-temperature one and it widens away from it. ``families``: the nearest-family
        labels of the rows, if already known (else looked up). ``clip_to_physical``: cut
        values and interval ends at :data:`~ssbml.models.conductivity.MAX_LOG10_SIGMA`
        (off only for calibration on the raw interval). ``return_parts`` adds
        ``h_rt_lower``, ``h_rt_upper`` and ``h_ea`` (the unscaled ``h_T``), log10 S/cm,
        for :func:`interval_scores`."""
        from ssbml.models.conductivity.model import clip_log10_sigma

        index = F.index if isinstance(F, pd.DataFrame) else None
        Fv = np.asarray(F.values if isinstance(F, pd.DataFrame) else F, dtype=float)
        g = _inverse_temperature_term(temperature_K, Fv.shape[0])
        rt_model = self.room_temperature_model
        cal = getattr(self, "interval_calibrator_", None)
        if cal is not None and families is None:
            # looked up once here, shared with the room-temperature model's calibration
            families = rt_model.nearest_family_from_features(Fv)
        rt = rt_model.predict_interval_from_features(Fv, alpha=alpha, families=families,
                                                     clip_to_physical=False)
        ea_raw, ea_difficulty = self._ea_spread(Fv)
        ea, ea_lo, ea_hi = self._ea_interval(ea_raw, ea_difficulty, alpha)
        mu0 = rt["log10_sigma"].to_numpy()
        h_rt_lo = mu0 - rt["log10_sigma_lower"].to_numpy()
        h_rt_hi = rt["log10_sigma_upper"].to_numpy() - mu0
        if cal is None:
            h_ea_basis = np.abs(g) * np.maximum(ea - ea_lo, ea_hi - ea)
            h_ea = h_ea_basis
        else:
            # the temperature term is built from the 90 % Ea interval and scaled by the
            # family's conformal quantile: at 298.15 K the interval is the room-temperature
            # one, and it widens with |1/T - 1/T0|
            _, w_lo, w_hi = self._ea_interval(ea_raw, ea_difficulty, 0.1)
            h_ea_basis = np.abs(g) * np.maximum(ea - w_lo, w_hi - ea)
            h_ea = cal.quantile(families, alpha) * h_ea_basis
        half_lo, half_hi = np.hypot(h_rt_lo, h_ea), np.hypot(h_rt_hi, h_ea)
        mu = mu0 - ea * g
        out = pd.DataFrame({
            "log10_sigma": mu,
            "log10_sigma_lower": mu - half_lo,
            "log10_sigma_upper": mu + half_hi,
            "activation_energy_eV": ea,
            "activation_energy_eV_lower": ea_lo,
            "activation_energy_eV_upper": ea_hi,
        }, index=index)
        if cal is not None:
            out["interval_family"] = cal.category(families)
        elif "interval_family" in rt.columns:
            out["interval_family"] = rt["interval_family"].to_numpy()
        if return_parts:
            out["h_rt_lower"], out["h_rt_upper"], out["h_ea"] = h_rt_lo, h_rt_hi, h_ea_basis
        if "below_detection" in rt.columns:
            below = rt["below_detection"].to_numpy(dtype=bool)
            # the largest value at T consistent with the bound at T0
            bound_T = rt["log10_sigma_bound"].to_numpy() - np.where(g < 0, ea_hi, ea_lo) * g
            out["p_below_detection"] = rt["p_below_detection"].to_numpy()
            out["below_detection"] = below
            out["log10_sigma_bound"] = np.where(below, bound_T, np.nan)
            # a bound at T0 stays a bound at T: value and upper end are the bound at T
            out.loc[below, "log10_sigma"] = bound_T[below]
            out.loc[below, "log10_sigma_upper"] = bound_T[below]
            out["log10_sigma_lower"] = np.minimum(out["log10_sigma_lower"], out["log10_sigma"])
        return clip_log10_sigma(out) if clip_to_physical else out

    def predict_interval(
        self, X: Any, temperature_K: Any = T0_K, alpha: float = 0.1
    ) -> pd.DataFrame:
        """:meth:`predict_interval_from_features` of compositions ``X``, with ``X``'s
        index when it is a DataFrame or Series."""
        from ssbml.ml.frames import caller_index

        out = self.predict_interval_from_features(self._features(X), temperature_K, alpha)
        out.index = caller_index(X, len(out))
        return out

    def domain_table(self, X: Any) -> pd.DataFrame:
        """The room-temperature model's applicability domain (same features)."""
        return self.room_temperature_model.domain_table(X)

    def domain_table_from_features(self, F: Any, ef: Any = None, dtype: Any = np.float64):
        """See :meth:`ConductivityModel.domain_table_from_features`."""
        return self.room_temperature_model.domain_table_from_features(F, ef, dtype=dtype)
