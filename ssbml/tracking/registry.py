"""Registered models (mlflow model registry) for prediction and screening, and the
inputs and model versions a screening run logs.

A model URI such as ``models:/ssbml-conductivity@champion`` is resolved to one model
version, loaded once and written as a models folder (manifest + joblib file, in the
user cache) that the rest of ssbml reads like the shipped ``models/``: the other
shipped models keep their files, the registered one replaces the entry of its class.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any

from ssbml.errors import SsbmlError

__all__ = [
    "ModelUriError",
    "check_uri_model",
    "log_screening_inputs",
    "materialize_model_uri",
    "registered_versions",
]

_MODELS_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[^/]+)|/(?P<version>\d+))$")


class ModelUriError(SsbmlError, ValueError):
    """A model URI that does not name a loadable registered model version."""


def _cache_root() -> Path:
    from ssbml.data.registry import cache_dir

    return cache_dir()


def _resolve_version(model_uri: str) -> Any:
    """The registry's ModelVersion a ``models:/NAME@ALIAS`` or ``models:/NAME/N`` URI
    names (raises :class:`ModelUriError` with the reason)."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    match = _MODELS_URI.match(model_uri)
    if not match:
        raise ModelUriError(
            f"--model-uri {model_uri!r}: expected models:/NAME@ALIAS or models:/NAME/VERSION, "
            "e.g. models:/ssbml-conductivity@champion"
        )
    client = MlflowClient()
    name, alias, version = match["name"], match["alias"], match["version"]
    try:
        if alias:
            return client.get_model_version_by_alias(name, alias)
        return client.get_model_version(name, version)
    except MlflowException as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        try:
            known = sorted(m.name for m in client.search_registered_models())
        except MlflowException:
            known = []
        raise ModelUriError(
            f"--model-uri {model_uri!r}: {first} (registered models: "
            f"{', '.join(known) or 'none'}; tracking URI {_tracking_uri()})"
        ) from None


def _tracking_uri() -> str:
    import mlflow

    return mlflow.get_tracking_uri()


def materialize_model_uri(
    model_uri: str, *, tracking_uri: str | None = None, base_dir: Path | None = None
) -> Path:
    """A models folder whose manifest takes the registered model of ``model_uri`` in
    place of the shipped model of the same class (``conductivity``,
    ``conductivity-temperature`` or ``stability``); the other entries point at the files
    of ``base_dir`` (default: the shipped models). Cached per model version."""
    import mlflow
    import mlflow.sklearn

    from ssbml.data.registry import file_sha256
    from ssbml.io import atomic_joblib_dump, atomic_write_text
    from ssbml.ml.store import MANIFEST, default_models_dir, read_manifest
    from ssbml.tracking.runs import resolve_tracking_uri

    mlflow.set_tracking_uri(resolve_tracking_uri(tracking_uri))
    mv = _resolve_version(model_uri)
    base = Path(base_dir or default_models_dir()).resolve()
    base_manifest = read_manifest(base)
    # keyed by the run id too: version numbers repeat across tracking stores
    folder = _cache_root() / "registered" / f"{mv.name}-v{mv.version}-{mv.run_id}"
    manifest_path = folder / MANIFEST
    if manifest_path.is_file():
        cached = json.loads(manifest_path.read_text())
        if cached.get("base_models_dir") == str(base):
            return folder
    # the registered pickle is hashed and checked against the trust list before mlflow
    # unpickles it (unpickling runs code)
    from ssbml.ml.store import (
        UntrustedModelError,
        _trust_from_env,
        trust_model_file,
        trusted_hashes,
    )
    from ssbml.tracking.runs import logged_model_pickle

    folder.mkdir(parents=True, exist_ok=True)
    local, sha = logged_model_pickle(f"models:/{mv.name}/{mv.version}", str(folder / "mlflow"))
    if sha not in trusted_hashes() and not _trust_from_env():
        raise UntrustedModelError(
            f"refusing to unpickle {model_uri}: its pickle's sha256 {sha[:16]}... is in no "
            "trusted manifest (models trained by ssbml on this machine are trusted); pass "
            "--trust-model (or set SSBML_TRUST_MODEL=1) only if you trust its origin"
        )
    model = mlflow.sklearn.load_model(str(local))
    cls = f"{type(model).__module__}.{type(model).__qualname__}"
    entries = base_manifest.get("models", {})
    target = next((k for k, e in entries.items() if e.get("class") == cls), None)
    if target is None:
        raise ModelUriError(
            f"--model-uri {model_uri!r}: a {cls} is not one of the models ssbml uses "
            f"({', '.join(sorted(e.get('class', '?') for e in entries.values()))})"
        )
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{target}.joblib"
    atomic_joblib_dump(model, path, compress=("xz", 3))
    trust_model_file(path, file_sha256(path))  # verified above: its origin is trusted
    models = {k: dict(e, file=str(base / e["file"])) for k, e in entries.items()}
    models[target] = {
        "file": path.name,
        "sha256": file_sha256(path),
        "size_bytes": path.stat().st_size,
        "class": cls,
        "description": f"registered model {mv.name} version {mv.version} ({model_uri})",
        "mlflow_run_id": mv.run_id,
        "registered_model": {
            "name": mv.name,
            "version": str(mv.version),
            "model_uri": model_uri,
            "source": mv.source,
        },
    }
    manifest = {**base_manifest, "models": models, "base_models_dir": str(base)}
    atomic_write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", manifest_path)
    return folder


