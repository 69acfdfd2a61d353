"""Arrhenius fits of conductivity: activation energy (eV), prefactor, sigma at 25 C.

``sigma T = A exp(-Ea / (k_B T))`` is fitted as the straight line
``log10(sigma T) = log10(A) - Ea / (k_B ln(10)) * (1/T)`` by ordinary least squares;
the standard errors come from the residual scatter. A change of slope (e.g. a phase
transition, or a crossover from bulk to grain-boundary limited transport) is tested by
fitting two lines split at every admissible temperature and comparing with one line
(F test, Bonferroni-corrected over the splits; the two activation energies must also
differ by at least ``min_delta_Ea_eV``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ssbml.eis.spectrum import EISInputError

__all__ = [
    "K_B_EV",
    "T_25C_K",
    "ArrheniusFit",
    "fit_json_points",
    "is_arrhenius_table",
    "read_arrhenius_table",
]

K_B_EV = 8.617333262e-5
"""Boltzmann constant (eV/K)."""
T_25C_K = 298.15
"""25 C in kelvin."""


def _line(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    X = np.column_stack([np.ones_like(x), x])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    rss = float(np.sum((y - X @ beta) ** 2))
    dof = max(len(x) - 2, 1)
    cov = np.linalg.inv(X.T @ X) * rss / dof
    return beta, cov, rss


class ArrheniusFit:
    """Fit ``log10(sigma T)`` against ``1/T``.

    Parameters
    ----------
    min_points : fewest temperatures accepted.
    min_segment : fewest points on each side of a change of slope.
    alpha : significance level of the change-of-slope F test (before correction).
    min_delta_Ea_eV : smallest difference of the two activation energies (eV) reported
        as a change of slope.

    Attributes (after :meth:`fit`)
    ------------------------------
    Ea_eV_, Ea_err_eV_, log10_prefactor_ (log10 of A in S K/cm), log10_prefactor_err_,
    sigma_25C_S_cm_, log10_sigma_25C_err_, extrapolated_ (25 C outside the measured
    range), residuals_ (log10 units), change_of_slope_ (dict or None), warnings_,
    slope_test_ (text: what the test found, or why it could not run).
    """

    def __init__(
        self,
        min_points: int = 3,
        min_segment: int = 3,
        alpha: float = 0.01,
        min_delta_Ea_eV: float = 0.03,
    ) -> None:
        self.min_points = min_points
        self.min_segment = min_segment
        self.alpha = alpha
        self.min_delta_Ea_eV = min_delta_Ea_eV

    def fit(self, temperature_K: np.ndarray, sigma_S_cm: np.ndarray) -> ArrheniusFit:
        """Fit; raises :class:`EISInputError` naming the bad row and field."""
        from scipy.stats import f as f_dist

        T = np.asarray(temperature_K, dtype=float).ravel()
        s = np.asarray(sigma_S_cm, dtype=float).ravel()
        if T.shape != s.shape:
            raise EISInputError(f"{T.size} temperatures but {s.size} conductivities")
        for name, v in (("temperature_K", T), ("sigma_S_cm", s)):
            bad = np.flatnonzero(~np.isfinite(v) | (v <= 0))
            if bad.size:
                raise EISInputError(f"row {bad[0] + 1} field {name} = {v[bad[0]]!r}: "
                                    "must be a finite number > 0")
        if T.size < self.min_points:
            raise EISInputError(f"an Arrhenius fit needs at least {self.min_points} "
                                f"temperatures, got {T.size}")
        order = np.argsort(T)
        T, s = T[order], s[order]
        dup = np.flatnonzero(np.diff(T) == 0)
        if dup.size:
            raise EISInputError(f"temperature {T[dup[0]]:g} K appears twice; average repeated "
                                "measurements or drop one")
        self.temperature_K_, self.sigma_S_cm_ = T, s
        x, y = 1.0 / T, np.log10(s * T)
        beta, cov, rss = _line(x, y)
        c = np.log(10) * K_B_EV
        self.Ea_eV_ = float(-beta[1] * c)
        self.Ea_err_eV_ = float(np.sqrt(cov[1, 1]) * c)
        self.log10_prefactor_ = float(beta[0])
        self.log10_prefactor_err_ = float(np.sqrt(cov[0, 0]))
        x25 = 1.0 / T_25C_K
        self.sigma_25C_S_cm_ = float(10 ** (beta[0] + beta[1] * x25) / T_25C_K)
        g = np.array([1.0, x25])
        self.log10_sigma_25C_err_ = float(np.sqrt(g @ cov @ g))
        self.extrapolated_ = bool(T[0] > T_25C_K or T[-1] < T_25C_K)
        self.residuals_ = y - (beta[0] + beta[1] * x)
        self.warnings_: list[str] = []
        if self.Ea_eV_ <= 0:
            self.warnings_.append(
                f"activation energy {self.Ea_eV_:.3f} eV is not positive: conductivity falls "
                "with temperature; check that each temperature belongs to its file")
        if self.extrapolated_:
            self.warnings_.append(f"sigma at 25 C is extrapolated from {T[0]:.1f}-{T[-1]:.1f} K")
        self._beta = beta
        self.change_of_slope_ = None
        n, m = T.size, self.min_segment
        splits = list(range(m, n - m + 1))
        if not splits:
            self.slope_test_ = (f"not tested: {n} points, need {2 * m} for two segments of {m}")
            return self
        best = None
        for k in splits:
            b1, c1, r1 = _line(x[:k], y[:k])
            b2, c2, r2 = _line(x[k:], y[k:])
            if best is None or r1 + r2 < best[0]:
                best = (r1 + r2, k, b1, c1, b2, c2)
        rss2, k, b1, c1, b2, c2 = best
        dof2 = n - 4
        if dof2 <= 0 or rss2 <= 0:
            F = np.inf if rss > 0 else 0.0
            p = 0.0 if rss > 0 else 1.0
        else:
            F = ((rss - rss2) / 2) / (rss2 / dof2)
            p = float(f_dist.sf(F, 2, dof2))
        p_adj = min(1.0, p * len(splits))
        Ea_lo, Ea_hi = -b1[1] * c, -b2[1] * c
        err_lo, err_hi = np.sqrt(c1[1, 1]) * c, np.sqrt(c2[1, 1]) * c
        delta = abs(Ea_lo - Ea_hi)
        if p_adj < self.alpha and delta >= self.min_delta_Ea_eV:
            self.change_of_slope_ = {
                "T_break_K": float(0.5 * (T[k - 1] + T[k])),
                "Ea_low_T_eV": float(Ea_lo), "Ea_low_T_err_eV": float(err_lo),
                "Ea_high_T_eV": float(Ea_hi), "Ea_high_T_err_eV": float(err_hi),
                "p_value": p_adj,
            }
            self.slope_test_ = (
                f"change of slope between {T[k - 1]:.1f} K and {T[k]:.1f} K: Ea = {Ea_lo:.3f} "
                f"eV below, {Ea_hi:.3f} eV above (p = {p_adj:.2g}); a single Ea does not "
                "describe the series"
            )
        else:
            self.slope_test_ = (f"no change of slope detected (best split p = {p_adj:.2g}, "
                                f"Ea difference {delta:.3f} eV)")
        return self

    def predict_log10_sigma(self, temperature_K: np.ndarray) -> np.ndarray:
        """Fitted log10 sigma (log10 S/cm) of the single line at ``temperature_K``."""
        T = np.asarray(temperature_K, dtype=float)
        return self._beta[0] + self._beta[1] / T - np.log10(T)

    def to_dict(self) -> dict:
        """JSON-ready summary with units in every name."""
        return {
            "n_points": int(self.temperature_K_.size),
            "temperature_min_K": float(self.temperature_K_[0]),
            "temperature_max_K": float(self.temperature_K_[-1]),
            "Ea_eV": self.Ea_eV_,
            "Ea_err_eV": self.Ea_err_eV_,
            "log10_prefactor_S_K_cm": self.log10_prefactor_,
            "log10_prefactor_err": self.log10_prefactor_err_,
            "sigma_25C_S_cm": self.sigma_25C_S_cm_,
            "log10_sigma_25C_err": self.log10_sigma_25C_err_,
            "sigma_25C_extrapolated": self.extrapolated_,
            "residual_rms_log10": float(np.sqrt(np.mean(self.residuals_**2))),
            "change_of_slope": self.change_of_slope_,
            "slope_test": self.slope_test_,
            "warnings": list(self.warnings_),
        }


_T_K = ("temperature_k", "t_k", "t", "temperature", "t(k)", "temperature(k)")
_T_C = ("temperature_c", "t_c", "t(c)", "temperature(c)", "t_degc")
_SIGMA = ("sigma_s_cm", "sigma", "sigma(s/cm)", "conductivity_s_cm", "sigma_total_s_cm",
          "sigma_bulk_s_cm")
_LOG10_SIGMA = "log10_sigma"


def _column_names(columns: Iterable[object]) -> dict[str, object]:
    """Normalized name (lower case, no spaces) -> column label of a table header."""
    return {str(c).strip().lower().replace(" ", ""): c for c in columns}


def is_arrhenius_table(path: str | Path) -> bool:
    """True if the CSV at ``path`` has a header naming a temperature or conductivity
    column that :func:`read_arrhenius_table` accepts (a table, not a spectrum)."""
    import pandas as pd

    try:
        header = pd.read_csv(path, comment="#", nrows=0).columns
    except (OSError, ValueError):  # missing, empty or unparsable file
        return False
    cols = _column_names(header)
    return any(c in cols for c in (*_T_K, *_T_C, *_SIGMA, _LOG10_SIGMA))


def read_arrhenius_table(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a CSV with a temperature column (``temperature_K``/``T_K``/``T`` in K, or
    ``temperature_C``/``T_C`` in C) and ``sigma_S_cm`` (S/cm) or ``log10_sigma``
    (log10 S/cm). Returns (T in K, sigma in S/cm); errors name the row and field."""
    import pandas as pd

    try:
        df = pd.read_csv(path, comment="#")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise EISInputError(f"{path}: not a readable CSV table ({str(exc).strip()[:120]})"
                            ) from None
    cols = _column_names(df.columns)
    t_col = next((cols[c] for c in _T_K if c in cols), None)
    c_col = next((cols[c] for c in _T_C if c in cols), None)
    s_col = next((cols[c] for c in _SIGMA if c in cols), None)
    l_col = cols.get(_LOG10_SIGMA)
    if (t_col is None and c_col is None) or (s_col is None and l_col is None):
        raise EISInputError(
            f"{path}: need a temperature column (temperature_K or temperature_C) and "
            f"sigma_S_cm or log10_sigma; found {list(df.columns)}"
        )
    out = []
    for col in (t_col or c_col, s_col or l_col):
        v = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(v))
        if bad.size:
            raise EISInputError(f"{path}: row {bad[0] + 1} field {col} = "
                                f"{df[col].iloc[bad[0]]!r} is not a number")
        out.append(v)
    T = out[0] if t_col is not None else out[0] + 273.15
    with np.errstate(over="ignore"):
        sigma = out[1] if s_col is not None else 10.0 ** out[1]
    for values, col, what in ((T, t_col or c_col, "a temperature above 0 K"),
                              (sigma, s_col or l_col, "a conductivity > 0 S/cm")):
        bad = np.flatnonzero(~(np.isfinite(values) & (values > 0)))
        if bad.size:
            raise EISInputError(f"{path}: row {bad[0] + 1} field {col} = "
                                f"{df[col].iloc[bad[0]]!r} is not {what}")
    return T, sigma


