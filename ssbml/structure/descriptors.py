"""Structure descriptors of Li-ion conductors as a scikit-learn featurizer.

For each crystal structure (pymatgen ``Structure``): BVSE Li+ percolation barriers (eV)
and percolation radii = bottleneck sizes (Angstrom) from :mod:`ssbml.structure.bvse`,
the Li sublattice (Li-Li site distances in Angstrom, Li per Angstrom^3, Li site
occupancy), the free volume (fraction of the cell outside Shannon-radius spheres of
all ions, occupancy-weighted) and volume per atom, and the anion framework (volume per
anion in Angstrom^3, anion fractions O, S, halide, N, other).

Each structure is computed once and cached as JSON under
``<SSBML_CACHE_DIR>/structure-descriptors/<sha256>.json``, keyed by the structure's
content and the BVSE settings. A structure whose BVSE cannot be computed (no Li, no
valence assignment, no BVSE parameters) gets NaN for those columns and its reason in
:meth:`StructureFeaturizer.errors`; the geometric columns are still filled.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ssbml.composition import ANION_FORMERS, HALOGENS
from ssbml.features.citations import PYMATGEN, SHANNON
from ssbml.io import atomic_write_text
from ssbml.structure.bvse import (
    BVSE_SETTINGS,
    DIMENSIONS,
    MigrationInputError,
    fractional_oxidation_states,
    li_sublattice,
    migration_report,
    prepare_structure,
)

if TYPE_CHECKING:
    from pymatgen.core import Structure

__all__ = [
    "FEATURE_NAMES",
    "GEOMETRIC_FEATURE_NAMES",
    "StructureFeaturizer",
    "geometric_descriptors",
    "site_species",
    "structure_geometric_descriptors",
    "structure_descriptors",
    "structure_hash",
]

CACHE_VERSION = "3"

BVSE_ADAMS_RAO = (
    "@article{AdamsRao2011, author = {Adams, Stefan and Rao, R. Prasada}, title = {High "
    "power lithium ion battery materials by computational design}, journal = {physica status "
    "solidi (a)}, volume = {208}, number = {8}, pages = {1746--1753}, year = {2011}, "
    "doi = {10.1002/pssa.201001116}}"
)
SOFTBV = (
    "@article{Chen2019softBV, author = {Chen, Haomin and Wong, Lee Loong and Adams, Stefan}, "
    "title = {{SoftBV} -- a software tool for screening the materials genome of inorganic "
    "fast ion conductors}, journal = {Acta Crystallographica Section B}, volume = {75}, "
    "number = {1}, pages = {18--33}, year = {2019}, doi = {10.1107/S2052520618015718}}"
)
BVLAIN = (
    "@misc{bvlain, author = {Dembitskiy, Artem}, title = {{BVlain}: bond valence site energy "
    "calculations of mobile-ion percolation barriers and radii}, "
    "howpublished = {\\url{https://github.com/dembart/BVlain}}, note = {PyPI bvlain 0.25}}"
)

_ANION_GROUPS = ("O", "S", "halide", "N", "other")

FEATURE_NAMES: tuple[str, ...] = (
    *(f"bvse_barrier_{d}_eV" for d in DIMENSIONS),
    *(f"percolation_radius_{d}_A" for d in DIMENSIONS),
    "li_li_nearest_A",
    "li_li_nearest_mean_A",
    "li_per_volume_per_A3",
    "li_site_occupancy_mean",
    "volume_per_atom_A3",
    "free_volume_fraction",
    "volume_per_anion_A3",
    *(f"anion_fraction_{g}" for g in _ANION_GROUPS),
    "disordered",
)
"""Output columns: eV, Angstrom, Li/Angstrom^3, Angstrom^3, fractions, 0/1. A barrier
above the BVSE cutoff (``encut_eV``, 5 eV) is given as that cutoff."""


def structure_hash(structure: Structure, settings: dict[str, Any] | None = None) -> str:
    """sha256 of the structure's content (lattice, species, occupancies, coordinates)
    and the BVSE settings: the descriptor cache key."""
    payload = {
        "v": CACHE_VERSION,
        "settings": {**BVSE_SETTINGS, **(settings or {})},
        "lattice": np.round(structure.lattice.matrix, 6).tolist(),
        "sites": [
            [sorted((str(sp), round(float(v), 6)) for sp, v in site.species.items()),
             np.round(site.frac_coords, 6).tolist()]
            for site in structure
        ],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _radius(symbol: str, q: float | None) -> float:
    """Shannon ionic radius (Angstrom, pymatgen's CN average) or the atomic radius."""
    from pymatgen.core import Element, Species

    if q is not None and abs(q - round(q)) < 1e-6 and round(q) != 0:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "No ionic radius for P4+": fall back
                r = Species(symbol, int(round(q))).ionic_radius
            if r is not None:
                return float(r)
        except Exception:  # unknown ion in pymatgen's table
            pass
    r = Element(symbol).atomic_radius
    return float(r) if r is not None else 1.0


def _default_states(structure: Structure) -> dict[str, float]:
    """Fallback states for the geometry when no valence assignment exists: usual anions
    their most negative common state, other elements their highest common state."""
    from pymatgen.core import Element

    out: dict[str, float] = {}
    for el in structure.composition.element_composition:
        common = [q for q in Element(el.symbol).common_oxidation_states if q != 0]
        if not common:
            continue
        out[el.symbol] = float(min(common) if el.symbol in ANION_FORMERS else max(common))
    return out


def structure_descriptors(
    structure: Structure, source: str, settings: dict[str, Any] | None = None
) -> dict[str, Any]:
    """All :data:`FEATURE_NAMES` of one structure (NaN where undefined) plus ``error``
    (None or the one-line reason the BVSE part failed) and ``seconds``."""
    out: dict[str, Any] = dict.fromkeys(FEATURE_NAMES, math.nan)
    out["error"] = None
    encut = float({**BVSE_SETTINGS, **(settings or {})}["encut_eV"])
    states: dict[str, float] = {}
    try:
        report = migration_report(structure, source, settings=settings)
        for d in DIMENSIONS:
            b = report.barriers_eV[d]
            out[f"bvse_barrier_{d}_eV"] = encut if b is None else b
            out[f"percolation_radius_{d}_A"] = report.percolation_radius_A[d]
        states = report.oxidation_states
        out["seconds"] = report.seconds
    except MigrationInputError as err:
        out["error"] = str(err)
        try:
            states = prepare_structure(structure, source)[1]["oxidation_states"]
        except MigrationInputError:
            states = {}
        if not states:
            try:
                states = dict(fractional_oxidation_states(
                    structure.composition.element_composition.get_el_amt_dict())[0])
            except ValueError:
                states = {}
    states = {**_default_states(structure), **states}
    li = li_sublattice(structure)
    for key in ("li_li_nearest_A", "li_li_nearest_mean_A", "li_per_volume_per_A3",
                "li_site_occupancy_mean"):
        out[key] = li[key]
    occupancies = (((sp.symbol, occ) for sp, occ in site.species.items())
                   for site in structure)
    _add_volume_and_anion_descriptors(out, occupancies, states, structure.volume)
    out["disordered"] = 0.0 if structure.is_ordered else 1.0
    return out


def _add_volume_and_anion_descriptors(
    out: dict[str, float], occupancies: Any, states: dict[str, Any], volume: float
) -> None:
    """``volume_per_atom_A3``, ``free_volume_fraction`` (ionic radii), and with anions
    ``volume_per_anion_A3`` and ``anion_fraction_<group>``, into ``out``, from
    ``occupancies`` (per site, (element symbol, occupancy) pairs), oxidation ``states``
    per element and the cell ``volume`` (A^3)."""
    n_atoms = 0.0
    ion_volume = 0.0
    anions: dict[str, float] = {}
    for site in occupancies:
        for symbol, occ in site:
            q = states.get(symbol)
            n_atoms += occ
            ion_volume += occ * 4.0 / 3.0 * math.pi * _radius(symbol, q) ** 3
            if q is not None and q < 0:
                anions[symbol] = anions.get(symbol, 0.0) + occ
    out["volume_per_atom_A3"] = volume / n_atoms
    out["free_volume_fraction"] = 1.0 - ion_volume / volume
    n_anions = sum(anions.values())
    if n_anions > 0:
        out["volume_per_anion_A3"] = volume / n_anions
        groups = dict.fromkeys(_ANION_GROUPS, 0.0)
        for symbol, n in anions.items():
            key = (symbol if symbol in ("O", "S", "N")
                   else "halide" if symbol in HALOGENS else "other")
            groups[key] += n / n_anions
        for g, v in groups.items():
            out[f"anion_fraction_{g}"] = v


class StructureFeaturizer(TransformerMixin, BaseEstimator):
    """Structure descriptors (:data:`FEATURE_NAMES`) of pymatgen Structures.

    ``X`` is a sequence of ``Structure`` (``None`` gives an all-NaN row), or a DataFrame
    with a ``structure`` column (and optionally ``id`` to name rows in errors).
    ``cache=True`` stores each structure's descriptors under the ssbml cache
    (``SSBML_CACHE_DIR``) by :func:`structure_hash`; ``n_jobs`` computes misses in
    parallel (joblib processes).

    Nothing is learned from the data: ``fit`` checks the rows and fixes the output
    columns, so ``transform`` may be called on any structures afterwards (it writes no
    state; :meth:`errors` says why a row's BVSE columns are NaN). The input is
    structures, not a numeric array: the tags say so (``two_d_array=False``), and a
    missing structure is allowed (``allow_nan``, an all-NaN row)."""

    def __init__(self, cache: bool = True, n_jobs: int = 1,
                 settings: dict[str, Any] | None = None) -> None:
        self.cache = cache
        self.n_jobs = n_jobs
        self.settings = settings

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags

    def fit(self, X: object, y: object = None) -> StructureFeaturizer:
        """Check that every row is a Structure or missing; no descriptor is computed."""
        self._structures(X)
        self.feature_names_out_ = np.asarray(FEATURE_NAMES, dtype=object)
        return self

    def citations(self) -> list[str]:
        """References for the method and data (BibTeX strings)."""
        return [BVSE_ADAMS_RAO, SOFTBV, BVLAIN, PYMATGEN, SHANNON]

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """:data:`FEATURE_NAMES` (the input has no feature names to map)."""
        check_is_fitted(self)
        return self.feature_names_out_.copy()

    @staticmethod
    def _rows(X: object) -> tuple[list[Any], list[str]]:
        import pandas as pd

        if isinstance(X, pd.DataFrame):
            if "structure" not in X.columns:
                raise ValueError("input DataFrame lacks a 'structure' column (pymatgen "
                                 "Structure objects)")
            structures = list(X["structure"])
            names = ([str(v) for v in X["id"]] if "id" in X.columns
                     else [f"row {i}" for i in range(len(X))])
        else:
            structures = list(X)  # type: ignore[call-overload]
            names = [f"row {i}" for i in range(len(structures))]
        return structures, names

    def _cache_path(self, key: str) -> Path:
        from ssbml.data.registry import cache_dir

        return cache_dir() / "structure-descriptors" / f"{key}.json"

    @classmethod
    def _structures(cls, X: object) -> tuple[list[Any], list[str], list[int]]:
        """Rows, their names and the indices of the rows with a structure; a row that
        is neither a Structure nor missing raises ValueError naming it."""
        from pymatgen.core import Structure

        structures, names = cls._rows(X)
        present = []
        for i, s in enumerate(structures):
            if s is None or (isinstance(s, float) and math.isnan(s)):
                continue
            if not isinstance(s, Structure):
                raise ValueError(f"{names[i]}: expected a pymatgen Structure, got "
                                 f"{type(s).__name__}")
            present.append(i)
        return structures, names, present

    def descriptors(self, X: object) -> list[dict[str, Any] | None]:
        """Per-row descriptor dicts (with ``error``); None for a missing structure.
        Needs no ``fit`` (the raw per-structure computation behind ``transform``)."""
        structures, names, present = self._structures(X)
        out: list[dict[str, Any] | None] = [None] * len(structures)
        todo: list[int] = []
        keys: dict[int, str] = {}
        for i in present:
            s = structures[i]
            if self.cache:
                keys[i] = structure_hash(s, self.settings)
                path = self._cache_path(keys[i])
                if path.is_file():
                    out[i] = json.loads(path.read_text())
                    continue
            todo.append(i)
        if todo:
            if self.n_jobs == 1:
                computed = (structure_descriptors(structures[i], names[i], self.settings)
                            for i in todo)
            else:
                from joblib import Parallel, delayed

                computed = Parallel(n_jobs=self.n_jobs, return_as="generator")(
                    delayed(structure_descriptors)(structures[i], names[i], self.settings)
                    for i in todo
                )
            for i, d in zip(todo, computed, strict=True):
                out[i] = d
                if self.cache:  # written as computed: an interrupted run keeps its work
                    atomic_write_text(json.dumps(d, allow_nan=True), self._cache_path(keys[i]))
        return out

    def errors(self, X: object) -> dict[str, str]:
        """``{row name: reason}`` for the rows whose BVSE part failed (their BVSE
        columns are NaN); row names are the ``id`` column or ``"row <i>"``. Reads the
        cache (``cache=True``), so after ``transform`` this costs no recomputation."""
        rows = self.descriptors(X)
        _, names = self._rows(X)
        return {names[i]: r["error"] for i, r in enumerate(rows)
                if r is not None and r.get("error")}

    def transform(self, X: object) -> np.ndarray:
        """The descriptors, one row per structure in :data:`FEATURE_NAMES` order (NaN
        where undefined, all NaN for a missing structure)."""
        check_is_fitted(self)
        rows = self.descriptors(X)
        return np.array(
            [[math.nan if r is None else float(r[f]) for f in FEATURE_NAMES] for r in rows],
            dtype=float,
        ).reshape(len(rows), len(FEATURE_NAMES))


GEOMETRIC_FEATURE_NAMES: tuple[str, ...] = tuple(
    c for c in FEATURE_NAMES if not c.startswith(("bvse_", "percolation_"))
)
"""The descriptors without BVSE (Li sublattice, volumes, anion framework, disorder): the
cheap set that :func:`geometric_descriptors` computes from site occupancies alone."""


def site_species(structure: Structure) -> list[dict[str, float]]:
    """``{element: occupancy}`` of every site (oxidation states dropped)."""
    out = []
    for site in structure:
        d: dict[str, float] = {}
        for sp, occ in site.species.items():
            d[sp.symbol] = d.get(sp.symbol, 0.0) + float(occ)
        out.append(d)
    return out


def composition_states(amounts: dict[str, float]) -> dict[str, float]:
    """Oxidation states for the geometric descriptors from the composition alone (no
    valence analysis of the structure): the most probable balanced assignment, with
    the common-state fallback of the BVSE path for elements it leaves out."""
    from pymatgen.core import Composition

    try:
        states = {k: float(v) for k, v in fractional_oxidation_states(dict(amounts))[0].items()}
    except ValueError:
        states = {}
    comp = Composition(amounts)
    return {**_default_states_of(comp), **states}


def _default_states_of(comp: Any) -> dict[str, float]:
    from pymatgen.core import Element

    out: dict[str, float] = {}
    for el in comp.element_composition:
        common = [q for q in Element(el.symbol).common_oxidation_states if q != 0]
        if common:
            out[el.symbol] = float(min(common) if el.symbol in ANION_FORMERS else max(common))
    return out


def geometric_descriptors(
    volume: float,
    sites: list[dict[str, float]],
    states: dict[str, float],
    li_distances: dict[str, float],
) -> dict[str, float]:
    """:data:`GEOMETRIC_FEATURE_NAMES` from the cell volume (Angstrom^3), the site
    occupancies (:func:`site_species`), oxidation states and the Li-Li site distances
    (``li_li_nearest_A``, ``li_li_nearest_mean_A`` of :func:`li_sublattice`, which depend
    on the Li positions only). Same formulas as :func:`structure_descriptors`; no BVSE,
    no pymatgen objects: cheap enough per doped variant of a parent."""
    out = dict.fromkeys(GEOMETRIC_FEATURE_NAMES, math.nan)
    out["li_li_nearest_A"] = li_distances.get("li_li_nearest_A", math.nan)
    out["li_li_nearest_mean_A"] = li_distances.get("li_li_nearest_mean_A", math.nan)
    li_occ = [s["Li"] for s in sites if s.get("Li", 0.0) > 0]
    out["li_per_volume_per_A3"] = float(sum(li_occ)) / volume
    out["li_site_occupancy_mean"] = float(np.mean(li_occ)) if li_occ else math.nan
    ordered = all(len(s) <= 1 and abs(sum(s.values()) - 1.0) <= 1e-6 for s in sites)
    _add_volume_and_anion_descriptors(out, (s.items() for s in sites), states, volume)
    out["disordered"] = 0.0 if ordered else 1.0
    return out


def structure_geometric_descriptors(structure: Structure) -> dict[str, float]:
    """:func:`geometric_descriptors` of a pymatgen Structure (states from its composition)."""
    li = li_sublattice(structure)
    states = composition_states(structure.composition.element_composition.get_el_amt_dict())
    return geometric_descriptors(structure.volume, site_species(structure), states, li)
