"""Batched phase-diagram stability against pymatgen's per-composition route, same run.

For doped candidates of LLZO, Li3PS4 and Li6PS5Cl (placed at their hull energy), the
window (V vs Li/Li+) and the mutual reaction energies with Li metal and LiCoO2
(meV/atom) are computed twice:

* ssbml: :func:`ssbml.stability.batch.stability_table` (one hull per chemical system,
  matrix products over candidates x facets);
* pymatgen: per composition, ``PhaseDiagram.get_element_profile`` (through
  :func:`ssbml.stability.window.electrochemical_window`) and ``InterfacialReactivity``
  (through :func:`ssbml.stability.interface.interface_reaction`), with the same
  cached phase diagrams.

Prints the largest differences and the speed ratio. Targets: identical within 1e-6 V
and 1e-3 meV/atom; ratio >= 100x.

    python experiments/benchmarks/stability_batch.py --n-per-parent 100
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def candidates(n_per_parent: int):
    from ssbml.screening.candidates import Candidates, generate_doped

    parents = {"Li7La3Zr2O12": ["Ta", "Nb", "Al", "Ga"], "Li3PS4": ["Cl", "Si", "Ge"],
               "Li6PS5Cl": ["Br", "I", "Si"]}
    parts = []
    rng = np.random.default_rng(0)
    for parent, dopants in parents.items():
        c = generate_doped(parent, dopants)
        keep = np.sort(rng.choice(len(c), size=min(n_per_parent, len(c)), replace=False))
        parts.append(c.take(keep))
    return Candidates.concat(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-per-parent", type=int, default=100)
    args = parser.parse_args()

    from ssbml.stability.batch import hull_of, stability_table
    from ssbml.stability.interface import interface_reaction
    from ssbml.stability.reference import phase_diagram
    from ssbml.stability.window import electrochemical_window

    cands = candidates(args.n_per_parent)
    X = cands.fractions
    formulas = X.to_formulas(decimals=6)
    # warm both routes' shared caches (reference table, phase diagrams, hulls)
    for f in formulas:
        els = [e for e, a in zip(X.elements, X.amounts()[formulas.index(f)], strict=True) if a > 0]
        phase_diagram(els)
        phase_diagram(els + ["Co", "O"])
        hull_of(els)
        hull_of(els + ["Co", "O"])

    t0 = time.perf_counter()
    fast = stability_table(X.amounts(), X.elements, products=False)
    t_fast = time.perf_counter() - t0

    t0 = time.perf_counter()
    slow = []
    for f in formulas:
        w = electrochemical_window(f)
        slow.append((w.reduction_V, w.oxidation_V,
                     interface_reaction(f, "Li").energy_meV_atom,
                     interface_reaction(f, "LiCoO2").energy_meV_atom))
    t_slow = time.perf_counter() - t0
    slow = np.array(slow)
    # pymatgen treats reference compounds (the undoped parents) with their own
    # energy only in the total; the mutual energies compared here are both at hull
    d_red = np.abs(fast["reduction_V"].to_numpy() - slow[:, 0]).max()
    d_ox = np.abs(fast["oxidation_V"].to_numpy() - slow[:, 1]).max()
    d_li = np.abs(fast["rxn_Li_meV_atom"].to_numpy() - slow[:, 2]).max()
    d_lco = np.abs(fast["rxn_LiCoO2_meV_atom"].to_numpy() - slow[:, 3]).max()
    print(f"candidates: {len(X)} (3 parents, doped); cores={os.cpu_count()}; "
          f"load={os.getloadavg()[0]:.2f}")
    print(f"max |diff| reduction {d_red:.2e} V, oxidation {d_ox:.2e} V, "
          f"rxn_Li {d_li:.2e} meV/atom, rxn_LiCoO2 {d_lco:.2e} meV/atom")
    ok = d_red < 1e-6 and d_ox < 1e-6 and d_li < 1e-3 and d_lco < 1e-3
    print(f"identical within 1e-6 V and 1e-3 meV/atom: {'yes' if ok else 'NO'}")
    print(f"ssbml batched: {t_fast:.3f} s ({len(X) / t_fast:,.0f} candidates/s); "
          f"pymatgen per composition: {t_slow:.1f} s ({len(X) / t_slow:,.1f}/s); "
          f"ratio {t_slow / t_fast:,.0f}x (target >= 100x)")


if __name__ == "__main__":
    main()
