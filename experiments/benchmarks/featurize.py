"""Benchmark: ssbml composition featurizers against matminer, and 1,000,000 generated
candidates through the default union.

Run from the repository root (data from the mirror or the user cache)::

    SSBML_DATA_DIR=../shared/data python experiments/benchmarks/featurize.py

Part 1 featurizes every OBELiX (``True Composition``) and Liverpool composition with
matminer (ElementProperty on pymatgen data for the 14 shared properties x 6 statistics,
the same statistics of the 10 Magpie valence-electron properties, Stoichiometry and
ValenceOrbital) and with the ssbml featurizers of the same features, from the same
pymatgen Compositions, and prints both throughputs and their ratio; it also times the
issue's reference matminer set (Magpie preset + Stoichiometry + ValenceOrbital).
Part 2 generates 1,000,000 doped garnet / argyrodite / NASICON variants as an
ElementFractions matrix and featurizes them with the default union, printing the wall
time and the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import warnings

import numpy as np
import pandas as pd

from experiments.matminer_names import MAGPIE_PROPS, MATMINER_STATS, PYMATGEN_PROPS
from ssbml.composition import ElementFractions, parse_formulas
from ssbml.data.registry import fetch
from ssbml.features import ELEMENT_PROPERTIES, default_featurizer, make_featurizer


def load_compositions() -> list:
    obelix = pd.read_csv(fetch("obelix"))["True Composition"].tolist()
    liverpool = pd.read_csv(fetch("liverpool"), encoding="utf-8-sig")["composition"].tolist()
    batch = parse_formulas(obelix + liverpool, require_li=False)
    if len(batch.rejected):
        raise SystemExit(f"unparsable compositions:\n{batch.rejected}")
    return batch.compositions


def bench_matminer(comps: list) -> tuple[float, float]:
    """Seconds for the shared feature set and for the issue's Magpie reference set."""
    from matminer.featurizers.composition import (
        ElementProperty,
        Stoichiometry,
        ValenceOrbital,
    )

    shared = [
        ElementProperty("pymatgen", list(PYMATGEN_PROPS.values()), MATMINER_STATS, False),
        ElementProperty("magpie", list(MAGPIE_PROPS.values()), MATMINER_STATS, False),
        Stoichiometry(),
        ValenceOrbital(),
    ]
    reference = [ElementProperty.from_preset("magpie"), Stoichiometry(), ValenceOrbital()]
    times = []
    for featurizers in (shared, reference):
        start = time.perf_counter()
        for comp in comps:
            for f in featurizers:
                f.featurize(comp)
        times.append(time.perf_counter() - start)
    return times[0], times[1]


def ssbml_shared():
    """The same features in one ssbml pass: the 24 element properties (the 14 pymatgen
    ones and the 10 valence counts) x 6 statistics, stoichiometry, valence orbitals."""
    return make_featurizer(["element_property", "stoichiometry", "valence_orbital"])


def bench_ssbml(comps: list, repeats: int) -> float:
    """Best-of-``repeats`` seconds for the shared set on the same Compositions."""
    featurizer = ssbml_shared().fit()
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        featurizer.transform(comps)
        best = min(best, time.perf_counter() - start)
    return best


