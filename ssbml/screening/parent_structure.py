"""Screening on a parent crystal structure (``ssbml screen --parent-structure``).

The candidates are the composition-level doped variants of
:mod:`ssbml.screening.candidates` (same sites, grids, charge compensation and rules),
made on the parent's formula unit (cell contents / Z, Z = the greatest common divisor
of the integer amounts in the cell). Each candidate is then placed on the parent
structure by site substitution: a dopant D on site S takes the occupancy
``occ_S * x / n_S`` on every site holding S (S keeps ``occ_S * (n_S - x) / n_S``); Li
vacancies scale every Li occupancy by ``Li_new / Li_parent``; Li interstitials fill the
free occupancy of the Li-holding sites in proportion to it (if they do not fit, the
candidate keeps its composition-only value and says why). The candidate's cell
composition is therefore Z x its formula.

Cheap mode: no BVSE per candidate. The descriptors are the geometric ones
(:data:`ssbml.structure.descriptors.GEOMETRIC_FEATURE_NAMES`); the Li-Li site
distances are those of the parent (the Li positions do not change). The shipped
structure-aware model (``conductivity-structure``, :mod:`ssbml.structure.parent_model`)
predicts each candidate with its 90 % interval.

Consistency rules (every row carries both values):

* ``log10_sigma_composition`` (+ interval): the shipped composition model, unchanged
  (also ``log10_sigma``, which the filters use);
* ``log10_sigma_structure`` (+ interval): the structure-aware model, NaN when the
  candidate is outside its domain (``structure_in_domain``/``structure_domain_reason``:
  k-NN distance of the descriptors to the training CIFs) or has no structure;
* ``structure_flag``: the two differ by more than the larger of the two 90 %
  half-widths (``structure_flag_reason`` names the gap in decades);
* ranking (``rank_log10_sigma_lower``, the score): the more conservative (lower) of the
  two lower bounds when the structure value is in domain and agrees, else the
  composition-only lower bound. A disagreement means the structure model has learned
  something of this framework that the calibrated composition model did not (e.g. an
  ordered, tetragonal LLZO parent: ordered, fully occupied Li sites are poor conductors
  in the training CIFs), so neither number is trusted over the other and the
  composition model, the better calibrated one on all 700 training compositions, ranks.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ssbml.data.structures import StructureLoadError, parse_structure
from ssbml.screening.candidates import Candidates, Substitution

__all__ = [
    "ParentStructure",
    "apply_structure_agreement",
    "candidate_sites",
    "candidate_structure",
    "load_parent_structure",
    "parent_migration",
    "parent_migration_text",
    "parent_states",
    "structure_columns",
    "structure_guests",
]

STRUCTURE_MODEL = "conductivity-structure"


@dataclass(frozen=True)
class ParentStructure:
    """A parent crystal structure and where it came from."""

    structure: Any
    source: str
    sha256: str
    formula: str
    z: int
    space_group: str
    space_group_number: int

    @property
    def formula_unit(self) -> dict[str, float]:
        comp = self.structure.composition.element_composition
        return {el.symbol: float(comp[el]) / self.z for el in comp}

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.source, "sha256": self.sha256, "formula": self.formula,
                "z": self.z, "space_group": f"{self.space_group} ({self.space_group_number})"}


def _formula_text(amounts: dict[str, float]) -> str:
    return "".join(el if abs(v - 1) < 1e-9 else f"{el}{round(v, 4):g}"
                   for el, v in amounts.items() if v > 1e-9)


def load_parent_structure(path: str | Path) -> ParentStructure:
    """Read a parent CIF; errors (:class:`StructureLoadError`) name the file."""
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise StructureLoadError(name, "parent structure file does not exist")
    data = path.read_bytes()
    structure = parse_structure(data.decode("utf-8", errors="replace"), name)
    structure.remove_oxidation_states()
    comp = structure.composition.element_composition
    if comp["Li"] <= 0:
        raise StructureLoadError(name, "the parent structure has no Li site (a Li-ion "
                                 "conductor parent needs one)")
    ints = [int(round(comp[el])) for el in comp if abs(comp[el] - round(comp[el])) < 1e-3
            and round(comp[el]) > 0]
    z = reduce(math.gcd, ints) if ints else 1
    try:
        symbol, number = structure.get_space_group_info(symprec=0.1)
    except Exception:  # noqa: BLE001 - spglib fails on odd cells; the report says so
        symbol, number = "unknown", 0
    fu = {el.symbol: float(comp[el]) / z for el in comp}
    return ParentStructure(structure, name, hashlib.sha256(data).hexdigest(),
                           _formula_text(fu), z, str(symbol), int(number))


PARENT_BVSE_SETTINGS: dict[str, Any] = {"max_grid_points": 25_000}
"""BVSE of the parent in a screen: the descriptor grid (<= 25,000 points, 0.2-0.44 A;
barriers within about 0.06 eV of the 120,000-point grid of ``ssbml migration``)."""


def parent_migration(parent: ParentStructure) -> dict[str, Any]:
    """The parent's own BVSE Li+ migration (one bvlain run): ``barriers_eV`` (1D, 2D,
    3D; None above the 5 eV cut-off), ``percolation_radius_A``, ``structure_model``,
    ``oxidation_method``, ``seconds``, ``notes``; or ``{"error": reason}`` (no Li+
    parameters for an ion, no assignable valences, ...). Candidates get no BVSE."""
    from ssbml.structure.bvse import migration_report

    try:
        r = migration_report(parent.structure, parent.source, settings=PARENT_BVSE_SETTINGS)
    except Exception as err:  # noqa: BLE001 - a failed BVSE is reported, never fatal
        return {"error": " ".join(str(err).split()), "source": parent.source}
    return {"barriers_eV": dict(r.barriers_eV),
            "percolation_radius_A": {k: float(v) for k, v in r.percolation_radius_A.items()},
            "structure_model": r.structure_model, "oxidation_method": r.oxidation_method,
            "seconds": round(float(r.seconds), 2), "notes": list(r.notes),
            "source": parent.source,
            "max_grid_points": PARENT_BVSE_SETTINGS["max_grid_points"]}


def parent_migration_text(m: dict[str, Any] | None) -> str:
    """One line for the screen output and the report; '' without a result."""
    if not m:
        return ""
    source = m.get("source", "structure")
    if "error" in m:
        return f"BVSE of the parent {source}: not computed ({m['error']})"
    b = m["barriers_eV"]
    barriers = ", ".join(f"{d} {'> 5' if b[d] is None else f'{b[d]:.2f}'}" for d in b)
    r3 = m["percolation_radius_A"].get("3D", math.nan)
    text = (f"BVSE Li+ migration barriers of the parent {source} (eV, bvlain, "
            f"{m['structure_model']}, oxidation states {m['oxidation_method']}): {barriers}; "
            f"3D percolation radius {r3:.2f} A; {m['seconds']:g} s (candidates: geometric "
            "descriptors only). A BVSE barrier is the energy landscape of one Li+ in a "
            "static framework, not a measured activation energy")
    low = min((v for v in b.values() if v is not None), default=None)
    if low is None or low > 1.0:
        text += ("; above 1 eV in every dimension, which would mean a poor conductor: on "
                 "a disordered or noise-randomized CIF (split or averaged Li sites, such "
                 "as the OBELiX CIFs) this is more likely the CIF than the material")
    return text


def structure_guests(parent: ParentStructure) -> dict[str, str]:
    """Dopants already in the parent, read from its sites: a cation other than Li with
    less than one atom per formula unit whose every site is shared with one host
    element holding at least twice its occupancy there (Al on the Li sites of Al-LLZO,
    Al on the Ti site of LATP) -> that host element. A new dopant then goes to the
    host's site, not onto the guest."""
    from ssbml.structure.descriptors import site_species

    sites = site_species(parent.structure)
    fu = parent.formula_unit
    states = parent_states(parent)
    out: dict[str, str] = {}
    for el, amount in fu.items():
        if el == "Li" or amount >= 1.0 - 1e-9 or states.get(el, 0.0) <= 0:
            continue
        holding = [site for site in sites if el in site]
        hosts = set.intersection(*(set(site) - {el} for site in holding))
        own = sum(site[el] for site in holding)
        best = max(hosts, key=lambda h: sum(site[h] for site in holding), default=None)
        if best is not None and sum(site[best] for site in holding) >= 2 * own:
            out[el] = best
    return out


