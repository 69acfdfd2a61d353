"""Agreement of structure-aware and composition-only values on parent structures, and
the cost of the structure step (issue 13 item 5).

    SSBML_DATA_DIR=/work/shared/data SSBML_OFFLINE=1 python \
        experiments/parent_structure_agreement.py --cif-dir /tmp/p13c

``--cif-dir`` holds the OBELiX CIFs written by ``obelix_cif_text`` as ``<ID>.cif``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

PARENTS = [  # (OBELiX ID, what, dopants, forced sites)
    ("72f", "cubic Al-LLZO garnet", ("Ta", "Ga", "Nb"), {"Ga": "Li"}),
    ("wyu", "tetragonal LLZO garnet (ordered)", ("Ta", "Al", "Ga"), {}),
    ("122", "argyrodite Li6PS5Cl", ("Br", "Si", "Ge"), {}),
    ("019", "NASICON LiTi2(PO4)3", ("Al", "Ga", "Sc"), {}),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cif-dir", type=Path, required=True)
    args = parser.parse_args()
    import pandas as pd

    from ssbml.ml.store import load_model
    from ssbml.screening.parent_structure import (
        STRUCTURE_MODEL,
        apply_structure_agreement,
        structure_columns,
    )
    from ssbml.screening.predict import ScreeningModels, predict_chunk
    from ssbml.screening.run import ScreenSpec, build_candidates

    model = load_model(STRUCTURE_MODEL)
    models = ScreeningModels.load()
    for oid, what, dopants, sites in PARENTS:
        spec = ScreenSpec(parent_structure=str(args.cif_dir / f"{oid}.cif"),
                          dopants=dopants, sites=sites)
        p = spec.parent_structure_info
        cands, _ = build_candidates(spec)
        t = time.perf_counter()
        st = structure_columns(p, cands, model)
        dt = time.perf_counter() - t
        comp = predict_chunk(cands.fractions, cands.labels, models, exact_stability=False)
        table = apply_structure_agreement(comp.merge(st, on="candidate_id"))
        print(f"\n## {oid} {what}: {p.formula} Z={p.z} {p.space_group} ({p.space_group_number}),"
              f" sha256 {p.sha256[:12]}; {len(cands)} candidates, structure step {dt:.2f} s "
              f"= {len(cands) / dt:.0f} candidates/s; parent domain distance "
              f"{st['structure_domain_distance'].iloc[0]:.2f} (threshold "
              f"{model.threshold_:.2f}); flagged {int(table['structure_flag'].sum())}, no "
              f"structure value {int(table['log10_sigma_structure'].isna().sum())}")
        show = table.sort_values("log10_sigma_composition", ascending=False)
        show = pd.concat([table[table["doping"] == ""], show.head(4)])
        for r in show.itertuples():
            print(f"| {oid} | {r.composition} | {r.log10_sigma_composition:.2f} | "
                  f"{r.log10_sigma_structure:.2f} | {'flag' if r.structure_flag else 'ok'} |")


if __name__ == "__main__":
    main()
