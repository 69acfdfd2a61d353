"""Shipped models: joblib files in ``models/`` listed in ``models/manifest.json``.

In a built wheel the manifest and every file it lists are package data under
``ssbml/_shipped/`` (copied by the build hook in ``setup.py``) and are found through
:mod:`importlib.resources`; an editable install or a source checkout uses the
repository's top-level ``models/`` folder; ``$SSBML_MODELS_DIR`` overrides both.

The manifest records, for every model, its file, sha256, size, metrics, the sha256 of
the training data sets and the library versions it was trained with. :func:`load_model`
hashes the file and refuses to unpickle it if the hash differs from the manifest.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ssbml.data.registry import file_sha256

__all__ = [
    "MANIFEST",
    "ModelIntegrityError",
    "ModelNotFoundError",
    "default_models_dir",
    "load_model",
    "read_manifest",
    "save_model",
    "shipped_file",
]

MANIFEST = "manifest.json"
ENV_MODELS_DIR = "SSBML_MODELS_DIR"


class ModelNotFoundError(FileNotFoundError):
    """A model name is not in the manifest, or its file is missing."""


class ModelIntegrityError(RuntimeError):
    """A model file's sha256 does not match the manifest."""


def _packaged_dir() -> Path | None:
    """``ssbml/_shipped`` of an installed wheel, if it holds a manifest."""
    from importlib.resources import files

    try:
        folder = files("ssbml") / "_shipped"
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - odd loaders
        return None
    if not (folder / MANIFEST).is_file():
        return None
    # wheels are installed unpacked, so the resource is a real folder on disk
    return Path(str(folder))


def default_models_dir() -> Path:
    """``$SSBML_MODELS_DIR``, else the package data of an installed wheel
    (``ssbml/_shipped``), else the repository's top-level ``models/`` folder."""
    env = os.environ.get(ENV_MODELS_DIR)
    if env:
        return Path(env)
    packaged = _packaged_dir()
    if packaged is not None:
        return packaged
    import ssbml

    return Path(ssbml.__file__).resolve().parents[1] / "models"


def shipped_file(name: str, models_dir: Path | None = None) -> Path:
    """Path of a shipped file (a model, a reference table) listed in the manifest by its
    file name; raises :class:`ModelNotFoundError` if it is not there."""
    folder = Path(models_dir or default_models_dir())
    path = folder / name
    if not path.is_file():
        raise ModelNotFoundError(
            f"shipped file {name!r} is not in {folder}; {_REINSTALL_HINT}"
        )
    return path


_REINSTALL_HINT = (
    "reinstall ssbml from a wheel or a source checkout that contains models/, "
    f"or set ${ENV_MODELS_DIR} to a folder holding manifest.json and the files it lists"
)


def read_manifest(models_dir: Path | None = None) -> dict[str, Any]:
    """The manifest as a dict (``{"models": {}}`` if there is none yet)."""
    path = Path(models_dir or default_models_dir()) / MANIFEST
    if not path.is_file():
        return {"models": {}}
    return json.loads(path.read_text())


def save_model(
    model: Any,
    name: str,
    *,
    models_dir: Path | None = None,
    metrics: dict[str, float] | None = None,
    data_names: tuple[str, ...] = (),
    description: str = "",
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` to ``<models_dir>/<name>.joblib`` (compressed) and record it in the
    manifest (sha256, size, metrics, training data sha256, library versions)."""
    import joblib

    from ssbml.tracking.runs import data_hashes, library_versions

    folder = Path(models_dir or default_models_dir())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.joblib"
    joblib.dump(model, path, compress=("xz", 3))
    manifest = read_manifest(folder)
    manifest.setdefault("models", {})[name] = {
        "file": path.name,
        "sha256": file_sha256(path),
        "size_bytes": path.stat().st_size,
        "class": f"{type(model).__module__}.{type(model).__qualname__}",
        "description": description,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "metrics": {k: float(v) for k, v in (metrics or {}).items()},
        "training_data_sha256": data_hashes(data_names),
        "library_versions": library_versions(),
        **(extra or {}),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return path


def load_model(name: str, models_dir: Path | None = None) -> Any:
    """Load a shipped model by name (``conductivity``, ``conductivity-temperature``)
    after checking its sha256 against the manifest; refuses a mismatch."""
    import joblib

    folder = Path(models_dir or default_models_dir())
    manifest = read_manifest(folder)
    entry = manifest.get("models", {}).get(name)
    if entry is None:
        known = ", ".join(sorted(manifest.get("models", {}))) or "none"
        raise ModelNotFoundError(
            f"model {name!r} is not in {folder / MANIFEST} (known: {known}); {_REINSTALL_HINT}"
        )
    path = folder / entry["file"]
    if not path.is_file():
        raise ModelNotFoundError(
            f"model file {path} listed in the manifest is missing; {_REINSTALL_HINT}"
        )
    actual = file_sha256(path)
    if actual != entry["sha256"]:
        raise ModelIntegrityError(
            f"refusing to load {path}: sha256 {actual} does not match the manifest's "
            f"{entry['sha256']}"
        )
    return joblib.load(path)
