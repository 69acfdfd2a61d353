"""Test set-up: real data from the shared mirror, a throw-away user cache, and a
temporary sqlite mlflow backend per test that asks for one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MIRROR = REPO.parent / "shared" / "data"

if MIRROR.is_dir():
    os.environ.setdefault("SSBML_DATA_DIR", str(MIRROR))
os.environ.setdefault("MPLBACKEND", "Agg")
# user data sets written by tests never land in the real user folder
os.environ.setdefault("SSBML_USER_DATA_DIR", tempfile.mkdtemp(prefix="ssbml-test-user-data-"))
# models trained by tests are trusted in a throw-away list, not the user's
os.environ.setdefault(
    "SSBML_TRUSTED_MODELS",
    str(Path(tempfile.mkdtemp(prefix="ssbml-test-trust-")) / "trusted_models.json"),
)

try:  # property-based robustness tests: short in CI, long for experiments/robustness.py
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    settings.register_profile(
        "long", max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck)
    )
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
except ImportError:  # pragma: no cover - hypothesis is in the test extra
    pass


@pytest.fixture()
def mlflow_uri(tmp_path, monkeypatch) -> str:
    """A fresh sqlite tracking URI (and artifact folder) for one test."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)
    return uri


@pytest.fixture()
def mirror() -> Path:
    """The shared data mirror; tests that need real data skip only if it is absent."""
    if not MIRROR.is_dir():
        pytest.skip("../shared/data mirror not present")
    return MIRROR
