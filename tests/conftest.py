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
