"""Regenerate the shipped stability model ``models/stability.joblib`` (fixed seeds).

    python experiments/ship_stability_model.py [--models-dir models] [--tracking-uri URI]
        [--n-jobs 2]

Trains :class:`ssbml.models.stability.model.StabilityModel` on ALL thermodynamic labels
(:func:`ssbml.stability.labels.load_labels`, 9,160 Li compounds of the MP formation-energy
table; computed and cached on first use, ~7 min on 2 cores), with conformal intervals
from a 5-fold grouped by chemical system without Li. The run is logged to mlflow
(experiment ``ssbml-stability``, registered as ``ssbml-stability``) and
``<models-dir>/manifest.json`` records sha256, grouped-CV metrics, the training data
sha256 and library versions.
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
    parser.add_argument("--n-jobs", type=int, default=1)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    from ssbml.models.stability.model import TARGETS
    from ssbml.models.stability.train import save_stability_model, train_stability_model

    result = train_stability_model(tracking_uri=args.tracking_uri, n_jobs=args.n_jobs)
    path = save_stability_model(result, args.models_dir)
    m = result["metrics"]
    print(f"stability: {path} (run {result['run_id']}, {int(m['n_train'])} labels)")
    for t in TARGETS:
        print(f"  {t:32s} cv_mae={m[f'cv_mae_{t}']:.3f} "
              f"coverage90={m[f'cv_coverage90_{t}']:.3f}")


if __name__ == "__main__":
    main()
