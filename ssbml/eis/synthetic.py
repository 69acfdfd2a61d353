"""Synthetic impedance spectra from known circuits, for tests and examples.

:func:`simulate` evaluates any impedance.py circuit and adds proportional Gaussian noise
(``noise`` times |Z| on each of Z' and Z''), the usual error structure of impedance
analysers. :func:`pellet_parameters` builds the parameters of a pellet with blocking
electrodes from conductivities (S/cm), geometry and capacitances (F), and
:func:`arrhenius_sigma` gives sigma(T) (S/cm) for a known activation energy (eV).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ssbml.eis.arrhenius import K_B_EV
from ssbml.eis.circuits import compile_circuit
from ssbml.eis.spectrum import Spectrum
from ssbml.io import atomic_write_text

__all__ = [
    "K_B_EV",
    "arrhenius_sigma",
    "cpe_q",
    "frequencies",
    "pellet_parameters",
    "simulate",
    "write_examples",
]



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


EPS0_F_CM = 8.8541878128e-14
"""Vacuum permittivity (F/cm)."""

EXAMPLE_COMPOSITION = "Li6.4La3Zr1.4Ta0.6O12"
EXAMPLE_TEMPERATURES_C = (-40, -30, -20, -10, 0, 10, 25)
EXAMPLE_TRUTH = {
    "Ea_bulk_eV": 0.40, "sigma_bulk_25C_S_cm": 1.0e-4,
    "Ea_gb_eV": 0.45, "sigma_gb_25C_S_cm": 2.0e-4,
    "thickness_cm": 0.1, "area_cm2": 0.785, "eps_r": 50.0, "C_gb_F": 3e-9,
    "asr_ohm_cm2": 200.0, "C_interface_F": 1e-6, "noise": 0.005,
}
"""Ground truth of the example data in ``data/examples/eis`` (garnet-like pellet, 1 mm
thick, 10 mm diameter Au electrodes; and a Li | SE | Li symmetric cell at 25 C)."""


def write_examples(folder: str | Path, seed: int = 7) -> list[Path]:
    """Write the example spectra (CSV with a ``-Z''`` column) and a truth JSON file."""
    import json

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    t = EXAMPLE_TRUTH
    L, A = t["thickness_cm"], t["area_cm2"]
    C_bulk = EPS0_F_CM * t["eps_r"] * A / L
    f = frequencies(1e7, 0.1, 10)
    written, truth_rows = [], []
    for i, tc in enumerate(EXAMPLE_TEMPERATURES_C):
        T = tc + 273.15
        sb = float(arrhenius_sigma(T, t["Ea_bulk_eV"], t["sigma_bulk_25C_S_cm"]))
        sg = float(arrhenius_sigma(T, t["Ea_gb_eV"], t["sigma_gb_25C_S_cm"]))
        circuit, params, truth = pellet_parameters(
            sigma_bulk_S_cm=sb, sigma_gb_S_cm=sg, thickness_cm=L, area_cm2=A,
            C_bulk_F=C_bulk, C_gb_F=t["C_gb_F"], n_gb=0.9)
        spec = simulate(circuit, params, f, noise=t["noise"], seed=seed + i)
        name = f"llzo_{'m' if tc < 0 else ''}{abs(tc)}C.csv"
        written.append(_write_csv(folder / name, spec, f"Au | {EXAMPLE_COMPOSITION} | Au, "
                                  f"{tc} C, synthetic (ssbml.eis.synthetic, seed {seed + i})"))
        truth_rows.append({"file": name, "temperature_K": T, **truth})
    # symmetric Li | SE | Li cell at 25 C: bulk, gb and interface arcs, no blocking tail
    sb = t["sigma_bulk_25C_S_cm"]
    g = L / A
    Rb, Rgb = g / sb, g / t["sigma_gb_25C_S_cm"]
    Rint = 2 * t["asr_ohm_cm2"] / A
    params = [2.0, Rb, cpe_q(Rb, C_bulk, 0.95), 0.95, Rgb, cpe_q(Rgb, t["C_gb_F"], 0.9), 0.9,
              Rint, cpe_q(Rint, t["C_interface_F"], 0.85), 0.85]
    spec = simulate("R0-p(R1,CPE1)-p(R2,CPE2)-p(R3,CPE3)", params, f, noise=t["noise"],
                    seed=seed + 100)
    written.append(_write_csv(folder / "li_symmetric_25C.csv", spec,
                              f"Li | {EXAMPLE_COMPOSITION} | Li, 25 C, synthetic "
                              f"(seed {seed + 100})"))
    truth_rows.append({"file": "li_symmetric_25C.csv", "temperature_K": 298.15,
                       "R_bulk_ohm": Rb, "R_gb_ohm": Rgb, "R_interface_ohm": Rint,
                       "asr_ohm_cm2": t["asr_ohm_cm2"]})
    atomic_write_text(json.dumps(
        {"composition": EXAMPLE_COMPOSITION, **t, "C_bulk_F": C_bulk, "spectra": truth_rows},
        indent=2), folder / "truth.json")
    written.append(folder / "truth.json")
    return written


def _write_csv(path: Path, spec: Spectrum, comment: str) -> Path:
    lines = [f"# {comment}", "frequency_Hz,Z'_ohm,-Z''_ohm"]
    lines += [f"{fr:.6g},{z.real:.6g},{-z.imag:.6g}"
              for fr, z in zip(spec.frequency_Hz, spec.Z_ohm, strict=True)]
    atomic_write_text("\n".join(lines) + "\n", path)
    return path
