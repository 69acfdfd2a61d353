"""Bond-valence site energy (BVSE) Li+ migration barriers with bvlain.

The BVSE model (Adams and Rao 2011; softBV, Chen, Wong and Adams 2019) places a Li+
test ion on a grid over the cell and sums Morse-type bond-valence attraction to the
anions plus screened Coulomb repulsion from the cations. The 1D/2D/3D *percolation
barrier* (eV) is the lowest energy above the site-energy minimum at which the
accessible region of the grid connects into an infinite path in 1, 2 or 3 dimensions;
the *percolation radius* (Angstrom) is the largest free sphere (hard-sphere framework
with Shannon radii) that can travel the same way, i.e. the bottleneck size.
Calculations are done by the bvlain library (https://github.com/dembart/BVlain).

bvlain needs an ordered structure with oxidation states (integer for the anions, whose
BVSE parameters are tabulated by charge). This module supplies
one and says how:

- ``structure_model``: ``"ordered"`` (as given); for a structure with partial
  occupancies ``"occupancy-weighted framework"`` (default, :func:`weighted_framework`:
  each site's cations become one ion whose charge is the occupancy-weighted sum, the
  majority anion is kept per site) or ``"majority-occupancy approximant"``
  (:func:`majority_approximant`: each site keeps its majority species). The Li
  sublattice is always taken from the input structure itself (with its occupancies);
  the Li-free framework is what sets the BVSE.
- ``oxidation_method``: ``"from the structure file"``, ``"bond valence"`` (pymatgen
  BVAnalyzer, ordered structures) or ``"composition"`` (one integer state per element:
  pymatgen ``oxi_state_guesses`` for integer cell compositions, else
  :func:`fractional_oxidation_states`; used for disordered structures and when bond
  valence fails).

Inputs that cannot be handled (no Li site, no integer valence assignment, an anion
without Li+ BVSE parameters) raise :class:`MigrationInputError`, a one-line message.
"""

from __future__ import annotations

import contextlib
import io
import math
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ssbml.errors import SsbmlError

if TYPE_CHECKING:
    from pymatgen.core import Structure

__all__ = [
    "BVSE_SETTINGS",
    "MigrationInputError",
    "MigrationReport",
    "fractional_oxidation_states",
    "li_sublattice",
    "majority_approximant",
    "plot_landscape",
    "weighted_framework",
    "migration_report",
    "prepare_structure",
]

BVSE_SETTINGS: dict[str, Any] = {
    "mobile_ion": "Li1+",
    "r_cut_A": 10.0,
    "resolution_A": 0.2,
    "max_grid_points": 120_000,
    "k_neighbors": 100,
    "encut_eV": 5.0,
}
"""bvlain settings: cutoff and grid spacing (Angstrom; the spacing grows so that the grid
has at most ``max_grid_points`` points), neighbours per grid point, and the energy (eV)
above which a barrier is reported as not found (None, i.e. > ``encut_eV``)."""

LI_SPLIT_SITE_A = 1.0
"""Li-Li site pairs closer than this (Angstrom) are split positions of one Li, not
neighbours, and are ignored in the Li-Li distances."""

DIMENSIONS = ("1D", "2D", "3D")


class MigrationInputError(SsbmlError, ValueError):
    """The structure cannot be analysed; the message names the input and the reason."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


@dataclass
class MigrationReport:
    """BVSE result for one structure (energies in eV, lengths in Angstrom)."""

    source: str
    formula: str
    ordered: bool
    structure_model: str
    oxidation_method: str
    oxidation_states: dict[str, float]
    barriers_eV: dict[str, float | None]
    percolation_radius_A: dict[str, float]
    """Percolation radius per dimension (Angstrom); NaN if bvlain lacks a Shannon radius."""
    li_sublattice: dict[str, float | int]
    settings: dict[str, Any]
    seconds: float
    notes: list[str] = field(default_factory=list)
    grid_eV: np.ndarray | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (no grid)."""
        out = asdict(self)
        out.pop("grid_eV")
        return out


def _symbols(structure: Structure) -> set[str]:
    return {sp.symbol for site in structure for sp in site.species}


