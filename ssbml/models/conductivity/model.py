"""Room-temperature conductivity model: featurizer + regressor + conformal intervals.

:class:`ConductivityModel` predicts log10 of the Li-ion conductivity (log10 S/cm) from
composition. Intervals are conformal, calibrated on the out-of-fold residuals of a
grouped K-fold on the training data:

* ``interval="adaptive"`` (default; normalized conformal): each residual is divided by a
  difficulty estimate ``d(x)`` (log10 units) -- the standard deviation of the individual
  tree predictions for forest regressors, else a gradient-boosting model of the absolute
  out-of-fold residual -- plus a floor; the interval is ``mu(x) +/- q * d(x)`` with ``q``
  the conformal ``1 - alpha`` quantile of the normalized residuals, so hard (e.g. far
  from training, or where trees disagree) compositions get wider intervals.
* ``interval="constant"``: ``mu(x) +/- h`` with ``h`` the conformal quantile of the
  absolute residuals (the marginal half-width, :meth:`ConductivityModel.interval_halfwidth`).

Censored targets (OBELiX ``<1E-10``): with ``censoring="classifier"`` the regressor
learns measured values only, with ``censoring="bound"`` it learns censored rows at the
detection bound (1e-10 S/cm, whatever placeholder the data carry; better ranking on the
OBELiX test split), and in both a classifier learns P(below detection); a composition
with P >= 0.5 (or a prediction below the lowest measured value) is reported as a bound
(``below_detection``, ``log10_sigma_bound``; ``log10_sigma`` and its upper end are the
bound) instead of a 1e-15-like number.

Per-family calibration (``interval_groups="family"``): the conformal quantile of the
normalized residuals is taken per family (Mondrian conformal, :mod:`ssbml.ml.conformal`)
where the family of a composition is that of its nearest training composition; the
calibration rows get theirs out of fold (grouped by chemical system), as a new
composition would. The ``interval_family`` column names the family whose quantile set
the width.

Applicability domain: the mean distance to the ``n_neighbors`` nearest training rows
in standardized feature space, with a threshold calibrated on grouped (chemical
system) held-out rows; compositions with an element never seen in training are out of
domain as well (:meth:`ConductivityModel.domain_table`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

from ssbml.features.presets import make_featurizer_by_name
from ssbml.ml.conformal import conformal_quantile
from ssbml.ml.frames import caller_index
from ssbml.ml.splits import cv_splits

__all__ = [
    "DETECTION_BOUND_LOG10",
    "MAX_LOG10_SIGMA",
    "ConductivityModel",
    "clip_log10_sigma",
]

_INTERVALS = ("adaptive", "constant")
_CENSORING = ("none", "classifier", "bound")
DETECTION_BOUND_LOG10 = -10.0
"""log10 S/cm of the OBELiX detection limit: ``<1E-10`` rows are below it."""
MAX_LOG10_SIGMA = 0.0
"""log10 S/cm ceiling of every prediction and interval end (1 S/cm): above any Li-ion
conductivity of a solid (the highest in the training data is 10^-0.56 S/cm, a zircon
at 1140 K; the best room-temperature superionic conductors reach about 10^-1.6), so an
interval end above it carries no information and is cut there."""


class ConductivityModel(RegressorMixin, BaseEstimator):
    """Predict log10 S/cm from composition with conformal prediction intervals.

    Parameters
    ----------
    featurizer : transformer turning compositions into a feature DataFrame
        (default: ``ssbml.features.default_featurizer()``).
    regressor : sklearn regressor (default: histogram gradient boosting).
    n_splits : folds of the grouped K-fold giving the out-of-fold residuals.
    random_state : seed for the fold assignment.
    interval : ``"adaptive"`` (normalized conformal, width varies per row) or
        ``"constant"`` (one half-width for every row); see the module docstring.
    difficulty_floor : added to the difficulty estimate, as a fraction of the median
        out-of-fold difficulty (keeps near-zero tree spreads from giving empty intervals;
        0.5 gave the narrowest intervals at 90% coverage in a grouped split of the
        OBELiX train out-of-fold residuals, see experiments/results/conductivity.md).
    censoring : ``"none"`` (censored targets are learned as the numbers given),
        ``"classifier"`` (censored rows train a below-detection classifier only) or
        ``"bound"`` (as ``"classifier"``, and the regressor sees them at
        ``detection_bound``).
    detection_bound : log10 S/cm reported as the bound of below-detection rows.
    n_neighbors : neighbours of the applicability-domain distance.
    domain_quantile : quantile of the grouped held-out neighbour distances taken as
        the in-domain threshold.
    interval_groups : ``"none"`` (one conformal quantile) or ``"family"`` (one per
        family of the nearest training composition; needs ``families`` in :meth:`fit`
        and ``interval="adaptive"``).
    min_group_rows : calibration rows a family needs for its own quantile (smaller
        families are pooled).

    ``X`` may be a DataFrame with a ``composition`` column, a list of formulas,
    pymatgen Compositions or :class:`ssbml.composition.ElementFractions`.
    """

    def __init__(
        self,
        featurizer: TransformerMixin | None = None,
        regressor: RegressorMixin | None = None,
        n_splits: int = 5,
        random_state: int = 0,
        interval: str = "adaptive",
        difficulty_floor: float = 0.5,
        censoring: str = "none",
        detection_bound: float = DETECTION_BOUND_LOG10,
        n_neighbors: int = 5,
        domain_quantile: float = 0.95,
        interval_groups: str = "none",
        min_group_rows: int = 20,
    ) -> None:
        self.featurizer = featurizer
        self.regressor = regressor
        self.n_splits = n_splits
        self.random_state = random_state
        self.interval = interval
        self.difficulty_floor = difficulty_floor
        self.censoring = censoring
        self.detection_bound = detection_bound
        self.n_neighbors = n_neighbors
        self.domain_quantile = domain_quantile
        self.interval_groups = interval_groups
        self.min_group_rows = min_group_rows

    def _features(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "featurizer_")
        F = self.featurizer_.transform(X)
        return F if isinstance(F, pd.DataFrame) else pd.DataFrame(F)

    def fit(
        self, X: Any, y: Any, groups: Any = None, censored: Any = None,
        families: Any = None,
    ) -> ConductivityModel:
        """Fit on compositions ``X`` and targets ``y`` (log10 S/cm). ``groups`` (e.g.
        :func:`chemical_system_groups`) keeps near-duplicates in one fold for the
        out-of-fold residuals that set the interval width. ``censored`` (bool per row)
        marks values that are only upper bounds (used with ``censoring="classifier"``).
        ``families`` (a structure-family label per row, e.g. ``garnet``) is stored for
        the nearest-family lookup and, with ``interval_groups="family"``, calibrates
        one interval quantile per family."""

        from ssbml.ml.regressors import make_regressor, single_thread

        with single_thread():
            return self._fit(X, y, groups, censored, make_regressor, families)

    def _fit(
        self, X: Any, y: Any, groups: Any, censored: Any, make_regressor: Any,
        families: Any = None,
    ) -> ConductivityModel:
        from ssbml.ml.regressors import predict_with_spread

        if getattr(self, "censoring", "none") not in _CENSORING:
            raise ValueError(f"censoring must be one of {_CENSORING}, got {self.censoring!r}")
        if self.interval not in _INTERVALS:
            raise ValueError(f"interval must be one of {_INTERVALS}, got {self.interval!r}")
        if not self.difficulty_floor > 0:
            raise ValueError(f"difficulty_floor must be > 0, got {self.difficulty_floor}")
        if self.interval_groups not in ("none", "family"):
            raise ValueError("interval_groups must be 'none' or 'family', got "
                             f"{self.interval_groups!r}")
        if self.interval_groups == "family" and (families is None
                                                 or self.interval != "adaptive"):
            raise ValueError('interval_groups="family" needs families= in fit and '
                             'interval="adaptive"')
        y = np.asarray(y, dtype=float)
        if not np.isfinite(y).all():
            bad = np.flatnonzero(~np.isfinite(y))[:10].tolist()
            raise ValueError(f"log10_sigma is not finite in row(s) {bad}")
        featurizer = self.featurizer if self.featurizer is not None else make_featurizer_by_name()
        self.featurizer_ = clone(featurizer).fit(X)
        F = self._features(X)
        if len(F) != len(y):
            raise ValueError(f"{len(F)} feature rows but {len(y)} targets")
        self.feature_names_ = list(F.columns)
        base = self.regressor if self.regressor is not None else make_regressor("hgb")
        splits = cv_splits(self.n_splits, groups, self.random_state, len(y))
        fold = np.full(len(y), -1)
        for k, (_, va) in enumerate(splits):
            fold[va] = k
        self.oof_fold_ = fold
        if families is not None:
            families = np.asarray(pd.Series(families).fillna("unknown").astype(str),
                                  dtype=object)
            if families.shape != y.shape:
                raise ValueError(f"families has {families.size} rows but there are "
                                 f"{len(y)} targets")
        self.train_family_ = families
        cens = np.zeros(len(y), dtype=bool) if censored is None else np.asarray(censored, bool)
        if cens.shape != y.shape:
            raise ValueError(f"censored has {cens.size} rows but there are {len(y)} targets")
        use_clf = self.censoring != "none" and cens.any() and (~cens).sum() > 10
        measured = ~cens if use_clf else np.ones(len(y), dtype=bool)
        # rows the regressor learns from, and their targets
        fit_rows = measured if self.censoring == "classifier" else np.ones(len(y), bool)
        y_reg = np.where(cens & use_clf, self.detection_bound, y)
        Fv = F.to_numpy(dtype=float)
        oof = np.full(len(y), np.nan)
        spread = np.full(len(y), np.nan)
        p_oof = np.zeros(len(y))
        for tr, va in splits:
            trm = tr[fit_rows[tr]]
            fold = clone(base).fit(Fv[trm], y_reg[trm])
            both = predict_with_spread(fold, Fv[va], n_jobs=1)
            if both is None:
                oof[va] = fold.predict(Fv[va])
            else:
                oof[va], spread[va] = both
            if use_clf:
                p_oof[va] = self._fit_classifier(Fv[tr], cens[tr]).predict_proba(Fv[va])[:, 1]
        self.classifier_ = self._fit_classifier(Fv, cens) if use_clf else None
        self.min_measured_log10_ = float(y[measured].min())
        # the value censored rows carry in y (e.g. -15, the OBELiX paper's convention):
        # out-of-fold predictions of below-detection rows take it, so CV metrics stay in
        # the training data's convention
        self.censored_fill_ = float(np.median(y[cens])) if use_clf else float("nan")
        below = (p_oof >= 0.5) if use_clf else np.zeros(len(y), dtype=bool)
        self.oof_mu_ = oof
        self.oof_below_detection_ = below
        self.oof_p_below_detection_ = p_oof
        self.oof_predictions_ = np.where(below, self.censored_fill_, oof)
        abs_res = np.abs(y - oof)
        self.residuals_ = np.sort(abs_res[measured])
        self.regressor_ = clone(base).fit(Fv[fit_rows], y_reg[fit_rows])
        self.n_features_in_ = F.shape[1]
        g = None if groups is None else np.asarray(groups)[measured]
        # normalized out-of-fold residual per training row (NaN for censored rows, which
        # do not calibrate the interval)
        self.oof_scores_ = np.full(len(y), np.nan)
        self.oof_scores_[measured] = self._fit_difficulty(
            Fv[measured], abs_res[measured], spread[measured], g)
        if np.isfinite(spread).all():
            self.oof_difficulty_all_ = spread + self.difficulty_offset_
        self._fit_domain(X, F, splits)
        self.interval_calibrator_ = None
        if self.interval_groups == "family":
            from ssbml.ml.conformal import FamilyConformal

            self.interval_calibrator_ = FamilyConformal(self.min_group_rows).fit(
                self.oof_scores_, self.oof_nearest_family_)
        return self

    def _fit_classifier(self, F: np.ndarray, cens: np.ndarray) -> Any:
        """P(below detection | composition): a class-balanced random forest."""
        from sklearn.ensemble import RandomForestClassifier

        clf = RandomForestClassifier(
            n_estimators=100, min_samples_leaf=2, max_features=0.33,
            class_weight="balanced_subsample", random_state=self.random_state, n_jobs=1,
        )
        Fi = np.where(np.isnan(F), 0.0, F)
        if cens.all() or not cens.any():
            from sklearn.dummy import DummyClassifier

            return DummyClassifier(strategy="prior").fit(Fi, cens)
        return clf.fit(Fi, cens)

    def _fit_domain(self, X: Any, F: pd.DataFrame, splits: list) -> None:
        """Standardization, training neighbours, seen elements and the in-domain
        threshold: the ``domain_quantile`` of every row's neighbour distance to the
        training rows of the other folds (grouped by chemical system)."""
        from ssbml.features.presets import to_element_fractions

        self.train_feature_mean_ = F.mean().to_numpy()
        self.train_feature_std_ = F.std().replace(0, 1.0).fillna(1.0).to_numpy()
        Z = self._standardize(F.to_numpy(dtype=float), np.float32)
        self.train_Z_ = Z
        held = np.full(len(Z), np.nan)
        fam = self.train_family_
        nearest_family = np.full(len(Z), "", dtype=object)
        for tr, va in splits:
            held[va], nearest = _knn_distance(Z[tr], Z[va], self.n_neighbors,
                                              return_nearest=True)
            if fam is not None:
                nearest_family[va] = fam[tr][nearest]
        self.oof_domain_distance_ = held
        # the family of each row's nearest training row in the other folds: the same
        # lookup as for a new composition, so usable as a Mondrian category
        self.oof_nearest_family_ = nearest_family if fam is not None else None
        self.domain_threshold_ = float(np.nanquantile(held, self.domain_quantile))
        try:
            ef = to_element_fractions(X[["composition"]] if isinstance(X, pd.DataFrame) else X)
            used = ef.fractions.max(axis=0) > 0
            self.train_elements_ = frozenset(e for e, u in zip(ef.elements, used, strict=True)
                                             if u)
        except (ValueError, TypeError):
            self.train_elements_ = None

    def _fit_difficulty(
        self, F: np.ndarray, abs_res: np.ndarray, spread: np.ndarray, groups: Any
    ) -> np.ndarray:
        """Difficulty estimate d(x) (log10 units) and the normalized residuals
        ``|y - oof| / d`` (sorted, ``scores_``) for the adaptive intervals; returns the
        residuals in row order."""
        self.difficulty_model_ = None
        if np.isfinite(spread).all():
            self.difficulty_kind_ = "tree_spread"
            raw = spread
        else:
            from sklearn.ensemble import HistGradientBoostingRegressor

            self.difficulty_kind_ = "residual_model"
            model = HistGradientBoostingRegressor(
                loss="absolute_error", max_iter=100, learning_rate=0.05,
                max_leaf_nodes=7, min_samples_leaf=20, random_state=self.random_state,
            )
            raw = np.full(len(abs_res), np.nan)
            for tr, va in cv_splits(self.n_splits, groups, self.random_state, len(abs_res)):
                raw[va] = clone(model).fit(F[tr], abs_res[tr]).predict(F[va])
            self.difficulty_model_ = clone(model).fit(F, abs_res)
            raw = np.clip(raw, 0.0, None)
        self.difficulty_offset_ = float(self.difficulty_floor * max(np.median(raw), 1e-6))
        self.oof_difficulty_ = raw + self.difficulty_offset_
        scores = abs_res / self.oof_difficulty_
        self.scores_ = np.sort(scores)
        return scores

    def predict(self, X: Any) -> np.ndarray:
        """Point predictions, log10 S/cm (below-detection rows: the bound, see
        :meth:`predict_interval`)."""
        return self.predict_interval(X)["log10_sigma"].to_numpy()

    def _difficulty(self, F: np.ndarray, spread: np.ndarray | None) -> np.ndarray:
        if self.difficulty_kind_ == "tree_spread":
            if spread is None:
                raise RuntimeError("tree spread needed but the regressor has no trees")
            raw = spread
        else:
            raw = np.clip(self.difficulty_model_.predict(F), 0.0, None)
        return raw + self.difficulty_offset_

    def interval_halfwidth(self, alpha: float = 0.1, X: Any = None) -> float | np.ndarray:
        """Conformal half-width (log10 units) at coverage ``1 - alpha``.

        Without ``X``: the marginal (constant-width) half-width, the ``1 - alpha``
        quantile of the absolute grouped out-of-fold residuals; valid on average over
        compositions like the training ones but the same for every row. With ``X``
        (compositions): the per-row half-widths of :meth:`predict_interval` (adaptive
        when ``interval="adaptive"``, before the cut at :data:`MAX_LOG10_SIGMA`).
        """
        if X is None:
            return conformal_quantile(self.residuals_, alpha)
        out = self.predict_interval_from_features(self._features(X).to_numpy(), alpha=alpha,
                                                  clip_to_physical=False)
        return ((out["log10_sigma_upper"] - out["log10_sigma_lower"]) / 2).to_numpy()

    def _check_features(self, F: pd.DataFrame | np.ndarray) -> np.ndarray:
        if isinstance(F, pd.DataFrame):
            if list(F.columns) != list(self.feature_names_):
                missing = sorted(set(self.feature_names_) - set(F.columns))[:5]
                raise ValueError(
                    f"features do not match the model's {len(self.feature_names_)} columns"
                    f" (got {F.shape[1]}; missing e.g. {missing})"
                )
            F = F.to_numpy()
        F = np.asarray(F)
        if F.dtype not in (np.float32, np.float64):
            F = F.astype(float)
        if F.ndim != 2 or F.shape[1] != len(self.feature_names_):
            raise ValueError(
                f"features must have {len(self.feature_names_)} columns, got shape {F.shape}"
            )
        return F

    def predict_interval_from_features(
        self, F: pd.DataFrame | np.ndarray, alpha: float = 0.1, families: Any = None,
        clip_to_physical: bool = True,
    ) -> pd.DataFrame:
        """:meth:`predict_interval` from precomputed features (``featurizer_`` output,
        same columns in the same order): point prediction and interval in one pass over
        the trees. Columns ``log10_sigma``, ``log10_sigma_lower``, ``log10_sigma_upper``
        (log10 S/cm); with ``censoring="classifier"`` also ``p_below_detection``,
        ``below_detection`` and ``log10_sigma_bound`` (log10 S/cm, NaN where measured
        values are predicted). The index is ``F``'s when it is a DataFrame.

        With per-family intervals (``interval_groups="family"``) also
        ``interval_family``: the calibration family of each row (its nearest training
        composition's family, or the pooled small families); ``families`` may pass the
        ``nearest_family`` column of :meth:`domain_table_from_features` to skip a
        second neighbour search. ``clip_to_physical``: cut values and interval ends at
        :data:`MAX_LOG10_SIGMA` (off only for models that build on the raw interval)."""
        from ssbml.ml.regressors import predict_with_spread

        index = F.index if isinstance(F, pd.DataFrame) else None
        F = self._check_features(F)
        mode = getattr(self, "interval", "constant")
        if mode == "constant":
            mu = self.regressor_.predict(F)
            h = np.full(len(mu), conformal_quantile(self.residuals_, alpha))
        else:
            both = (predict_with_spread(self.regressor_, F)
                    if self.difficulty_kind_ == "tree_spread" else None)
            mu, spread = both if both is not None else (self.regressor_.predict(F), None)
            calibrator = getattr(self, "interval_calibrator_", None)
            if calibrator is None:
                q: Any = conformal_quantile(self.scores_, alpha)
            else:
                if families is None:
                    families = self.nearest_family_from_features(F)
                families = np.asarray(families, dtype=object)
                if families.shape != (len(F),):
                    raise ValueError(f"families has {families.size} rows, features {len(F)}")
                q = calibrator.quantile(families, alpha)
            h = q * self._difficulty(F, spread)
        out = pd.DataFrame(
            {"log10_sigma": mu, "log10_sigma_lower": mu - h, "log10_sigma_upper": mu + h},
            index=index,
        )
        if mode != "constant" and getattr(self, "interval_calibrator_", None) is not None:
            out["interval_family"] = self.interval_calibrator_.category(families)
        clf = getattr(self, "classifier_", None)
        if clf is not None:
            p = clf.predict_proba(np.where(np.isnan(F), 0.0, F))[:, -1]
            if len(clf.classes_) == 1 and not clf.classes_[0]:
                p = np.zeros(len(mu))
            below_min = mu < self.min_measured_log10_
            below = (p >= 0.5) | below_min
            bound = np.where(p >= 0.5, self.detection_bound, self.min_measured_log10_)
            out["p_below_detection"] = p
            out["below_detection"] = below
            out["log10_sigma_bound"] = np.where(below, bound, np.nan)
            out.loc[below, "log10_sigma"] = bound[below]
            out.loc[below, "log10_sigma_upper"] = bound[below]
            out["log10_sigma_lower"] = np.minimum(out["log10_sigma_lower"], out["log10_sigma"])
        if clip_to_physical:
            clip_log10_sigma(out)
        return out

    def predict_interval(self, X: Any, alpha: float = 0.1) -> pd.DataFrame:
        """Columns ``log10_sigma``, ``log10_sigma_lower``, ``log10_sigma_upper`` (log10
        S/cm), one row per input row with the input's index, nominal coverage
        ``1 - alpha`` (adaptive width when ``interval="adaptive"``); below-detection
        columns as in :meth:`predict_interval_from_features`."""
        F = self._features(X)
        out = self.predict_interval_from_features(F.to_numpy(), alpha=alpha)
        out.index = caller_index(X, len(out))
        return out

    def predict_measured(self, X: Any) -> np.ndarray:
        """The regressor's log10 S/cm (trained on measured values), without bounds."""
        return self.regressor_.predict(self._features(X).to_numpy(dtype=float))

    def _standardize(self, F: np.ndarray, dtype: Any) -> np.ndarray:
        Z = np.asarray(F, dtype=dtype) - self.train_feature_mean_.astype(dtype)
        Z /= self.train_feature_std_.astype(dtype)
        Z[np.isnan(Z)] = 0.0
        return Z

    def domain_distance_from_features(
        self, F: pd.DataFrame | np.ndarray, dtype: Any = np.float64
    ) -> np.ndarray:
        """:meth:`domain_distance` from precomputed features (``featurizer_`` output):
        mean Euclidean distance to the ``n_neighbors`` nearest training rows in
        standardized feature space, divided by sqrt(number of features) (dimensionless;
        NaN features count as the training mean). ``dtype`` is the precision of the
        standardized features (``np.float32`` halves the memory of screening chunks).
        ``F`` is not modified."""
        Z = self._standardize(np.asarray(F), np.float32 if dtype == np.float32 else dtype)
        return _knn_distance(self.train_Z_, Z, self.n_neighbors)

    def nearest_family_from_features(
        self, F: pd.DataFrame | np.ndarray, dtype: Any = np.float32
    ) -> np.ndarray:
        """The family label of each row's nearest training composition (standardized
        feature space); empty strings when the model was fitted without families."""
        fam = getattr(self, "train_family_", None)
        if fam is None:
            return np.full(len(F), "", dtype=object)
        Z = self._standardize(np.asarray(F), dtype)
        _, nearest = _knn_distance(self.train_Z_, Z, 1, return_nearest=True)
        return fam[nearest]

    def domain_distance(self, X: Any) -> np.ndarray:
        """Nearest-neighbour distance to the training compositions (dimensionless)."""
        return self.domain_distance_from_features(self._features(X))

    def unseen_elements(self, X: Any) -> list[str]:
        """Per row, the elements (comma-separated, '' if none) never seen in training."""
        from ssbml.features.presets import to_element_fractions

        ef = to_element_fractions(X)
        return self._unseen(ef)

    def _unseen(self, ef: Any) -> list[str]:
        seen = getattr(self, "train_elements_", None)
        if seen is None:
            return [""] * ef.fractions.shape[0]
        new = [j for j, e in enumerate(ef.elements) if e not in seen]
        if not new:
            return [""] * ef.fractions.shape[0]
        present = ef.fractions[:, new] > 0
        names = [ef.elements[j] for j in new]
        return [",".join(n for n, p in zip(names, row, strict=True) if p) for row in present]

    def domain_table_from_features(
        self, F: pd.DataFrame | np.ndarray, ef: Any = None, dtype: Any = np.float64
    ) -> pd.DataFrame:
        """``domain_distance``, ``in_domain`` and ``domain_reason`` ('' when in domain)
        from features and, optionally, the compositions as ElementFractions (for the
        unseen-element check); with training families also ``nearest_family`` (the
        family of the nearest training composition)."""
        fam = getattr(self, "train_family_", None)
        Z = self._standardize(np.asarray(F), np.float32 if dtype == np.float32 else dtype)
        if fam is None:
            d = _knn_distance(self.train_Z_, Z, self.n_neighbors)
        else:
            d, nearest = _knn_distance(self.train_Z_, Z, self.n_neighbors,
                                       return_nearest=True)
        unseen = self._unseen(ef) if ef is not None else [""] * len(d)
        t = self.domain_threshold_
        reason = [
            f"element(s) {u} not in the training data" if u
            else (f"far from training compositions (neighbour distance {v:.2f} > {t:.2f})"
                  if v > t else "")
            for u, v in zip(unseen, d, strict=True)
        ]
        reason = np.asarray(reason, dtype=object)
        out = pd.DataFrame({"domain_distance": d, "in_domain": reason == "",
                            "domain_reason": reason.astype(object)})
        if fam is not None:
            out["nearest_family"] = fam[nearest]
        return out

    def domain_table(self, X: Any) -> pd.DataFrame:
        """:meth:`domain_table_from_features` of compositions ``X`` (input index kept)."""
        from ssbml.features.presets import to_element_fractions

        ef = to_element_fractions(X[["composition"]] if isinstance(X, pd.DataFrame) else X)
        out = self.domain_table_from_features(self._features(X).to_numpy(dtype=float), ef)
        out.index = caller_index(X, len(out))
        return out

    def in_domain(self, X: Any) -> np.ndarray:
        """True where the composition is inside the applicability domain
        (:meth:`domain_table`)."""
        return self.domain_table(X)["in_domain"].to_numpy()


def clip_log10_sigma(table: pd.DataFrame, prefix: str = "log10_sigma") -> pd.DataFrame:
    """Cut ``<prefix>``, ``<prefix>_lower`` and ``<prefix>_upper`` (log10 S/cm) of
    ``table`` at :data:`MAX_LOG10_SIGMA`, in place; returns ``table``."""
    for col in (prefix, f"{prefix}_lower", f"{prefix}_upper"):
        if col in table:
            table[col] = np.minimum(table[col].to_numpy(dtype=float), MAX_LOG10_SIGMA)
    return table


def _knn_distance(
    train_Z: np.ndarray, Z: np.ndarray, k: int, chunk: int = 4096,
    return_nearest: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Mean Euclidean distance of every row of ``Z`` to its ``k`` nearest rows of
    ``train_Z``, divided by sqrt(n_features); computed in row chunks (bounded memory).
    With ``return_nearest`` also the index (into ``train_Z``) of each row's nearest
    training row.

    The neighbours are found with a float32 matrix product (fast, but its rounding
    depends on the BLAS blocking, i.e. on threads and chunk); their distances are then
    recomputed exactly in float64, so the result does not depend on the process."""
    train_Z = np.asarray(train_Z, dtype=np.float32)
    Z = np.asarray(Z, dtype=np.float32)
    k = max(1, min(k, len(train_Z)))
    # a few spare candidates absorb float32 near-ties at the k-th neighbour
    m = min(len(train_Z), k + 3)
    t2 = np.einsum("ij,ij->i", train_Z, train_Z, dtype=np.float64)
    train64 = train_Z.astype(np.float64)
    out = np.empty(len(Z))
    nearest = np.empty(len(Z), dtype=np.int64)
    for start in range(0, len(Z), chunk):
        part = Z[start : start + chunk]
        p2 = np.einsum("ij,ij->i", part, part, dtype=np.float64)
        d2 = p2[:, None] + t2[None, :] - 2.0 * (part @ train_Z.T).astype(np.float64)
        cand = np.argpartition(d2, m - 1, axis=1)[:, :m]
        diff = train64[cand] - part.astype(np.float64)[:, None, :]
        exact = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
        order = np.argsort(exact, axis=1, kind="stable")
        if return_nearest:
            nearest[start : start + chunk] = np.take_along_axis(cand, order[:, :1], 1)[:, 0]
        out[start : start + chunk] = np.take_along_axis(exact, order[:, :k], 1).mean(axis=1)
    out /= np.sqrt(max(train_Z.shape[1], 1))
    return (out, nearest) if return_nearest else out
