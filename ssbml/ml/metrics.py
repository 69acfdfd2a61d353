"""The OBELiX benchmark: train on the official train split, score the official test split.

Metrics are on log10 S/cm with censored (``<1E-10``) values at 1e-15 S/cm (log10 = -15)
as in the OBELiX paper: MAE, RMSE, R^2, Spearman, ROC-AUC of "superionic"
(sigma > 1e-4 S/cm) ranked by the prediction, and the empirical coverage and mean width
of the nominal 90% interval.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SUPERIONIC_LOG10", "regression_metrics", "per_family_errors"]

SUPERIONIC_LOG10 = -4.0
"""log10 S/cm above which a conductor counts as superionic (1e-4 S/cm)."""


def regression_metrics(
    y_true: Any,
    y_pred: Any,
    lower: Any = None,
    upper: Any = None,
    prefix: str = "",
) -> dict[str, float]:
    """MAE, RMSE, R^2, Spearman and superionic ROC-AUC (log10 S/cm); with ``lower`` and
    ``upper`` also the interval coverage (fraction inside) and mean width."""
    from scipy.stats import spearmanr
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score, roc_auc_score

    y = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    if y.shape != p.shape:
        raise ValueError(f"y_true has shape {y.shape} but y_pred has {p.shape}")
    out = {
        "mae": float(mean_absolute_error(y, p)),
        "rmse": float(np.sqrt(mean_squared_error(y, p))),
        "r2": float(r2_score(y, p)),
        "spearman": float(spearmanr(y, p).statistic),
    }
    label = y > SUPERIONIC_LOG10
    out["roc_auc_superionic"] = (
        float(roc_auc_score(label, p)) if 0 < label.sum() < len(label) else float("nan")
    )
    if lower is not None and upper is not None:
        lo = np.asarray(lower, dtype=float)
        hi = np.asarray(upper, dtype=float)
        out["coverage90"] = float(np.mean((y >= lo) & (y <= hi)))
        out["interval_width90"] = float(np.mean(hi - lo))
    out["n"] = float(len(y))
    return {f"{prefix}{k}": v for k, v in out.items()}


def per_family_errors(
    family: Any, y_true: Any, y_pred: Any
) -> pd.DataFrame:
    """MAE (log10 S/cm) and count per structural family, largest MAE first."""
    df = pd.DataFrame(
        {"family": np.asarray(family), "abs_error": np.abs(np.asarray(y_true) - np.asarray(y_pred))}
    )
    out = df.groupby("family")["abs_error"].agg(mae="mean", n="size").reset_index()
    return out.sort_values(["mae", "family"], ascending=[False, True]).reset_index(drop=True)
