"""The shipped structure-aware conductivity model for ``screen --parent-structure``.

:class:`StructureConductivityModel` wraps a
:class:`~ssbml.models.conductivity.ConductivityModel` on composition features plus the
geometric structure descriptors (:data:`ssbml.structure.descriptors.GEOMETRIC_FEATURE_NAMES`,
no BVSE: the best variant in grouped CV, experiments/results/structure.md, and cheap
per candidate) and a structure applicability domain: the mean Euclidean distance
(standardized descriptors, divided by sqrt(number of descriptors)) of a structure's
descriptors to its ``k`` nearest training CIFs; the threshold is the ``quantile`` of the
leave-one-out distances of the training CIFs. Trained by
``experiments/ship_structure_model.py`` on OBELiX + its CIFs + Liverpool only.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ssbml.structure.descriptors import GEOMETRIC_FEATURE_NAMES

__all__ = ["StructureConductivityModel"]


class StructureConductivityModel:
    """log10 S/cm from composition + geometric descriptors, with a descriptor domain."""

    def __init__(self, model: Any, train_descriptors: np.ndarray, k: int = 5,
                 quantile: float = 0.95, columns: tuple[str, ...] = GEOMETRIC_FEATURE_NAMES,
                 ) -> None:
        self.model = model
        self.columns = tuple(columns)
        D = np.asarray(train_descriptors, dtype=float)
        self.mean_ = np.nanmean(D, axis=0)
        std = np.nanstd(D, axis=0)
        self.std_ = np.where(np.isfinite(std) & (std > 0), std, 1.0)
        self.train_Z_ = self._z(D)
        self.k = int(k)
        held = self._distance(self.train_Z_, leave_one_out=True)
        self.quantile = float(quantile)
        self.threshold_ = float(np.quantile(held, quantile))

    def _z(self, D: np.ndarray) -> np.ndarray:
        Z = (np.asarray(D, dtype=float) - self.mean_) / self.std_
        Z[~np.isfinite(Z)] = 0.0
        return Z

    def _distance(self, Z: np.ndarray, leave_one_out: bool = False) -> np.ndarray:
        d2 = ((Z[:, None, :] - self.train_Z_[None, :, :]) ** 2).sum(axis=2)
        if leave_one_out:
            np.fill_diagonal(d2, np.inf)
        k = max(1, min(self.k, self.train_Z_.shape[0] - int(leave_one_out)))
        d = np.sqrt(np.sort(d2, axis=1)[:, :k]).mean(axis=1)
        return d / np.sqrt(Z.shape[1])

    def domain(self, descriptors: pd.DataFrame) -> pd.DataFrame:
        """``structure_domain_distance``, ``structure_in_domain`` and
        ``structure_domain_reason`` ('' in domain) of descriptor rows."""
        D = descriptors[list(self.columns)].to_numpy(dtype=float)
        d = self._distance(self._z(D))
        missing = ~np.isfinite(D).any(axis=1)
        t = self.threshold_
        reason = np.where(
            missing, "no structure descriptors",
            np.where(d > t, np.char.add(np.char.add(
                "parent structure far from the training CIFs (descriptor distance ",
                np.char.mod("%.2f", d)), f" > {t:.2f})"), ""))
        return pd.DataFrame({"structure_domain_distance": d,
                             "structure_in_domain": reason == "",
                             "structure_domain_reason": reason.astype(object)})

    def predict_interval(self, X: pd.DataFrame, alpha: float = 0.1) -> pd.DataFrame:
        """``log10_sigma``, ``_lower``, ``_upper`` (log10 S/cm) of rows with
        ``composition`` and the descriptor columns."""
        return self.model.predict_interval(X.reset_index(drop=True), alpha=alpha)
