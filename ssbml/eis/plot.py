"""Nyquist plot with the fitted circuit over the data, arcs labelled; Arrhenius plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ssbml.eis.arrhenius import T_25C_K, ArrheniusFit
from ssbml.eis.fit import CircuitFit

__all__ = ["plot_arrhenius", "plot_nyquist"]


def plot_nyquist(fit: CircuitFit, path: str | Path, title: str | None = None) -> Path:
    """Nyquist plot (-Z'' against Z', ohm, equal axes) of data and fit; each arc is
    labelled with its role, resistance (ohm) and apex frequency (Hz)."""
    from matplotlib.figure import Figure

    spec = fit.spectrum_
    f = spec.frequency_Hz
    f_fine = np.logspace(np.log10(f[0]), np.log10(f[-1]), 400)
    Zf = fit.predict(f_fine)
    fig = Figure(figsize=(6.4, 4.8))
    ax = fig.subplots()
    ax.plot(spec.Z_ohm.real, -spec.Z_ohm.imag, "o", ms=3.5, mfc="none", label="data")
    ax.plot(Zf.real, -Zf.imag, "-", lw=1.5, label=f"fit {fit.circuit_}")
    for a in fit.arcs_:
        z = fit.predict(np.array([a.f_peak_Hz]))[0]
        ax.annotate(
            f"{a.role}\nR = {a.R_ohm:.4g} \u03a9\n{a.f_peak_Hz:.3g} Hz",
            (z.real, -z.imag), xytext=(0, 14), textcoords="offset points", ha="center",
            fontsize=8, arrowprops={"arrowstyle": "-", "lw": 0.6},
        )
        ax.plot(z.real, -z.imag, "k+", ms=8)
    # keep the arcs readable: the electrode tail can run far off; clip the view
    arcs_extent = max([abs(fit.predict(np.array([a.f_peak_Hz]))[0]) * 2.2 for a in fit.arcs_]
                      or [np.abs(spec.Z_ohm).max()])
    xmax = min(np.abs(spec.Z_ohm.real).max() * 1.05, arcs_extent)
    ax.set_xlim(min(0.0, spec.Z_ohm.real.min()), xmax)
    in_view = spec.Z_ohm.real <= xmax
    ytop = min(xmax * 0.75, 1.35 * float((-spec.Z_ohm.imag[in_view]).max()))
    ax.set_ylim(min(0.0, (-spec.Z_ohm.imag).min()), ytop)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("Z' (\u03a9)")
    ax.set_ylabel("-Z'' (\u03a9)")
    label = title or Path(spec.source).name
    if spec.temperature_K is not None:
        label += f"  ({spec.temperature_K:.1f} K)"
    ax.set_title(label, fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    path = Path(path)
    from ssbml.io import atomic_savefig

    atomic_savefig(fig, path, dpi=120)
    return path


def plot_arrhenius(fit: ArrheniusFit, path: str | Path, title: str | None = None,
                   kind: str = "total") -> Path:
    """log10(sigma T) against 1000/T with the fitted line, the Ea (eV), the 25 C
    extrapolation and, if detected, the two-segment fit."""
    from matplotlib.figure import Figure

    T, s = fit.temperature_K_, fit.sigma_S_cm_
    fig = Figure(figsize=(6.4, 4.8))
    ax = fig.subplots()
    ax.plot(1000 / T, np.log10(s * T), "o", label=f"{kind} conductivity")
    T_line = np.linspace(min(T.min(), T_25C_K), max(T.max(), T_25C_K), 100)
    ax.plot(1000 / T_line, fit.predict_log10_sigma(T_line) + np.log10(T_line), "-",
            label=f"Ea = {fit.Ea_eV_:.3f} \u00b1 {fit.Ea_err_eV_:.1g} eV")
    ax.plot(1000 / T_25C_K, np.log10(fit.sigma_25C_S_cm_ * T_25C_K), "s", mfc="none",
            label=f"25 \u00b0C: {fit.sigma_25C_S_cm_:.3e} S/cm")
    fig.suptitle(title or f"Arrhenius fit ({kind} conductivity)", fontsize=10)
    cos = fit.change_of_slope_
    if cos is not None:
        ax.axvline(1000 / cos["T_break_K"], ls=":", color="gray",
                   label=(f"slope change at {cos['T_break_K']:.0f} K: "
                          f"{cos['Ea_low_T_eV']:.2f} / {cos['Ea_high_T_eV']:.2f} eV"))
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel("log10(\u03c3 T)  (\u03c3 in S/cm, T in K)")
    ax.legend(fontsize=8)
    top = ax.secondary_xaxis("top", functions=(lambda x: 1000 / np.maximum(x, 1e-9) - 273.15,
                                               lambda c: 1000 / (c + 273.15)))
    top.set_xlabel("T (\u00b0C)")
    fig.tight_layout()
    path = Path(path)
    from ssbml.io import atomic_savefig

    atomic_savefig(fig, path, dpi=120)
    return path