def parent_states(parent: ParentStructure) -> dict[str, float]:
    """Oxidation states of the parent's elements from its formula unit."""
    from ssbml.structure.descriptors import composition_states

    return composition_states(parent.formula_unit)


def candidate_sites(parent: ParentStructure, substitutions: Sequence[Substitution],
                    li_new: float, sites: list[dict[str, float]] | None = None,
                    ) -> tuple[list[dict[str, float]], str]:
    """Site occupancies of one candidate (its ``substitutions``, atoms per formula unit,
    and its Li per formula unit) on the parent (see the module docstring) and '' or
    the reason it does not fit on the structure."""
    from ssbml.structure.descriptors import site_species

    base = sites if sites is not None else site_species(parent.structure)
    fu = parent.formula_unit
    removed: dict[str, float] = {}
    added: list[tuple[str, str, float]] = []
    for dopant, site, x in substitutions:
        removed[site] = removed.get(site, 0.0) + x
        added.append((dopant, site, x))
    li_par = fu["Li"]
    out = []
    for s in base:
        new = {}
        for el, occ in s.items():
            if el == "Li":
                keep = min(li_new, li_par) / li_par
            else:
                keep = (fu[el] - removed.get(el, 0.0)) / fu[el] if el in removed else 1.0
            if occ * keep > 1e-12:
                new[el] = occ * keep
        for dopant, site, x in added:
            if site in s:
                new[dopant] = new.get(dopant, 0.0) + s[site] * x / fu[site]
        out.append(new)
    extra = li_new - li_par
    if extra > 1e-9:
        cap = np.array([max(0.0, 1.0 - sum(s.values())) if "Li" in b else 0.0
                        for s, b in zip(out, base, strict=True)])
        need = extra * parent.z
        if cap.sum() + 1e-9 < need:
            return out, (f"Li interstitials ({extra:.3g} per formula unit) do not fit the "
                         f"free occupancy of the parent's Li sites "
                         f"({cap.sum() / parent.z:.3g} per formula unit)")
        for s, c in zip(out, cap, strict=True):
            if c > 0:
                s["Li"] = s.get("Li", 0.0) + need * c / cap.sum()
    return out, ""


