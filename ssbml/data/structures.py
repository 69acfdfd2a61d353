"""OBELiX crystal structures: the registered CIF archive, read with pymatgen, joined by ID.

The archive ``obelix/all_cifs.tar.gz`` (registry name ``obelix-cifs``, sha256-verified)
holds one ``all_randomized_cifs/<ID>.cif`` for 321 of the 599 OBELiX entries. Its
positions are noise-randomized copies of the originals (Gaussian, sigma 0.01 in
fractional coordinates), about 250 have partial occupancies and 7 have no Li site.

The archive is read in place with :mod:`tarfile` (nothing is extracted to disk); each CIF
is parsed with :meth:`pymatgen.core.Structure.from_str`. A CIF that does not parse is
never dropped silently: with ``errors="collect"`` its row keeps ``structure=None`` and a
one-line ``error`` naming the member and the reason.
"""

from __future__ import annotations

import tarfile
import warnings
from functools import cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Literal

import pandas as pd

from ssbml.data.registry import fetch
from ssbml.errors import SsbmlError

if TYPE_CHECKING:
    from pymatgen.core import Structure

__all__ = [
    "ARCHIVE_FOLDER",
    "StructureLoadError",
    "load_obelix_structures",
    "obelix_cif_text",
    "obelix_structure",
    "obelix_structure_ids",
    "obelix_structure_index",
    "parse_structure",
]

DATASET = "obelix-cifs"
ARCHIVE_FOLDER = "all_randomized_cifs"


class StructureLoadError(SsbmlError, ValueError):
    """A crystal structure could not be read; the message names the input and the reason."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


def _member_id(name: str) -> str | None:
    path = PurePosixPath(name)
    if path.suffix.lower() != ".cif" or path.parent.name != ARCHIVE_FOLDER:
        return None
    return path.stem


@cache
def _members(archive: str) -> dict[str, str]:
    """``{ID: member name}`` of the archive at ``archive`` (read once per process)."""
    with tarfile.open(archive, "r:gz") as tar:
        out = {}
        for member in tar.getmembers():
            if member.isfile() and (id_ := _member_id(member.name)) is not None:
                out[id_] = member.name
    return out


def obelix_structure_ids() -> list[str]:
    """Sorted OBELiX IDs that have a CIF in the archive."""
    return sorted(_members(str(fetch(DATASET))))


def obelix_cif_text(structure_id: str) -> str:
    """The CIF text of OBELiX entry ``structure_id``; a clear error if it has none."""
    archive = str(fetch(DATASET))
    members = _members(archive)
    name = members.get(str(structure_id))
    if name is None:
        raise StructureLoadError(
            f"OBELiX ID {structure_id!r}",
            f"no CIF in {DATASET} ({len(members)} of the OBELiX entries have one)",
        )
    with tarfile.open(archive, "r:gz") as tar:
        fh = tar.extractfile(name)
        if fh is None:  # pragma: no cover - members are regular files
            raise StructureLoadError(f"{DATASET}:{name}", "not a regular file")
        return fh.read().decode("utf-8", errors="replace")


def parse_structure(text: str, source: str, fmt: str = "cif") -> Structure:
    """A pymatgen Structure from CIF (or other ``fmt``) text; errors name ``source``."""
    from pymatgen.core import Structure

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pymatgen warns on rounding of CIF occupancies
            structure = Structure.from_str(text, fmt=fmt)
    except Exception as err:  # pymatgen raises many types on malformed CIFs
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise StructureLoadError(source, f"not a readable {fmt.upper()} ({reason})") from None
    if len(structure) == 0:
        raise StructureLoadError(source, "the structure has no sites")
    return structure


def obelix_structure(structure_id: str) -> Structure:
    """The pymatgen Structure of OBELiX entry ``structure_id``."""
    return parse_structure(
        obelix_cif_text(structure_id), f"{DATASET}:{ARCHIVE_FOLDER}/{structure_id}.cif"
    )


def obelix_structure_index() -> pd.DataFrame:
    """One row per CIF in the archive (no parsing): ``id``, ``member``, and the OBELiX
    ``split``, ``composition`` and ``log10_sigma`` (log10 S/cm) joined by ``id``."""
    from ssbml.data.conductivity import load_obelix

    members = _members(str(fetch(DATASET)))
    index = pd.DataFrame(sorted(members.items()), columns=["id", "member"])
    obelix = load_obelix(censored="paper")
    obelix = obelix.assign(id=obelix["id"].astype(str))
    cols = ["id", "split", "composition", "log10_sigma", "censored", "family"]
    out = index.merge(obelix[cols], on="id", how="left", validate="one_to_one")
    unknown = out["split"].isna()
    if unknown.any():
        raise StructureLoadError(
            DATASET, f"CIF(s) for ID(s) not in OBELiX: {out.loc[unknown, 'id'].tolist()[:10]}"
        )
    return out


def load_obelix_structures(
    ids: list[str] | None = None, *, errors: Literal["raise", "collect"] = "raise"
) -> pd.DataFrame:
    """:func:`obelix_structure_index` plus parsed ``structure`` (pymatgen) and ``error``.

    ``ids`` restricts to those OBELiX IDs (all with a CIF by default; an ID without a CIF
    is an error). ``errors="raise"`` stops at the first CIF that does not parse with a
    message naming it; ``"collect"`` keeps going and records the one-line reason.
    """
    if errors not in ("raise", "collect"):
        raise ValueError(f"errors must be 'raise' or 'collect', got {errors!r}")
    index = obelix_structure_index()
    if ids is not None:
        wanted = [str(i) for i in ids]
        missing = sorted(set(wanted) - set(index["id"]))
        if missing:
            raise StructureLoadError(
                f"OBELiX ID(s) {missing[:10]}", f"no CIF in {DATASET}"
            )
        index = index.set_index("id").loc[wanted].reset_index()
    archive = str(fetch(DATASET))
    structures: list[Structure | None] = []
    problems: list[str | None] = []
    wanted_members = set(index["member"])
    texts: dict[str, str] = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if member.name in wanted_members:
                fh = tar.extractfile(member)
                texts[member.name] = fh.read().decode("utf-8", errors="replace") if fh else ""
    for member in index["member"]:
        try:
            structures.append(parse_structure(texts[member], f"{DATASET}:{member}"))
            problems.append(None)
        except StructureLoadError as err:
            if errors == "raise":
                raise
            structures.append(None)
            problems.append(str(err))
    return index.assign(structure=structures, error=problems)
