"""The README's two commands stay true: CI runs the README's test command verbatim, and
the main job runs offline on the shipped models."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return [b.strip() for b in re.findall(r"```bash\n(.*?)```", section, flags=re.S)]


def test_readme_has_two_commands_and_ci_runs_the_test_one():
    install_and_run, run_tests = _readme_commands()
    assert install_and_run.startswith("pip install -e .")
    assert "pytest" in run_tests
    ci = (REPO / ".ci" / "run").read_text()
    assert run_tests in ci.splitlines() or any(
        line.strip().startswith(run_tests) for line in ci.splitlines()
    )


def test_main_job_runs_offline_on_shipped_models(tmp_path):
    manifest = REPO / "models" / "manifest.json"
    if not manifest.is_file():
        pytest.fail("models/manifest.json is missing: the README's main job cannot run")
    main_job = _readme_commands()[0].split("&&", 1)[1].strip().split()
    assert main_job[0] == "ssbml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SSBML_")}
    env |= {
        "SSBML_OFFLINE": "1",
        "SSBML_DATA_DIR": str(tmp_path / "no-data"),
        "SSBML_CACHE_DIR": str(tmp_path / "no-cache"),
        "MPLBACKEND": "Agg",
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
    }
    out = subprocess.run(
        [sys.executable, "-m", "ssbml.cli", *main_job[1:]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Top" in out.stdout
    produced = list((tmp_path / "ssbml-output").glob("*/candidates.parquet"))
    assert len(produced) == 1
    table = pd.read_parquet(produced[0])
    # offline, no data directory: every candidate has phase-diagram stability
    assert set(table["stability_source"]) <= {"exact", "phase diagram"}
    assert table[["reduction_V", "oxidation_V", "rxn_Li_meV_atom"]].notna().all().all()
    assert (table["li_per_formula"] >= 0.7 * 7 - 1e-9).all()
    ta = table[table["composition"] == "Li6.9La3Zr1.9Ta0.1O12"]
    assert len(ta) == 1
    check = subprocess.run(
        [sys.executable, "-m", "ssbml.cli", "stability", "Li6.9La3Zr1.9Ta0.1O12", "--json"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert check.returncode == 0, check.stderr[-2000:]
    report = json.loads(check.stdout)
    assert abs(ta["reduction_V"].iat[0] - report["reduction_V"]) < 0.01
    assert abs(ta["oxidation_V"].iat[0] - report["oxidation_V"]) < 0.01
