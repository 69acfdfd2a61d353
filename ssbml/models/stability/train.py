"""Tracked training run of the learned stability model (mlflow) and its shipping into
the model store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ssbml.models.stability.evaluate import CHAMPION_METRIC, _parity_grid, evaluate
from ssbml.models.stability.model import TARGETS, StabilityModel

__all__ = [
    "EXPERIMENT",
    "REGISTERED_MODEL",
    "SHIPPED_METRICS",
    "save_stability_model",
    "train_stability_model",
]

EXPERIMENT = "ssbml-stability"
REGISTERED_MODEL = "ssbml-stability"


def train_stability_model(
    labels: pd.DataFrame | None = None,
    *,
    tracking_uri: str | None = None,
    experiment: str = EXPERIMENT,
    max_rows: int | None = None,
    n_jobs: int = 1,
    register: bool = True,
    log_model: bool = True,
    model_params: dict[str, Any] | None = None,
    random_state: int = 0,
) -> dict[str, Any]:
    """Fit :class:`StabilityModel` on the label table (default: all of
    :func:`~ssbml.stability.labels.load_labels`), evaluate it with a 5-fold grouped by
    chemical system without Li, and log the run to mlflow (experiment
    ``ssbml-stability``). With ``register`` the model becomes a version of
    ``ssbml-stability`` and takes the ``champion`` alias if its
    ``cv_mean_normalized_mae`` is the lowest so far.

    ``max_rows`` trains on a random subset (quick runs). Labels with an ``error`` are
    excluded and counted (``n_excluded``). Returns run id, metrics, per-target table,
    the fitted model and the registered version.
    """
    import mlflow

    from ssbml.ml.splits import chemical_system_groups
    from ssbml.stability.labels import load_labels
    from ssbml.tracking import (
        log_dataframe_artifact,
        log_dataset,
        log_figure,
        log_sklearn_model,
        promote_champion,
        start_run,
    )

    if labels is None:
        labels = load_labels(n_jobs=n_jobs)
    failed = labels["error"].fillna("") != "" if "error" in labels else np.zeros(len(labels), bool)
    n_excluded = int(np.sum(failed))
    labels = labels.loc[~np.asarray(failed)].reset_index(drop=True)
    if max_rows is not None:
        if max_rows < 10:
            raise ValueError(f"max_rows must be at least 10, got {max_rows}")
        if max_rows < len(labels):
            labels = labels.sample(n=max_rows, random_state=random_state).reset_index(drop=True)
    groups = chemical_system_groups(labels["formula"])
    params = {"random_state": random_state, "n_jobs": n_jobs} | (model_params or {})
    model = StabilityModel(**params)
    with start_run(experiment, run_name="stability-mlp", tracking_uri=tracking_uri,
                   data_names=("mp-e-form",), tags={"task": "stability"}) as run:
        model.fit(labels["formula"].tolist(), labels, groups=groups)
        metrics, table = evaluate(model, labels)
        logged = {k: v for k, v in model.get_params(deep=False).items() if k != "featurizer"}
        mlflow.log_params(logged | {
            "featurizer": "default", "groups": "chemical system without Li",
            "n_excluded": n_excluded, "max_rows": max_rows, "targets": ",".join(TARGETS),
        })
        cols = ["formula", "chemsys", *TARGETS]
        log_dataset(labels[cols], "stability-labels", "training",
                    source="ssbml.stability.labels")  # mlflow takes one target column
        mlflow.log_metrics(metrics)
        log_dataframe_artifact(table, "target_errors_cv.csv")
        oof = model.oof_predictions_.add_suffix("_pred")
        log_dataframe_artifact(pd.concat([labels[cols], oof], axis=1), "predictions_cv.csv")
        log_figure(_parity_grid(labels[list(TARGETS)].to_numpy(), model.oof_predictions_
                                .to_numpy(), "stability model, grouped CV"), "parity_cv.png")
        info = None
        if log_model:
            example = pd.DataFrame({"composition": labels["formula"].head(5).tolist()})
            info = log_sklearn_model(model, example,
                                     registered_model_name=REGISTERED_MODEL if register else None)
            if register and info.registered_model_version is not None:
                promoted = promote_champion(REGISTERED_MODEL, info.registered_model_version,
                                            CHAMPION_METRIC)
                mlflow.set_tag("champion_at_registration", str(promoted))
        return {
            "run_id": run.info.run_id,
            "metrics": metrics,
            "table": table,
            "model": model,
            "n_excluded": n_excluded,
            "max_rows": max_rows,
            "model_version": None if info is None else info.registered_model_version,
        }


SHIPPED_METRICS = (
    CHAMPION_METRIC,
    *(f"cv_mae_{t}" for t in TARGETS),
    *(f"cv_coverage90_{t}" for t in TARGETS),
    *(f"cv_mean_width90_{t}" for t in TARGETS),
    "n_train",
)


def save_stability_model(result: dict[str, Any], models_dir: Path | None = None) -> Path:
    """Write the model of a :func:`train_stability_model` result to
    ``<models_dir>/stability.joblib`` and record it in the manifest."""
    from ssbml.ml.store import save_model

    subset = "" if result["max_rows"] is None else f" (random subset of {result['max_rows']})"
    return save_model(
        result["model"], "stability", models_dir=models_dir,
        metrics={k: result["metrics"][k] for k in SHIPPED_METRICS},
        data_names=("mp-e-form",),
        description=(
            "learned stability: window limits (V vs Li/Li+), energy above hull, "
            "decomposition energy and reaction energies with Li and LiCoO2 (meV/atom) "
            f"from composition; trained on the MP-derived labels{subset}; metrics are "
            "5-fold CV grouped by chemical system without Li"
        ),
        extra={"mlflow_run_id": result["run_id"], "targets": list(TARGETS)},
    )