def _has_li(structure: Structure) -> bool:
    return "Li" in _symbols(structure)


def majority_approximant(structure: Structure) -> tuple[Structure, int, int]:
    """Ordered approximant of a disordered structure: each site its majority species.

    Returns ``(approximant, n_partial_sites, n_dropped_sites)``; ties go to the species
    first in pymatgen's order, sites with total occupancy < 0.5 are dropped and sites
    closer than 0.5 Angstrom merged (one kept)."""
    from pymatgen.core import Structure

    species, coords, partial, dropped = [], [], 0, 0
    for site in structure:
        occ = site.species
        total = float(sum(occ.values()))
        if not site.is_ordered:
            partial += 1
        if total < 0.5 - 1e-6:
            dropped += 1
            continue
        best = max(occ.items(), key=lambda kv: kv[1])[0]
        species.append(best)
        coords.append(site.frac_coords)
    approx = Structure(structure.lattice, species, coords)
    n_before = len(approx)
    approx.merge_sites(tol=0.5, mode="delete")
    return approx, partial, dropped + (n_before - len(approx))


def weighted_framework(
    structure: Structure, states: dict[str, int]
) -> tuple[Structure, int, int]:
    """Li-free framework of a disordered structure for BVSE, occupancies kept as charge.

    Each site's non-Li cations become one ion of the majority element whose charge is
    the occupancy-weighted sum of the cation charges (e.g. Ge0.5P0.5 -> Ge +4.5, a
    half-occupied La3+ site -> La +1.5); the screened Coulomb repulsion of bvlain
    accepts such mean-field charges. Anions need integer charges for their BVSE
    parameters: each site keeps its majority anion if the anion occupancy is >= 0.5,
    and anion positions closer than 0.5 Angstrom (split sites) are merged. Li is the
    mobile ion and is left out (bvlain removes it anyway).
    Returns ``(framework, n_partial_sites, n_dropped_anion_sites)``."""
    from pymatgen.core import Species, Structure

    species, coords, anion_idx, partial, dropped = [], [], [], 0, 0
    for site in structure:
        if not site.is_ordered:
            partial += 1
        cations = {sp.symbol: v for sp, v in site.species.items()
                   if sp.symbol != "Li" and states[sp.symbol] > 0}
        anions = {sp.symbol: v for sp, v in site.species.items() if states[sp.symbol] < 0}
        if cations:
            charge = sum(v * states[el] for el, v in cations.items())
            el = max(cations.items(), key=lambda kv: kv[1])[0]
            species.append(Species(el, round(float(charge), 6)))
            coords.append(site.frac_coords)
        if anions:
            if sum(anions.values()) < 0.5 - 1e-6:
                dropped += 1
                continue
            el = max(anions.items(), key=lambda kv: kv[1])[0]
            anion_idx.append(len(species))
            species.append(Species(el, states[el]))
            coords.append(site.frac_coords)
    framework = Structure(structure.lattice, species, coords)
    if anion_idx:
        fc = framework.frac_coords[anion_idx]
        dist = framework.lattice.get_all_distances(fc, fc)
        remove: set[int] = set()
        for i in range(len(anion_idx)):
            if anion_idx[i] in remove:
                continue
            for j in range(i + 1, len(anion_idx)):
                if dist[i, j] < 0.5:
                    remove.add(anion_idx[j])
        if remove:
            framework.remove_sites(sorted(remove))
            dropped += len(remove)
    return framework, partial, dropped


def _integer_states(states: dict[str, float], source: str, how: str) -> dict[str, int]:
    bad = {el: q for el, q in states.items() if abs(q - round(q)) > 1e-6}
    if bad:
        raise MigrationInputError(
            source,
            f"no integer valence assignment ({how} gives mixed valence "
            + ", ".join(f"{el} {q:+.2f}" for el, q in bad.items())
            + ")",
        )
    return {el: int(round(q)) for el, q in states.items()}


CHARGE_BALANCE_TOL = 0.02
"""Net charge accepted by :func:`fractional_oxidation_states`, as a fraction of the total
cation charge (CIF occupancies are rounded, and OBELiX compositions are not always
exactly balanced)."""


