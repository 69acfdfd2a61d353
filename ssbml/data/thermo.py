"""The Materials Project formation-energy table (``mp-e-form``) as a lookup for phase
diagrams.

:func:`load_mp_formation_energies` returns one row per reduced formula with the lowest
DFT formation energy (eV/atom) over its polymorphs; elements are at 0 eV/atom by
definition (the file lists a few element polymorphs with positive energies; every
element row is set to 0). Parsing 132,752 formulas takes seconds, so the parsed table
is cached as parquet in the user cache, keyed by the file's sha256 and
:data:`CACHE_VERSION`. In memory, one copy is kept by :func:`thermo_table`.

The same table ships with ssbml (``models/mp_reference.parquet``, listed with its
sha256, source and license in ``models/manifest.json`` under ``data``; written by
``experiments/ship_reference.py``), so phase-diagram stability works with no data
directory and no network. :func:`thermo_table` uses the shipped copy and falls back to
parsing the registry file only when it is absent. Derived from Materials Project data
(Matbench ``matbench_mp_e_form``), CC BY 4.0: Jain et al., APL Mater. 1, 011002
(2013); Dunn et al., npj Comput. Mater. 6, 138 (2020).

:class:`FormationEnergyTable` adds fast chemical-system lookups: every row carries a
128-bit element mask (bit ``Z - 1``), so "all entries whose elements are a subset of
{Li, P, S}" is two vectorised ``AND`` operations over the table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ssbml.data.registry import cache_dir, fetch, file_sha256, get_dataset

__all__ = [
    "CACHE_VERSION",
    "COLUMNS",
    "FormationEnergyTable",
    "element_mask",
    "load_mp_formation_energies",
    "load_shipped_reference",
    "reference_sha256",
    "shipped_reference_entry",
    "thermo_table",
]

SHIPPED_NAME = "mp-reference"
"""Manifest key (under ``data``) of the shipped lowest-energy-per-formula table."""

CACHE_VERSION = 1
"""Bump when the parsed table's content or columns change (invalidates the disk cache)."""

COLUMNS = (
    "formula",
    "e_form_eV_atom",
    "n_atoms",
    "n_elements",
    "chemsys",
    "n_polymorphs",
    "mask_lo",
    "mask_hi",
)
"""Columns of :func:`load_mp_formation_energies`: reduced formula (pymatgen), lowest
formation energy (eV/atom), atoms in the reduced formula, number of elements,
chemical system (``"Li-P-S"``, alphabetical), rows of the file merged into this one,
and the two 64-bit halves of the element mask."""

_DATASET = "mp-e-form"


def _z_of(symbol: str) -> int:
    from pymatgen.core import Element

    return Element(symbol).Z


@cache
def _bit(symbol: str) -> int:
    return 1 << (_z_of(symbol) - 1)


def element_mask(elements: Iterable[str]) -> tuple[int, int]:
    """The (low, high) 64-bit halves of the element bitmask of ``elements`` (symbols)."""
    mask = 0
    for el in elements:
        mask |= _bit(str(el))
    return mask & 0xFFFFFFFFFFFFFFFF, mask >> 64


def _parse_table(path: Path) -> pd.DataFrame:
    """Parse the raw CSV (``formula``, ``target``) into the reduced-formula table."""
    from pymatgen.core import Composition

    raw = pd.read_csv(path)
    if list(raw.columns) != ["formula", "target"]:
        raise ValueError(f"{path}: expected columns ['formula', 'target'], got {list(raw.columns)}")
    bad = raw["target"].isna() | raw["formula"].isna()
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())[:5].tolist()
        raise ValueError(f"{path}: empty formula or target in row(s) {rows}")
    unique = pd.unique(raw["formula"])
    reduced: dict[str, str] = {}
    n_atoms: dict[str, float] = {}
    elements: dict[str, tuple[str, ...]] = {}
    for text in unique:
        comp = Composition(text)
        red = comp.reduced_formula
        reduced[text] = red
        if red not in n_atoms:
            rcomp = Composition(red)
            n_atoms[red] = float(rcomp.num_atoms)
            elements[red] = tuple(sorted(el.symbol for el in rcomp.elements))
    raw["formula"] = raw["formula"].map(reduced)
    grouped = raw.groupby("formula", sort=True)["target"]
    table = pd.DataFrame(
        {"e_form_eV_atom": grouped.min(), "n_polymorphs": grouped.size().astype(np.int32)}
    ).reset_index()
    els = table["formula"].map(elements)
    table["n_elements"] = els.map(len).astype(np.int16)
    # Elements are the reference states: 0 eV/atom by definition.
    table.loc[table["n_elements"] == 1, "e_form_eV_atom"] = 0.0
    table["n_atoms"] = table["formula"].map(n_atoms)
    table["chemsys"] = els.map("-".join)
    masks = [element_mask(e) for e in els]
    table["mask_lo"] = np.array([m[0] for m in masks], dtype=np.uint64)
    table["mask_hi"] = np.array([m[1] for m in masks], dtype=np.uint64)
    return table[list(COLUMNS)]


