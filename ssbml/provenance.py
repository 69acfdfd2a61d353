"""What a result was made with: the versions of the libraries a trained model depends
on and the sha256 of registered data sets. Recorded in the model manifest
(:mod:`ssbml.ml.store`) and in the tags of every tracked run
(:mod:`ssbml.tracking.runs`)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["LIBRARIES", "data_hashes", "library_versions"]

LIBRARIES = ("ssbml", "scikit-learn", "numpy", "pandas", "scipy", "pymatgen", "mlflow", "joblib")
"""Distributions whose installed versions :func:`library_versions` reports."""


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries a trained model depends on."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def data_hashes(names: Sequence[str]) -> dict[str, str]:
    """sha256 of registered data sets (from :mod:`ssbml.data.registry`)."""
    from ssbml.data.registry import get_dataset

    return {name: get_dataset(name).sha256 for name in names}
