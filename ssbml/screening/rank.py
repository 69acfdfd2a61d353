"""Filters, Pareto front and score for screened candidates.

The score is the lower confidence bound of the predicted conductivity (log10 S/cm): a
candidate ranks high only if the model is confident it conducts well. The Pareto front
is taken over that bound and a stability objective (by default the width of the
electrochemical window, V).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["RankingCriteria", "pareto_front", "rank_candidates"]

STABILITY_OBJECTIVES = {
    "window_width_V": "width of the electrochemical window (V), larger is better",
    "oxidation_V": "oxidation limit (V vs Li/Li+), larger is better",
    "rxn_LiCoO2_meV_atom": "reaction energy with LiCoO2 (meV/atom), closer to 0 is better",
    "rxn_Li_meV_atom": "reaction energy with Li metal (meV/atom), closer to 0 is better",
}


@dataclass(frozen=True)
class RankingCriteria:
    """What a candidate must satisfy and how it is ordered.

    ``min_log10_sigma``: lowest acceptable predicted conductivity (log10 S/cm);
    ``window_V``: (low, high) in V vs Li/Li+ that the window must cover;
    ``max_rxn_meV_atom``: largest acceptable |reaction energy| (meV/atom) with Li metal
    and with LiCoO2; ``require_in_domain`` (default): out-of-domain candidates (see
    ``in_domain``/``domain_reason``) never pass the filters.
    """

    min_log10_sigma: float | None = None
    window_V: tuple[float, float] | None = None
    max_rxn_meV_atom: float | None = None
    stability_objective: str = "window_width_V"
    require_in_domain: bool = True

    def __post_init__(self) -> None:
        if self.stability_objective not in STABILITY_OBJECTIVES:
            raise ValueError(
                f"stability objective must be one of {sorted(STABILITY_OBJECTIVES)}, "
                f"got {self.stability_objective!r}"
            )
        if self.window_V is not None and self.window_V[0] > self.window_V[1]:
            raise ValueError(f"window_V must be (low, high) in V, got {self.window_V}")
        if self.max_rxn_meV_atom is not None and self.max_rxn_meV_atom < 0:
            raise ValueError("max_rxn_meV_atom is a magnitude in meV/atom and must be >= 0")


def pareto_front(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mask of points not dominated when maximizing both ``a`` and ``b`` (NaN never
    on the front). O(n log n)."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    mask = np.zeros(len(a), dtype=bool)
    ok = np.flatnonzero(np.isfinite(a) & np.isfinite(b))
    if ok.size == 0:
        return mask
    order = ok[np.lexsort((-b[ok], -a[ok]))]  # a descending, then b descending
    best_b = -np.inf
    for i in order:
        if b[i] > best_b:
            mask[i] = True
            best_b = b[i]
    return mask


def rank_candidates(df: pd.DataFrame, criteria: RankingCriteria | None = None) -> pd.DataFrame:
    """Add ``window_width_V``, ``passes_filters``, ``pareto``, ``score`` and ``rank``
    (1 = best; passing candidates first, then by score), sorted by rank."""
    criteria = criteria or RankingCriteria()
    out = df.copy()
    if {"reduction_V", "oxidation_V"} <= set(out.columns):
        out["window_width_V"] = out["oxidation_V"] - out["reduction_V"]
    passes = np.ones(len(out), dtype=bool)
    if criteria.min_log10_sigma is not None:
        passes &= out["log10_sigma"].to_numpy() >= criteria.min_log10_sigma
    if criteria.window_V is not None:
        if not {"reduction_V", "oxidation_V"} <= set(out.columns):
            raise ValueError("a window filter needs stability predictions (no stability model)")
        lo, hi = criteria.window_V
        passes &= (out["reduction_V"].to_numpy() <= lo) & (out["oxidation_V"].to_numpy() >= hi)
    if criteria.max_rxn_meV_atom is not None:
        cols = [c for c in ("rxn_Li_meV_atom", "rxn_LiCoO2_meV_atom") if c in out.columns]
        if not cols:
            raise ValueError("a reaction-energy filter needs stability predictions")
        for c in cols:
            passes &= np.abs(out[c].to_numpy()) <= criteria.max_rxn_meV_atom
    if criteria.require_in_domain and "in_domain" in out.columns:
        passes &= out["in_domain"].fillna(False).to_numpy(dtype=bool)
    out["passes_filters"] = passes
    # with a parent structure the score is the ranking bound of parent_structure.py
    score_col = ("rank_log10_sigma_lower" if "rank_log10_sigma_lower" in out.columns
                 else "log10_sigma_lower")
    out["score"] = out[score_col].to_numpy(dtype=float)
    objective = criteria.stability_objective
    if objective in out.columns:
        # reaction energies are <= 0; closer to zero is better, so maximize them as they are
        stab = out[objective].to_numpy(dtype=float)
        out["pareto"] = pareto_front(out["score"].to_numpy(), stab)
    else:
        out["pareto"] = False
    order = np.lexsort((out["candidate_id"].to_numpy(), -out["score"].to_numpy(), ~passes))
    out = out.iloc[order].reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out