def fit_json_points(data: object, kind: str = "total",
                    where: str = "<json>") -> list[tuple[dict, float, float]]:
    """``(entry, temperature_K, sigma_S_cm)`` of each entry of the output of
    ``ssbml eis fit --json`` (one object or a list); ``kind`` is ``total`` or ``bulk``.

    Raises :class:`EISInputError` naming ``where``, the entry (1-based) and the field
    that is missing or not a conductivity > 0 S/cm.
    """
    import math

    key = f"sigma_{kind}_S_cm"
    out = []
    for i, obj in enumerate(data if isinstance(data, list) else [data], start=1):
        if not isinstance(obj, dict):
            raise EISInputError(f"{where} entry {i}: expected a JSON object")
        T, sigma = obj.get("temperature_K"), obj.get(key)
        if T is None:
            raise EISInputError(f"{where} entry {i} field temperature_K is missing: fit with "
                                "'ssbml eis fit --temperature ...'")
        if sigma is None:
            raise EISInputError(f"{where} entry {i} field {key} is missing: fit with the pellet "
                                "geometry (--thickness-mm and --area-cm2 or --diameter-mm)")
        if isinstance(sigma, bool) or not (isinstance(sigma, int | float) and sigma > 0
                                           and math.isfinite(sigma)):
            from ssbml.io import shorten

            raise EISInputError(f"{where} entry {i} field {key} = {shorten(sigma)}: must be "
                                "> 0 S/cm")
        out.append((obj, T, sigma))
    return out