def fractional_oxidation_states(amounts: dict[str, float]) -> tuple[dict[str, int], float]:
    """One integer oxidation state per element for a composition with fractional
    amounts (pymatgen's ``oxi_state_guesses`` needs integers): the assignment that is
    charge balanced within :data:`CHARGE_BALANCE_TOL` and most probable under
    pymatgen's ICSD occurrence statistics (sum of amount x log probability).
    Returns ``(states, net_charge)``; raises ValueError if nothing balances."""
    import itertools

    from pymatgen.core import Composition, Element

    if Composition.oxi_prob is None:
        Composition("LiCl").oxi_state_guesses()  # loads pymatgen's ICSD priors
    prior = Composition.oxi_prob or {}
    options: dict[str, list[tuple[int, float]]] = {}
    for el in amounts:
        if el == "Li":
            options[el] = [(1, 1.0)]
            continue
        found = {int(sp.oxi_state): float(p) for sp, p in prior.items()
                 if sp.symbol == el and float(sp.oxi_state).is_integer() and sp.oxi_state != 0}
        if not found:
            found = {int(q): 1e-3 for q in Element(el).common_oxidation_states if q != 0}
        if not found:
            raise ValueError(f"no known oxidation state for {el}")
        options[el] = sorted(found.items(), key=lambda kv: -kv[1])
    width = 4
    while math.prod(min(len(v), width) for v in options.values()) > 200_000 and width > 1:
        width -= 1
    elements = list(amounts)
    best: tuple[float, dict[str, int], float] | None = None
    for combo in itertools.product(*(options[el][:width] for el in elements)):
        net = sum(amounts[el] * q for el, (q, _) in zip(elements, combo, strict=True))
        positive = sum(amounts[el] * q for el, (q, _) in zip(elements, combo, strict=True)
                       if q > 0)
        if positive <= 0 or abs(net) > CHARGE_BALANCE_TOL * positive + 1e-9:
            continue
        score = sum(amounts[el] * math.log(max(p, 1e-6))
                    for el, (_, p) in zip(elements, combo, strict=True))
        if best is None or score > best[0]:
            best = (score, {el: q for el, (q, _) in zip(elements, combo, strict=True)}, net)
    if best is None:
        raise ValueError("no charge-balanced assignment of common oxidation states")
    return best[1], best[2]


def _composition_states(structure: Structure, source: str) -> dict[str, int]:
    comp = structure.composition.element_composition
    amounts = comp.get_el_amt_dict()
    if all(abs(v - round(v)) < 1e-8 for v in amounts.values()):
        try:
            guesses = comp.oxi_state_guesses(max_sites=-50)
        except ValueError:
            guesses = ()
        if guesses:
            return _integer_states(dict(guesses[0]), source, "the composition")
    try:
        states, _ = fractional_oxidation_states(amounts)
    except ValueError as err:
        raise MigrationInputError(
            source, f"no assignable valences for {comp.reduced_formula} ({err})"
        ) from None
    return states


def _structure_states(structure: Structure) -> dict[str, float] | None:
    states: dict[str, float] = {}
    for site in structure:
        for sp in site.species:
            q = getattr(sp, "oxi_state", None)
            if q is None:
                return None
            if sp.symbol in states and states[sp.symbol] != q:
                return None  # mixed valence in the file: let the methods below decide
            states[sp.symbol] = float(q)
    return states