def _cache_path(sha256: str) -> Path:
    return cache_dir() / "thermo" / f"mp_e_form_{sha256[:16]}_v{CACHE_VERSION}.parquet"


def load_mp_formation_energies(*, use_cache: bool = True) -> pd.DataFrame:
    """Lowest formation energy (eV/atom) per reduced formula of the MP table.

    Columns: see :data:`COLUMNS`. Cached on disk (parquet in the user cache, keyed by
    the data file's sha256; ``use_cache=False`` parses the file afresh). Every call
    returns a new frame the caller may modify; for repeated lookups use the in-memory
    :func:`thermo_table`.
    """
    path = fetch(_DATASET)
    sha = get_dataset(_DATASET).sha256
    if not use_cache:
        return _parse_table(path)
    return _load_cached(str(path), sha)


def _load_cached(path: str, sha256: str) -> pd.DataFrame:
    """The parsed table from the parquet cache, parsing and writing it when absent."""
    cached = _cache_path(sha256)
    if cached.is_file():
        try:
            table = pd.read_parquet(cached)
            if list(table.columns) == list(COLUMNS):
                return table
        except Exception:  # corrupt cache: rebuild below
            pass
    if file_sha256(Path(path)) != sha256:  # fetch() verified it; guard against a swap
        raise ValueError(f"{path} changed while loading; expected sha256 {sha256}")
    table = _parse_table(Path(path))
    from ssbml.io import atomic_write_parquet

    atomic_write_parquet(table, cached)  # parallel workers never read a half-written file
    return table


@dataclass
class FormationEnergyTable:
    """The formation-energy table with chemical-system lookups."""

    frame: pd.DataFrame
    _index: dict[str, int] = field(init=False, repr=False)
    _lo: np.ndarray = field(init=False, repr=False)
    _hi: np.ndarray = field(init=False, repr=False)
    elements: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self._index = {f: i for i, f in enumerate(self.frame["formula"])}
        self._lo = self.frame["mask_lo"].to_numpy(dtype=np.uint64)
        self._hi = self.frame["mask_hi"].to_numpy(dtype=np.uint64)
        self.elements = frozenset(
            self.frame.loc[self.frame["n_elements"] > 1, "chemsys"].str.split("-").explode()
        )

    def __len__(self) -> int:
        return len(self.frame)

    def within(self, elements: Iterable[str]) -> pd.DataFrame:
        """All rows whose elements are a subset of ``elements`` (symbols)."""
        lo, hi = element_mask(elements)
        keep = ((self._lo & np.uint64(~lo & 0xFFFFFFFFFFFFFFFF)) == 0) & (
            (self._hi & np.uint64(~hi & 0xFFFFFFFFFFFFFFFF)) == 0
        )
        return self.frame[keep]

    def lookup(self, formula: str) -> pd.Series | None:
        """The row of a reduced formula (pymatgen's ``reduced_formula``), or None."""
        i = self._index.get(formula)
        return None if i is None else self.frame.iloc[i]

    def e_form_eV_atom(self, formula: str) -> float | None:
        """Lowest formation energy (eV/atom) of a reduced formula, or None if absent."""
        i = self._index.get(formula)
        return None if i is None else float(self.frame["e_form_eV_atom"].iat[i])


def shipped_reference_entry() -> tuple[Path, dict] | None:
    """(path, manifest entry) of the shipped reference table, or None if not shipped."""
    from ssbml.ml.store import default_models_dir, read_manifest

    folder = default_models_dir()
    entry = read_manifest(folder).get("data", {}).get(SHIPPED_NAME)
    if entry is None:
        return None
    path = folder / entry["file"]
    return (path, entry) if path.is_file() else None


def load_shipped_reference() -> pd.DataFrame | None:
    """The shipped reference table (columns :data:`COLUMNS`) after checking its sha256
    against the manifest, or None when it is not shipped. A hash mismatch raises."""
    found = shipped_reference_entry()
    if found is None:
        return None
    path, entry = found
    actual = file_sha256(path)
    if actual != entry["sha256"]:
        raise ValueError(
            f"refusing the reference table {path}: sha256 {actual} does not match the "
            f"manifest's {entry['sha256']}; reinstall ssbml or run experiments/ship_reference.py"
        )
    table = pd.read_parquet(path)
    if list(table.columns) != list(COLUMNS):
        raise ValueError(f"{path}: columns {list(table.columns)}, expected {list(COLUMNS)}")
    return table


def reference_sha256() -> str:
    """sha256 identifying the reference data in use: the shipped table's file hash, or
    the registry file's (a screening run's fingerprint includes it)."""
    found = shipped_reference_entry()
    if found is not None:
        return found[1]["sha256"]
    return get_dataset(_DATASET).sha256


@lru_cache(maxsize=1)
def thermo_table() -> FormationEnergyTable:
    """The cached :class:`FormationEnergyTable`: the shipped reference table, or (when
    it is not shipped) the parsed MP formation-energy file from the registry."""
    shipped = load_shipped_reference()
    return FormationEnergyTable(shipped if shipped is not None else load_mp_formation_energies())
