"""Evaluation of the conductivity models: bound-aware metrics (log10 S/cm), per-family
MAE, Spearman and interval coverage, and the grouped cross-validation of the whole
temperature path."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ssbml.models.conductivity.config import TrainConfig, build_model

__all__ = [
    "censored_metrics",
    "paper_convention",
    "per_family_quality",
    "temperature_cv",
    "within_family_spearman",
]


def paper_convention(pred: pd.DataFrame, y: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """Point predictions in the OBELiX paper's convention: below-detection predictions
    take the value the censored targets carry (1e-15 S/cm -> -15)."""
    p = pred["log10_sigma"].to_numpy(dtype=float)
    if "below_detection" not in pred.columns or not censored.any():
        return p
    fill = float(np.median(y[censored]))
    return np.where(pred["below_detection"].to_numpy(dtype=bool), fill, p)


def per_family_quality(
    family: Any, y: Any, pred: Any, lower: Any = None, upper: Any = None,
    min_rows: int = 20,
) -> pd.DataFrame:
    """Per structural family with at least ``min_rows`` rows: n, MAE (log10 S/cm),
    Spearman and coverage of the interval (when given)."""
    from scipy.stats import spearmanr

    df = pd.DataFrame({"family": np.asarray(family), "y": np.asarray(y, float),
                       "p": np.asarray(pred, float)})
    if lower is not None:
        df["inside"] = (df["y"] >= np.asarray(lower, float)) & (
            df["y"] <= np.asarray(upper, float))
    rows = []
    for fam, part in df.groupby("family"):
        if len(part) < min_rows:
            continue
        row = {"family": fam, "n": len(part), "mae": float(np.mean(np.abs(part.y - part.p))),
               "spearman": float(spearmanr(part.y, part.p).statistic)}
        if "inside" in part:
            row["coverage90"] = float(part["inside"].mean())
        rows.append(row)
    cols = ["family", "n", "mae", "spearman"] + (["coverage90"] if lower is not None else [])
    return pd.DataFrame(rows, columns=cols).sort_values("n", ascending=False,
                                                        ignore_index=True)


def within_family_spearman(table: pd.DataFrame) -> float:
    """Row-weighted mean Spearman over the families of :func:`per_family_quality`."""
    t = table.dropna(subset=["spearman"])
    return float(np.average(t["spearman"], weights=t["n"])) if len(t) else float("nan")


def censored_metrics(
    y: np.ndarray, pred: pd.DataFrame, censored: np.ndarray, family: np.ndarray,
    prefix: str = "",
) -> dict[str, float]:
    """Bound-aware metrics: MAE on measured rows, the share of censored rows predicted
    below detection (recall) and of measured rows wrongly so, coverage of the measured
    rows, ``mae_bound`` (censored rows: error only above the detection bound of
    -10 log10 S/cm), within-family Spearman (families of >= 20 rows)."""
    from ssbml.models.conductivity.model import DETECTION_BOUND_LOG10

    p = pred["log10_sigma"].to_numpy(dtype=float)
    lo = pred["log10_sigma_lower"].to_numpy(dtype=float)
    hi = pred["log10_sigma_upper"].to_numpy(dtype=float)
    m = ~censored
    below = (pred["below_detection"].to_numpy(dtype=bool) if "below_detection" in pred
             else np.zeros(len(p), dtype=bool))
    err = np.where(m, np.abs(y - p), np.clip(p - DETECTION_BOUND_LOG10, 0.0, None))
    out = {
        "mae_measured": float(np.mean(np.abs(y - p)[m])),
        "mae_bound": float(np.mean(err)),
        "coverage90_measured": float(np.mean(((y >= lo) & (y <= hi))[m])),
        "censored_recall": float(below[censored].mean()) if censored.any() else float("nan"),
        "measured_flagged_below": float(below[m].mean()),
        "n_censored": float(censored.sum()),
    }
    fam = per_family_quality(family[m], y[m], p[m], lo[m], hi[m])
    out["spearman_within_family"] = within_family_spearman(fam)
    if len(fam):
        out["coverage90_family_min"] = float(fam["coverage90"].min())
        out["coverage90_family_max"] = float(fam["coverage90"].max())
    return {f"{prefix}{k}": v for k, v in out.items()}


def _measured_family_table(rows: pd.DataFrame, pred: pd.DataFrame) -> pd.DataFrame:
    """:func:`per_family_quality` of the measured (not censored) rows of ``rows`` against
    ``pred`` (``log10_sigma`` with ``_lower``/``_upper``, log10 S/cm, same row order)."""
    m = ~rows["censored"].to_numpy(dtype=bool)
    return per_family_quality(
        rows["family"].to_numpy()[m], rows["log10_sigma"].to_numpy()[m],
        pred["log10_sigma"].to_numpy()[m], pred["log10_sigma_lower"].to_numpy()[m],
        pred["log10_sigma_upper"].to_numpy()[m])


def _oof_quality(
    model: Any, train: pd.DataFrame, groups: Any
) -> tuple[dict[str, float], pd.DataFrame]:
    """Grouped-CV bound-aware metrics and per-family coverage of the out-of-fold
    adaptive intervals (``cv_`` prefix), and the out-of-fold prediction table."""
    from ssbml.ml.conformal import conformal_quantile

    mu = model.oof_mu_
    d = getattr(model, "oof_difficulty_all_", None)
    calibrator = getattr(model, "interval_calibrator_", None)
    if d is None:
        h = np.full(len(mu), model.interval_halfwidth(0.1))
    elif calibrator is not None:
        # per-family quantiles, each fold's from the other folds' measured rows only
        from ssbml.ml.conformal import cross_fold_quantiles

        q = cross_fold_quantiles(model.oof_scores_, model.oof_nearest_family_,
                                 model.oof_fold_, 0.1, calibrator.min_rows)
        h = q * d
    else:
        h = conformal_quantile(model.scores_, 0.1) * d
    pred = pd.DataFrame({"log10_sigma": mu, "log10_sigma_lower": mu - h,
                         "log10_sigma_upper": mu + h})
    below = model.oof_below_detection_
    if below.any() or getattr(model, "classifier_", None) is not None:
        pred["below_detection"] = below
        from ssbml.models.conductivity.model import DETECTION_BOUND_LOG10

        pred.loc[below, ["log10_sigma", "log10_sigma_upper"]] = DETECTION_BOUND_LOG10
        pred["log10_sigma_lower"] = np.minimum(pred["log10_sigma_lower"], pred["log10_sigma"])
    metrics = censored_metrics(train["log10_sigma"].to_numpy(), pred,
                               train["censored"].to_numpy(dtype=bool),
                               train["family"].to_numpy(), prefix="cv_")
    return metrics, pred


def temperature_cv(
    cfg: TrainConfig, rt_train: pd.DataFrame, data: pd.DataFrame, *, n_splits: int = 5,
    alpha: float = 0.1,
) -> pd.DataFrame:
    """Grouped (chemical system) K-fold of the whole temperature path: in every fold the
    room-temperature model (``cfg``) and the Arrhenius model are refit without the
    held-out chemical systems, which are then predicted at their measured temperatures.
    Returns ``data`` with ``pred``, ``lower``, ``upper`` (the uncalibrated 90 %
    interval before the physical ceiling, log10 S/cm), ``ea_pred`` (eV),
    ``median_baseline`` (the training folds' median log10 S/cm), ``fold``,
    ``nearest_family`` (the family of the nearest room-temperature training
    composition of the fold: the Mondrian category of
    :meth:`ArrheniusModel.calibrate_intervals`), ``in_domain`` and ``domain_distance``
    columns."""
    from sklearn.model_selection import GroupKFold

    from ssbml.features.presets import to_element_fractions
    from ssbml.ml.splits import chemical_system_groups
    from ssbml.models.conductivity.temperature import ArrheniusModel

    g_rt = chemical_system_groups(rt_train["composition"])
    g_t = chemical_system_groups(data["composition"])
    all_groups = np.concatenate([g_rt, g_t])
    out = data.reset_index(drop=True).copy()
    for c in ("pred", "lower", "upper", "ea_pred", "median_baseline", "h_rt_lower",
              "h_rt_upper", "h_ea"):
        out[c] = np.nan
    out["fold"] = -1
    out["nearest_family"] = ""
    out["in_domain"] = False
    out["domain_distance"] = np.nan
    folds = GroupKFold(n_splits=n_splits).split(np.zeros((len(all_groups), 1)),
                                                groups=all_groups)
    for k, (_, va) in enumerate(folds):
        held = set(all_groups[va])
        rt_tr = rt_train[~np.isin(g_rt, list(held))]
        t_tr = out[~np.isin(g_t, list(held))]
        t_va = np.flatnonzero(np.isin(g_t, list(held)))
        if len(t_va) == 0:
            continue
        rt = build_model(cfg).fit(
            rt_tr[["composition"]], rt_tr["log10_sigma"].to_numpy(),
            groups=chemical_system_groups(rt_tr["composition"]),
            censored=rt_tr["censored"].to_numpy(), families=rt_tr["family"],
        )
        tm = ArrheniusModel(rt, random_state=cfg.seed).fit(t_tr)
        part = out.iloc[t_va]
        F = tm._features(part[["composition"]])
        dom = rt.domain_table_from_features(F, to_element_fractions(part[["composition"]]))
        families = dom["nearest_family"].to_numpy()
        pred = tm.predict_interval_from_features(F, part["temperature_K"].to_numpy(),
                                                 alpha=alpha, families=families,
                                                 clip_to_physical=False, return_parts=True)
        out.loc[t_va, "fold"] = k
        out.loc[t_va, "nearest_family"] = families
        out.loc[t_va, "in_domain"] = dom["in_domain"].to_numpy()
        out.loc[t_va, "domain_distance"] = dom["domain_distance"].to_numpy()
        out.loc[t_va, "pred"] = pred["log10_sigma"].to_numpy()
        out.loc[t_va, "lower"] = pred["log10_sigma_lower"].to_numpy()
        out.loc[t_va, "upper"] = pred["log10_sigma_upper"].to_numpy()
        out.loc[t_va, "ea_pred"] = pred["activation_energy_eV"].to_numpy()
        for c in ("h_rt_lower", "h_rt_upper", "h_ea"):
            out.loc[t_va, c] = pred[c].to_numpy()
        out.loc[t_va, "median_baseline"] = float(np.median(t_tr["log10_sigma"]))
    return out


def _family_calibrated_cv(res: pd.DataFrame, min_rows: int) -> pd.DataFrame:
    """``res`` of :func:`temperature_cv` with ``lower``/``upper`` rebuilt with the
    temperature term scaled per nearest family by quantiles calibrated on the other
    folds only (honest coverage)."""
    from ssbml.ml.conformal import cross_fold_quantiles
    from ssbml.models.conductivity.temperature import temperature_term_scores

    q = cross_fold_quantiles(temperature_term_scores(res), res["nearest_family"].to_numpy(),
                             res["fold"].to_numpy(), 0.1, min_rows)
    from ssbml.models.conductivity.model import MAX_LOG10_SIGMA

    mu = res["pred"].to_numpy()
    h_T = q * res["h_ea"].to_numpy()
    return res.assign(lower=mu - np.hypot(res["h_rt_lower"].to_numpy(), h_T),
                      upper=np.minimum(mu + np.hypot(res["h_rt_upper"].to_numpy(), h_T),
                                       MAX_LOG10_SIGMA))