def prepare_structure(
    structure: Structure, source: str, disorder: str = "weighted"
) -> tuple[Structure, dict[str, Any]]:
    """Ordered, oxidation-state-decorated structure for bvlain, and how it was made.

    ``disorder`` chooses the model of a structure with partial occupancies:
    ``"weighted"`` (:func:`weighted_framework`, the default) or ``"majority"``
    (:func:`majority_approximant`). Raises :class:`MigrationInputError` for a structure
    without Li or without an integer valence assignment."""
    if disorder not in ("weighted", "majority"):
        raise ValueError(f"disorder must be 'weighted' or 'majority', got {disorder!r}")
    if not _has_li(structure):
        raise MigrationInputError(
            source, f"no Li site in {structure.composition.reduced_formula}"
        )
    info: dict[str, Any] = {"ordered": bool(structure.is_ordered), "notes": []}
    plain = structure.copy()
    file_states = _structure_states(plain)
    plain.remove_oxidation_states()

    states: dict[str, int] | None = None
    if file_states is not None:
        states = _integer_states(file_states, source, "the structure file")
        info["oxidation_method"] = "from the structure file"
    elif structure.is_ordered:
        from pymatgen.analysis.bond_valence import BVAnalyzer

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                valences = BVAnalyzer(forbidden_species=["O-", "P3-"]).get_valences(plain)
            by_el: dict[str, set[int]] = {}
            for site, q in zip(plain, valences, strict=True):
                by_el.setdefault(site.specie.symbol, set()).add(int(q))
            work = plain.copy()
            work.add_oxidation_state_by_site([int(q) for q in valences])
            info["oxidation_method"] = "bond valence"
            info["structure_model"] = "ordered"
            mixed = sorted(el for el, q in by_el.items() if len(q) > 1)
            info["oxidation_states"] = {
                el: float(np.mean(sorted(q))) for el, q in sorted(by_el.items())
            }
            if mixed:
                # on slightly displaced (e.g. noise-randomized) positions bond valence can
                # split one element over two states; prefer a composition assignment then
                try:
                    states = _composition_states(structure, source)
                    del info["oxidation_method"], info["structure_model"]
                    info["notes"].append(
                        f"bond valence gave mixed valence for {', '.join(mixed)}; used the "
                        "composition")
                except MigrationInputError:
                    info["notes"].append(
                        f"bond valence gives mixed valence for {', '.join(mixed)}")
        except ValueError:
            info["notes"].append("bond valence found no valences; used the composition")
    if states is None and "oxidation_method" not in info:
        states = _composition_states(structure, source)
    if states is not None and "oxidation_method" not in info:
        info["oxidation_method"] = "composition"
    if states is not None:
        missing = sorted(_symbols(plain) - set(states))
        if missing:
            raise MigrationInputError(source, f"no valence for element(s) {missing}")
        info["oxidation_states"] = {el: float(q) for el, q in sorted(states.items())}
        if structure.is_ordered:
            work = plain.copy()
            work.add_oxidation_state_by_element(states)
            info["structure_model"] = "ordered"
        elif disorder == "weighted":
            work, partial, dropped = weighted_framework(plain, states)
            info["structure_model"] = "occupancy-weighted framework"
            info["notes"].append(
                f"{partial} of {len(structure)} sites partially occupied; cation charges "
                f"weighted by occupancy, majority anion per site ({dropped} anion sites "
                "dropped or merged)"
            )
        else:
            work, partial, dropped = majority_approximant(plain)
            work.add_oxidation_state_by_element(states)
            info["structure_model"] = "majority-occupancy approximant"
            info["notes"].append(
                f"{partial} of {len(structure)} sites partially occupied; approximant keeps "
                f"the majority species per site ({dropped} sites dropped or merged)"
            )
    _check_parameters(work, source)
    return work, info


@contextlib.contextmanager
def _quiet():
    """bvlain prints progress and errors to stdout; keep the CLI's output clean."""
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _check_parameters(structure: Structure, source: str) -> None:
    """Every anion needs Li+ BVSE parameters in bvlain's table (softBV set)."""
    import os
    import pickle

    import bvlain
    from pymatgen.core import Element

    path = os.path.join(os.path.dirname(bvlain.__file__), "data", "cation.pkl")
    with open(path, "rb") as fh:
        table = pickle.load(fh)[3][1]
    anions = {(sp.symbol, int(sp.oxi_state)) for site in structure for sp in site.species
              if sp.oxi_state is not None and sp.oxi_state < 0}
    if not anions:
        raise MigrationInputError(source, "no anion (negative valence) in the framework")
    for symbol, q in sorted(anions):
        z = Element(symbol).Z
        if z not in table or q not in table[z]:
            raise MigrationInputError(
                source, f"no Li+ BVSE parameters for the anion {symbol}{q:+d} (bvlain/softBV "
                "tabulate N3-, O2-, F-, S2-, Cl-, Se2-, Br-, Te2-, I-)"
            )


