"""Regenerate the shipped models in ``models/`` (reproducible: fixed seeds).

    python experiments/ship_models.py [--models-dir models] [--tracking-uri URI]

* ``conductivity``: :class:`ssbml.models.conductivity.ConductivityModel` from
  ``experiments/ship-conductivity.toml`` trained on ALL room-temperature data (OBELiX
  train + test + Liverpool 15-35 degC, repeated measurements merged), conformal
  intervals from a grouped (chemical system) 5-fold.
* ``conductivity-temperature``: :class:`ssbml.models.conductivity.temperature.ArrheniusModel`
  anchored on that room-temperature model (the same number at 298.15 K), with Ea
  learned from every Liverpool (composition, paper, phase) Arrhenius series; its
  metrics come from a grouped (chemical system) CV of the whole temperature path.

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

    from ssbml.ml.store import save_model
    from ssbml.models.conductivity.config import load_config
    from ssbml.models.conductivity.train import run_temperature_training, run_training

    cfg = load_config(args.config)
    if cfg.benchmark:
        raise SystemExit(f"{args.config}: a shipped model must set data.benchmark = false")
    rt = run_training(cfg, tracking_uri=args.tracking_uri, register=False)
    keep = ("cv_mae", "cv_rmse", "cv_r2", "cv_spearman", "cv_roc_auc_superionic",
            "interval_halfwidth90", "cv_mae_measured", "cv_mae_bound",
            "cv_coverage90_measured", "cv_censored_recall", "cv_measured_flagged_below",
            "cv_spearman_within_family", "cv_coverage90_family_min",
            "cv_coverage90_family_max")
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
    print(rt["family_tables"]["cv"].round(3).to_string(index=False))

    tm = run_temperature_training(cfg, room_temperature_model=rt["model"],
                                  tracking_uri=args.tracking_uri)
    keep = [k for k in tm["metrics"] if k.startswith(("cv_", "n_"))]
    path = save_model(
        tm["model"], "conductivity-temperature", models_dir=args.models_dir,
        metrics={k: tm["metrics"][k] for k in keep},
        data_names=("obelix", "liverpool"),
        description=(
            "log10 S/cm at any temperature (K) anchored on the room-temperature model at "
            "298.15 K, Arrhenius (monotone in T) with activation energy (eV) learned from "
            "per-(composition, paper, phase) Liverpool series; metrics are 5-fold CV "
            "grouped by chemical system"
        ),
        extra={"mlflow_run_id": tm["run_id"]},
    )
    m = tm["metrics"]
    print(f"conductivity-temperature: {path} cv_T_mae={m['cv_T_mae']:.3f} "
          f"(median baseline {m['cv_T_mae_median_baseline']:.3f}) "
          f"cv_ea_mae={m['cv_ea_mae_eV']:.3f} eV "
          f"(median baseline {m['cv_ea_mae_eV_median_baseline']:.3f})")
    if tm["family_table"] is not None:
        print(tm["family_table"].round(3).to_string(index=False))
        print("away from room temperature (outside 15-35 degC):")
        print(tm["family_table_nonrt"].round(3).to_string(index=False))


if __name__ == "__main__":
    main()
