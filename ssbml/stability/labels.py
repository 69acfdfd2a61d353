"""Thermodynamic stability labels for every Li compound of the reference table.

For each Li-containing reduced formula of the MP formation-energy table (9,161 of
them): electrochemical window (V vs Li/Li+), energy above hull and decomposition
energy (meV/atom), and the most negative interface-reaction energy (meV/atom of
mixture) with Li metal and LiCoO2.

Compositions are grouped by the chemical system of their LiCoO2 mixture (own
elements + Co + O), so each system's reference points are gathered once: the
composition's own chemical system for the window, hull and Li reaction, the combined
one for LiCoO2. Every quantity is a small linear program
(:class:`ssbml.stability.hull_lp.HullLP`, tested to agree with the pymatgen
implementations in :mod:`ssbml.stability.window`, :mod:`~ssbml.stability.interface`
and :mod:`~ssbml.stability.decomposition`); no convex hull is built. Groups run in
parallel with joblib. A failing composition gets NaN and a reason in
``error``; it never stops the run. The full table is cached as parquet in the user
cache, keyed by the data file's sha256, :data:`LABELS_VERSION` and the pymatgen
version.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterable, Sequence
from functools import cache
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from ssbml.data.registry import cache_dir, get_dataset
from ssbml.data.thermo import thermo_table
from ssbml.stability.decomposition import STABLE_TOL_EV
from ssbml.stability.hull_lp import HullLP
from ssbml.stability.interface import ELECTRODES

__all__ = [
    "LABELS_VERSION",
    "LABEL_COLUMNS",
    "compute_labels",
    "label_cache_path",
    "li_formulas",
    "load_labels",
]

LABELS_VERSION = 2
"""Bump when the label computation changes (invalidates the disk cache)."""

REL_TOL = 0.05
"""Li exchange (fraction of the compound's Li) still counted as none (see window)."""

LABEL_COLUMNS = (
    "formula",
    "chemsys",
    "n_elements",
    "reduction_V",
    "oxidation_V",
    "window_method",
    "e_above_hull_meV_atom",
    "decomposition_energy_meV_atom",
    "rxn_Li_meV_atom",
    "rxn_Li_ratio",
    "rxn_LiCoO2_meV_atom",
    "rxn_LiCoO2_ratio",
    "error",
)
"""Label columns: reduced formula, chemical system, number of elements, window
(V vs Li/Li+) with its method ("zero" or "sign change"), energy above hull and
decomposition energy (meV/atom; the latter negative for stable compounds), reaction
energies (meV/atom of mixture) with Li metal and LiCoO2 and the electrolyte atomic
fraction at the minimum, and the failure reason ("" when every target was computed)."""


def li_formulas() -> list[str]:
    """Every Li-containing reduced formula of the reference table except Li itself."""
    frame = thermo_table().frame
    has_li = frame["chemsys"].str.split("-").map(lambda els: "Li" in els)
    return sorted(frame.loc[has_li & (frame["n_elements"] > 1), "formula"])


def _label_one(formula: str, own: HullLP, mix: HullLP, e_cathode: float) -> dict:
    """All labels of one reference compound from the LPs of its own chemical system
    and of its LiCoO2 mixture; ``e_cathode`` is LiCoO2's hull energy (eV/atom) there."""
    from pymatgen.core import Composition

    row: dict = {"formula": formula}
    errors = []
    comp = Composition(formula)
    e_form = thermo_table().e_form_eV_atom(formula)
    own_hull = cache(lambda: own.hull_energy(own.vector(comp)))  # eV/atom, solved once
    steps = (
        ("window", lambda: _window_labels(own, comp, own_hull())),
        ("hull", lambda: _hull_labels(own, own.vector(comp), formula, e_form, own_hull())),
        # mutual reaction energies: both reactants at their hull energies
        ("rxn_Li", lambda: _rxn_labels(own, own.vector(comp), own_hull(), "Li", 0.0)),
        ("rxn_LiCoO2", lambda: _rxn_labels(mix, mix.vector(comp), own_hull(), "LiCoO2",
                                           e_cathode)),
    )
    for name, step in steps:
        try:
            row.update(step())
        except Exception as err:  # never kill the run: record why
            errors.append(f"{name}: {type(err).__name__}: {err}")
    row["error"] = "; ".join(errors)
    return row


def _window_labels(own: HullLP, comp, hull: float) -> dict:
    red, ox, method = own.window(comp, REL_TOL, hull=hull)
    return {"reduction_V": red, "oxidation_V": ox, "window_method": method}


def _hull_labels(own: HullLP, p: np.ndarray, formula: str, e_form: float, hull: float) -> dict:
    """Energy above hull and decomposition energy (meV/atom) from the hull energy
    ``hull`` (eV/atom) at fractions ``p``."""
    e_hull = max(e_form - hull, 0.0)
    if e_hull > STABLE_TOL_EV:
        e_dec = e_hull
    else:
        e_hull = 0.0
        e_dec = own.separation_energy(p, formula, e_form) if np.count_nonzero(p) > 1 else np.nan
    return {
        "e_above_hull_meV_atom": 1000.0 * e_hull,
        "decomposition_energy_meV_atom": 1000.0 * e_dec,
    }


def _rxn_labels(lp: HullLP, p: np.ndarray, hull: float, name: str, e_electrode: float) -> dict:
    """Mutual reaction energy (meV/atom of mixture; both reactants at their hull
    energies: ``hull`` for the compound, ``e_electrode`` for the electrode, eV/atom) and
    the ratio (NaN: no reaction)."""
    from pymatgen.core import Composition

    c2 = lp.vector(Composition(ELECTRODES[name].formula))
    energy, x, _ = lp.min_reaction(p, hull, c2, e_electrode)
    reacts = energy < -1e-9
    return {
        f"rxn_{name}_meV_atom": min(1000.0 * energy, 0.0) + 0.0 if reacts else 0.0,
        f"rxn_{name}_ratio": x + 0.0 if reacts else float("nan"),
    }


def _label_group(mix_chemsys: str, members: Sequence[tuple[str, str]]) -> list[dict]:
    """Labels of the compositions whose LiCoO2 mixture is in ``mix_chemsys``;
    ``members`` are (formula, own chemical system) pairs."""
    from pymatgen.core import Composition

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            mix = HullLP.from_reference(mix_chemsys.split("-"))
            # LiCoO2 at its hull energy (mutual reactions), solved once per group
            e_cathode = mix.hull_energy(mix.vector(Composition(ELECTRODES["LiCoO2"].formula)))
        except Exception as err:
            return [{"formula": f, "error": f"reference {mix_chemsys}: {err}"} for f, _ in members]
        own_lps: dict[str, HullLP] = {mix_chemsys: mix}
        rows = []
        for formula, own_key in members:
            try:
                if own_key not in own_lps:
                    own_lps[own_key] = HullLP.from_reference(own_key.split("-"))
                rows.append(_label_one(formula, own_lps[own_key], mix, e_cathode))
            except Exception as err:
                rows.append({"formula": formula, "error": f"setup: {type(err).__name__}: {err}"})
        return rows


def _groups(
    formulas: Iterable[str], chemsys: pd.Series
) -> list[tuple[str, list[tuple[str, str]]]]:
    """(LiCoO2-mixture chemical system, [(formula, own chemical system), ...]) groups;
    ``chemsys`` maps each formula to its chemical system."""
    from ssbml.stability.reference import chemsys_of

    groups: dict[str, list[tuple[str, str]]] = {}
    for f in formulas:
        own = chemsys.at[f]
        groups.setdefault(chemsys_of([*own.split("-"), "Co", "O"]), []).append((f, own))
    # largest systems first so the parallel tail is short
    return sorted(groups.items(), key=lambda kv: (-len(kv[0].split("-")), -len(kv[1])))


def compute_labels(
    formulas: Iterable[str] | None = None, *, n_jobs: int = 1, verbose: int = 0
) -> pd.DataFrame:
    """Labels (see :data:`LABEL_COLUMNS`) for reduced formulas of the reference table
    (default: all Li compounds), computed in parallel over chemical systems."""
    from joblib import Parallel, delayed

    from ssbml.stability.reference import StabilityInputError

    formulas = li_formulas() if formulas is None else list(formulas)
    table = thermo_table()
    missing = [f for f in formulas if table.lookup(f) is None]
    if missing:
        raise StabilityInputError(
            missing[0], f"not a reduced formula of the reference table ({len(missing)} such)"
        )
    indexed = table.frame.set_index("formula")
    groups = _groups(formulas, indexed["chemsys"])
    results = Parallel(n_jobs=n_jobs, verbose=verbose)(
        delayed(_label_group)(key, members) for key, members in groups
    )
    rows = [row for group in results for row in group]
    out = pd.DataFrame(rows).reindex(columns=list(LABEL_COLUMNS))
    meta = indexed.loc[out["formula"], ["chemsys", "n_elements"]]
    out["chemsys"] = meta["chemsys"].to_numpy()
    out["n_elements"] = meta["n_elements"].to_numpy()
    out["error"] = out["error"].fillna("")
    out["window_method"] = out["window_method"].fillna("")
    order = {f: i for i, f in enumerate(formulas)}
    out = out.sort_values("formula", key=lambda s: s.map(order)).reset_index(drop=True)
    for col in LABEL_COLUMNS:
        if col.endswith(("_V", "_meV_atom", "_ratio")):
            out[col] = out[col].astype(float)
    return out


def label_cache_path() -> Path:
    """Parquet cache of the full label table (data sha256 + code version)."""
    key = (
        f"{get_dataset('mp-e-form').sha256}|{LABELS_VERSION}|ssbml {version('ssbml')}"
        f"|pymatgen {version('pymatgen')}|scipy {version('scipy')}"
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_dir() / "stability" / f"labels_{digest}.parquet"


def load_labels(*, n_jobs: int = 1, use_cache: bool = True, verbose: int = 0) -> pd.DataFrame:
    """The label table of every Li compound of the reference table (9,161 rows), from
    the disk cache or computed (then cached)."""
    path = label_cache_path()
    if use_cache and path.is_file():
        return pd.read_parquet(path)
    labels = compute_labels(n_jobs=n_jobs, verbose=verbose)
    from ssbml.io import atomic_write_parquet

    atomic_write_parquet(labels, path)
    return labels


def label_summary(labels: pd.DataFrame) -> dict[str, float]:
    """Counts and medians of a label table (for reports)."""
    ok = labels["error"] == ""
    return {
        "n": float(len(labels)),
        "n_failed": float((~ok).sum()),
        "median_reduction_V": float(np.nanmedian(labels["reduction_V"])),
        "median_oxidation_V": float(np.nanmedian(labels["oxidation_V"])),
        "fraction_on_hull": float((labels["e_above_hull_meV_atom"] <= 1e-6).mean()),
    }