def li_sublattice(structure: Structure) -> dict[str, float | int]:
    """Li sites of the input structure (occupancies kept): counts, Li per volume
    (Li/Angstrom^3), site occupancy, nearest Li-Li site distances (Angstrom; pairs
    closer than :data:`LI_SPLIT_SITE_A` are split positions and skipped)."""
    li_idx = [i for i, site in enumerate(structure)
              if any(sp.symbol == "Li" for sp in site.species)]
    occ = [sum(v for sp, v in structure[i].species.items() if sp.symbol == "Li") for i in li_idx]
    n_li = float(sum(occ))
    out: dict[str, float | int] = {
        "li_sites": len(li_idx),
        "li_per_cell": round(n_li, 4),
        "li_per_volume_per_A3": n_li / structure.volume,
        "li_site_occupancy_mean": float(np.mean(occ)) if occ else math.nan,
        "li_li_nearest_A": math.nan,
        "li_li_nearest_mean_A": math.nan,
    }
    if not li_idx:
        return out
    from pymatgen.core import Structure as _S

    li = _S(structure.lattice, ["Li"] * len(li_idx), structure.frac_coords[li_idx])
    nearest = []
    for nbrs in li.get_all_neighbors(8.0):
        d = [n.nn_distance for n in nbrs if n.nn_distance >= LI_SPLIT_SITE_A]
        nearest.append(min(d) if d else math.nan)
    arr = np.asarray(nearest, dtype=float)
    if np.isfinite(arr).any():
        out["li_li_nearest_A"] = float(np.nanmin(arr))
        out["li_li_nearest_mean_A"] = float(np.nanmean(arr))
    return out


def _lain_class() -> type:
    """bvlain's ``Lain`` with a vectorized percolation-dimension count (same result).

    bvlain counts, for every connected component of the 2x2x2 supercell grid, how many
    of the 8 periodic copies of the component's first grid point belong to it, with one
    ``argwhere`` over the whole grid per component; at low energy thresholds there are
    thousands of components and that loop dominates the cost. Here the first point of
    every component comes from one ``np.unique`` and the 8 look-ups are vectorized."""
    import itertools

    from bvlain import Lain

    class FastLain(Lain):
        def _percolation_dimension(self, labels: np.ndarray, features: np.ndarray) -> int:
            wanted = np.asarray([f for f in features if f != 0])
            if wanted.size == 0:
                return 0
            flat = labels.ravel()
            uniq, first = np.unique(flat, return_index=True)
            keep = np.isin(uniq, wanted)
            uniq, first = uniq[keep], first[keep]
            shape = np.asarray(labels.shape)
            cell = shape / 2
            probe = np.stack(np.unravel_index(first, labels.shape), axis=1)
            loc = np.floor(probe / cell)
            counts = np.zeros(len(uniq), dtype=int)
            for t in itertools.product([0, 1], [0, 1], [0, 1]):
                test = probe + (np.asarray(t) - loc) * cell
                inside = np.all((test >= 0) & (test < shape), axis=1)
                idx = np.where(inside[:, None], test, 0).astype(int)
                hit = labels[idx[:, 0], idx[:, 1], idx[:, 2]] == uniq
                counts += (hit & inside).astype(int)
            return int(counts.max())

    return FastLain


