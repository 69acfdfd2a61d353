"""Grouped-CV evaluation of the learned stability model: per-target MAE (V vs Li/Li+,
meV/atom) against the training-median and kNN baselines, interval coverage and width,
and the parity plot."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ssbml.models.stability.model import TARGETS, StabilityModel, _target_frame

__all__ = ["CHAMPION_METRIC", "evaluate"]

CHAMPION_METRIC = "cv_mean_normalized_mae"
"""Mean over targets of (model MAE / training-median baseline MAE), grouped CV."""


def _baselines(E: np.ndarray, Y: np.ndarray, folds: np.ndarray) -> dict[str, np.ndarray]:
    """Out-of-fold predictions of the training median and of a 5-nearest-neighbour
    regressor on element fractions, on the model's folds."""
    from sklearn.neighbors import KNeighborsRegressor

    median = np.empty_like(Y)
    knn = np.empty_like(Y)
    for k in np.unique(folds):
        va, tr = folds == k, folds != k
        median[va] = np.median(Y[tr], axis=0)
        knn[va] = KNeighborsRegressor(5, weights="distance").fit(E[tr], Y[tr]).predict(E[va])
    return {"median": median, "knn": knn}


def _parity_grid(Y: np.ndarray, P: np.ndarray, title: str) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 7.5), dpi=100)
    axes = fig.subplots(2, 3)
    for j, (ax, t) in enumerate(zip(axes.ravel(), TARGETS, strict=True)):
        y, p = Y[:, j], P[:, j]
        ax.scatter(y, p, s=3, alpha=0.3)
        lo, hi = np.percentile(np.concatenate([y, p]), [0.5, 99.5])
        ax.plot([lo, hi], [lo, hi], "k--", lw=1)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.set_title(f"{t}  MAE={np.mean(np.abs(y - p)):.3g}", fontsize=9)
        ax.set_xlabel("label")
        ax.set_ylabel("predicted (out of fold)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def evaluate(model: StabilityModel, labels: pd.DataFrame) -> tuple[dict[str, float], pd.DataFrame]:
    """Grouped-CV metrics of a fitted model (``labels``: the rows it was fitted on) and
    a per-target table: MAE of the model, the median and kNN baselines, coverage and
    half-width of the 90 % interval. Window MAEs are also given for the compounds with
    a window of non-zero width (``_wide``)."""
    from ssbml.composition import ElementFractions

    Y = _target_frame(labels, TARGETS)
    P = model.oof_predictions_.to_numpy()
    fractions, batch = ElementFractions.from_formulas(labels["formula"], require_li=False)
    if len(batch.rejected):
        raise ValueError(f"unparseable formula in the labels: {batch.rejected.iloc[0].to_dict()}")
    base = _baselines(fractions.fractions, Y, model.cv_fold_)
    coverage = model.cv_coverage(labels, alpha=0.1)
    bounds = model._intervals(P, 0.1)
    rows = []
    metrics: dict[str, float] = {"n_train": float(len(Y))}
    normalized = []
    for j, t in enumerate(TARGETS):
        mae = float(np.mean(np.abs(Y[:, j] - P[:, j])))
        row = {
            "target": t,
            "mae": mae,
            "rmse": float(np.sqrt(np.mean((Y[:, j] - P[:, j]) ** 2))),
            "median_baseline_mae": float(np.mean(np.abs(Y[:, j] - base["median"][:, j]))),
            "knn_baseline_mae": float(np.mean(np.abs(Y[:, j] - base["knn"][:, j]))),
            "coverage90": coverage[t],
            "mean_width90": float(np.mean(bounds[f"{t}_upper"] - bounds[f"{t}_lower"])),
            "median_width90": float(np.median(bounds[f"{t}_upper"] - bounds[f"{t}_lower"])),
        }
        rows.append(row)
        normalized.append(mae / max(row["median_baseline_mae"], 1e-12))
        metrics |= {
            f"cv_mae_{t}": row["mae"],
            f"cv_rmse_{t}": row["rmse"],
            f"baseline_median_mae_{t}": row["median_baseline_mae"],
            f"baseline_knn_mae_{t}": row["knn_baseline_mae"],
            f"cv_coverage90_{t}": row["coverage90"],
            f"cv_mean_width90_{t}": row["mean_width90"],
            f"cv_median_width90_{t}": row["median_width90"],
        }
    wide = (labels["oxidation_V"] - labels["reduction_V"]).to_numpy() > 1e-3
    for j, t in enumerate(TARGETS[:2]):
        metrics[f"cv_mae_{t}_wide"] = float(np.mean(np.abs(Y[wide, j] - P[wide, j])))
    metrics["n_wide_window"] = float(wide.sum())
    metrics[CHAMPION_METRIC] = float(np.mean(normalized))
    return metrics, pd.DataFrame(rows)
