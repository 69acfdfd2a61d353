"""Resistances (ohm) to conductivity (S/cm) and area-specific resistance (ohm cm^2).

* bulk conductivity ``sigma_bulk = L / (R_b A)``
* total conductivity ``sigma_total = L / ((R_b + R_gb) A)`` (equal to bulk when no
  grain-boundary arc is fitted; from the series resistance alone for the
  ``intercept-blocking`` circuit)
* area-specific interface resistance ``ASR = R_int A``, halved for a symmetric cell
  (two identical interfaces, e.g. Li | SE | Li)

Uncertainties are propagated from the fit covariance (geometry taken as exact).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ssbml.eis.fit import CircuitFit
from ssbml.eis.spectrum import EISInputError

__all__ = ["Pellet", "summarize"]


@dataclass(frozen=True)
class Pellet:
    """Sample geometry: thickness (cm), electrode area (cm^2), symmetric cell or not."""

    thickness_cm: float
    area_cm2: float
    symmetric: bool = True

    def __post_init__(self) -> None:
        for name in ("thickness_cm", "area_cm2"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and np.isfinite(v) and v > 0):
                raise EISInputError(f"pellet {name} must be a positive number, got {v!r}")

    @classmethod
    def from_mm(
        cls,
        thickness_mm: float,
        *,
        area_cm2: float | None = None,
        diameter_mm: float | None = None,
        symmetric: bool = True,
    ) -> Pellet:
        """Geometry from thickness (mm) and either electrode area (cm^2) or diameter (mm)."""
        if (area_cm2 is None) == (diameter_mm is None):
            raise EISInputError("give exactly one of electrode area (cm^2) or diameter (mm)")
        if thickness_mm is None or not thickness_mm > 0:
            raise EISInputError(f"pellet thickness must be > 0 mm, got {thickness_mm!r}")
        if diameter_mm is not None:
            if not diameter_mm > 0:
                raise EISInputError(f"electrode diameter must be > 0 mm, got {diameter_mm!r}")
            area_cm2 = float(np.pi * (diameter_mm / 20.0) ** 2)
        return cls(float(thickness_mm) / 10.0, float(area_cm2), symmetric)


def _ratio_err(value: float, rel: float) -> float:
    return float(abs(value) * rel) if np.isfinite(rel) else float("inf")


def summarize(fit: CircuitFit, pellet: Pellet | None = None) -> dict:
    """One JSON-ready dict: input, circuit, fitted parameters and, with a pellet,
    ``sigma_bulk_S_cm``, ``sigma_total_S_cm``, ``asr_ohm_cm2`` with standard errors.

    Values that the circuit does not define are None (e.g. no interface arc -> ASR None).
    """
    spec = fit.spectrum_
    bulk, gb, itf = fit.arc("bulk"), fit.arc("gb"), fit.arc("interface")
    names = fit.layout_.param_names
    out: dict = {
        "file": spec.source,
        "file_sha256": spec.meta.get("sha256"),
        "temperature_K": spec.temperature_K,
        "n_points": len(spec),
        "cropped": spec.meta.get("cropped"),
        "frequency_min_Hz": float(spec.frequency_Hz[-1]),
        "frequency_max_Hz": float(spec.frequency_Hz[0]),
        "convention": spec.convention,
        "convention_note": spec.convention_note,
        "circuit": fit.circuit_,
        "candidates": getattr(fit, "candidates_", None),
        "parameters": {
            n: {"value": fit.parameters_[n], "stderr": fit.stderr_[n], "unit": u}
            for n, u in zip(names, fit.layout_.param_units, strict=True)
        },
        "arcs": [
            {"role": a.role, "R_name": a.R_name, "R_ohm": a.R_ohm, "R_err_ohm": a.R_err_ohm,
             "Q": a.Q, "n": a.n, "C_eff_F": a.C_eff_F, "f_peak_Hz": a.f_peak_Hz}
            for a in fit.arcs_
        ],
        "R_series_ohm": fit.R_series_ohm_,
        "R_bulk_ohm": bulk.R_ohm if bulk else None,
        "R_gb_ohm": gb.R_ohm if gb else None,
        "R_interface_ohm": itf.R_ohm if itf else None,
        "residual_rms_percent": fit.rms_percent_,
        "warnings": list(fit.warnings_),
    }
    # resistance used for bulk and total conductivity, with covariance-propagated errors
    if bulk is not None:
        rb, rb_err = bulk.R_ohm, bulk.R_err_ohm
        tot_names = [bulk.R_name] + ([gb.R_name] if gb else [])
        rt = sum(fit.parameters_[n] for n in tot_names)
        rt_err = float(np.sqrt(np.sum(fit.covariance_of(tot_names))))
        sigma_kind_total = "bulk + gb" if gb else "bulk (no gb arc fitted)"
    elif not fit.arcs_ and fit.layout_.series_R:
        rb, rb_err = None, None
        rt, rt_err = fit.R_series_ohm_, fit.R_series_err_ohm_
        sigma_kind_total = "high-frequency intercept (no arc resolved)"
    else:
        rb = rt = rb_err = rt_err = None
        sigma_kind_total = None
    out["R_total_ohm"] = rt
    out["total_from"] = sigma_kind_total
    if pellet is None:
        return out
    g = pellet.thickness_cm / pellet.area_cm2
    out.update({"thickness_cm": pellet.thickness_cm, "area_cm2": pellet.area_cm2,
                "symmetric": pellet.symmetric})
    out["sigma_bulk_S_cm"] = g / rb if rb else None
    out["sigma_bulk_err_S_cm"] = _ratio_err(g / rb, rb_err / rb) if rb else None
    out["sigma_total_S_cm"] = g / rt if rt else None
    out["sigma_total_err_S_cm"] = _ratio_err(g / rt, rt_err / rt) if rt else None
    if itf is not None:
        factor = 0.5 if pellet.symmetric else 1.0
        out["asr_ohm_cm2"] = itf.R_ohm * pellet.area_cm2 * factor
        out["asr_err_ohm_cm2"] = itf.R_err_ohm * pellet.area_cm2 * factor
    else:
        out["asr_ohm_cm2"] = None
        out["asr_err_ohm_cm2"] = None
    return out
