"""Time the generation of the thermodynamic stability labels for every Li compound
of the MP formation-energy table (issue 5, part 2).

Usage::

    python experiments/benchmarks/labels.py --n-jobs 2            # full set, ~9,160
    python experiments/benchmarks/labels.py --n-jobs 1 --sample 200

The full run recomputes (ignores the cache) and then writes the label cache
(parquet in the user cache), so later ``load_labels()`` calls are instant.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--sample", type=int, default=0, help="random subset (0 = all)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from ssbml.data.thermo import thermo_table
    from ssbml.stability import labels as L

    t0 = time.perf_counter()
    thermo_table()
    t_table = time.perf_counter() - t0
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    if args.sample:
        formulas = random.Random(args.seed).sample(L.li_formulas(), args.sample)
        out = L.compute_labels(formulas, n_jobs=args.n_jobs)
    else:
        out = L.load_labels(n_jobs=args.n_jobs, use_cache=False)
    elapsed = time.perf_counter() - t0
    load_after = os.getloadavg()

    failed = out[out["error"] != ""]
    summary = L.label_summary(out)
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, n_jobs={args.n_jobs}")
    print(f"load average before/after (1, 5, 15 min): {load_before} / {load_after}")
    print(f"reference table load: {t_table:.1f} s")
    print(f"labels: {len(out)} compositions in {elapsed:.1f} s "
          f"({1000 * elapsed / max(len(out), 1):.1f} ms each)")
    print(f"failed: {len(failed)}")
    if len(failed):
        print(failed[["formula", "error"]].head(10).to_string(index=False))
    print("window methods:", out["window_method"].value_counts().to_dict())
    for key, value in summary.items():
        print(f"{key}: {value:.3f}")
    for col in ("reduction_V", "oxidation_V", "e_above_hull_meV_atom",
                "rxn_Li_meV_atom", "rxn_LiCoO2_meV_atom"):
        q = out[col].quantile([0.1, 0.5, 0.9]).round(2).tolist()
        print(f"{col}: 10/50/90% = {q}, NaN = {out[col].isna().sum()}")
    if not args.sample:
        print(f"cache: {L.label_cache_path()}")


if __name__ == "__main__":
    main()
