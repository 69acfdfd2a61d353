"""Element data tables built once from pymatgen and cached (elements x properties, numpy).

Rows are indexed by atomic number minus one (H is row 0, Og row 117). Every table is
built from :class:`pymatgen.core.Element` / :class:`pymatgen.core.Species` data the first
time it is asked for and kept in a module-level cache for the life of the process.

Valence-orbital counts are read from pymatgen's ground-state electron configuration
(``Element.data["Electronic structure"]``): the orbitals written after the noble-gas core
are the valence orbitals. For every element up to Rf (Z <= 104) these counts and the
unfilled counts (capacity minus filled, for partly or fully filled shells; 0 for empty
shells) are identical to the Magpie table used by matminer (Ward et al. 2016); heavier
elements have no configuration in pymatgen and are missing (NaN).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
from pymatgen.core import Element

__all__ = [
    "ELEMENT_PROPERTIES",
    "N_ELEMENTS",
    "ElementProperty",
    "column_index",
    "oxidation_states",
    "property_table",
    "shannon_radius_pm",
]

N_ELEMENTS = 118
"""Rows of every element table (Z = 1..118)."""


@dataclass(frozen=True)
class ElementProperty:
    """One element property: feature name (with unit), pymatgen source, scale factor."""

    name: str
    source: str
    scale: float = 1.0
    description: str = ""


ELEMENT_PROPERTIES: tuple[ElementProperty, ...] = (
    ElementProperty("atomic_number", "Z", 1.0, "atomic number Z"),
    ElementProperty("mendeleev_number", "mendeleev_no", 1.0, "pymatgen Mendeleev number"),
    ElementProperty("atomic_mass_amu", "atomic_mass", 1.0, "atomic mass (amu)"),
    ElementProperty("melting_point_K", "melting_point", 1.0, "melting point (K)"),
    ElementProperty("boiling_point_K", "boiling_point", 1.0, "boiling point (K)"),
    ElementProperty("group", "group", 1.0, "periodic-table group (1-18)"),
    ElementProperty("row", "row", 1.0, "periodic-table row"),
    ElementProperty("atomic_radius_pm", "atomic_radius", 100.0, "empirical atomic radius (pm)"),
    ElementProperty(
        "van_der_waals_radius_pm", "van_der_waals_radius", 100.0, "van der Waals radius (pm)"
    ),
    ElementProperty(
        "average_ionic_radius_pm", "average_ionic_radius", 100.0,
        "mean Shannon ionic radius over all oxidation states (pm)",
    ),
    ElementProperty("electronegativity_pauling", "X", 1.0, "Pauling electronegativity"),
    ElementProperty(
        "first_ionization_energy_eV", "ionization_energy", 1.0, "first ionization energy (eV)"
    ),
    ElementProperty("electron_affinity_eV", "electron_affinity", 1.0, "electron affinity (eV)"),
    ElementProperty(
        "molar_volume_cm3_per_mol", "molar_volume", 1.0, "molar volume of the element (cm3/mol)"
    ),
    ElementProperty("valence_s", "valence:s", 1.0, "s valence electrons"),
    ElementProperty("valence_p", "valence:p", 1.0, "p valence electrons"),
    ElementProperty("valence_d", "valence:d", 1.0, "d valence electrons"),
    ElementProperty("valence_f", "valence:f", 1.0, "f valence electrons"),
    ElementProperty("valence_total", "valence:total", 1.0, "all valence electrons"),
    ElementProperty("unfilled_s", "unfilled:s", 1.0, "unfilled s states"),
    ElementProperty("unfilled_p", "unfilled:p", 1.0, "unfilled p states"),
    ElementProperty("unfilled_d", "unfilled:d", 1.0, "unfilled d states"),
    ElementProperty("unfilled_f", "unfilled:f", 1.0, "unfilled f states"),
    ElementProperty("unfilled_total", "unfilled:total", 1.0, "all unfilled valence states"),
)
"""The Magpie-class element properties that ssbml computes statistics of."""

_ORBITAL_CAPACITY = {"s": 2, "p": 6, "d": 10, "f": 14}
_ORBITAL = re.compile(r"(\d+)([spdf])(\d+)")


def _elements() -> list[Element]:
    by_z = {e.Z: e for e in Element if e.symbol not in ("D", "T")}
    return [by_z[z] for z in range(1, N_ELEMENTS + 1)]


def _valence_counts(el: Element) -> dict[str, float] | None:
    """Valence and unfilled counts from the configuration after the noble-gas core."""
    structure = el.data.get("Electronic structure")
    if isinstance(structure, dict):
        structure = structure.get("0")
    if not structure:
        return None
    filled = dict.fromkeys(_ORBITAL_CAPACITY, 0)
    for part in structure.split("."):
        if part.startswith("["):
            continue
        m = _ORBITAL.fullmatch(part.split("<")[0])
        if m is None:
            return None
        filled[m.group(2)] += int(m.group(3))
    out: dict[str, float] = {}
    for orb, cap in _ORBITAL_CAPACITY.items():
        out[f"valence:{orb}"] = filled[orb]
        out[f"unfilled:{orb}"] = cap - filled[orb] if filled[orb] > 0 else 0
    out["valence:total"] = sum(filled.values())
    out["unfilled:total"] = sum(out[f"unfilled:{o}"] for o in _ORBITAL_CAPACITY)
    return out


@lru_cache(maxsize=1)
def _raw_table() -> np.ndarray:
    """(118, n_properties) raw values, NaN where pymatgen has no value."""
    table = np.full((N_ELEMENTS, len(ELEMENT_PROPERTIES)), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, el in enumerate(_elements()):
            counts = _valence_counts(el)
            for j, prop in enumerate(ELEMENT_PROPERTIES):
                if prop.source.startswith(("valence:", "unfilled:")):
                    value = None if counts is None else counts[prop.source]
                else:
                    try:
                        value = getattr(el, prop.source)
                    except (AttributeError, KeyError, ValueError):
                        value = None
                if value is not None:
                    table[i, j] = float(value) * prop.scale
    table.setflags(write=False)
    return table


@lru_cache(maxsize=2)
def property_table(impute_nan: bool = True) -> np.ndarray:
    """(118, n_properties) element-property table, read-only.

    With ``impute_nan`` a missing value is replaced by the mean of that property over
    all elements that have it (matminer's imputation, except that a real value of 0 is
    kept as 0); otherwise it stays NaN.
    """
    raw = _raw_table()
    if not impute_nan:
        return raw
    table = raw.copy()
    means = np.nanmean(raw, axis=0)
    rows, cols = np.nonzero(np.isnan(table))
    table[rows, cols] = means[cols]
    table.setflags(write=False)
    return table


def column_index(name: str) -> int:
    """Column of a property in :func:`property_table` by feature name."""
    for j, prop in enumerate(ELEMENT_PROPERTIES):
        if prop.name == name:
            return j
    raise KeyError(f"unknown element property {name!r}")


@cache
def oxidation_states(symbol: str) -> tuple[tuple[int, int], ...]:
    """Candidate oxidation states of an element with a penalty (0 = common, 1 = ICSD only).

    Common states come from ``Element.common_oxidation_states``; states seen in the ICSD
    (``Element.icsd_oxidation_states``) but not common get penalty 1. An element with
    neither (noble gases) gets ``((0, 0),)``.
    """
    el = Element(symbol)
    common = set(el.common_oxidation_states)
    icsd = set(el.icsd_oxidation_states)
    states = [(s, 0) for s in sorted(common)] + [(s, 1) for s in sorted(icsd - common)]
    return tuple(states) if states else ((0, 0),)


@cache
def shannon_radius_pm(symbol: str, oxidation_state: int) -> float:
    """Shannon (1976) ionic radius of a species in pm: six-fold coordination where listed,
    otherwise the mean over the listed coordinations (high-spin where spin matters); NaN if
    pymatgen has no Shannon radius for that oxidation state."""
    if oxidation_state == 0:
        return float("nan")
    data = Element(symbol).data.get("Shannon radii", {}).get(str(oxidation_state))
    if not data:
        return float("nan")

    def radius(entry: dict) -> float:
        spin = entry.get("High Spin", entry.get("", next(iter(entry.values()))))
        return float(spin["ionic_radius"])

    if "VI" in data:
        return 100.0 * radius(data["VI"])
    return 100.0 * float(np.mean([radius(v) for v in data.values()]))