def check_uri_model(model_uri: str, models_dir: Path, name: str) -> None:
    """Raise :class:`ModelUriError` unless ``model_uri`` replaced the model ``name``
    (e.g. a room-temperature model given where the Arrhenius model is needed)."""
    from ssbml.ml.store import read_manifest

    models = read_manifest(models_dir).get("models", {})
    if "registered_model" not in models.get(name, {}):
        kind = next((k for k, e in models.items() if "registered_model" in e), "another")
        raise ModelUriError(
            f"--model-uri {model_uri!r} is the {kind!r} model; this command needs {name!r}"
        )


def registered_versions(manifest: dict[str, Any]) -> dict[str, dict[str, str]]:
    """For each model of ``manifest``, the registry version it is (recorded by
    :func:`materialize_model_uri`) or the versions registered from its training run
    (``mlflow_run_id``) at the current tracking URI; models without any are left out."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    out: dict[str, dict[str, str]] = {}
    for name, entry in manifest.get("models", {}).items():
        reg = entry.get("registered_model")
        if reg:
            out[name] = {"name": reg["name"], "version": str(reg["version"])}
            continue
        run_id = entry.get("mlflow_run_id")
        if not run_id:
            continue
        try:
            found = client.search_model_versions(f"run_id = '{run_id}'")
        except MlflowException:
            continue
        if found:
            mv = max(found, key=lambda v: int(v.version))
            out[name] = {"name": mv.name, "version": str(mv.version)}
    return out


def log_screening_inputs(result: Any, spec: Any, models_dir: Path | None) -> None:
    """In the active run: log the screened candidates (and the input file, if any) with
    ``mlflow.log_input``, tag the models' registry versions, and link the run to those
    versions' logged models as model inputs (mlflow 3)."""
    import mlflow
    import mlflow.data

    from ssbml.ml.store import default_models_dir, read_manifest

    table = result.table
    cols = [c for c in ("candidate_id", "composition", "parent", "doping") if c in table]
    # a local path mlflow can resolve: the input file, or the run's own output folder
    if spec.input_file:
        source, origin = Path(spec.input_file).resolve(), f"file {spec.input_file}"
    else:
        source = Path(result.out_dir).resolve()
        parent = spec.parent or Path(str(getattr(spec, "parent_structure", ""))).name
        origin = f"generated: {parent} doped with {','.join(spec.dopants)}"
    candidates = table[cols].sort_values("candidate_id").reset_index(drop=True)
    with warnings.catch_warnings():
        # mlflow's hints about source guessing and integer schema columns are not ours
        warnings.simplefilter("ignore", UserWarning)
        dataset = mlflow.data.from_pandas(candidates, source=str(source), name="candidates")
        mlflow.log_input(dataset, context="screening", tags={"origin": origin[:250]})
    folder = Path(models_dir) if models_dir else default_models_dir()
    manifest = read_manifest(folder)
    used = {k: v for k, v in manifest.get("models", {}).items() if k in _used(result)}
    versions = registered_versions({"models": used})
    mlflow.set_tags({f"model_version.{k}": f"{v['name']}/{v['version']}"
                     for k, v in versions.items()})
    _link_logged_models(versions)


def _used(result: Any) -> set[str]:
    cols = set(result.table.columns)
    used = {"conductivity"}
    if "log10_sigma_at_T" in cols:
        used.add("conductivity-temperature")
    if "reduction_V" in cols:
        used.add("stability")
    return used


def _link_logged_models(versions: dict[str, dict[str, str]]) -> None:
    """Log each registry version's logged model as an input of the active run."""
    import mlflow
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    try:
        from mlflow.entities import LoggedModelInput
    except ImportError:  # mlflow 2: the tags above are the link
        return
    client = MlflowClient()
    for v in versions.values():
        try:
            model_id = getattr(client.get_model_version(v["name"], v["version"]), "model_id",
                               None)
            if model_id:
                mlflow.log_input(model=LoggedModelInput(model_id=model_id))
        except MlflowException:
            continue
