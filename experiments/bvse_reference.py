"""BVSE (bvlain) Li+ percolation barriers of well-known conductors, for comparison with
published values, and the cost per structure.

    SSBML_DATA_DIR=../shared/data nice python experiments/bvse_reference.py

Structures: LiFePO4 from its experimental olivine coordinates (below; the OBELiX set
has no LiFePO4), and OBELiX CIFs (noise-randomized positions) of Li3N, beta-Li3PS4,
tetragonal LLZO, LiTi2(PO4)3 (ordered and disordered CIFs), LATP and LGPS. LiFePO4 is
also run after the same kind of randomization as the OBELiX CIFs (Gaussian noise of
sigma 0.01 on fractional coordinates, 3 seeds) to show what that noise does to BVSE.
Each structure is run at the CLI default grid (<= 120,000 points) and at the coarse
grid of the descriptor benchmark (<= 25,000 points).
"""

from __future__ import annotations

import time

import numpy as np

from ssbml.data.structures import obelix_structure, parse_structure
from ssbml.structure.bvse import migration_report

LIFEPO4_CIF = """data_LiFePO4
_symmetry_space_group_name_H-M   'P n m a'
_symmetry_Int_Tables_number   62
_cell_length_a   10.332
_cell_length_b   6.010
_cell_length_c   4.692
_cell_angle_alpha   90
_cell_angle_beta   90
_cell_angle_gamma   90
loop_
_atom_site_label
_atom_site_type_symbol
_atom_site_fract_x
_atom_site_fract_y
_atom_site_fract_z
_atom_site_occupancy
Li1 Li 0.0000 0.0000 0.0000 1
Fe1 Fe 0.2822 0.2500 0.9747 1
P1 P 0.0949 0.2500 0.4183 1
O1 O 0.0968 0.2500 0.7424 1
O2 O 0.4571 0.2500 0.2060 1
O3 O 0.1658 0.0466 0.2847 1
"""

OBELIX = [
    ("gvd", "Li3N"),
    ("nhq", "beta-Li3PS4"),
    ("wyu", "Li7La3Zr2O12 (tetragonal)"),
    ("rr5", "LiTi2(PO4)3 (ordered CIF)"),
    ("019", "LiTi2(PO4)3 (disordered CIF)"),
    ("9s4", "Li1.3Al0.3Ti1.7(PO4)3 (LATP)"),
    ("mtn", "Li10GeP2S12"),
]


def _randomized(structure, seed: int):
    rng = np.random.default_rng(seed)
    noisy = structure.copy()
    for i, site in enumerate(structure):
        noisy.replace(i, site.species, site.frac_coords + rng.normal(0, 0.01, 3))
    return noisy


def _row(name: str, structure, grid: int) -> str:
    start = time.perf_counter()
    r = migration_report(structure, name, settings={"max_grid_points": grid})
    wall = time.perf_counter() - start
    e = r.barriers_eV
    fmt = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
    return (f"| {name} | {r.structure_model} | {grid:,} ({r.settings['resolution_used_A']} A) "
            f"| {fmt(e['1D'])} | {fmt(e['2D'])} | {fmt(e['3D'])} "
            f"| {r.percolation_radius_A['3D']:.2f} | {len(structure)} | {wall:.1f} |")


def main() -> None:
    print("| structure | model | grid points (spacing) | E1D eV | E2D eV | E3D eV "
          "| r3D A | sites | s |")
    print("|---|---|---|---|---|---|---|---|---|")
    lfp = parse_structure(LIFEPO4_CIF, "LiFePO4 (experimental coordinates)")
    for grid in (120_000, 25_000):
        print(_row("LiFePO4 (experimental coordinates)", lfp, grid), flush=True)
    for seed in range(3):
        print(_row(f"LiFePO4 randomized sigma=0.01, seed {seed}", _randomized(lfp, seed),
                   120_000), flush=True)
    for sid, label in OBELIX:
        s = obelix_structure(sid)
        for grid in (120_000, 25_000):
            print(_row(f"{label} [OBELiX {sid}]", s, grid), flush=True)


if __name__ == "__main__":
    main()
