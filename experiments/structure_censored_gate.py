"""A "below detection" gate on the structure-aware OBELiX benchmark (issue 13, paper
convention: censored ``<1E-10`` test values at 1e-15 S/cm).

    SSBML_DATA_DIR=../shared/data SSBML_CACHE_DIR=/tmp/ssbml-cache13 nice python \
        experiments/structure_censored_gate.py \
        --descriptors /tmp/obelix_structure_descriptors_25k.csv

The regressor is the best structure-aware benchmark model of
``experiments/structure_conductivity.py --columns no-bvse`` (vote of median RF, median
ET and HGB-L1 on default+fractions, plus the geometric descriptors where a CIF is
known; composition-only otherwise). A classifier of "censored" (random forest, class
weights balanced, on the same inputs) gets grouped out-of-fold probabilities on the
training split with the regressor's folds; where P(censored) > t the prediction is
the paper's placeholder, log10 = -15. The threshold t is chosen on the out-of-fold
training predictions only (lowest CV MAE); the test split is scored once with it.
Printed: CV and test MAE for every t of the grid, the chosen t, and the confusion of
the gate on the test split.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier

from ssbml.data.conductivity import load_obelix
from ssbml.features.presets import make_featurizer_by_name
from ssbml.ml.regressors import make_regressor
from ssbml.ml.splits import cv_splits, make_groups
from ssbml.models.conductivity.config import build_model, load_config
from ssbml.models.conductivity.model import ConductivityModel
from ssbml.models.conductivity.train import load_training_data
from ssbml.structure.descriptors import FEATURE_NAMES
from ssbml.structure.model import (
    StructureAwareModel,
    WithDescriptors,
    attach_descriptors,
    has_structure,
)

CONFIG = "experiments/obelix-vote3-hgbl1-lv.toml"
GEOMETRIC = tuple(c for c in FEATURE_NAMES if not c.startswith(("bvse_", "percolation_")))
CENSORED_LOG10 = -15.0
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)  # 1.01: gate never fires


def _mae(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(y) - np.asarray(p))))


def _classifier(seed: int) -> RandomForestClassifier:
    return RandomForestClassifier(n_estimators=300, min_samples_leaf=2,
                                  class_weight="balanced_subsample", n_jobs=-1,
                                  random_state=seed)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--descriptors", required=True)
    parser.add_argument("--config", default=CONFIG)
    parser.add_argument("--structure-only", action="store_true",
                        help="let the gate fire only on rows with a CIF")
    parser.add_argument("--regressor-censoring", choices=("none", "classifier"),
                        default="none",
                        help="'none': the regressor learns censored rows at -15; "
                        "'classifier': it learns measured rows only (hurdle model)")
    args = parser.parse_args()
    start = time.perf_counter()
    cfg = load_config(args.config)
    train, test = load_training_data(cfg)
    keys = load_obelix(censored="paper")[["id", "composition_key"]].astype({"id": str})
    desc = pd.read_csv(args.descriptors, dtype={"id": str}).merge(keys, on="id", how="left")
    train_x = attach_descriptors(train, desc[desc["split"] == "train"], by="composition_key")
    test_x = attach_descriptors(test.assign(id=test["id"].astype(str)),
                                desc[desc["split"] == "test"], by="id")
    groups = make_groups(train, cfg.groups)
    y = train_x["log10_sigma"].to_numpy()
    yt = test_x["log10_sigma"].to_numpy()
    c_train = train_x["censored"].to_numpy(dtype=bool)
    c_test = test_x["censored"].to_numpy(dtype=bool)

    # the regressor: structure-aware, geometric descriptors (the best benchmark variant)
    comp = build_model(cfg)
    struct = ConductivityModel(
        featurizer=WithDescriptors(make_featurizer_by_name(cfg.features), columns=GEOMETRIC),
        regressor=make_regressor(cfg.regressor, cfg.params, random_state=cfg.seed),
        n_splits=cfg.n_splits, random_state=cfg.seed,
    )
    hurdle = args.regressor_censoring == "classifier"
    if hurdle:
        comp.set_params(censoring="classifier")
        struct.set_params(censoring="classifier")
    model = StructureAwareModel(comp, struct).fit(train_x, y, groups=groups,
                                                  censored=c_train if hurdle else None)
    s_train = has_structure(train_x)
    s_test = model.route(test_x) == "structure"
    sm, cm = model.structure_model_, model.composition_model_
    if hurdle:  # the regressors' own values on measured rows, before any gate
        oof = np.where(s_train, sm.oof_mu_, cm.oof_mu_)
        pred = np.where(s_test, sm.predict_measured(test_x.reset_index(drop=True)),
                        cm.predict_measured(test_x[["composition"]]))
    else:
        oof = np.where(s_train, sm.oof_predictions_, cm.oof_predictions_)
        pred = model.predict(test_x)

    # the gate: out-of-fold P(censored) with the regressor's folds
    feat = WithDescriptors(make_featurizer_by_name(cfg.features), columns=GEOMETRIC)
    xtr = feat.fit(train_x).transform(train_x).to_numpy(dtype=float)
    xte = feat.transform(test_x).to_numpy(dtype=float)
    folds = cv_splits(cfg.n_splits, groups, cfg.seed, len(y))
    p_oof = np.zeros(len(y))
    for tr, va in folds:
        clf = _classifier(cfg.seed).fit(xtr[tr], c_train[tr])
        p_oof[va] = clf.predict_proba(xtr[va])[:, 1]
    p_test = _classifier(cfg.seed).fit(xtr, c_train).predict_proba(xte)[:, 1]

    allow_tr = s_train if args.structure_only else np.ones(len(y), dtype=bool)
    allow_te = s_test if args.structure_only else np.ones(len(yt), dtype=bool)
    rows = []
    for t in THRESHOLDS:
        g_tr, g_te = allow_tr & (p_oof > t), allow_te & (p_test > t)
        cv = _mae(y, np.where(g_tr, CENSORED_LOG10, oof))
        te = _mae(yt, np.where(g_te, CENSORED_LOG10, pred))
        rows.append({"t": t, "cv_mae": round(cv, 4), "test_mae": round(te, 4),
                     "cv_fired": int(g_tr.sum()), "cv_fired_censored": int((g_tr & c_train).sum()),
                     "test_fired": int(g_te.sum()),
                     "test_fired_censored": int((g_te & c_test).sum())})
    table = pd.DataFrame(rows)
    best = table.loc[table["cv_mae"].idxmin()]
    t = float(best["t"])
    gate = allow_te & (p_test > t)
    final = np.where(gate, CENSORED_LOG10, pred)
    result = {
        "config": args.config, "structure_only": args.structure_only,
        "regressor_censoring": args.regressor_censoring,
        "train_rows": len(y), "train_censored": int(c_train.sum()),
        "train_censored_with_structure": int((c_train & s_train).sum()),
        "test_rows": len(yt), "test_censored": int(c_test.sum()),
        "test_censored_with_structure": int((c_test & s_test).sum()),
        "chosen_t_by_cv": t, "cv_mae_no_gate": round(_mae(y, oof), 4),
        "cv_mae_gate": float(best["cv_mae"]),
        "test_mae_no_gate": round(_mae(yt, pred), 4),
        "test_mae_gate": round(_mae(yt, final), 4),
        "test_mae_gate_cif_subset": round(_mae(yt[s_test], final[s_test]), 4),
        "test_mae_gate_uncensored": round(_mae(yt[~c_test], final[~c_test]), 4),
        "test_mae_gate_censored": round(_mae(yt[c_test], final[c_test]), 4),
        "test_p_censored_of_censored_rows": [round(float(v), 2) for v in p_test[c_test]],
        "seconds": round(time.perf_counter() - start, 1),
    }
    print(table.to_string(index=False))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
