"""Synthetic impedance spectra from known circuits, for tests and examples.

:func:`simulate` evaluates any impedance.py circuit and adds proportional Gaussian noise
(``noise`` times |Z| on each of Z' and Z''), the usual error structure of impedance
analysers. :func:`pellet_parameters` builds the parameters of a pellet with blocking
electrodes from conductivities (S/cm), geometry and capacitances (F), and
:func:`arrhenius_sigma` gives sigma(T) (S/cm) for a known activation energy (eV).
"""

from __future__ import annotations

import numpy as np

from ssbml.eis.circuits import compile_circuit
from ssbml.eis.spectrum import Spectrum

__all__ = [
    "K_B_EV",
    "arrhenius_sigma",
    "cpe_q",
    "frequencies",
    "pellet_parameters",
    "simulate",
]

K_B_EV = 8.617333262e-5
"""Boltzmann constant (eV/K)."""


def frequencies(f_max_Hz: float = 1e7, f_min_Hz: float = 0.1, per_decade: int = 10) -> np.ndarray:
    """Log-spaced sweep from ``f_max_Hz`` down to ``f_min_Hz`` (Hz)."""
    n = int(round(np.log10(f_max_Hz / f_min_Hz) * per_decade)) + 1
    return np.logspace(np.log10(f_max_Hz), np.log10(f_min_Hz), n)


def cpe_q(R_ohm: float, C_F: float, n: float) -> float:
    """CPE Q (ohm^-1 s^n) of an R||CPE arc with effective (Brug) capacitance ``C_F``."""
    return (C_F * R_ohm) ** n / R_ohm


def simulate(
    circuit: str,
    parameters: np.ndarray,
    frequency_Hz: np.ndarray,
    *,
    noise: float = 0.005,
    seed: int | None = 0,
    temperature_K: float | None = None,
    source: str = "<synthetic>",
) -> Spectrum:
    """Impedance of ``circuit`` at ``frequency_Hz`` with proportional Gaussian noise."""
    f = np.asarray(frequency_Hz, dtype=float)
    Z = compile_circuit(circuit)(f, parameters)
    rng = np.random.default_rng(seed)
    Z = Z + noise * np.abs(Z) * (rng.standard_normal(f.size) + 1j * rng.standard_normal(f.size))
    return Spectrum.from_arrays(f, Z, source=source, temperature_K=temperature_K)


def arrhenius_sigma(
    temperature_K: np.ndarray, Ea_eV: float, sigma_ref_S_cm: float, T_ref_K: float = 298.15
) -> np.ndarray:
    """sigma(T) (S/cm) with ``sigma T = A exp(-Ea / kT)`` through ``sigma_ref`` at ``T_ref``."""
    T = np.asarray(temperature_K, dtype=float)
    return sigma_ref_S_cm * (T_ref_K / T) * np.exp(-Ea_eV / K_B_EV * (1 / T - 1 / T_ref_K))


def pellet_parameters(
    *,
    sigma_bulk_S_cm: float,
    sigma_gb_S_cm: float | None,
    thickness_cm: float = 0.1,
    area_cm2: float = 0.785,
    R_series_ohm: float = 2.0,
    C_bulk_F: float = 5e-11,
    n_bulk: float = 0.95,
    C_gb_F: float = 5e-9,
    n_gb: float = 0.85,
    Q_electrode: float = 2e-6,
    n_electrode: float = 0.85,
) -> tuple[str, np.ndarray, dict[str, float]]:
    """Circuit string, parameters and true resistances (ohm) of a blocking-electrode pellet.

    ``sigma_gb_S_cm`` is the grain-boundary contribution written as a conductivity,
    ``R_gb = L / (sigma_gb A)``; None gives a single (bulk) arc.
    """
    g = thickness_cm / area_cm2
    Rb = g / sigma_bulk_S_cm
    truth = {"R_bulk_ohm": Rb, "R_series_ohm": R_series_ohm}
    if sigma_gb_S_cm is None:
        circuit = "R0-p(R1,CPE1)-CPE2"
        params = [R_series_ohm, Rb, cpe_q(Rb, C_bulk_F, n_bulk), n_bulk, Q_electrode, n_electrode]
        truth["R_gb_ohm"] = 0.0
    else:
        Rgb = g / sigma_gb_S_cm
        circuit = "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3"
        params = [R_series_ohm, Rb, cpe_q(Rb, C_bulk_F, n_bulk), n_bulk,
                  Rgb, cpe_q(Rgb, C_gb_F, n_gb), n_gb, Q_electrode, n_electrode]
        truth["R_gb_ohm"] = Rgb
    truth["sigma_bulk_S_cm"] = sigma_bulk_S_cm
    truth["sigma_total_S_cm"] = g / (Rb + truth["R_gb_ohm"])
    return circuit, np.asarray(params, dtype=float), truth
