"""Train and ship ``models/conductivity-structure.joblib`` (issue 13 item 5).

    SSBML_DATA_DIR=/work/shared/data python experiments/ship_structure_model.py \
        [--models-dir models]

Data: the shipped composition model's training set (``experiments/ship-conductivity.toml``:
all OBELiX + Liverpool room-temperature rows, merged by composition); rows get the
median geometric descriptors (no BVSE) of the OBELiX CIFs of their composition
(states from the composition), NaN otherwise. Model: the same ConductivityModel
(median RF, censored rows as bounds) on ``default`` features + descriptors, a smaller
forest to stay below 2 MB. Prints the grouped (chemical system) CV MAE of this model and
of the composition-only model with the same regressor, on all rows and on the rows
with a CIF.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def descriptor_table() -> pd.DataFrame:
    from ssbml.data.conductivity import load_obelix
    from ssbml.data.structures import load_obelix_structures
    from ssbml.structure.descriptors import structure_geometric_descriptors

    s = load_obelix_structures(errors="collect")
    rows = []
    for r in s.itertuples():
        if r.structure is None:
            continue
        rows.append({"id": str(r.id), **structure_geometric_descriptors(r.structure)})
    from ssbml.structure.descriptors import FEATURE_NAMES

    keys = load_obelix(censored="paper")[["id", "composition_key"]].astype({"id": str})
    table = pd.DataFrame(rows).merge(keys, on="id", how="left")
    for c in FEATURE_NAMES:  # BVSE columns stay NaN: attach_descriptors takes them all
        if c not in table.columns:
            table[c] = np.nan
    return table


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models-dir", type=Path, default=REPO / "models")
    parser.add_argument("--config", type=Path, default=REPO / "experiments/ship-conductivity.toml")
    parser.add_argument("--n-estimators", type=int, default=30)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from ssbml.features.presets import make_featurizer_by_name
    from ssbml.ml.regressors import make_regressor
    from ssbml.ml.splits import chemical_system_groups
    from ssbml.ml.store import save_model
    from ssbml.models.conductivity.config import load_config
    from ssbml.models.conductivity.model import ConductivityModel
    from ssbml.models.conductivity.train import load_training_data
    from ssbml.structure.descriptors import GEOMETRIC_FEATURE_NAMES
    from ssbml.structure.model import WithDescriptors, attach_descriptors
    from ssbml.structure.parent_model import StructureConductivityModel

    start = time.perf_counter()
    cfg = load_config(args.config)
    train, _ = load_training_data(cfg)
    desc = descriptor_table()
    X = attach_descriptors(train, desc, by="composition_key")
    y = X["log10_sigma"].to_numpy()
    groups = chemical_system_groups(X["composition"])
    params = {**cfg.params, "n_estimators": args.n_estimators}

    def model(featurizer):
        return ConductivityModel(
            featurizer=featurizer,
            regressor=make_regressor(cfg.regressor, params, random_state=cfg.seed),
            n_splits=cfg.n_splits, random_state=cfg.seed, censoring=cfg.censoring,
            interval_groups=cfg.interval_groups)

    fam = X["family"] if "family" in X.columns else None
    cens = X["censored"].to_numpy(dtype=bool) if "censored" in X.columns else None
    struct = model(WithDescriptors(make_featurizer_by_name(cfg.features),
                                   columns=GEOMETRIC_FEATURE_NAMES))
    struct.fit(X, y, groups=groups, censored=cens, families=fam)
    comp = model(make_featurizer_by_name(cfg.features))
    comp.fit(X[["composition"]], y, groups=groups, censored=cens, families=fam)
    has = np.isfinite(X["volume_per_atom_A3"].to_numpy(dtype=float))
    meas = ~cens if cens is not None else np.ones(len(y), dtype=bool)

    def mae(p, m):
        return float(np.mean(np.abs(y[m] - np.asarray(p)[m])))

    so, co = struct.oof_predictions_, comp.oof_predictions_
    metrics = {
        "rows": len(y), "rows_with_cif": int(has.sum()), "cif_structures": len(desc),
        "cv_mae_structure": mae(so, meas), "cv_mae_composition_same_regressor": mae(co, meas),
        "cv_mae_structure_rows_with_cif": mae(so, meas & has),
        "cv_mae_composition_rows_with_cif": mae(co, meas & has),
        "interval_halfwidth90_median": float(np.median(
            struct.predict_interval(X).eval("log10_sigma_upper - log10_sigma_lower")) / 2),
    }
    wrapped = StructureConductivityModel(
        struct, desc[list(GEOMETRIC_FEATURE_NAMES)].to_numpy(dtype=float))
    metrics["structure_domain_threshold"] = wrapped.threshold_
    metrics["seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(metrics, indent=2))
    if not args.no_save:
        path = save_model(
            wrapped, "conductivity-structure", models_dir=args.models_dir,
            metrics={k: v for k, v in metrics.items() if k != "seconds"},
            data_names=("obelix", "obelix-cifs", "liverpool"),
            description=(
                "structure-aware room-temperature log10 conductivity (log10 S/cm) from "
                "composition + geometric CIF descriptors (no BVSE), for screen "
                "--parent-structure; trained on all OBELiX + Liverpool rows, descriptors "
                "of the OBELiX CIFs by composition; metrics are grouped (chemical system) "
                "5-fold CV on measured rows"),
            extra={"config": cfg.as_params(), "n_estimators": args.n_estimators},
        )
        print(f"saved {path} ({path.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
