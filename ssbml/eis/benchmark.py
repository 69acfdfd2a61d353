"""Recovery benchmark on synthetic spectra: ``python -m ssbml.eis.benchmark [n_seeds]``.

For each case (bulk and grain-boundary conductivities in S/cm, noise as a fraction of
|Z|) spectra are simulated with different seeds, fitted with ``circuit="auto"``, and the
relative errors of R_bulk, R_gb and sigma_total are summarised (max and 95th percentile,
percent). An Arrhenius series per seed (six temperatures, 0.5% noise) gives the error of
the recovered activation energy (eV).
"""

from __future__ import annotations

import sys
import time

import numpy as np

from ssbml.eis.arrhenius import ArrheniusFit
from ssbml.eis.fit import fit_spectrum
from ssbml.eis.physics import Pellet, summarize
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


def _pellet(sb, sg, cgb, noise, seed, T=None):
    circuit, params, truth = pellet_parameters(
        sigma_bulk_S_cm=sb, sigma_gb_S_cm=sg, thickness_cm=L_CM, area_cm2=A_CM2,
        C_bulk_F=C_BULK_F, C_gb_F=cgb, n_gb=0.9)
    spec = simulate(circuit, params, frequencies(1e7, 0.1, 10), noise=noise, seed=seed,
                    temperature_K=T)
    return spec, truth


def recovery(n_seeds: int = 12) -> list[dict]:
    """Error summary per (case, noise)."""
    rows = []
    for noise in (0.005, 0.01):
        for sb, sg, cgb in CASES:
            err, t0 = [], time.perf_counter()
            for seed in range(n_seeds):
                spec, truth = _pellet(sb, sg, cgb, noise, seed)
                out = summarize(fit_spectrum(spec), Pellet(L_CM, A_CM2))
                gb = out["R_gb_ohm"]
                err.append([out["R_bulk_ohm"] / truth["R_bulk_ohm"] - 1,
                            (gb / truth["R_gb_ohm"] - 1) if gb else np.inf,
                            out["sigma_total_S_cm"] / truth["sigma_total_S_cm"] - 1])
            e = 100 * np.abs(np.array(err))
            rows.append({"sigma_bulk": sb, "sigma_gb": sg, "C_gb_F": cgb, "noise": noise,
                         "max": e.max(0), "p95": np.percentile(e, 95, axis=0),
                         "s_per_fit": (time.perf_counter() - t0) / n_seeds})
    return rows


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
    print("| sigma_bulk S/cm | sigma_gb S/cm | C_gb F | noise | max err R_b / R_gb / "
          "sigma_total (%) | 95th pct (%) | s/fit |")
    print("|---|---|---|---|---|---|---|")
    for r in recovery(n_seeds):
        print(f"| {r['sigma_bulk']:g} | {r['sigma_gb']:g} | {r['C_gb_F']:g} | {r['noise']:g} | "
              + " / ".join(f"{v:.2f}" for v in r["max"]) + " | "
              + " / ".join(f"{v:.2f}" for v in r["p95"]) + f" | {r['s_per_fit']:.2f} |")
    a = arrhenius_recovery(max(2, n_seeds // 3))
    print(f"\nArrhenius (Ea 0.35 eV, 6 temperatures 233-308 K, 0.5% noise, {len(a)} series): "
          f"max |Ea error| bulk {a[:, 0].max():.4f} eV, total {a[:, 1].max():.4f} eV")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 12)
