"""Shipped models: joblib files in ``models/`` listed in ``models/manifest.json``.

In a built wheel the manifest and every file it lists are package data under
``ssbml/_shipped/`` (copied by the build hook in ``setup.py``) and are found through
:mod:`importlib.resources`; an editable install or a source checkout uses the
repository's top-level ``models/`` folder; ``$SSBML_MODELS_DIR`` overrides both.

The manifest records, for every model, its file, sha256, size, metrics, the sha256 of
the training data sets and the library versions it was trained with. :func:`load_model`
hashes the file and refuses to unpickle it if the hash differs from the manifest.

Unpickling runs code, and a models folder (``--models-dir``, ``$SSBML_MODELS_DIR``)
brings its own manifest, so a matching hash alone proves nothing about where a file
came from. :func:`load_model` therefore also requires the sha256 to be in a *trusted*
manifest: the repository's shipped ``models/manifest.json``, or the trust list of this
installation (``$SSBML_TRUSTED_MODELS``, default ``<user config dir>/ssbml/
trusted_models.json``), to which :func:`save_model` adds every model this machine
trains. Anything else is refused (:class:`UntrustedModelError`) unless the caller
passes ``trust=True`` (the CLI's ``--trust-model``, or ``SSBML_TRUST_MODEL=1``).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ssbml.data.registry import file_sha256
from ssbml.errors import SsbmlError
from ssbml.provenance import data_hashes, library_versions

__all__ = [
    "LEGACY_MODULES",
    "MANIFEST",
    "ModelIntegrityError",
    "ModelNotFoundError",
    "UntrustedModelError",
    "default_models_dir",
    "load_model",
    "read_manifest",
    "save_model",
    "shipped_file",
    "trust_model_file",
    "trust_store_path",
    "trusted_hashes",
    "unpickle_model",
]

MANIFEST = "manifest.json"
ENV_MODELS_DIR = "SSBML_MODELS_DIR"
ENV_TRUST = "SSBML_TRUST_MODEL"
ENV_TRUST_STORE = "SSBML_TRUSTED_MODELS"


class ModelNotFoundError(SsbmlError, FileNotFoundError):
    """A model name is not in the manifest, or its file is missing."""


class ModelIntegrityError(SsbmlError, RuntimeError):
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


class UntrustedModelError(ModelIntegrityError):
    """A model file whose sha256 is in no trusted manifest (refused before unpickling)."""


def _shipped_manifest_path() -> Path:
    """The manifest that ships with this installation (wheel package data, else the
    checkout's ``models/``), never one named by ``$SSBML_MODELS_DIR``."""
    packaged = _packaged_dir()
    if packaged is not None:
        return packaged / MANIFEST
    import ssbml

    return Path(ssbml.__file__).resolve().parents[1] / "models" / MANIFEST


def trust_store_path() -> Path:
    """This installation's list of trusted model sha256s (``$SSBML_TRUSTED_MODELS`` or
    ``<user config dir>/ssbml/trusted_models.json``)."""
    env = os.environ.get(ENV_TRUST_STORE)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("ssbml")) / "trusted_models.json"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def trusted_hashes() -> set[str]:
    """sha256s of the shipped manifest and of this installation's trust list."""
    shipped = _read_json(_shipped_manifest_path()).get("models", {})
    out = {e.get("sha256") for e in shipped.values() if isinstance(e, dict)}
    out |= set(_read_json(trust_store_path()).get("sha256", {}))
    return {h for h in out if isinstance(h, str)}


def trust_model_file(path: Path, sha256: str) -> None:
    """Add ``sha256`` (of model file ``path``) to this installation's trust list."""
    from filelock import FileLock

    from ssbml.io import atomic_write_text

    store = trust_store_path()
    store.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(store) + ".lock", timeout=30):
        data = _read_json(store)
        data.setdefault("sha256", {})[sha256] = str(Path(path).resolve())
        atomic_write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", store)


def _trust_from_env() -> bool:
    return os.environ.get(ENV_TRUST, "").strip().lower() in ("1", "true", "yes")


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
    from filelock import FileLock

    from ssbml.io import atomic_joblib_dump

    folder = Path(models_dir or default_models_dir())
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.joblib"
    atomic_joblib_dump(model, path, compress=("xz", 3))
    with FileLock(str(folder / f".{MANIFEST}.lock"), timeout=60):
        return _record(model, name, path, folder, metrics, data_names, description, extra)


def _record(model: Any, name: str, path: Path, folder: Path, metrics: dict[str, float] | None,
            data_names: tuple[str, ...], description: str, extra: dict[str, Any] | None) -> Path:
    """Add ``path`` to the manifest of ``folder`` (under its lock) and the trust list."""
    from ssbml.io import atomic_write_text

    manifest = read_manifest(folder)
    digest = file_sha256(path)
    trust_model_file(path, digest)
    manifest.setdefault("models", {})[name] = {
        "file": path.name,
        "sha256": digest,
        "size_bytes": path.stat().st_size,
        "class": f"{type(model).__module__}.{type(model).__qualname__}",
        "description": description,
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "metrics": {k: float(v) for k, v in (metrics or {}).items()},
        "training_data_sha256": data_hashes(data_names),
        "library_versions": library_versions(),
        **(extra or {}),
    }
    atomic_write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", folder / MANIFEST)
    return path


def load_model(name: str, models_dir: Path | None = None, *, trust: bool | None = None) -> Any:
    """Load a shipped model by name (``conductivity``, ``conductivity-temperature``)
    after checking its sha256 against the folder's manifest (refuses a mismatch) and
    against the trusted manifests (refuses an unknown file unless ``trust``; ``None``
    reads ``$SSBML_TRUST_MODEL``)."""
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
    if trust is None:
        trust = _trust_from_env()
    if not trust and actual not in trusted_hashes():
        raise UntrustedModelError(
            f"refusing to unpickle {path}: its sha256 {actual[:16]}... is in no trusted "
            f"manifest (the shipped models/{MANIFEST} or {trust_store_path()}); pass "
            "--trust-model (or set SSBML_TRUST_MODEL=1) only if you trust its origin"
        )
    return unpickle_model(path)


LEGACY_MODULES = {
    "ssbml.models.regressors": "ssbml.ml.regressors",
    "ssbml.models.mondrian": "ssbml.ml.conformal",
    "ssbml.models.featurizers": "ssbml.features.presets",
    "ssbml.models.concat": "ssbml.features.concat",
    "ssbml.models.temperature": "ssbml.models.conductivity.temperature",
    "ssbml.stability.learned": "ssbml.models.stability.model",
}
"""Where the classes of models pickled by ssbml before the ``ssbml.ml`` layer now live
(``ssbml.models.conductivity.ConductivityModel`` still resolves through the package)."""


def unpickle_model(path: Path) -> Any:
    """``joblib.load(path)``; a model pickled by an earlier ssbml layout (class paths
    in :data:`LEGACY_MODULES`) is loaded with those module names aliased to their new
    homes."""
    import importlib
    import sys

    import joblib

    try:
        return joblib.load(path)
    except (ModuleNotFoundError, AttributeError) as exc:
        missing = getattr(exc, "name", None) or ""
        if not any(missing.startswith(old) or old.startswith(missing) for old in LEGACY_MODULES):
            raise
    for old, new in LEGACY_MODULES.items():
        sys.modules.setdefault(old, importlib.import_module(new))
    return joblib.load(path)
