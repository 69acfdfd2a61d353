"""Config-driven training runs of the conductivity model, tracked with mlflow.

A config is a TOML file (see ``experiments/*.toml``)::

    name = "medrf-lv"                 # run name
    seed = 0
    [data]
    include_liverpool = true          # add Liverpool room-temperature rows
    censored = "paper"                # "paper" (1e-15 S/cm), "bound" (1e-10) or "drop"
    benchmark = true                  # true: OBELiX train -> official test split
    user_data = []                    # names/paths for ssbml.data.user.load_user_dataset
    [features]
    set = "default"                   # see ssbml.models.featurizers.make_featurizer_by_name;
                                      # "default+fractions+structure" = OBELiX structure
                                      # inputs, benchmark only
    [model]
    regressor = "medrf"               # see ssbml.models.regressors.REGRESSORS
    params = { n_estimators = 300 }
    groups = "chemsys"                # fold groups: chemsys, family, composition
    n_splits = 5
    censoring = "bound"               # "none", "classifier" or "bound" (censored rows as
                                      # bounds, see ssbml.models.conductivity)
    [search]                          # optional grouped hyperparameter search
    n_iter = 10                       # omit for a full grid
    [search.space]
    max_features = [0.33, 0.5, 1.0]

Every run logs params, metrics (grouped-CV ``cv_mae`` on train; ``test_*`` on the
OBELiX test split when ``benchmark``), both data sets, the model with signature and
input example, a parity plot and per-family errors.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "BENCHMARK_CONFIG",
    "EXPERIMENT",
    "REGISTERED_MODEL",
    "TrainConfig",
    "build_model",
    "censored_metrics",
    "load_config",
    "load_temperature_data",
    "load_training_data",
    "model_inputs",
    "per_family_quality",
    "run_temperature_training",
    "run_training",
    "temperature_cv",
    "within_family_spearman",
]

EXPERIMENT = "ssbml-conductivity"
REGISTERED_MODEL = "ssbml-conductivity"
_DATA_NAMES = ("obelix", "obelix-train", "obelix-test", "liverpool")


@dataclass
class TrainConfig:
    """One training run (see the module docstring for the TOML layout)."""

    name: str = "conductivity"
    seed: int = 0
    include_liverpool: bool = True
    censored: str = "paper"
    benchmark: bool = True
    user_data: list[str] = field(default_factory=list)
    features: str = "default"
    regressor: str = "hgb"
    params: dict[str, Any] = field(default_factory=dict)
    groups: str = "chemsys"
    n_splits: int = 5
    censoring: str = "none"
    interval_groups: str = "none"
    search_space: dict[str, list[Any]] = field(default_factory=dict)
    search_n_iter: int | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainConfig:
        """Build from the nested TOML dict; unknown keys raise."""
        raw = dict(raw)
        sections = {k: dict(raw.pop(k, {})) for k in ("data", "features", "model", "search")}
        flat: dict[str, Any] = {}
        for key in ("name", "seed"):
            if key in raw:
                flat[key] = raw.pop(key)
        if raw:
            raise ValueError(f"unknown top-level config key(s): {sorted(raw)}")
        d, f, m, s = (sections[k] for k in ("data", "features", "model", "search"))
        for key in ("include_liverpool", "censored", "benchmark", "user_data"):
            if key in d:
                flat[key] = d.pop(key)
        if "set" in f:
            flat["features"] = f.pop("set")
        for key in ("regressor", "params", "groups", "n_splits", "censoring",
                    "interval_groups"):
            if key in m:
                flat[key] = m.pop(key)
        if "space" in s:
            flat["search_space"] = s.pop("space")
        if "n_iter" in s:
            flat["search_n_iter"] = s.pop("n_iter")
        leftover = {f"{k}.{kk}" for k, v in zip(("data", "features", "model", "search"),
                                                 (d, f, m, s), strict=True) for kk in v}
        if leftover:
            raise ValueError(f"unknown config key(s): {sorted(leftover)}")
        cfg = cls(**flat)
        if cfg.censored not in ("paper", "bound", "drop"):
            raise ValueError(f"data.censored must be paper, bound or drop, got {cfg.censored!r}")
        if cfg.censoring not in ("none", "classifier", "bound"):
            raise ValueError("model.censoring must be none, classifier or bound, got "
                             f"{cfg.censoring!r}")
        if cfg.interval_groups not in ("none", "family"):
            raise ValueError("model.interval_groups must be none or family, got "
                             f"{cfg.interval_groups!r}")
        if cfg.censoring != "none" and cfg.censored == "drop":
            raise ValueError(f"model.censoring = {cfg.censoring!r} needs the censored rows "
                             "(data.censored = 'paper' or 'bound')")
        return cfg

    def as_params(self) -> dict[str, Any]:
        """Flat params for mlflow."""
        out = {k: v for k, v in self.__dict__.items() if k not in ("params", "search_space")}
        out |= {f"model.{k}": v for k, v in self.params.items()}
        out |= {f"search.{k}": v for k, v in self.search_space.items()}
        return out


BENCHMARK_CONFIG = TrainConfig(
    name="obelix-benchmark-vote3",
    include_liverpool=True,
    censored="paper",
    benchmark=True,
    features="default+fractions",
    regressor="vote",
    params={"members": ["medrf", "medet", "hgb"], "hgb": {"loss": "absolute_error"}},
)
"""The configuration behind ``ssbml train conductivity --benchmark obelix``: the lowest
grouped-CV MAE on the train split of every composition-only config tried
(experiments/results/conductivity.md); identical to
``experiments/obelix-vote3-hgbl1-lv.toml``. Composition only: the OBELiX structure
inputs (``experiments/obelix-vote-structure-lv.toml``) are a separate, benchmark-only
option."""


def model_inputs(cfg: TrainConfig) -> list[str]:
    """Input columns the model of ``cfg`` reads: ``composition``, plus ``family`` or the
    OBELiX structure columns for the benchmark-only feature sets."""
    from ssbml.models.obelix_structure import STRUCTURE_COLUMNS

    if "structure" in str(cfg.features):
        return ["composition", *STRUCTURE_COLUMNS]
    if "family" in str(cfg.features):
        return ["composition", "family"]
    return ["composition"]


def load_config(path: str | Path) -> TrainConfig:
    """Read a TOML config; errors name the file."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
        return TrainConfig.from_dict(raw)
    except (OSError, tomllib.TOMLDecodeError, ValueError, TypeError) as exc:
        raise ValueError(f"config {path}: {exc}") from exc


