"""The regressor zoo for small tabular data: tree ensembles, gradient boosting, kernel
methods and a stack of them. Every model has a fixed ``random_state`` (deterministic)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.sparse import issparse
from sklearn.base import RegressorMixin
from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor

__all__ = [
    "REGRESSORS",
    "MedianExtraTreesRegressor",
    "MedianForestRegressor",
    "make_regressor",
    "predict_with_spread",
    "single_thread",
]


def single_thread() -> Any:
    """Context limiting BLAS/OpenMP to one thread: fitting on a shared 2-core machine
    with OpenMP oversubscribed is several times slower (HistGradientBoosting)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _over_chunks(run, n_rows: int, chunk: int, n_jobs) -> None:
    """Call ``run(start)`` for every chunk start, in threads when ``n_jobs`` allows
    (tree prediction releases the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    from joblib import effective_n_jobs

    starts = range(0, n_rows, chunk)
    workers = max(1, min(effective_n_jobs(n_jobs), len(starts)))
    if workers == 1:
        for start in starts:
            run(start)
    else:
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, starts))


def _median_of_trees(
    estimators: list, X: Any, n_jobs: int | None = 1, chunk: int = 20000
) -> np.ndarray:
    """Median over trees of their predictions, in row chunks (bounded memory); chunks
    run on ``n_jobs`` threads (tree prediction releases the GIL). ``X`` is a float32
    array or CSR matrix (as validated by the forest); multi-output trees give an
    ``(n_rows, n_outputs)`` result, single-output ones ``(n_rows,)``, as the forests."""
    if not issparse(X):
        X = np.asarray(X, dtype=np.float32)
    n_outputs = getattr(estimators[0], "n_outputs_", 1)
    out = np.empty((X.shape[0],) if n_outputs == 1 else (X.shape[0], n_outputs))

    def run(start: int) -> None:
        part = X[start : start + chunk]
        out[start : start + chunk] = np.median([t.predict(part) for t in estimators], axis=0)

    _over_chunks(run, X.shape[0], chunk, n_jobs)
    return out


class MedianForestRegressor(RandomForestRegressor):
    """Random forest that predicts the median of its trees (robust to the bimodal
    insulator/conductor targets; MAE-optimal rather than mean-optimal)."""

    def predict(self, X: Any) -> np.ndarray:
        """Median of the trees' predictions; input validated as by the parent's
        ``predict`` (``NotFittedError`` before ``fit``, feature count/names checked,
        float32, CSR accepted), multi-output ``y`` supported."""
        X = self._validate_X_predict(X)  # check_is_fitted + sklearn's validate_data
        return _median_of_trees(self.estimators_, X, self.n_jobs)


class MedianExtraTreesRegressor(ExtraTreesRegressor):
    """Extra trees predicting the median of their trees (see
    :class:`MedianForestRegressor`)."""

    def predict(self, X: Any) -> np.ndarray:
        X = self._validate_X_predict(X)  # check_is_fitted + sklearn's validate_data
        return _median_of_trees(self.estimators_, X, self.n_jobs)


_FOREST_TYPES = (RandomForestRegressor, ExtraTreesRegressor)
"""Forests whose trees :func:`predict_with_spread` reads (the median forests are
subclasses); public sklearn classes only."""


def _is_forest(reg: Any) -> bool:
    return isinstance(reg, _FOREST_TYPES)


def _forests(reg: Any) -> list[tuple[Any, float]] | None:
    """The fitted members behind ``reg`` with their weights: a forest itself, or the
    members of a :class:`~sklearn.ensemble.VotingRegressor` with at least one forest;
    None otherwise."""
    from sklearn.ensemble import VotingRegressor

    if _is_forest(reg):
        return [(reg, 1.0)]
    if isinstance(reg, VotingRegressor) and any(_is_forest(m) for m in reg.estimators_):
        w = reg.weights if reg.weights is not None else [1.0] * len(reg.estimators_)
        return [(m, float(wi)) for m, wi in zip(reg.estimators_, w, strict=True)]
    return None


def predict_with_spread(
    reg: Any, X: Any, n_jobs: int | None = None, chunk: int = 20000
) -> tuple[np.ndarray, np.ndarray] | None:
    """Point prediction and spread across trees in one pass over the trees.

    Returns ``(prediction, spread)``: the prediction equals ``reg.predict(X)`` (mean of
    trees for a forest, median for the median forests, weighted average of the members
    for a voting ensemble); ``spread`` is the standard deviation of all individual tree
    predictions of the forest members (same units as the target; non-forest members of
    a vote add to the prediction only). None if ``reg`` has no forest. Rows are
    processed in chunks on ``n_jobs`` threads (default: the forests' own ``n_jobs``).
    """
    forests = _forests(reg)
    if forests is None:
        return None
    X_in = np.asarray(X)  # non-forest members see the input dtype (as in reg.predict)
    X = np.asarray(X, dtype=np.float32)
    n = X.shape[0]
    center = np.empty(n)
    spread = np.empty(n)
    total_w = sum(w for _, w in forests)

    def run(start: int) -> None:
        part = X[start : start + chunk]
        preds = []
        c = np.zeros(part.shape[0])
        for forest, w in forests:
            if not _is_forest(forest):
                c += w * forest.predict(X_in[start : start + chunk])
                continue
            P = np.vstack([t.predict(part) for t in forest.estimators_])
            if isinstance(forest, MedianForestRegressor | MedianExtraTreesRegressor):
                c += w * np.median(P, axis=0)
            else:
                c += w * P.mean(axis=0)
            preds.append(P)
        center[start : start + chunk] = c / total_w
        spread[start : start + chunk] = np.vstack(preds).std(axis=0)

    if n_jobs is None:
        n_jobs = next(m.n_jobs for m, _ in forests if _is_forest(m))
    _over_chunks(run, n, chunk, n_jobs)
    return center, spread


REGRESSORS = ("rf", "et", "medrf", "medet", "hgb", "gbr", "krr", "svr", "stack", "vote")
"""Names accepted by :func:`make_regressor`."""


def _base(name: str, random_state: int, n_jobs: int, **params: Any) -> RegressorMixin:
    from sklearn.ensemble import GradientBoostingRegressor, HistGradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVR

    if name == "rf":
        kw = {"n_estimators": 300, "min_samples_leaf": 1, "max_features": 0.33}
        return RandomForestRegressor(**(kw | params), random_state=random_state, n_jobs=n_jobs)
    if name == "et":
        kw = {"n_estimators": 300, "min_samples_leaf": 1, "max_features": 0.5}
        return ExtraTreesRegressor(**(kw | params), random_state=random_state, n_jobs=n_jobs)
    if name == "medrf":
        kw = {"n_estimators": 300, "min_samples_leaf": 1, "max_features": 0.33}
        return MedianForestRegressor(**(kw | params), random_state=random_state, n_jobs=n_jobs)
    if name == "medet":
        kw = {"n_estimators": 300, "min_samples_leaf": 1, "max_features": 0.5}
        return MedianExtraTreesRegressor(
            **(kw | params), random_state=random_state, n_jobs=n_jobs
        )
    if name == "hgb":
        kw = {"max_iter": 300, "learning_rate": 0.05, "max_leaf_nodes": 15,
              "min_samples_leaf": 5, "l2_regularization": 1.0}
        return HistGradientBoostingRegressor(**(kw | params), random_state=random_state)
    if name == "gbr":
        kw = {"n_estimators": 400, "learning_rate": 0.05, "max_depth": 3, "subsample": 0.8}
        return GradientBoostingRegressor(**(kw | params), random_state=random_state)
    if name == "krr":
        kw = {"kernel": "rbf", "alpha": 0.1, "gamma": 0.01}
        return make_pipeline(SimpleImputer(), StandardScaler(), KernelRidge(**(kw | params)))
    if name == "svr":
        kw = {"C": 10.0, "epsilon": 0.2, "gamma": "scale"}
        return make_pipeline(SimpleImputer(), StandardScaler(), SVR(**(kw | params)))
    raise ValueError(f"unknown regressor {name!r}; choose one of {', '.join(REGRESSORS)}")


def make_regressor(
    name: str, params: dict[str, Any] | None = None, *, random_state: int = 0, n_jobs: int = 1
) -> RegressorMixin:
    """A regressor by name (see :data:`REGRESSORS`) with defaults tuned for ~500 rows.

    ``params`` override the defaults. ``stack`` is a ridge-combined stack of rf, et, hgb
    and svr (5-fold, fixed seed); ``vote`` averages the same four. Parameters of
    members of ``stack``/``vote`` are given as ``{"rf": {...}, "hgb": {...}}``.
    """
    params = dict(params or {})
    if name in ("stack", "vote"):
        from sklearn.ensemble import StackingRegressor, VotingRegressor
        from sklearn.linear_model import RidgeCV
        from sklearn.model_selection import KFold

        members = params.pop("members", ["rf", "et", "hgb", "svr"])
        estimators = [
            (m, _base(m, random_state, n_jobs, **params.pop(m, {}))) for m in members
        ]
        if params:
            raise ValueError(f"unknown {name} parameter(s): {sorted(params)}")
        if name == "vote":
            return VotingRegressor(estimators, n_jobs=n_jobs)
        return StackingRegressor(
            estimators,
            final_estimator=RidgeCV(alphas=(0.1, 1.0, 10.0)),
            cv=KFold(5, shuffle=True, random_state=random_state),
            n_jobs=n_jobs,
        )
    return _base(name, random_state, n_jobs, **params)
