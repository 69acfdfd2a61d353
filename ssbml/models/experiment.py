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
    "load_config",
    "load_training_data",
    "model_inputs",
    "run_temperature_training",
    "run_training",
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
        for key in ("regressor", "params", "groups", "n_splits"):
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
        model.fit(train[inputs], train["log10_sigma"].to_numpy(), groups=groups)
        y_tr = train["log10_sigma"].to_numpy()
        metrics = regression_metrics(y_tr, model.oof_predictions_, prefix="cv_")
        metrics["interval_halfwidth90"] = model.interval_halfwidth(0.1)
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
            metrics |= regression_metrics(
                y_te, pred["log10_sigma"], pred["log10_sigma_lower"],
                pred["log10_sigma_upper"], prefix="test_",
            )
            log_figure(parity_plot(y_te, pred["log10_sigma"], lower=pred["log10_sigma_lower"],
                                   upper=pred["log10_sigma_upper"], censored=test["censored"],
                                   title=f"{cfg.name} OBELiX test"), "parity_test.png")
            fam = per_family_errors(test["family"], y_te, pred["log10_sigma"])
            log_dataframe_artifact(fam, "family_errors_test.csv")
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
            "model_version": None if info is None else info.registered_model_version,
        }


TEMPERATURE_EXPERIMENT = "ssbml-conductivity-temperature"


def run_temperature_training(
    *,
    tracking_uri: str | None = None,
    experiment: str = TEMPERATURE_EXPERIMENT,
    features: str = "default",
    log_model: bool = True,
) -> dict[str, Any]:
    """Fit the Arrhenius model on all Liverpool measurements and log it.

    Metrics come from a grouped K-fold by composition (no composition on both sides):
    ``cv_mae`` etc. of log10 S/cm at the measured temperatures, ``cv_rt_mae`` on the
    room-temperature rows, ``cv_ea_mae_eV`` of the activation energy against the
    per-composition Arrhenius fits, and ``cv_ea_mae_eV_median_baseline`` for a constant
    median Ea.
    """
    import warnings

    import mlflow

    from ssbml.data.conductivity import ROOM_TEMPERATURE_RANGE_K, load_liverpool
    from ssbml.models.benchmark import regression_metrics
    from ssbml.models.featurizers import make_featurizer_by_name
    from ssbml.models.temperature import ArrheniusModel
    from ssbml.tracking import (
        log_dataframe_artifact,
        log_dataset,
        log_figure,
        log_sklearn_model,
        start_run,
    )
    from ssbml.tracking.plots import parity_plot

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load_liverpool()
    with start_run(experiment, run_name="arrhenius-liverpool", tracking_uri=tracking_uri,
                   data_names=("liverpool",), tags={"task": "conductivity-temperature"}) as run:
        model = ArrheniusModel(featurizer=make_featurizer_by_name(features))
        mlflow.log_params({k: v for k, v in model.get_params(deep=False).items()
                           if not hasattr(v, "fit")} | {"features": features,
                                                        "n_rows": len(data)})
        cols = ["composition", "log10_sigma", "temperature_K", "family"]
        log_dataset(data[cols], "liverpool", "training", source="ssbml.data.conductivity",
                    targets="log10_sigma")
        model.fit(data)
        y = data["log10_sigma"].to_numpy()
        oof = model.oof_predictions_
        h = model.interval_halfwidth(0.1)
        metrics = regression_metrics(y, oof, prefix="cv_")
        lo, hi = ROOM_TEMPERATURE_RANGE_K
        rt = data["temperature_K"].between(lo, hi).to_numpy()
        metrics["cv_rt_mae"] = float(np.mean(np.abs(y - oof)[rt]))
        key = data["composition_key"]
        first = (~key.duplicated()).to_numpy()
        fitted = np.array([model.arrhenius_fits_.get(str(k), (np.nan, np.nan))[1] for k in key])
        sel = first & ~np.isnan(fitted)
        ea_true = np.clip(fitted[sel], 0.0, model.ea_max_eV)
        metrics["cv_ea_mae_eV"] = float(np.mean(np.abs(ea_true
                                                       - model.oof_activation_energy_eV_[sel])))
        metrics["cv_ea_mae_eV_median_baseline"] = float(
            np.mean(np.abs(ea_true - np.median(ea_true))))
        metrics["n_arrhenius_fits"] = float(model.n_arrhenius_fits_)
        metrics["interval_halfwidth90"] = h
        mlflow.log_metrics(metrics)
        log_figure(parity_plot(y, oof, title="Arrhenius model, grouped CV"), "parity_cv.png")
        ea_table = pd.DataFrame({"composition": data["composition"][sel].to_numpy(),
                                 "ea_fit_eV": ea_true,
                                 "ea_oof_eV": model.oof_activation_energy_eV_[sel]})
        log_dataframe_artifact(ea_table, "activation_energies_cv.csv")
        if log_model:
            log_sklearn_model(model, data[["composition"]].head(5).reset_index(drop=True))
        return {"run_id": run.info.run_id, "metrics": metrics, "model": model}
