"""Starting mlflow runs with standard tags and logging data sets, models and plots."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from ssbml.errors import SsbmlError
from ssbml.provenance import data_hashes, library_versions

__all__ = [
    "TrackingUnreachableError",
    "default_tracking_uri",
    "library_versions",
    "log_dataframe_artifact",
    "log_dataset",
    "log_figure",
    "log_sklearn_model",
    "probe_tracking_uri",
    "promote_champion",
    "resolve_tracking_uri",
    "standard_tags",
    "start_run",
]

TRACKING_DB = "mlflow.db"
ARTIFACTS = "mlartifacts"


def user_tracking_dir() -> Path:
    """The per-user folder of the default tracking store (platformdirs' user data dir,
    e.g. ``~/.local/share/ssbml`` on Linux, ``~/Library/Application Support/ssbml`` on
    macOS)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("ssbml", appauthor=False))


def default_tracking_uri() -> str:
    """``sqlite:///<user data dir>/mlflow.db``: one store per user wherever ssbml runs
    (a relative ``sqlite:///mlflow.db`` would scatter runs over working folders)."""
    return f"sqlite:///{user_tracking_dir() / TRACKING_DB}"


def resolve_tracking_uri(uri: str | None = None) -> str:
    """``uri`` if given, else ``$MLFLOW_TRACKING_URI``, else :func:`default_tracking_uri`
    (whose folder is created)."""
    chosen = uri or os.environ.get("MLFLOW_TRACKING_URI")
    if chosen:
        return chosen
    user_tracking_dir().mkdir(parents=True, exist_ok=True)
    return default_tracking_uri()


def _ensure_experiment(name: str, tracking_uri: str) -> None:
    """Create ``name`` with its artifacts beside the default per-user store (instead of
    ``./mlruns`` of the working folder); other stores keep mlflow's own choice."""
    import mlflow

    if tracking_uri != default_tracking_uri() or mlflow.get_experiment_by_name(name):
        return
    folder = user_tracking_dir() / ARTIFACTS
    folder.mkdir(parents=True, exist_ok=True)
    mlflow.create_experiment(name, artifact_location=folder.as_uri())


class TrackingUnreachableError(SsbmlError, RuntimeError):
    """The tracking URI cannot be used (server does not answer, folder missing)."""

    def __init__(self, uri: str, detail: str, cause: str = "") -> None:
        self.uri = uri
        self.detail = detail
        self.cause = cause
        super().__init__(detail + (f" ({cause})" if cause else ""))


PROBE_TIMEOUT_S = 2.0
"""Seconds one probe of an HTTP tracking server may take (two attempts are made)."""
_BOUNDED_HTTP = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3", "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}


def probe_tracking_uri(uri: str | None = None, *, timeout_s: float = PROBE_TIMEOUT_S,
                       attempts: int = 2) -> str:
    """Check that the tracking URI can be used before any work starts; return it.

    ``http(s)://``: the server must answer an HTTP request within ``timeout_s`` (any
    HTTP status counts as an answer), at most ``attempts`` tries; mlflow's own retries
    are then bounded (``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` 3, timeout 30 s, unless set).
    ``sqlite:///`` and file stores: the folder must exist and be writable. Other
    schemes are not probed. Raises :class:`TrackingUnreachableError`.
    """
    import time
    import urllib.error
    import urllib.request
    from urllib.parse import urlparse

    uri = resolve_tracking_uri(uri)
    parsed = urlparse(uri)
    scheme = parsed.scheme.lower()
    if scheme in ("http", "https"):
        for key, value in _BOUNDED_HTTP.items():
            os.environ.setdefault(key, value)
        url = uri.rstrip("/") + "/api/2.0/mlflow/experiments/search?max_results=1"
        reason = "no answer"
        for attempt in range(max(1, attempts)):
            try:
                with urllib.request.urlopen(url, timeout=timeout_s):
                    return uri
            except urllib.error.HTTPError:
                return uri  # the server answered (auth or API errors surface later)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = str(getattr(exc, "reason", exc)) or type(exc).__name__
            if attempt + 1 < attempts:
                time.sleep(0.2)
        raise TrackingUnreachableError(uri, f"tracking server {uri} unreachable", reason)
    if scheme == "sqlite":
        db = uri[len("sqlite:///"):] if uri.startswith("sqlite:///") else ""
        if db in ("", ":memory:"):
            return uri
        folder = Path(db).expanduser().parent
    elif scheme in ("", "file"):
        folder = Path(parsed.path if scheme == "file" else uri).expanduser()
        folder = folder if folder.is_dir() else folder.parent
    else:
        return uri
    if not folder.is_dir():
        raise TrackingUnreachableError(uri, f"tracking store {uri}: folder {folder} does not "
                                       "exist")
    if not os.access(folder, os.W_OK):
        raise TrackingUnreachableError(uri, f"tracking store {uri}: folder {folder} is not "
                                       "writable")
    return uri


