"""Tracked training runs of the conductivity models (mlflow): the room-temperature
model from a :class:`~ssbml.models.conductivity.config.TrainConfig` and the
temperature (Arrhenius) model anchored on it.

Every run logs params, metrics (grouped-CV ``cv_mae`` on train; ``test_*`` on the
OBELiX test split when ``benchmark``), both data sets, the model with signature and
input example, a parity plot and per-family errors.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ssbml.models.conductivity.config import (
    SHIP_CONFIG,
    TrainConfig,
    build_model,
    load_config,
    model_inputs,
)
from ssbml.models.conductivity.evaluate import (
    _family_calibrated_cv,
    _measured_family_table,
    _oof_quality,
    censored_metrics,
    paper_convention,
    per_family_quality,
    temperature_cv,
    within_family_spearman,
)

__all__ = [
    "EXPERIMENT",
    "REGISTERED_MODEL",
    "TEMPERATURE_EXPERIMENT",
    "load_temperature_data",
    "load_training_data",
    "run_temperature_training",
    "run_training",
]

EXPERIMENT = "ssbml-conductivity"
REGISTERED_MODEL = "ssbml-conductivity"
_DATA_NAMES = ("obelix", "obelix-train", "obelix-test", "liverpool")


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


def _search(cfg: TrainConfig, train: pd.DataFrame, groups: np.ndarray, inputs: list[str],
            featurizer: Any = None) -> dict[str, Any]:
    from sklearn.base import clone

    from ssbml.ml.regressors import make_regressor
    from ssbml.ml.search import grouped_search

    feat = clone(build_model(cfg, featurizer=featurizer).featurizer).fit(train[inputs])
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
    data: tuple[pd.DataFrame, pd.DataFrame | None] | None = None,
    featurizer: Any = None,
    inputs: list[str] | None = None,
) -> dict[str, Any]:
    """Fit, evaluate and log one run; returns metrics, run id and the fitted model.

    ``data`` (train, test), ``featurizer`` and ``inputs`` (input columns) replace what
    ``cfg`` would load and build: the hook of the benchmark-only experiments (e.g.
    ``experiments/obelix_structure.py``).

    With ``register`` (benchmark runs only) the model becomes a new version of
    ``ssbml-conductivity`` and takes the ``champion`` alias if its ``test_mae`` is the
    lowest so far.
    """
    import mlflow

    from ssbml.ml.metrics import per_family_errors, regression_metrics
    from ssbml.ml.splits import make_groups
    from ssbml.tracking import (
        log_dataframe_artifact,
        log_dataset,
        log_figure,
        log_sklearn_model,
        promote_champion,
        start_run,
    )
    from ssbml.tracking.plots import bar_chart, parity_plot

    train, test = load_training_data(cfg) if data is None else data
    inputs = model_inputs(cfg) if inputs is None else list(inputs)
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
            result = _search(cfg, train, groups, inputs, featurizer)
            best_params = result["best_params"]
            mlflow.log_params({f"best.{k}": v for k, v in best_params.items()})
            mlflow.log_metric("search_cv_mae", result["best_mae"])
            log_dataframe_artifact(result["table"].astype({"params": str}), "search.csv")

        model = build_model(cfg, best_params, featurizer)
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
            paper = paper_convention(pred, y_te, test["censored"].to_numpy())
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
    from ssbml.ml.metrics import regression_metrics
    from ssbml.ml.splits import chemical_system_groups
    from ssbml.models.conductivity.temperature import ArrheniusModel
    from ssbml.tracking import (
        log_dataframe_artifact,
        log_dataset,
        log_figure,
        log_sklearn_model,
        start_run,
    )
    from ssbml.tracking.plots import parity_plot

    cfg = cfg or load_config(SHIP_CONFIG)
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
        from ssbml.ml.conformal import conformal_quantile

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
