#!/usr/bin/env bash
# Wheel smoke test: build the wheel, install it into a fresh venv in a temporary folder
# outside the checkout, and run the main job (`ssbml screen`) and `ssbml predict` from
# there. Proves the wheel carries its shipped models (package data ssbml/_shipped) and
# needs nothing from the source tree.
#   usage: .ci/wheel-smoke.sh            (from anywhere; SSBML_DATA_DIR is passed through)
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/ssbml-wheel-smoke.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
case "$WORK" in "$REPO"/*) echo "temporary folder $WORK is inside the checkout" >&2; exit 1;; esac

echo "== build the wheel ($REPO -> $WORK/dist)"
"$PYTHON" -m pip wheel --quiet --no-deps -w "$WORK/dist" "$REPO"
WHEEL="$(ls "$WORK"/dist/ssbml-*.whl)"
echo "built $(basename "$WHEEL")"
"$PYTHON" - "$WHEEL" "$REPO/models/manifest.json" <<'PY'
import json, sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
def files(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "file" and isinstance(v, str):
                yield v
            else:
                yield from files(v)
    elif isinstance(node, list):
        for v in node:
            yield from files(v)
wanted = {"manifest.json", *files(json.load(open(sys.argv[2])))}
missing = sorted(w for w in wanted if f"ssbml/_shipped/{w}" not in names)
if missing:
    sys.exit(f"wheel lacks shipped file(s): {', '.join(missing)}")
print(f"wheel carries the {len(wanted)} shipped file(s) of models/manifest.json")
PY

echo "== fresh venv outside the checkout"
"$PYTHON" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
"$VPY" -m pip install --quiet "$WHEEL"

cd "$WORK"          # nothing of the checkout is importable from here
unset PYTHONPATH SSBML_MODELS_DIR
export MPLBACKEND=Agg SSBML_CACHE_DIR="$WORK/cache" XDG_DATA_HOME="$WORK/share"
export MLFLOW_TRACKING_URI="sqlite:///$WORK/mlflow.db"
"$VPY" - "$REPO" <<'PY'
import sys
from pathlib import Path
import ssbml
from ssbml.ml.store import default_models_dir
repo = Path(sys.argv[1]).resolve()
where, models = Path(ssbml.__file__).resolve(), default_models_dir().resolve()
assert repo not in where.parents, f"ssbml imported from the checkout: {where}"
assert models.name == "_shipped" and repo not in models.parents, f"models from {models}"
print(f"ssbml {ssbml.__version__} from {where.parent}; models in {models}")
PY
SSBML="$WORK/venv/bin/ssbml"

echo "== ssbml screen (the main job) from the wheel"
"$SSBML" screen --parent Li7La3Zr2O12 --dopants Ta,Nb,Al,Ga --out "$WORK/screen" > "$WORK/screen.log"
tail -n 3 "$WORK/screen.log"
for f in candidates.parquet report.html top.csv pareto.png; do
  test -s "$WORK/screen/$f" || { echo "screen wrote no $f" >&2; exit 1; }
done
"$VPY" - "$WORK/screen/candidates.parquet" <<'PY'
import sys
import pandas as pd
t = pd.read_parquet(sys.argv[1])
src = set(t["stability_source"])
assert src <= {"exact", "phase diagram"}, src  # the shipped reference answers every one
print(f"{len(t)} candidates, stability from {sorted(src)}")
PY

echo "== ssbml predict conductivity from the wheel"
printf 'composition\nLi7La3Zr2O12\nLi6PS5Cl\nLi10GeP2S12\nnot-a-formula\n' > "$WORK/in.csv"
"$SSBML" predict conductivity "$WORK/in.csv" -o "$WORK/pred.csv"
"$VPY" - "$WORK/pred.csv" <<'PY'
import sys
import pandas as pd
t = pd.read_csv(sys.argv[1])
good = t[t["error"].isna()]
assert len(t) == 4 and len(good) == 3, t
assert ((good["log10_sigma_lower"] <= good["log10_sigma"])
        & (good["log10_sigma"] <= good["log10_sigma_upper"])).all(), good
print(good[["composition", "log10_sigma", "log10_sigma_lower", "log10_sigma_upper"]]
      .to_string(index=False))
PY
echo "wheel smoke test passed"