def git_commit() -> str:
    """The repository's HEAD commit (with ``-dirty`` if the tree has changes), or
    ``unknown`` outside a git checkout."""
    repo = Path(__file__).resolve().parents[2]
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=repo, capture_output=True, text=True, check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return sha + ("-dirty" if dirty else "")


def standard_tags(data_names: Sequence[str] = ()) -> dict[str, str]:
    """Tags every run carries: git commit, library versions, data sha256s."""
    tags = {"git_commit": git_commit()}
    tags |= {f"version.{k}": v for k, v in library_versions().items()}
    tags |= {f"data_sha256.{k}": v for k, v in data_hashes(data_names).items()}
    return tags


@contextmanager
def start_run(
    experiment: str,
    *,
    run_name: str | None = None,
    tracking_uri: str | None = None,
    data_names: Sequence[str] = (),
    tags: dict[str, str] | None = None,
) -> Iterator[Any]:
    """Set the tracking URI and experiment, start a run with :func:`standard_tags`
    plus ``tags``, and yield the active run."""
    import mlflow

    uri = resolve_tracking_uri(tracking_uri)
    mlflow.set_tracking_uri(uri)
    _ensure_experiment(experiment, uri)
    mlflow.set_experiment(experiment)
    with mlflow.start_run(run_name=run_name, tags=standard_tags(data_names) | (tags or {})) as run:
        yield run


def log_dataset(
    df: pd.DataFrame, name: str, context: str, *, source: str, targets: str | None = None
) -> None:
    """Log a DataFrame as an mlflow input data set (digest computed by mlflow)."""
    import mlflow
    import mlflow.data

    dataset = mlflow.data.from_pandas(df, source=source, name=name, targets=targets)
    mlflow.log_input(dataset, context=context)


def log_sklearn_model(
    model: Any,
    input_example: pd.DataFrame,
    *,
    name: str = "model",
    registered_model_name: str | None = None,
) -> Any:
    """Log a fitted model with a signature inferred from ``input_example`` and its
    prediction; returns mlflow's ModelInfo (``model_uri``, ``registered_model_version``)."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    prediction = model.predict(input_example)
    signature = infer_signature(input_example, prediction)
    info = mlflow.sklearn.log_model(
        model,
        name=name,
        signature=signature,
        input_example=input_example,
        registered_model_name=registered_model_name,
        # skops (mlflow 3's default) cannot take project classes without a trust list
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
    )
    trust_logged_model(info.model_uri)
    return info


def logged_model_pickle(model_uri: str, dst: str | None = None) -> tuple[Any, str]:
    """Download the artifacts of a logged mlflow model (nothing is unpickled) and return
    (local folder, sha256 of its pickle file)."""
    import mlflow.artifacts

    from ssbml.data.registry import file_sha256

    local = Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=dst))
    pickles = sorted(local.glob("*.pkl")) + sorted(local.glob("*.pickle"))
    if not pickles:
        raise FileNotFoundError(f"{model_uri}: no pickled model among its artifacts")
    return local, file_sha256(pickles[0])


def trust_logged_model(model_uri: str) -> None:
    """Add the pickle that ssbml itself just logged to this installation's trust list,
    so that loading it later through ``models:/`` passes the trust check."""
    import tempfile

    from ssbml.ml.store import trust_model_file

    with tempfile.TemporaryDirectory() as tmp:
        local, sha = logged_model_pickle(model_uri, tmp)
        trust_model_file(Path(model_uri.replace("/", "_")), sha)


def log_figure(fig: Any, artifact_file: str) -> None:
    """Log a matplotlib figure as a PNG artifact (and close it if pyplot manages it; the
    figures of ssbml are plain ``matplotlib.figure.Figure`` objects)."""
    import mlflow

    mlflow.log_figure(fig, artifact_file)
    if getattr(fig.canvas, "manager", None) is not None:
        import matplotlib.pyplot as plt

        plt.close(fig)


def log_dataframe_artifact(df: pd.DataFrame, artifact_file: str) -> None:
    """Log a DataFrame as a CSV artifact."""
    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(artifact_file).name
        df.to_csv(path, index=False)
        parent = str(Path(artifact_file).parent)
        mlflow.log_artifact(str(path), artifact_path=None if parent == "." else parent)


def promote_champion(
    model_name: str,
    version: str | int,
    metric: str,
    *,
    alias: str = "champion",
    lower_is_better: bool = True,
) -> bool:
    """Point ``alias`` at ``version`` if its run's ``metric`` beats the current
    holder's (or nobody holds it). Returns True if the alias moved."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    new = client.get_model_version(model_name, str(version))
    new_value = client.get_run(new.run_id).data.metrics.get(metric)
    if new_value is None:
        raise ValueError(f"run {new.run_id} has no metric {metric!r}; cannot rank it")
    try:
        current = client.get_model_version_by_alias(model_name, alias)
    except MlflowException:
        current = None
    if current is not None and current.version != new.version:
        old_value = client.get_run(current.run_id).data.metrics.get(metric)
        if old_value is not None and (
            (old_value <= new_value) if lower_is_better else (old_value >= new_value)
        ):
            return False
    client.set_registered_model_alias(model_name, alias, str(new.version))
    return True
