"""Electrochemical stability window (V vs Li/Li+) from the Li evolution profile.

The phase diagram is opened to Li (``PhaseDiagram.get_element_profile``): walking from
Li metal (mu_Li = 0) to Li-poor conditions, the composition's equilibrium takes up Li
(evolution > 0, reduction), then neither takes up nor releases it, then releases it
(evolution < 0, oxidation). Each profile step ``i`` holds for
``mu_Li in [mu_{i+1}, mu_i]``, i.e. ``V in [-mu_i, -mu_{i+1}]``.

* A composition on the convex hull has a step with exactly zero evolution: the window
  is that step (method ``"zero"``; steps narrower than 1 mV are ignored), as in Zhu,
  He and Mo, ACS Appl. Mater. Interfaces 7, 23685 (2015).
* An off-stoichiometric or metastable composition has no exact zero: its evolution
  changes sign. The window is the run of steps around the sign change whose Li
  exchange is at most ``rel_tol`` of the composition's Li (method ``"sign change"``);
  if no step is that small the window shrinks to the potential of the sign change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from pymatgen.analysis.phase_diagram import PhaseDiagram
from pymatgen.core import Composition, Element

from ssbml.stability.reference import LI, check_composition, phase_diagram, reference_entry
from ssbml.stability.tolerances import MIN_ZERO_WIDTH_V

__all__ = ["StabilityWindow", "electrochemical_window", "li_profile"]

EXACT_ZERO = 1e-6
"""Li evolution (per formula unit) below which a step counts as exactly zero."""


@dataclass(frozen=True)
class StabilityWindow:
    """Electrochemical stability window of one composition.

    ``reduction_V`` and ``oxidation_V`` are V vs Li/Li+ (reduction <= oxidation);
    ``reduction_products``/``oxidation_products`` are the phases just outside the
    window; ``li_exchange`` is the largest Li uptake or release inside the window as a
    fraction of the composition's Li (0 for method ``"zero"``); ``source`` is
    ``"exact"`` when the composition is in the reference table, else
    ``"phase diagram"`` (its window is that of its equilibrium decomposition).
    """

    formula: str
    reduction_V: float
    oxidation_V: float
    method: str
    li_exchange: float
    reduction_products: tuple[str, ...]
    oxidation_products: tuple[str, ...]
    source: str

    @property
    def width_V(self) -> float:
        """Window width (V)."""
        return self.oxidation_V - self.reduction_V

    def to_dict(self) -> dict:
        """Plain-JSON dict."""
        d = asdict(self)
        d["reduction_products"] = list(self.reduction_products)
        d["oxidation_products"] = list(self.oxidation_products)
        return d


def li_profile(comp: Composition, pd: PhaseDiagram) -> list[dict]:
    """Li evolution profile of ``comp`` (pymatgen's ``get_element_profile``), ordered
    from Li metal (mu_Li = 0 eV) to Li-poor conditions."""
    profile = pd.get_element_profile(Element(LI), comp)
    return sorted(profile, key=lambda d: -d["chempot"])


def _products(step: dict) -> tuple[str, ...]:
    return tuple(sorted(e.name for e in step["entries"]))


def electrochemical_window(
    formula: object,
    *,
    rel_tol: float = 0.05,
    pd: PhaseDiagram | None = None,
    exclude: tuple[str, ...] = (),
) -> StabilityWindow:
    """Electrochemical stability window (V vs Li/Li+) of a Li-containing composition.

    ``rel_tol`` is the Li exchange (fraction of the composition's Li) still counted as
    "neither takes up nor releases Li" when the composition is off the hull. ``pd``
    may be any phase diagram that contains the composition's elements (default: the
    cached one of its chemical system, without the reduced formulas in ``exclude``).
    """
    if not 0 <= rel_tol < 1:
        raise ValueError(f"rel_tol must be in [0, 1), got {rel_tol}")
    comp = check_composition(formula)
    if pd is None:
        pd = phase_diagram((el.symbol for el in comp.elements), exclude=exclude)
    return _window(comp, pd, rel_tol)


def _window(comp: Composition, pd: PhaseDiagram, rel_tol: float) -> StabilityWindow:
    steps = li_profile(comp, pd)
    mu = np.array([s["chempot"] for s in steps], dtype=float)
    evo = np.array([s["evolution"] for s in steps], dtype=float)
    n_li = float(comp[LI])
    # V range of step i: [-mu[i], -mu[i+1]]; the last step extends to +infinity.
    upper = np.append(-mu[1:], np.inf)
    zero = np.flatnonzero((np.abs(evo) <= EXACT_ZERO) & (upper + mu > MIN_ZERO_WIDTH_V))
    if zero.size:
        lo, hi, method = int(zero[0]), int(zero[-1]), "zero"
    else:
        small = np.flatnonzero(np.abs(evo) <= rel_tol * n_li)
        if small.size:
            lo, hi, method = int(small[0]), int(small[-1]), "sign change"
        else:  # jump from uptake straight to release: a single potential
            first_release = int(np.flatnonzero(evo < 0)[0])
            lo, hi, method = first_release, first_release - 1, "sign change"
    reduction = float(-mu[lo]) + 0.0
    oxidation = float(upper[hi]) if hi >= lo else reduction
    inside = evo[lo : hi + 1] if hi >= lo else np.zeros(1)
    exchange = 0.0 if method == "zero" else float(np.abs(inside).max() / n_li)
    ref = reference_entry(comp)
    return StabilityWindow(
        formula=comp.reduced_formula,
        reduction_V=reduction,
        oxidation_V=oxidation,
        method=method,
        li_exchange=exchange,
        reduction_products=_products(steps[lo - 1]) if lo > 0 else (),
        oxidation_products=_products(steps[hi + 1]) if hi + 1 < len(steps) else (),
        source="exact" if ref is not None else "phase diagram",
    )
