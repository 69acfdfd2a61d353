"""Recovery benchmark on synthetic spectra: ``python experiments/eis_benchmark.py [n_seeds]``.

For each case (bulk and grain-boundary conductivities in S/cm, gb capacitance in F,
noise as a fraction of |Z|, frequency density in points per decade) spectra are
simulated with different seeds, fitted with ``circuit="auto"``, and the relative errors
of R_bulk, R_gb and sigma_total are summarised (max and 95th percentile, percent).

Two columns say how good the fit can be and whether it is as good as it can be:

* ``CRLB sd``: the Cramer-Rao lower bound, the smallest standard deviation (percent)
  any unbiased estimator of R_b, R_gb and R_b + R_gb can have with this circuit,
  frequency sweep and noise (:func:`precision_limit`, from the Fisher information at
  the true parameters). The weighted least-squares fit is the maximum-likelihood
  estimate for the simulated noise and reaches this bound, so an error above 2% in some
  seeds is expected whenever 2% is less than ~2.5 CRLB standard deviations.
* ``at optimum``: the number of seeds whose fit has the right circuit and the minimum
  that a refit started at the true parameters finds (same cost, arc resistances within
  0.1%): the optimiser found the best minimum, so better starting points or more
  starts cannot change the answer.

An Arrhenius series per seed (six temperatures, 0.5% noise) gives the error of the
recovered activation energy (eV).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from ssbml.eis.arrhenius import ArrheniusFit
from ssbml.eis.circuits import compile_circuit, parse_circuit
from ssbml.eis.fit import CircuitFit, fit_spectrum
from ssbml.eis.physics import Pellet, summarize
from ssbml.eis.spectrum import Spectrum
from ssbml.eis.synthetic import (
    EPS0_F_CM,
    arrhenius_sigma,
    frequencies,
    pellet_parameters,
    simulate,
)

L_CM, A_CM2 = 0.1, 0.785
C_BULK_F = EPS0_F_CM * 50 * A_CM2 / L_CM
CASES = [  # sigma_bulk, sigma_gb (S/cm), C_gb (F)
    (1e-4, 2e-4, 1e-8), (1e-4, 1e-4, 1e-8), (1e-5, 3e-5, 1e-8), (3e-5, 1e-5, 1e-8),
    (1e-4, 2e-4, 3e-9),
]
NOISES = (0.005, 0.01)
"""Proportional noise levels (fraction of |Z| on each of Z' and Z'')."""
DENSITIES = (10, 20)
"""Frequency densities (points per decade; impedance analysers typically use 10-20)."""


def _truth(sb: float, sg: float, cgb: float) -> tuple[str, np.ndarray, dict[str, float]]:
    return pellet_parameters(
        sigma_bulk_S_cm=sb, sigma_gb_S_cm=sg, thickness_cm=L_CM, area_cm2=A_CM2,
        C_bulk_F=C_BULK_F, C_gb_F=cgb, n_gb=0.9)


def _pellet(sb, sg, cgb, noise, seed, T=None, per_decade: int = 10):
    circuit, params, truth = _truth(sb, sg, cgb)
    spec = simulate(circuit, params, frequencies(1e7, 0.1, per_decade), noise=noise,
                    seed=seed, temperature_K=T)
    return spec, truth


def _log_jacobian(circuit: str, params: np.ndarray, f: np.ndarray, weight: np.ndarray):
    """Jacobian of the stacked weighted impedance w.r.t. log10 p (CPE exponents linear)."""
    is_exp = parse_circuit(circuit).exponent_mask
    fn = compile_circuit(circuit)
    x0 = np.where(is_exp, params, np.log10(params))

    def r(x: np.ndarray) -> np.ndarray:
        z = fn(f, np.where(is_exp, x, 10.0**x)) / weight
        return np.concatenate([z.real, z.imag])

    J = np.empty((2 * f.size, x0.size))
    for k in range(x0.size):
        step = np.zeros(x0.size)
        step[k] = 1e-6
        J[:, k] = (r(x0 + step) - r(x0 - step)) / 2e-6
    return J, is_exp, r


def precision_limit(sb: float, sg: float, cgb: float, noise: float,
                    per_decade: int = 10) -> np.ndarray:
    """Cramer-Rao bound: smallest possible sd (percent) of R_b, R_gb and R_b + R_gb.

    For the benchmark pellet with conductivities ``sb``, ``sg`` (S/cm), gb capacitance
    ``cgb`` (F), proportional Gaussian noise ``noise`` (fraction of |Z| on Z' and on Z'')
    and a 10 MHz - 0.1 Hz sweep with ``per_decade`` points per decade; all nine circuit
    parameters unknown. The relative sd of sigma_total equals that of R_b + R_gb.
    """
    if not noise > 0:
        raise ValueError(f"noise must be a positive fraction of |Z|, got {noise!r}")
    if per_decade < 1:
        raise ValueError(f"per_decade must be >= 1 point per decade, got {per_decade!r}")
    circuit, p, _ = _truth(sb, sg, cgb)
    f = frequencies(1e7, 0.1, per_decade)
    J, _, _ = _log_jacobian(circuit, p, f, np.abs(compile_circuit(circuit)(f, p)))
    cov = noise**2 * np.linalg.inv(J.T @ J)  # of log10 parameters
    names = list(parse_circuit(circuit).param_names)
    ib, ig = names.index("R1"), names.index("R2")
    grad = np.zeros(p.size)
    grad[ib], grad[ig] = p[ib], p[ig]
    grad /= p[ib] + p[ig]
    ln10 = np.log(10)
    return 100 * ln10 * np.sqrt([cov[ib, ib], cov[ig, ig], grad @ cov @ grad])


def at_optimum(fit: CircuitFit, spectrum: Spectrum, circuit: str, params: np.ndarray,
               rtol: float = 1e-3) -> bool:
    """True if ``fit`` has the true circuit and the minimum a least-squares refit started
    at the true parameters ``params`` finds (same |Z|-weighted cost): no higher cost
    (within 1e-4 relative, the optimiser's stopping tolerance) and every arc resistance
    within ``rtol`` (relative) of the refit's."""
    from scipy.optimize import least_squares

    if fit.circuit_ != circuit:
        return False
    f, Z = spectrum.frequency_Hz, spectrum.Z_ohm
    w = np.abs(Z)
    _, is_exp, r = _log_jacobian(circuit, params, f, w)
    data = np.concatenate([Z.real, Z.imag]) / np.concatenate([w, w])
    x0 = np.where(is_exp, params, np.log10(params))
    with np.errstate(all="ignore"):
        ref = least_squares(lambda x: r(x) - data, x0, method="trf", xtol=1e-12, ftol=1e-12)
    p_ref = dict(zip(fit.layout_.param_names, np.where(is_exp, ref.x, 10.0**ref.x),
                     strict=True))
    cost = 0.5 * float(np.sum(np.abs(fit.residuals_) ** 2))
    same_r = all(abs(fit.parameters_[a.R] / p_ref[a.R] - 1) <= rtol for a in fit.layout_.arcs)
    return cost <= ref.cost * (1 + 1e-4) and same_r


def recovery(n_seeds: int = 12, densities: tuple[int, ...] = DENSITIES) -> list[dict]:
    """Error summary per (density, noise, case)."""
    return list(_recovery_rows(n_seeds, densities))


def _recovery_rows(n_seeds: int, densities: tuple[int, ...]):
    for ppd in densities:
        for noise in NOISES:
            for sb, sg, cgb in CASES:
                circuit, params, _ = _truth(sb, sg, cgb)
                err, n_opt, t_fit = [], 0, 0.0
                for seed in range(n_seeds):
                    spec, truth = _pellet(sb, sg, cgb, noise, seed, per_decade=ppd)
                    t0 = time.perf_counter()
                    fit = fit_spectrum(spec)
                    t_fit += time.perf_counter() - t0
                    out = summarize(fit, Pellet(L_CM, A_CM2))
                    n_opt += at_optimum(fit, spec, circuit, params)
                    gb = out["R_gb_ohm"]
                    err.append([out["R_bulk_ohm"] / truth["R_bulk_ohm"] - 1,
                                (gb / truth["R_gb_ohm"] - 1) if gb else np.inf,
                                out["sigma_total_S_cm"] / truth["sigma_total_S_cm"] - 1])
                e = 100 * np.abs(np.array(err))
                yield {"per_decade": ppd, "sigma_bulk": sb, "sigma_gb": sg, "C_gb_F": cgb,
                       "noise": noise, "max": e.max(0), "p95": np.percentile(e, 95, axis=0),
                       "crlb": precision_limit(sb, sg, cgb, noise, ppd),
                       "at_optimum": n_opt, "n_seeds": n_seeds, "s_per_fit": t_fit / n_seeds}


def arrhenius_recovery(n_seeds: int = 5, Ea_eV: float = 0.35) -> np.ndarray:
    """|Ea_fit - Ea| (eV) for bulk and total, one row per seed (Ea_gb = Ea_bulk)."""
    T = np.array([233.15, 248.15, 263.15, 278.15, 293.15, 308.15])
    out = []
    for seed in range(n_seeds):
        sig = {"bulk": [], "total": []}
        for i, t in enumerate(T):
            sb = float(arrhenius_sigma(t, Ea_eV, 5e-5))
            sg = float(arrhenius_sigma(t, Ea_eV, 1e-4))
            spec, _ = _pellet(sb, sg, 1e-8, 0.005, 1000 * seed + i, T=t)
            s = summarize(fit_spectrum(spec), Pellet(L_CM, A_CM2))
            sig["bulk"].append(s["sigma_bulk_S_cm"])
            sig["total"].append(s["sigma_total_S_cm"])
        out.append([abs(ArrheniusFit().fit(T, sig[k]).Ea_eV_ - Ea_eV) for k in ("bulk", "total")])
    return np.array(out)


def main(n_seeds: int = 12) -> None:
    print("| pts/decade | sigma_bulk S/cm | sigma_gb S/cm | C_gb F | noise | max err R_b / R_gb / "
          "sigma_total (%) | 95th pct (%) | CRLB sd (%) | at optimum | s/fit |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in _recovery_rows(n_seeds, DENSITIES):
        print(f"| {r['per_decade']} | {r['sigma_bulk']:g} | {r['sigma_gb']:g} | {r['C_gb_F']:g} | "
              f"{r['noise']:g} | "
              + " / ".join(f"{v:.2f}" for v in r["max"]) + " | "
              + " / ".join(f"{v:.2f}" for v in r["p95"]) + " | "
              + " / ".join(f"{v:.2f}" for v in r["crlb"])
              + f" | {r['at_optimum']}/{r['n_seeds']} | {r['s_per_fit']:.2f} |", flush=True)
    a = arrhenius_recovery(max(2, n_seeds // 3))
    print(f"\nArrhenius (Ea 0.35 eV, 6 temperatures 233-308 K, 0.5% noise, {len(a)} series): "
          f"max |Ea error| bulk {a[:, 0].max():.4f} eV, total {a[:, 1].max():.4f} eV")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 12)