def candidate_structure(parent: ParentStructure, substitutions: Sequence[Substitution],
                        li_new: float) -> Any:
    """The candidate as a disordered pymatgen Structure on the parent's lattice."""
    from pymatgen.core import Structure

    occ, reason = candidate_sites(parent, substitutions, li_new)
    if reason:
        raise ValueError(reason)
    s = parent.structure
    return Structure(s.lattice, [{k: min(v, 1.0) for k, v in o.items()} for o in occ],
                     s.frac_coords)


def structure_columns(parent: ParentStructure, cands: Candidates, model: Any, *,
                      alpha: float = 0.1) -> pd.DataFrame:
    """One row per candidate (``candidate_id``): geometric descriptors on the parent,
    the structure model's domain and ``log10_sigma_structure`` with its interval
    (NaN out of domain), ``structure_note`` (why a row has no structure value)."""
    from ssbml.structure.bvse import li_sublattice
    from ssbml.structure.descriptors import (
        composition_states,
        geometric_descriptors,
        site_species,
    )

    labels = cands.labels
    compositions = cands.fractions.formula_array().to_pylist()
    base = site_species(parent.structure)
    li = li_sublattice(parent.structure)
    states = {**composition_states(parent.formula_unit),
              **{a.dopant: float(a.dopant_oxidation) for a in cands.dopant_sites}}
    volume = parent.structure.volume
    rows, notes = [], []
    for i, li_new in enumerate(labels["li_per_formula"]):
        occ, reason = candidate_sites(parent, cands.substitutions(i), float(li_new), base)
        notes.append(reason)
        rows.append(geometric_descriptors(volume, occ, states, li) if not reason
                    else dict.fromkeys(model.columns, math.nan))
    desc = pd.DataFrame(rows)[list(model.columns)]
    dom = model.domain(desc)
    X = pd.concat([pd.DataFrame({"composition": list(compositions)}), desc], axis=1)
    pred = model.predict_interval(X, alpha=alpha)
    out = pd.concat([labels[["candidate_id"]].reset_index(drop=True), desc, dom], axis=1)
    ok = dom["structure_in_domain"].to_numpy()
    for c, src in (("log10_sigma_structure", "log10_sigma"),
                   ("log10_sigma_structure_lower", "log10_sigma_lower"),
                   ("log10_sigma_structure_upper", "log10_sigma_upper")):
        out[c] = np.where(ok, pred[src].to_numpy(dtype=float), np.nan)
    notes = np.asarray(notes, dtype=object)
    out["structure_note"] = np.where(notes != "", notes, dom["structure_domain_reason"])
    return out


def apply_structure_agreement(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``log10_sigma_composition`` (+ interval), ``structure_flag``,
    ``structure_flag_reason`` and the ranking columns ``rank_log10_sigma_lower`` and
    ``rank_source`` to a screened table that has the structure columns."""
    out = df.copy()
    for suffix in ("", "_lower", "_upper"):
        out[f"log10_sigma_composition{suffix}"] = out[f"log10_sigma{suffix}"]
    c, s = out["log10_sigma_composition"].to_numpy(float), out["log10_sigma_structure"].to_numpy(
        float)
    hc = (out["log10_sigma_composition_upper"] - out["log10_sigma_composition_lower"]).to_numpy(
        float) / 2
    hs = (out["log10_sigma_structure_upper"] - out["log10_sigma_structure_lower"]).to_numpy(
        float) / 2
    have = np.isfinite(s)
    gap = s - c
    limit = np.fmax(hc, hs)
    flag = have & (np.abs(gap) > limit)
    reason = np.full(len(out), "", dtype=object)
    for i in np.flatnonzero(flag):
        where = "below" if gap[i] < 0 else "above"
        reason[i] = (f"structure-aware value {abs(gap[i]):.1f} decades {where} "
                     f"composition-only (more than the larger 90% half-width, "
                     f"{limit[i]:.2f}): the parent's framework differs from what the "
                     "composition implies (e.g. an ordered/tetragonal parent)")
    note = out.get("structure_note", pd.Series("", index=out.index)).astype(str).to_numpy()
    missing = ~have
    reason[missing] = np.where(note[missing] != "", "no structure value: " + note[missing],
                               "no structure value")
    out["structure_flag"] = flag
    out["structure_flag_reason"] = reason
    lc = out["log10_sigma_composition_lower"].to_numpy(float)
    ls = out["log10_sigma_structure_lower"].to_numpy(float)
    use = have & ~flag
    out["rank_log10_sigma_lower"] = np.where(use, np.fmin(lc, ls), lc)
    out["rank_source"] = np.where(use, np.where(ls < lc, "structure", "composition"),
                                  "composition (fallback)")
    return out