def load_training_data(cfg: TrainConfig) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(train, test) in the conductivity schema; ``test`` is the OBELiX test split with
    censored values at 1e-15 S/cm (paper convention) when ``cfg.benchmark``, else None.
    User data sets are appended to train (benchmark: minus test compositions)."""
    from ssbml.data.conductivity import load_room_temperature, merge_duplicates

    df = load_room_temperature(
        benchmark=cfg.benchmark, censored=cfg.censored, include_liverpool=cfg.include_liverpool,
        merge=False,
    )
    raw_train = df[df["split"] == "train"].reset_index(drop=True)
    test = None
    if cfg.benchmark:
        if cfg.censored == "paper":
            # the OBELiX test rows are already in df (never merged, not affected by
            # Liverpool): mark them as load_room_temperature(merge=True) does
            test = df[df["split"] == "test"].assign(n_measurements=1, log10_sigma_range=0.0)
        else:
            ref = load_room_temperature(benchmark=True, censored="paper", include_liverpool=False)
            test = ref[ref["split"] == "test"]
        test = test.reset_index(drop=True)
    if cfg.user_data:
        try:
            from ssbml.data.user import load_user_dataset
        except ImportError as exc:
            raise RuntimeError("user data sets need ssbml.data.user, which is missing") from exc
        extra = pd.concat([load_user_dataset(n) for n in cfg.user_data], ignore_index=True)
        extra = _room_temperature_user_rows(extra)
        if test is not None:
            extra = extra[~extra["composition_key"].isin(test["composition_key"])]
        raw_train = pd.concat([raw_train, extra.assign(split="train")], ignore_index=True)
    train = merge_duplicates(raw_train)
    if "structure" in str(cfg.features):
        if test is None:
            raise ValueError("the structure feature set is for the OBELiX benchmark only "
                             "(data.benchmark = true)")
        from ssbml.models.obelix_structure import attach_structure, obelix_structure_table

        table = obelix_structure_table()
        train = attach_structure(train, table, "train")
        test = attach_structure(test, table, "test")
    return train, test


def _room_temperature_user_rows(extra: pd.DataFrame) -> pd.DataFrame:
    """User rows measured at 15-35 degC, with ``composition_key`` and a family."""
    from ssbml.composition import composition_key, parse_formula
    from ssbml.data.conductivity import ROOM_TEMPERATURE_RANGE_K, normalize_family

    lo, hi = ROOM_TEMPERATURE_RANGE_K
    extra = extra[extra["temperature_K"].between(lo, hi)].copy()
    comps = [parse_formula(c) for c in extra["composition"]]
    extra["composition"] = [c.reduced_formula for c in comps]
    extra["composition_key"] = [composition_key(c) for c in comps]
    extra["family"] = normalize_family(extra["family"])
    extra["doi"] = extra["doi"].fillna("")
    return extra


def build_model(cfg: TrainConfig, params: dict[str, Any] | None = None) -> Any:
    """The unfitted :class:`~ssbml.models.conductivity.ConductivityModel` of ``cfg``."""
    from ssbml.models.conductivity import ConductivityModel
    from ssbml.models.featurizers import make_featurizer_by_name
    from ssbml.models.regressors import make_regressor

    reg = make_regressor(cfg.regressor, {**cfg.params, **(params or {})}, random_state=cfg.seed)
    return ConductivityModel(
        featurizer=make_featurizer_by_name(cfg.features),
        regressor=reg,
        n_splits=cfg.n_splits,
        random_state=cfg.seed,
        censoring=cfg.censoring,
        interval_groups=cfg.interval_groups,
    )


def _search(cfg: TrainConfig, train: pd.DataFrame, groups: np.ndarray) -> dict[str, Any]:
    from sklearn.base import clone

    from ssbml.models.featurizers import make_featurizer_by_name
    from ssbml.models.regressors import make_regressor
    from ssbml.models.search import grouped_search

    inputs = model_inputs(cfg)
    feat = clone(make_featurizer_by_name(cfg.features)).fit(train[inputs])
    F = feat.transform(train[inputs])
    reg = make_regressor(cfg.regressor, cfg.params, random_state=cfg.seed)
    return grouped_search(
        reg, cfg.search_space, F, train["log10_sigma"], groups,
        n_splits=cfg.n_splits, n_iter=cfg.search_n_iter, random_state=cfg.seed,
    )


def run_training(
    cfg: TrainConfig,
    *,
    tracking_uri: str | None = None,
    experiment: str = EXPERIMENT,
    register: bool = True,
    log_model: bool = True,
) -> dict[str, Any]:
    """Fit, evaluate and log one run; returns metrics, run id and the fitted model.

    With ``register`` (benchmark runs only) the model becomes a new version of
    ``ssbml-conductivity`` and takes the ``champion`` alias if its ``test_mae`` is the
    lowest so far.
    """
    import mlflow

    from ssbml.models.benchmark import per_family_errors, regression_metrics
    from ssbml.models.search import make_groups
    from ssbml.tracking import (
        log_dataframe_artifact,
        log_dataset,
        log_figure,
        log_sklearn_model,
        promote_champion,
        start_run,
    )
    from ssbml.tracking.plots import bar_chart, parity_plot

    train, test = load_training_data(cfg)
    groups = make_groups(train, cfg.groups)
    with start_run(experiment, run_name=cfg.name, tracking_uri=tracking_uri,
                   data_names=_DATA_NAMES,
                   tags={"task": "conductivity", "benchmark": str(cfg.benchmark)}) as run:
        mlflow.log_params(cfg.as_params())
        mlflow.log_params({"n_train": len(train), "n_test": 0 if test is None else len(test)})
        cols = ["composition", "log10_sigma", "censored", "family", "source"]
        log_dataset(train[cols], "train", "training", source="ssbml.data.conductivity",
                    targets="log10_sigma")
        best_params: dict[str, Any] = {}
        if cfg.search_space:
            result = _search(cfg, train, groups)
            best_params = result["best_params"]
            mlflow.log_params({f"best.{k}": v for k, v in best_params.items()})
            mlflow.log_metric("search_cv_mae", result["best_mae"])
            log_dataframe_artifact(result["table"].astype({"params": str}), "search.csv")

        inputs = model_inputs(cfg)
        model = build_model(cfg, best_params)
        model.fit(train[inputs], train["log10_sigma"].to_numpy(), groups=groups,
                  censored=train["censored"].to_numpy(), families=train["family"])
        y_tr = train["log10_sigma"].to_numpy()
        metrics = regression_metrics(y_tr, model.oof_predictions_, prefix="cv_")
        metrics["interval_halfwidth90"] = model.interval_halfwidth(0.1)
        oof_metrics, oof_pred = _oof_quality(model, train, groups)
        metrics |= oof_metrics
        family_tables = {"cv": _measured_family_table(train, oof_pred)}
        log_dataframe_artifact(family_tables["cv"], "family_quality_cv.csv")
        fig = parity_plot(y_tr, model.oof_predictions_, censored=train["censored"],
                          title=f"{cfg.name} grouped CV (train)")
        log_figure(fig, "parity_cv.png")
        fam = per_family_errors(train["family"], y_tr, model.oof_predictions_)
        log_dataframe_artifact(fam, "family_errors_cv.csv")

        predictions = None
        if test is not None:
            log_dataset(test[cols], "obelix-test", "evaluation",
                        source="ssbml.data.conductivity", targets="log10_sigma")
            pred = model.predict_interval(test[inputs], alpha=0.1)
            y_te = test["log10_sigma"].to_numpy()
            paper = _paper_convention(pred, y_te, test["censored"].to_numpy())
            metrics |= regression_metrics(
                y_te, paper, pred["log10_sigma_lower"], pred["log10_sigma_upper"],
                prefix="test_",
            )
            metrics |= censored_metrics(
                y_te, pred, test["censored"].to_numpy(), test["family"].to_numpy(),
                prefix="test_",
            )
            log_figure(parity_plot(y_te, pred["log10_sigma"], lower=pred["log10_sigma_lower"],
                                   upper=pred["log10_sigma_upper"], censored=test["censored"],
                                   title=f"{cfg.name} OBELiX test"), "parity_test.png")
            fam = per_family_errors(test["family"], y_te, paper)
            log_dataframe_artifact(fam, "family_errors_test.csv")
            family_tables["test"] = _measured_family_table(test, pred)
            log_dataframe_artifact(family_tables["test"], "family_quality_test.csv")
            predictions = pd.concat([test[["composition", "log10_sigma", "family"]]
                                     .rename(columns={"log10_sigma": "measured"}), pred], axis=1)
            log_dataframe_artifact(predictions, "predictions_test.csv")
        fam_top = fam.head(15)
        log_figure(bar_chart(fam_top, "family", "mae", title="MAE per family",
                             xlabel="MAE (log10 S/cm)"), "family_errors.png")
        mlflow.log_metrics(metrics)

        info = None
        if log_model:
            example = train[inputs].head(5).reset_index(drop=True)
            reg_name = REGISTERED_MODEL if (register and test is not None) else None
            info = log_sklearn_model(model, example, registered_model_name=reg_name)
            if reg_name is not None and info.registered_model_version is not None:
                promoted = promote_champion(reg_name, info.registered_model_version, "test_mae")
                mlflow.set_tag("champion_at_registration", str(promoted))
        return {
            "run_id": run.info.run_id,
            "metrics": metrics,
            "model": model,
            "config": cfg,
            "predictions": predictions,
            "family_tables": family_tables,
            "model_version": None if info is None else info.registered_model_version,
        }


def _paper_convention(pred: pd.DataFrame, y: np.ndarray, censored: np.ndarray) -> np.ndarray:
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
    from ssbml.models.conductivity import DETECTION_BOUND_LOG10

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
    from ssbml.models.conductivity import conformal_quantile

    mu = model.oof_mu_
    d = getattr(model, "oof_difficulty_all_", None)
    calibrator = getattr(model, "interval_calibrator_", None)
    if d is None:
        h = np.full(len(mu), model.interval_halfwidth(0.1))
    elif calibrator is not None:
        # per-family quantiles, each fold's from the other folds' measured rows only
        from ssbml.models.mondrian import cross_fold_quantiles

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
        from ssbml.models.conductivity import DETECTION_BOUND_LOG10

        pred.loc[below, ["log10_sigma", "log10_sigma_upper"]] = DETECTION_BOUND_LOG10
        pred["log10_sigma_lower"] = np.minimum(pred["log10_sigma_lower"], pred["log10_sigma"])
    metrics = censored_metrics(train["log10_sigma"].to_numpy(), pred,
                               train["censored"].to_numpy(dtype=bool),
                               train["family"].to_numpy(), prefix="cv_")
    return metrics, pred


TEMPERATURE_EXPERIMENT = "ssbml-conductivity-temperature"


def load_temperature_data(user_data: tuple[str, ...] | list[str] = ()) -> pd.DataFrame:
    """Multi-temperature measurements: every Liverpool row plus user data sets (their
    DOI and family keep series from different papers and phases apart)."""
    import warnings

    from ssbml.composition import composition_key, parse_formula
    from ssbml.data.conductivity import load_liverpool, normalize_family

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load_liverpool()
    if user_data:
        from ssbml.data.user import load_user_dataset

        extra = pd.concat([load_user_dataset(n) for n in user_data], ignore_index=True)
        comps = [parse_formula(c) for c in extra["composition"]]
        extra["composition"] = [c.reduced_formula for c in comps]
        extra["composition_key"] = [composition_key(c) for c in comps]
        extra["family"] = normalize_family(extra["family"])
        extra["doi"] = extra["doi"].fillna("")
        data = pd.concat([data, extra], ignore_index=True)
    return data


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

    from ssbml.models.conductivity import chemical_system_groups
    from ssbml.models.featurizers import to_element_fractions
    from ssbml.models.temperature import ArrheniusModel

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
    from ssbml.models.mondrian import cross_fold_quantiles
    from ssbml.models.temperature import temperature_term_scores

    q = cross_fold_quantiles(temperature_term_scores(res), res["nearest_family"].to_numpy(),
                             res["fold"].to_numpy(), 0.1, min_rows)
    from ssbml.models.conductivity import MAX_LOG10_SIGMA

    mu = res["pred"].to_numpy()
    h_T = q * res["h_ea"].to_numpy()
    return res.assign(lower=mu - np.hypot(res["h_rt_lower"].to_numpy(), h_T),
                      upper=np.minimum(mu + np.hypot(res["h_rt_upper"].to_numpy(), h_T),
                                       MAX_LOG10_SIGMA))


def run_temperature_training(
    cfg: TrainConfig | None = None,
    *,
    room_temperature_model: Any = None,
    tracking_uri: str | None = None,
    experiment: str = TEMPERATURE_EXPERIMENT,
    user_data: tuple[str, ...] | list[str] = (),
    log_model: bool = True,
    cv: bool = True,
) -> dict[str, Any]:
    """Fit the temperature model (Ea from every Liverpool / user Arrhenius series,
    anchored on ``room_temperature_model``, else one fit from ``cfg``) and log it.

    Metrics (grouped by chemical system, see :func:`temperature_cv`): ``cv_T_mae`` etc.
    of log10 S/cm at the measured temperatures against ``cv_T_mae_median_baseline``,
    ``cv_T_mae_nonrt`` away from room temperature, coverage of the 90% interval overall
    and per family; ``cv_ea_mae_eV`` of the out-of-fold Ea of the series against
    ``cv_ea_mae_eV_median_baseline``, and the Ea interval coverage.
    """
    import mlflow

    from ssbml.data.conductivity import ROOM_TEMPERATURE_RANGE_K
    from ssbml.models.benchmark import regression_metrics
    from ssbml.models.conductivity import chemical_system_groups
    from ssbml.models.temperature import ArrheniusModel
    from ssbml.tracking import (
        log_dataframe_artifact,
        log_dataset,
        log_figure,
        log_sklearn_model,
        start_run,
    )
    from ssbml.tracking.plots import parity_plot

    cfg = cfg or load_config(Path(__file__).resolve().parents[2]
                             / "experiments" / "ship-conductivity.toml")
    data = load_temperature_data(user_data)
    rt_train = None
    if room_temperature_model is None or cv:
        rt_train, _ = load_training_data(cfg)
    if room_temperature_model is None:
        room_temperature_model = build_model(cfg).fit(
            rt_train[["composition"]], rt_train["log10_sigma"].to_numpy(),
            groups=chemical_system_groups(rt_train["composition"]),
            censored=rt_train["censored"].to_numpy(), families=rt_train["family"],
        )
    with start_run(experiment, run_name="arrhenius-anchored", tracking_uri=tracking_uri,
                   data_names=("liverpool",), tags={"task": "conductivity-temperature"}) as run:
        model = ArrheniusModel(room_temperature_model, random_state=cfg.seed,
                               interval_groups=cfg.interval_groups)
        mlflow.log_params({k: v for k, v in model.get_params(deep=False).items()
                           if not hasattr(v, "fit")} | {"n_rows": len(data),
                                                        "rt_config": cfg.name})
        cols = ["composition", "log10_sigma", "temperature_K", "family"]
        log_dataset(data[cols], "liverpool", "training", source="ssbml.data.conductivity",
                    targets="log10_sigma")
        model.fit(data)
        series = model.series_
        target = series["Ea_target_eV"].to_numpy()
        metrics: dict[str, float] = {
            "n_arrhenius_fits": float(model.n_arrhenius_fits_),
            "n_series_rejected": float(model.n_series_rejected_),
            "cv_ea_mae_eV": float(np.mean(np.abs(target - model.oof_activation_energy_eV_))),
            "cv_ea_mae_eV_median_baseline": float(np.mean(np.abs(
                target - model.oof_activation_energy_eV_median_baseline_))),
        }
        from ssbml.models.conductivity import conformal_quantile

        h = conformal_quantile(model.ea_scores_, 0.1) * (
            model.oof_ea_spread_ + model.ea_difficulty_offset_)
        metrics["cv_ea_coverage90"] = float(np.mean(
            np.abs(target - model.oof_activation_energy_eV_) <= h))
        family_table = nonrt_table = None
        if cv:
            res = temperature_cv(cfg, rt_train, data)
            y = res["log10_sigma"].to_numpy()
            metrics["cv_T_coverage90_uncalibrated"] = float(np.mean(
                (y >= res["lower"]) & (y <= res["upper"])))
            if cfg.interval_groups == "family":
                model.calibrate_intervals(res)
                res = _family_calibrated_cv(res, model.min_group_rows)
            metrics |= regression_metrics(y, res["pred"], res["lower"], res["upper"],
                                          prefix="cv_T_")
            metrics["cv_T_mae_median_baseline"] = float(np.mean(np.abs(
                y - res["median_baseline"])))
            lo, hi = ROOM_TEMPERATURE_RANGE_K
            away = ~res["temperature_K"].between(lo, hi).to_numpy()
            metrics["cv_T_mae_nonrt"] = float(np.mean(np.abs(y - res["pred"])[away]))
            inside = ((y >= res["lower"]) & (y <= res["upper"])).to_numpy()
            metrics["cv_T_coverage90_nonrt"] = float(inside[away].mean())
            family_table = per_family_quality(res["family"], y, res["pred"], res["lower"],
                                              res["upper"])
            nonrt_table = per_family_quality(
                res["family"][away], y[away], res["pred"][away], res["lower"][away],
                res["upper"][away])
            log_dataframe_artifact(nonrt_table, "family_quality_cv_nonrt.csv")
            metrics["cv_T_spearman_within_family"] = within_family_spearman(family_table)
            if len(family_table):
                metrics["cv_T_coverage90_family_min"] = float(family_table["coverage90"].min())
                metrics["cv_T_coverage90_family_max"] = float(family_table["coverage90"].max())
            log_dataframe_artifact(family_table, "family_quality_cv.csv")
            log_figure(parity_plot(y, res["pred"], title="temperature model, grouped CV"),
                       "parity_cv.png")
        mlflow.log_metrics(metrics)
        ea_table = series.assign(ea_oof_eV=model.oof_activation_energy_eV_)
        log_dataframe_artifact(ea_table, "activation_energies_cv.csv")
        if log_model:
            log_sklearn_model(model, data[["composition"]].head(5).reset_index(drop=True))
        return {"run_id": run.info.run_id, "metrics": metrics, "model": model,
                "family_table": family_table,
                "family_table_nonrt": nonrt_table}
