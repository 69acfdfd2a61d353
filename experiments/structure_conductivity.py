"""Structure-aware conductivity on the official OBELiX split (paper convention: censored
``<1E-10`` at 1e-15 S/cm), against the composition-only benchmark model.

    SSBML_DATA_DIR=../shared/data SSBML_CACHE_DIR=/tmp/ssbml-cache13 nice python \
        experiments/structure_conductivity.py \
        --descriptors /tmp/obelix_structure_descriptors_25k.csv

``--descriptors`` is the CSV written by ``experiments/structure_descriptors.py`` (one
row per OBELiX CIF). Training data and regressor are those of the composition-only
benchmark (``experiments/obelix-vote3-hgbl1-lv.toml``: OBELiX train + Liverpool, merged
by composition, test compositions excluded); training rows get the median descriptors of
the OBELiX *train* CIFs of their composition (NaN otherwise), test rows the descriptors
of their own CIF. Test MAE (log10 S/cm) is reported for the test rows with a CIF and for
the whole test split (composition-only predictions for rows without a CIF).
``--censoring`` sets how both models learn the censored rows (``ConductivityModel``
option); below-detection predictions are scored at -15, as the censored test values,
and the routed grouped-CV MAE (``cv_mae_structure_aware``) is the number that chooses
between the variants.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from ssbml.data.conductivity import load_obelix
from ssbml.features.presets import make_featurizer_by_name
from ssbml.ml.regressors import make_regressor
from ssbml.ml.splits import make_groups
from ssbml.models.conductivity.config import build_model, load_config
from ssbml.models.conductivity.evaluate import paper_convention
from ssbml.models.conductivity.model import ConductivityModel
from ssbml.models.conductivity.train import load_training_data
from ssbml.structure.descriptors import FEATURE_NAMES
from ssbml.structure.model import StructureAwareModel, WithDescriptors, attach_descriptors

CONFIG = "experiments/obelix-vote3-hgbl1-lv.toml"
_BVSE = tuple(c for c in FEATURE_NAMES if c.startswith(("bvse_", "percolation_")))
COLUMN_SETS = {
    "all": FEATURE_NAMES,
    "bvse": _BVSE,
    "no-bvse": tuple(c for c in FEATURE_NAMES if c not in _BVSE),
}


def _mae(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(y) - np.asarray(p))))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--descriptors", required=True)
    parser.add_argument("--config", default=CONFIG)
    parser.add_argument("--out", default="/tmp/structure_conductivity_predictions.csv")
    parser.add_argument("--columns", choices=sorted(COLUMN_SETS), default="all",
                        help="descriptor columns used by the structure model (ablation)")
    parser.add_argument("--censoring", choices=("none", "classifier", "bound"),
                        default="none",
                        help="censored rows in both models (ConductivityModel censoring): "
                        "'none' learns the 1e-15 placeholder as a value; 'classifier' and "
                        "'bound' add the below-detection classifier (P >= 0.5), whose rows "
                        "are scored at the placeholder (paper convention)")
    args = parser.parse_args()
    start = time.perf_counter()
    cfg = dataclasses.replace(load_config(args.config), censoring=args.censoring)
    train, test = load_training_data(cfg)
    keys = load_obelix(censored="paper")[["id", "composition_key"]].astype({"id": str})
    desc = pd.read_csv(args.descriptors, dtype={"id": str}).merge(keys, on="id", how="left")
    train_x = attach_descriptors(train, desc[desc["split"] == "train"], by="composition_key")
    test_x = attach_descriptors(test.assign(id=test["id"].astype(str)),
                                desc[desc["split"] == "test"], by="id")
    groups = make_groups(train, cfg.groups)
    y = train["log10_sigma"].to_numpy()

    comp = build_model(cfg)
    struct = ConductivityModel(
        featurizer=WithDescriptors(make_featurizer_by_name(cfg.features),
                                   columns=COLUMN_SETS[args.columns]),
        regressor=make_regressor(cfg.regressor, cfg.params, random_state=cfg.seed),
        n_splits=cfg.n_splits, random_state=cfg.seed, censoring=cfg.censoring,
    )
    cens = train_x["censored"].to_numpy(dtype=bool)
    model = StructureAwareModel(comp, struct).fit(train_x, y, groups=groups, censored=cens)

    has = model.route(test_x) == "structure"
    yt = test_x["log10_sigma"].to_numpy()
    c_test = test_x["censored"].to_numpy(dtype=bool)
    p_comp = paper_convention(
        model.composition_model_.predict_interval(test_x[["composition"]]), yt, c_test)
    p_aware = paper_convention(model.predict_interval(test_x), yt, c_test)
    in_train = np.isfinite(train_x["volume_per_atom_A3"].to_numpy(dtype=float))
    oof_s = model.structure_model_.oof_predictions_
    oof_c = model.composition_model_.oof_predictions_
    result = {
        "config": args.config, "columns": args.columns, "censoring": args.censoring,
        "train_rows": len(train_x), "train_rows_with_structure": int(in_train.sum()),
        "test_rows": len(test_x), "test_rows_with_structure": int(has.sum()),
        "test_censored_with_structure": int(test_x.loc[has, "censored"].sum()),
        "cv_mae_composition": _mae(y, oof_c), "cv_mae_structure_model": _mae(y, oof_s),
        "cv_mae_structure_aware": _mae(y, np.where(in_train, oof_s, oof_c)),
        "cv_mae_composition_rows_with_structure": _mae(y[in_train], oof_c[in_train]),
        "cv_mae_structure_rows_with_structure": _mae(y[in_train], oof_s[in_train]),
        "test_mae_composition_whole": _mae(yt, p_comp),
        "test_mae_structure_aware_whole": _mae(yt, p_aware),
        "test_mae_composition_cif_subset": _mae(yt[has], p_comp[has]),
        "test_mae_structure_aware_cif_subset": _mae(yt[has], p_aware[has]),
        "test_mae_composition_no_cif": _mae(yt[~has], p_comp[~has]),
        "seconds": round(time.perf_counter() - start, 1),
    }
    unc = has & ~test_x["censored"].to_numpy(dtype=bool)
    result["test_mae_composition_cif_uncensored"] = _mae(yt[unc], p_comp[unc])
    result["test_mae_structure_aware_cif_uncensored"] = _mae(yt[unc], p_aware[unc])
    cens_t = test_x["censored"].to_numpy(dtype=bool)
    result["test_mae_structure_aware_censored"] = _mae(yt[cens_t], p_aware[cens_t])
    result["test_spearman_composition_whole"] = float(spearmanr(yt, p_comp).statistic)
    result["test_spearman_structure_aware_whole"] = float(spearmanr(yt, p_aware).statistic)
    names = list(model.structure_model_.feature_names_)
    reg = model.structure_model_.regressor_
    imp = getattr(reg, "feature_importances_", None)
    if imp is None and hasattr(reg, "estimators_"):
        imps = [getattr(e, "feature_importances_", None) for e in reg.estimators_]
        imps = [i for i in imps if i is not None]
        imp = np.mean(imps, axis=0) if imps else None
    if imp is not None:
        order = np.argsort(imp)[::-1]
        result["structure_feature_rank"] = {
            names[i]: int(np.flatnonzero(order == i)[0]) + 1 for i in range(len(names))
            if names[i] in FEATURE_NAMES
        }
    pd.DataFrame({
        "id": test_x["id"], "composition": test_x["composition"], "log10_sigma": yt,
        "censored": test_x["censored"], "route": model.route(test_x),
        "pred_composition": p_comp, "pred_structure_aware": p_aware,
    }).to_csv(args.out, index=False)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
