"""Structure descriptors (BVSE barriers etc.) of every OBELiX CIF, cached by structure hash.

    SSBML_DATA_DIR=../shared/data SSBML_CACHE_DIR=/tmp/ssbml-cache \
        nice python experiments/structure_descriptors.py --max-grid-points 40000 \
        --out /tmp/obelix_structure_descriptors.csv

Prints the cost per structure (median and total seconds) and the failures by reason.
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from ssbml.data.structures import load_obelix_structures
from ssbml.structure.descriptors import FEATURE_NAMES, StructureFeaturizer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-grid-points", type=int, default=None)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--ids", nargs="*", default=None)
    parser.add_argument("--out", default="/tmp/obelix_structure_descriptors.csv")
    args = parser.parse_args()
    settings = {"max_grid_points": args.max_grid_points} if args.max_grid_points else None
    df = load_obelix_structures(ids=args.ids)
    feat = StructureFeaturizer(n_jobs=args.n_jobs, settings=settings)
    start = time.perf_counter()
    rows = feat.descriptors(df)
    wall = time.perf_counter() - start
    table = pd.DataFrame(rows)
    table.insert(0, "id", df["id"].to_numpy())
    table.insert(1, "split", df["split"].to_numpy())
    table.insert(2, "composition", df["composition"].to_numpy())
    table.to_csv(args.out, index=False)
    ok = table["error"].isna()
    print(f"{len(table)} structures, BVSE ok {int(ok.sum())}, wall {wall:.0f} s")
    if "seconds" in table:
        s = table.loc[ok, "seconds"]
        print(f"seconds per structure (cached runs keep the first timing): median {s.median():.1f}"
              f", mean {s.mean():.1f}, max {s.max():.1f}, total {s.sum():.0f}")
    reasons = table.loc[~ok, "error"].str.split(": ", n=1).str[1].str.split(" \\(").str[0]
    print(reasons.value_counts().to_string())
    print(table[list(FEATURE_NAMES)].describe().T[["count", "mean", "50%"]].to_string())


if __name__ == "__main__":
    main()