def generate_candidates(n: int, seed: int = 0) -> ElementFractions:
    """Doped garnet, argyrodite and NASICON variants, one third each, as amounts per
    formula unit (continuous dopant levels, so every row is a different composition)."""
    rng = np.random.default_rng(seed)
    elements = ["Li", "B", "O", "Al", "Si", "P", "S", "Cl", "Ti", "Ga", "Ge", "Br", "Zr",
                "Nb", "I", "La", "Ta"]
    col = {e: j for j, e in enumerate(elements)}
    amounts = np.zeros((n, len(elements)))
    kind = rng.integers(0, 3, n)
    rows = np.arange(n)
    # garnet Li(7-x-3y) Al/Ga(y) La3 Zr(2-x) Ta/Nb(x) O12
    g = rows[kind == 0]
    x, y = rng.uniform(0, 1, len(g)), rng.uniform(0, 0.3, len(g)) * rng.integers(0, 2, len(g))
    m5 = np.where(rng.integers(0, 2, len(g)) == 0, col["Ta"], col["Nb"])
    m3 = np.where(rng.integers(0, 2, len(g)) == 0, col["Al"], col["Ga"])
    amounts[g, col["Li"]] = 7 - x - 3 * y
    amounts[g, m3] = y
    amounts[g, col["La"]] = 3
    amounts[g, col["Zr"]] = 2 - x
    amounts[g, m5] = x
    amounts[g, col["O"]] = 12
    # argyrodite Li(6-x+z) P(1-z) Si/Ge(z) S(5-x) X(1+x)
    a = rows[kind == 1]
    x, z = rng.uniform(0, 0.7, len(a)), rng.uniform(0, 0.5, len(a)) * rng.integers(0, 2, len(a))
    hal = np.array([col["Cl"], col["Br"], col["I"]])[rng.integers(0, 3, len(a))]
    m4 = np.where(rng.integers(0, 2, len(a)) == 0, col["Si"], col["Ge"])
    amounts[a, col["Li"]] = 6 - x + z
    amounts[a, col["P"]] = 1 - z
    amounts[a, m4] += z
    amounts[a, col["S"]] = 5 - x
    amounts[a, hal] = 1 + x
    # NASICON Li(1+x) Al/Ga(x) Ti/Ge(2-x) (PO4)3, some B on P
    s = rows[kind == 2]
    x, b = rng.uniform(0, 0.7, len(s)), rng.uniform(0, 0.2, len(s)) * rng.integers(0, 2, len(s))
    m3 = np.where(rng.integers(0, 2, len(s)) == 0, col["Al"], col["Ga"])
    m4 = np.where(rng.integers(0, 2, len(s)) == 0, col["Ti"], col["Ge"])
    amounts[s, col["Li"]] = 1 + x + 2 * b
    amounts[s, m3] = x
    amounts[s, m4] = 2 - x
    amounts[s, col["P"]] = 3 - b
    amounts[s, col["B"]] = b
    amounts[s, col["O"]] = 12
    return ElementFractions.from_amounts(amounts, elements)


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # ru_maxrss is KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-candidates", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-matminer", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"load average: {os.getloadavg()}")

    shared_props = {**PYMATGEN_PROPS, **MAGPIE_PROPS}
    if {p.name for p in ELEMENT_PROPERTIES} != set(shared_props):
        raise SystemExit("ssbml's element properties and the matminer set differ")
    comps = load_compositions()
    n = len(comps)
    t_ssbml = bench_ssbml(comps, args.repeats)
    n_feat = len(ssbml_shared().get_feature_names_out())
    print(f"compositions: {n} (OBELiX True Composition + Liverpool), shared features: {n_feat}")
    print(f"ssbml shared set:    {n / t_ssbml:12,.0f} compositions/s ({t_ssbml:.4f} s)")
    if not args.skip_matminer:
        t_mm, t_ref = bench_matminer(comps)
        print(f"matminer shared set: {n / t_mm:12,.0f} compositions/s ({t_mm:.2f} s)")
        print(f"ratio ssbml / matminer (shared set): {t_mm / t_ssbml:,.0f}x")
        print(
            f"matminer reference (Magpie preset + Stoichiometry + ValenceOrbital): "
            f"{n / t_ref:,.0f} compositions/s ({t_ref:.2f} s)"
        )

    ef = generate_candidates(args.n_candidates)
    featurizer = default_featurizer().fit()
    rss_before = peak_rss_gib()
    start = time.perf_counter()
    table = featurizer.transform(ef)
    elapsed = time.perf_counter() - start
    print(
        f"default union on {len(ef):,} generated candidates: {elapsed:.1f} s "
        f"({len(ef) / elapsed:,.0f} compositions/s), {table.shape[1]} features, "
        f"peak RSS {peak_rss_gib():.2f} GiB (before featurizing {rss_before:.2f} GiB), "
        f"NaN cells {int(table.isna().to_numpy().sum())}, "
        f"charge balanced {table['charge_balanced'].mean():.3f}"
    )
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
