"""Registry of the public data sets ssbml uses: names, canonical URLs, sha256, licenses.

Like pooch's registry, every file is named by a relative path and a sha256. A file is
resolved, in order, from

1. the directory in ``SSBML_DATA_DIR`` (same relative paths as the shared mirror),
2. the user cache (``SSBML_CACHE_DIR`` or the platform cache folder of ``ssbml``),
3. a download from the canonical URL into the user cache, checked against the sha256.

A hash mismatch anywhere, or a file that is missing while downloads are off
(``SSBML_OFFLINE=1``) or impossible, raises an error that names the file, every place
that was looked at, and how to fix it. Nothing in the project commits these files.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ssbml.errors import SsbmlError

__all__ = [
    "DATASETS",
    "DataHashError",
    "DataNotFoundError",
    "Dataset",
    "cache_dir",
    "data_dir",
    "fetch",
    "file_sha256",
    "get_dataset",
]

ENV_DATA_DIR = "SSBML_DATA_DIR"
ENV_CACHE_DIR = "SSBML_CACHE_DIR"
ENV_OFFLINE = "SSBML_OFFLINE"

OBELIX_CITATION = (
    'Therrien et al., "OBELiX: A Curated Dataset of Crystal Structures and Experimentally '
    'Measured Ionic Conductivities for Lithium Solid-State Electrolytes", arXiv:2502.14234 '
    "(Digital Discovery 2026)"
)


@dataclass(frozen=True)
class Dataset:
    """One registered data file."""

    name: str
    path: str
    url: str
    sha256: str
    rows: int
    description: str
    license: str
    citation: str


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            name="obelix",
            path="obelix/all.csv",
            url="https://raw.githubusercontent.com/NRC-Mila/OBELiX/main/data/downloads/all.csv",
            sha256="54f6265ef84d16a919d08c6815f14b0fd7465fa00090bee2511c16c042e57f3c",
            rows=599,
            description=(
                "OBELiX: experimentally measured room-temperature Li-ion conductivity (S/cm) "
                "of synthesized solid electrolytes, with space group, lattice, family and DOI"
            ),
            license="CC BY 4.0",
            citation=OBELIX_CITATION,
        ),
        Dataset(
            name="obelix-train",
            path="obelix/train.csv",
            url="https://raw.githubusercontent.com/NRC-Mila/OBELiX/main/data/downloads/train.csv",
            sha256="01d87779862807e24bc45bb2c759852f892390b99f9340f13906c54805aa8776",
            rows=478,
            description="The official OBELiX training split (no paper or near-duplicate leakage)",
            license="CC BY 4.0",
            citation=OBELIX_CITATION,
        ),
        Dataset(
            name="obelix-test",
            path="obelix/test.csv",
            url="https://raw.githubusercontent.com/NRC-Mila/OBELiX/main/data/downloads/test.csv",
            sha256="b2c266eb74e22f403743d52959bea7c43b1531a850994870a70dd909200e5297",
            rows=121,
            description="The official OBELiX test split",
            license="CC BY 4.0",
            citation=OBELIX_CITATION,
        ),
        Dataset(
            name="obelix-cifs",
            path="obelix/all_cifs.tar.gz",
            url="https://raw.githubusercontent.com/NRC-Mila/OBELiX/main/data/downloads/all_cifs.tar.gz",
            sha256="bfa2a3c92e3b8ca1b9859992e686c9e19f98924e7ff369c05db7006548217d49",
            rows=321,
            description=(
                "OBELiX crystal structures: one all_randomized_cifs/<ID>.cif per OBELiX ID "
                "for 321 of the 599 entries (noise-randomized positions, many partial "
                "occupancies); read with ssbml.data.structures"
            ),
            license="CC BY 4.0",
            citation=OBELIX_CITATION,
        ),
        Dataset(
            name="liverpool",
            path="liverpool/LiIonDatabase.csv",
            url="https://raw.githubusercontent.com/NRC-Mila/OBELiX/main/data/misc/LiIonDatabase.csv",
            sha256="d24ed972b88c3aba14194b6f9347fb3c8e8f9249b82fec22d961e709c1c06e5d",
            rows=820,
            description=(
                "Liverpool Ionics Dataset: composition, temperature (degC), conductivity "
                "(S/cm), structural family and DOI; many compositions at several temperatures"
            ),
            license="see publication (npj Comput. Mater. open access)",
            citation=(
                'Hargreaves et al., "A database of experimentally measured lithium solid '
                'electrolyte conductivities evaluated with machine learning", '
                "npj Comput. Mater. 9, 9 (2023)"
            ),
        ),
        Dataset(
            name="mp-e-form",
            path="mp/mp_e_form.csv",
            url="https://raw.githubusercontent.com/anthony-wang/CrabNet/master/data/matbench/mp_e_form.csv",
            sha256="90e895635c96447c5be4e9070d26f26e1b4d17925102a6597ae3c4d79c32555b",
            rows=132752,
            description=(
                "DFT formation energy per atom (eV/atom, GGA/GGA+U with Materials Project "
                "corrections) by formula: Matbench v0.1 matbench_mp_e_form"
            ),
            license="CC BY 4.0",
            citation=(
                "Materials Project: Jain et al., APL Mater. 1, 011002 (2013); Matbench: "
                "Dunn et al., npj Comput. Mater. 6, 138 (2020)"
            ),
        ),
    ]
}


class DataNotFoundError(SsbmlError, FileNotFoundError):
    """A registered data file is in none of the places ssbml looks and cannot be fetched."""


class DataHashError(SsbmlError, OSError):
    """A data file's sha256 differs from the registry's."""


def get_dataset(name: str) -> Dataset:
    """The registry entry called ``name``; a clear error lists the known names."""
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(
            f"unknown data set {name!r}; known data sets: {', '.join(sorted(DATASETS))}"
        ) from None


def data_dir() -> Path | None:
    """The local mirror named by ``SSBML_DATA_DIR``, if set."""
    value = os.environ.get(ENV_DATA_DIR)
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """The user cache for downloaded files (``SSBML_CACHE_DIR`` or the platform default)."""
    value = os.environ.get(ENV_CACHE_DIR)
    if value:
        return Path(value).expanduser()
    import pooch

    return Path(pooch.os_cache("ssbml"))


def file_sha256(path: Path, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


_VERIFIED: dict[tuple[str, int, int], str] = {}


def _verify(path: Path, dataset: Dataset) -> Path:
    """Check the file's sha256 (memoized on path, size and mtime); raise on mismatch."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    digest = _VERIFIED.get(key)
    if digest is None:
        digest = file_sha256(path)
        _VERIFIED[key] = digest
    if digest != dataset.sha256:
        raise DataHashError(
            f"data set {dataset.name!r}: {path} has sha256 {digest}, but the registry expects "
            f"{dataset.sha256}. The file is corrupt, truncated or a different version. "
            f"Delete it and run `ssbml data fetch {dataset.name}`, or replace it with an exact "
            f"copy of {dataset.url}."
        )
    return path


