"""Hyperparameter search with grouped folds, so near-duplicate compositions (same
chemical system, or same family) never sit on both sides of a split."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import RegressorMixin

__all__ = ["GroupedSearchResult", "grouped_search"]


class GroupedSearchResult(dict):
    """``best_params``, ``best_mae`` (log10 S/cm, grouped CV) and ``table`` (all candidates)."""


def grouped_search(
    regressor: RegressorMixin,
    space: dict[str, list[Any]],
    features: pd.DataFrame | np.ndarray,
    y: Any,
    groups: Any,
    *,
    n_splits: int = 5,
    n_iter: int | None = None,
    random_state: int = 0,
    n_jobs: int = 1,
) -> GroupedSearchResult:
    """Grid search (or ``n_iter`` random candidates) of ``regressor`` over ``space`` on
    pre-computed features, scored by MAE over :class:`~sklearn.model_selection.GroupKFold`.
    """
    from sklearn.model_selection import GridSearchCV, GroupKFold, RandomizedSearchCV

    if not space:
        raise ValueError("empty search space")
    n_groups = len(np.unique(groups))
    if n_groups < n_splits:
        raise ValueError(f"{n_groups} group(s) cannot make {n_splits} grouped folds")
    X = np.asarray(features.values if isinstance(features, pd.DataFrame) else features, float)
    cv = list(GroupKFold(n_splits=n_splits).split(X, y, groups))
    common = {"scoring": "neg_mean_absolute_error", "cv": cv, "n_jobs": n_jobs, "refit": False}
    if n_iter is None:
        search = GridSearchCV(regressor, space, **common)
    else:
        search = RandomizedSearchCV(
            regressor, space, n_iter=n_iter, random_state=random_state, **common
        )
    from ssbml.ml.regressors import single_thread

    with single_thread():
        search.fit(X, np.asarray(y, dtype=float))
    table = pd.DataFrame(search.cv_results_)
    table = table[["params", "mean_test_score", "std_test_score", "rank_test_score"]].copy()
    table["cv_mae"] = -table.pop("mean_test_score")
    table = table.sort_values("rank_test_score").reset_index(drop=True)
    return GroupedSearchResult(
        best_params=search.best_params_, best_mae=float(-search.best_score_), table=table
    )
