"""Small numpy helpers shared by the batch and the featurizers (numpy only)."""

from __future__ import annotations

import numpy as np

__all__ = ["group_rows", "ratio_or_nan"]


def ratio_or_nan(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` elementwise, NaN where ``den`` is not positive."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def group_rows(labels: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows grouped by an integer label in ``[0, n_groups)``: (order, bounds) such that
    the rows of group ``g`` are ``order[bounds[g] : bounds[g + 1]]``, in input order."""
    order = np.argsort(labels, kind="stable")
    return order, np.searchsorted(labels[order], np.arange(n_groups + 1))