def _resolution(structure: Structure, settings: dict[str, Any]) -> float:
    a, b, c = structure.lattice.abc
    res = float(settings["resolution_A"])
    while (a // res) * (b // res) * (c // res) > settings["max_grid_points"]:
        res = round(res + 0.01, 2)
    return res


def migration_report(
    structure: Structure,
    source: str,
    *,
    settings: dict[str, Any] | None = None,
    disorder: str = "weighted",
    keep_grid: bool = False,
) -> MigrationReport:
    """BVSE percolation barriers (eV), percolation radii (Angstrom) and the Li
    sublattice of ``structure``; ``source`` names it in errors."""
    settings = {**BVSE_SETTINGS, **(settings or {})}
    start = time.perf_counter()
    work, info = prepare_structure(structure, source, disorder)
    res = _resolution(work, settings)
    calc = _lain_class()(verbose=False)
    try:
        with _quiet():
            calc.read_structure(work, oxi_check=False)
            calc.bvse_distribution(
                mobile_ion=settings["mobile_ion"], r_cut=settings["r_cut_A"],
                resolution=res, k=settings["k_neighbors"],
            )
            energies = calc.percolation_barriers(encut=settings["encut_eV"])
            grid = np.array(calc.data) if keep_grid else None
    except (KeyError, ValueError, IndexError) as err:
        raise MigrationInputError(
            source, f"bvlain BVSE failed ({type(err).__name__}: {err})"
        ) from None
    notes = list(info["notes"])
    # bvlain's Shannon radii need integer charges: give every framework ion its element's
    # integer state (occupancy-weighted charges are for the Coulomb term only)
    integer = {el: int(round(q)) for el, q in info["oxidation_states"].items()}
    charges = calc.atoms_copy.get_array("oxi_states")
    calc.atoms_copy.set_array("oxi_states", np.array(
        [integer.get(sym, int(round(q))) for sym, q in
         zip(calc.atoms_copy.get_chemical_symbols(), charges, strict=True)], dtype=float))
    try:
        with _quiet():
            calc.void_distribution(mobile_ion=settings["mobile_ion"],
                                   r_cut=settings["r_cut_A"], resolution=res)
            radii = {d: float(v) for d, v in calc.percolation_radii().items()}
    except KeyError as err:  # bvlain's Shannon table lacks an ion (e.g. P4+)
        radii = {f"r_{d}": math.nan for d in DIMENSIONS}
        notes.append(f"percolation radii not computed: no Shannon radius for charge {err} "
                     "of a framework ion in bvlain's table")
    barriers = {
        d: (None if not np.isfinite(energies[f"E_{d}"]) else float(energies[f"E_{d}"]))
        for d in DIMENSIONS
    }
    if any(v is None for v in barriers.values()):
        notes.append(f"None = no percolation below {settings['encut_eV']} eV")
    return MigrationReport(
        source=source,
        formula=structure.composition.reduced_formula,
        ordered=info["ordered"],
        structure_model=info["structure_model"],
        oxidation_method=info["oxidation_method"],
        oxidation_states=info["oxidation_states"],
        barriers_eV=barriers,
        percolation_radius_A={d: radii[f"r_{d}"] for d in DIMENSIONS},
        li_sublattice=li_sublattice(structure),
        settings={**settings, "resolution_used_A": res, "grid_points": int(np.prod(calc.size))},
        seconds=round(time.perf_counter() - start, 2),
        notes=notes,
        grid_eV=grid,
    )


def plot_landscape(report: MigrationReport, path: str) -> str:
    """PNG of the BVSE landscape: for each axis, the minimum of E - E_min (eV) along it,
    clipped at the 3D barrier + 0.5 eV. Needs ``report.grid_eV`` (``keep_grid=True``)."""
    from matplotlib.figure import Figure

    if report.grid_eV is None:
        raise ValueError("the report has no BVSE grid; run migration_report(keep_grid=True)")
    data = report.grid_eV - report.grid_eV.min()
    finite = [v for v in report.barriers_eV.values() if v is not None]
    top = (max(finite) if finite else 2.0) + 0.5
    fig = Figure(figsize=(12, 4), layout="constrained")
    axes = fig.subplots(1, 3)
    labels = (("b", "c"), ("a", "c"), ("a", "b"))
    for axis, ax in enumerate(axes):
        img = np.clip(data.min(axis=axis), 0, top).T
        im = ax.imshow(img, origin="lower", extent=(0, 1, 0, 1), cmap="viridis_r", vmax=top)
        ax.set_xlabel(f"{labels[axis][0]} (fractional)")
        ax.set_ylabel(f"{labels[axis][1]} (fractional)")
        ax.set_title(f"min along {'abc'[axis]}")
    fig.colorbar(im, ax=axes, label="Li+ BVSE above minimum (eV)")
    text = ", ".join(f"{d} {v:.2f} eV" if v is not None else f"{d} n/a"
                     for d, v in report.barriers_eV.items())
    fig.suptitle(f"{report.formula} ({report.source}): {text}")
    from ssbml.io import atomic_savefig

    atomic_savefig(fig, path, dpi=120)
    return path
