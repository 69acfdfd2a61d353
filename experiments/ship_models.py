"""Regenerate the shipped models in ``models/`` (reproducible: fixed seeds).

    python experiments/ship_models.py [--models-dir models] [--tracking-uri URI]

* ``conductivity``: :class:`ssbml.models.conductivity.ConductivityModel` from
  ``experiments/ship-conductivity.toml`` trained on ALL room-temperature data (OBELiX
  train + test + Liverpool 15-35 degC, repeated measurements merged), conformal
  intervals from a grouped (chemical system) 5-fold.
* ``conductivity-temperature``: :class:`ssbml.models.temperature.ArrheniusModel` on all
  Liverpool measurements.

Both runs are logged to mlflow; ``models/manifest.json`` records sha256, metrics, the
training data sha256 and library versions.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", type=Path, default=REPO / "models")
    parser.add_argument("--tracking-uri", default=None)
    parser.add_argument("--config", type=Path, default=REPO / "experiments/ship-conductivity.toml")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    from ssbml.models.experiment import load_config, run_temperature_training, run_training
    from ssbml.models.store import save_model

    cfg = load_config(args.config)
    if cfg.benchmark:
        raise SystemExit(f"{args.config}: a shipped model must set data.benchmark = false")
    rt = run_training(cfg, tracking_uri=args.tracking_uri, register=False)
    keep = ("cv_mae", "cv_rmse", "cv_r2", "cv_spearman", "cv_roc_auc_superionic",
            "interval_halfwidth90")
    path = save_model(
        rt["model"], "conductivity", models_dir=args.models_dir,
        metrics={k: rt["metrics"][k] for k in keep},
        data_names=("obelix", "liverpool"),
        description=(
            "room-temperature log10 conductivity (log10 S/cm) from composition; "
            f"config {args.config.name}; trained on all OBELiX + Liverpool 15-35 degC rows; "
            "metrics are grouped (chemical system) 5-fold CV"
        ),
        extra={"mlflow_run_id": rt["run_id"], "config": cfg.as_params()},
    )
    print(f"conductivity: {path} cv_mae={rt['metrics']['cv_mae']:.3f}")

    tm = run_temperature_training(tracking_uri=args.tracking_uri, features=cfg.features)
    keep = ("cv_mae", "cv_rt_mae", "cv_ea_mae_eV", "cv_ea_mae_eV_median_baseline",
            "interval_halfwidth90", "n_arrhenius_fits")
    path = save_model(
        tm["model"], "conductivity-temperature", models_dir=args.models_dir,
        metrics={k: tm["metrics"][k] for k in keep},
        data_names=("liverpool",),
        description=(
            "Arrhenius model: log10 S/cm at any temperature (K) and activation energy (eV), "
            "monotone in T; metrics are 5-fold CV grouped by composition"
        ),
        extra={"mlflow_run_id": tm["run_id"]},
    )
    print(f"conductivity-temperature: {path} cv_mae={tm['metrics']['cv_mae']:.3f}")


if __name__ == "__main__":
    main()
