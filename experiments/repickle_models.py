"""Re-save the shipped models under the current class paths, without retraining.

    python experiments/repickle_models.py [--models-dir models]

A code move (e.g. ``ssbml.models.regressors`` -> ``ssbml.ml.regressors``) changes the
class paths a pickle records but not the fitted numbers. This script loads every model
of the manifest (old class paths resolved through
:data:`ssbml.ml.store.LEGACY_MODULES`), writes it again as ``save_model`` does and
updates only the manifest's ``sha256``, ``size_bytes`` and ``class`` (plus
``repickled_utc`` and ``repickled_from_sha256``); metrics, training-data hashes and
library versions stay those of the training run. Predictions are bitwise identical.
Retraining with ``experiments/ship_models.py`` on another machine gives models equal to
within floating-point noise, not bitwise (see experiments/RESULTS.md).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", type=Path, default=REPO / "models")
    args = parser.parse_args()

    from ssbml.data.registry import file_sha256
    from ssbml.io import atomic_joblib_dump, atomic_write_text
    from ssbml.ml.store import MANIFEST, read_manifest, trust_model_file, unpickle_model

    folder = args.models_dir
    manifest = read_manifest(folder)
    for name, entry in sorted(manifest.get("models", {}).items()):
        path = folder / entry["file"]
        if not path.name.endswith(".joblib"):
            continue
        old = file_sha256(path)
        if old != entry["sha256"]:
            raise SystemExit(f"{path}: sha256 does not match the manifest; not touched")
        model = unpickle_model(path)
        cls = f"{type(model).__module__}.{type(model).__qualname__}"
        atomic_joblib_dump(model, path, compress=("xz", 3))
        new = file_sha256(path)
        trust_model_file(path, new)
        if new != old:
            entry |= {"sha256": new, "size_bytes": path.stat().st_size, "class": cls,
                      "repickled_from_sha256": old,
                      "repickled_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        print(f"{name}: {cls} {old[:12]} -> {new[:12]}")
    atomic_write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", folder / MANIFEST)


if __name__ == "__main__":
    main()