def _offline() -> bool:
    return os.environ.get(ENV_OFFLINE, "").strip().lower() in {"1", "true", "yes", "on"}


def fetch(name: str, *, download: bool | None = None) -> Path:
    """Local path of data set ``name``, verified against its sha256.

    ``download`` defaults to true unless ``SSBML_OFFLINE`` is set.
    """
    dataset = get_dataset(name)
    looked: list[str] = []
    mirror = data_dir()
    if mirror is not None:
        candidate = mirror / dataset.path
        if candidate.is_file():
            return _verify(candidate, dataset)
        looked.append(f"{candidate} (from {ENV_DATA_DIR})")
    else:
        looked.append(f"{ENV_DATA_DIR} (not set)")
    cached = cache_dir() / dataset.path
    if cached.is_file():
        return _verify(cached, dataset)
    looked.append(f"{cached} (user cache)")

    if download is None:
        download = not _offline()
    fix = (
        f"Point {ENV_DATA_DIR} at a folder holding {dataset.path}, or download "
        f"{dataset.url} to {cached}"
    )
    if not download:
        raise DataNotFoundError(
            f"data set {dataset.name!r} ({dataset.path}) not found and downloads are off "
            f"({ENV_OFFLINE} is set). Looked in: {'; '.join(looked)}. {fix}."
        )
    import pooch

    try:
        pooch.retrieve(
            dataset.url,
            known_hash=f"sha256:{dataset.sha256}",
            fname=Path(dataset.path).name,
            path=cached.parent,
            progressbar=False,
        )
    except ValueError as err:  # pooch raises ValueError on a hash mismatch
        raise DataHashError(
            f"data set {dataset.name!r}: the download from {dataset.url} does not match the "
            f"registry's sha256 {dataset.sha256} ({err}). {fix}."
        ) from err
    except Exception as err:  # network errors come in many types
        raise DataNotFoundError(
            f"data set {dataset.name!r} ({dataset.path}) not found locally and the download "
            f"from {dataset.url} failed ({type(err).__name__}: {err}). Looked in: "
            f"{'; '.join(looked)}. {fix}."
        ) from err
    return _verify(cached, dataset)
