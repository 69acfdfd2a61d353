"""The stability report of one composition, and ssbml's exact-then-learned rule.

Every number of a report says where it comes from (its ``source``):

* ``exact``: a reference compound, with its own DFT formation energy, in the phase
  diagram of its chemical system (Materials Project table shipped with ssbml);
* ``phase diagram``: a composition the table does not hold (doped, off-stoichiometric)
  placed at the hull energy of its chemical system: window and mutual reaction energies
  are exact for that energy, energy above hull and decomposition energy unknown (NaN);
* ``learned``: the reference does not cover the chemical system (an element in no
  reference compound, or too many elements): the shipped learned stability model, with
  its conformal interval.

:func:`stability_report` applies that rule to one formula; :func:`learned_fallback` is
the same rule over many rows at once (a screen), given each row's exact-route label
from :func:`ssbml.stability.batch.stability_table`. Units: potentials in V vs Li/Li+,
energies in meV/atom (hull energy in eV/atom).

Heavy imports (numpy, pymatgen, the stability model) happen inside the functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ssbml.errors import SsbmlError
from ssbml.stability.sources import (
    SOURCE_EXACT,
    SOURCE_LEARNED,
    SOURCE_UNAVAILABLE,
    UNCOVERED_PREFIX,
)

if TYPE_CHECKING:
    import numpy as np

    from ssbml.stability.interface import InterfaceReaction
    from ssbml.stability.window import StabilityWindow

__all__ = [
    "DEFAULT_ELECTRODES",
    "REFERENCE_NOTE",
    "LearnedFallback",
    "LearnedReaction",
    "LearnedValue",
    "StabilityModelSkipped",
    "StabilityReport",
    "learned_fallback",
    "learned_predictions",
    "shipped_stability_model",
    "stability_report",
]

DEFAULT_ELECTRODES = ("Li", "LiCoO2")
"""Electrodes whose reaction energies a report (and a screen) gives by default."""

REFERENCE_NOTE = "Materials Project formation energies (matbench_mp_e_form), 0 K DFT"
"""Where the exact numbers come from."""

LEARNED_REACTION_ELECTRODES = ("Li", "LiCoO2")
"""Electrodes the learned stability model predicts reaction energies with."""


class StabilityModelSkipped(SsbmlError, UserWarning):
    """Warning: the shipped stability model failed its integrity check (tampered or
    untrusted file, never unpickled), so no learned numbers are given."""


@dataclass(frozen=True)
class LearnedValue:
    """One prediction of the learned stability model with its ``1 - alpha`` conformal
    interval, in the unit of its target (V vs Li/Li+ or meV/atom)."""

    value: float
    lower: float
    upper: float

    def to_dict(self) -> dict[str, float]:
        """``{"value", "lower", "upper"}``."""
        return {"value": self.value, "lower": self.lower, "upper": self.upper}


@dataclass(frozen=True)
class LearnedReaction:
    """A learned mutual reaction energy (meV/atom of mixture) with ``electrode``; its
    interval is the report's ``learned["rxn_<electrode>_meV_atom"]``."""

    electrode: str
    energy_meV_atom: float
    source: str = SOURCE_LEARNED

    def to_dict(self) -> dict[str, Any]:
        """``{"electrode", "energy_meV_atom", "source"}``."""
        return {
            "electrode": self.electrode,
            "energy_meV_atom": self.energy_meV_atom,
            "source": self.source,
        }


@dataclass(frozen=True)
class StabilityReport:
    """Electrochemical window, decomposition and interface reactions of one composition.

    Units are in the names: ``reduction_V`` / ``oxidation_V`` are the window limits in
    V vs Li/Li+, ``*_meV_atom`` energies in meV/atom (energy above hull >= 0,
    decomposition energy < 0 for a stable compound), ``hull_energy_eV_atom`` the
    formation energy of the hull at the composition (eV/atom). A number that is not
    known is NaN (``null`` in :meth:`to_dict`).

    ``source`` maps each number's name to ``exact``, ``phase diagram`` or ``learned``
    (see the module docstring). ``reactions`` holds one record per electrode reaction
    (:class:`~ssbml.stability.interface.InterfaceReaction` from the phase diagram,
    closed and, for cathodes, open to Li; or :class:`LearnedReaction`), energies in
    meV/atom of mixture. ``learned`` holds the learned model's predictions with their
    intervals (``interval`` says which), empty when the reference answered.
    ``products`` are the equilibrium decomposition products (atomic fractions) and
    ``reduction_products`` / ``oxidation_products`` the phases just outside the window;
    ``suspect_phases`` flags implausible reference phases among them
    (``{formula: reason}``), ``excluded_phases`` were left out of the phase diagrams.
    """

    formula: str
    input: str
    reduction_V: float
    oxidation_V: float
    e_above_hull_meV_atom: float
    decomposition_energy_meV_atom: float
    hull_energy_eV_atom: float
    reactions: tuple[InterfaceReaction | LearnedReaction, ...]
    source: dict[str, str]
    window_method: str = SOURCE_LEARNED
    li_exchange: float = float("nan")
    reduction_products: tuple[str, ...] = ()
    oxidation_products: tuple[str, ...] = ()
    products: dict[str, float] = field(default_factory=dict)
    learned: dict[str, LearnedValue] = field(default_factory=dict)
    interval: str = ""
    suspect_phases: dict[str, str] = field(default_factory=dict)
    excluded_phases: tuple[str, ...] = ()
    reference: str = REFERENCE_NOTE
    note: str = ""

    @property
    def is_learned(self) -> bool:
        """True when the learned model answered (the reference does not cover it)."""
        return bool(self.learned)

    @property
    def window(self) -> StabilityWindow:
        """The electrochemical window (for :func:`ssbml.stability.plot.plot_windows`)."""
        from ssbml.stability.window import StabilityWindow

        return StabilityWindow(
            self.formula,
            self.reduction_V,
            self.oxidation_V,
            self.window_method,
            self.li_exchange,
            self.reduction_products,
            self.oxidation_products,
            self.source["reduction_V"],
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dict ``ssbml stability --json`` prints (NaN -> None)."""
        from ssbml.io import json_safe

        head = {"formula": self.formula, "input": self.input}
        reactions = [r.to_dict() for r in self.reactions]
        if self.is_learned:
            learned: dict[str, Any] = {t: v.to_dict() for t, v in self.learned.items()}
            learned["interval"] = self.interval
            out = {
                **head,
                **{t: v.value for t, v in self.learned.items()},
                "reactions": reactions,
                "learned": learned,
                "source": dict(self.source),
                "note": self.note,
            }
        else:
            out = {
                **head,
                "reduction_V": self.reduction_V,
                "oxidation_V": self.oxidation_V,
                "window_method": self.window_method,
                "li_exchange": self.li_exchange,
                "reduction_products": list(self.reduction_products),
                "oxidation_products": list(self.oxidation_products),
                "e_above_hull_meV_atom": self.e_above_hull_meV_atom,
                "decomposition_energy_meV_atom": self.decomposition_energy_meV_atom,
                "hull_energy_eV_atom": self.hull_energy_eV_atom,
                "decomposition_products": dict(self.products),
                "reactions": reactions,
                "source": dict(self.source),
                "suspect_phases": dict(self.suspect_phases),
                "excluded_phases": list(self.excluded_phases),
                "reference": self.reference,
            }
            if self.note:
                out["note"] = self.note
        return json_safe(out)


# ------------------------------------------------------------------ learned model
@cache
def _stability_model(models_dir: Path) -> Any | None:
    from ssbml.ml.store import ModelIntegrityError, ModelNotFoundError, load_model

    try:
        return load_model("stability", models_dir=models_dir)
    except ModelNotFoundError:
        return None
    except ModelIntegrityError as exc:  # tampered or untrusted: never unpickled
        import warnings

        warnings.warn(
            StabilityModelSkipped(f"{exc}; learned stability numbers skipped"), stacklevel=3
        )
        return None


def shipped_stability_model() -> Any | None:
    """The shipped stability model (of ``$SSBML_MODELS_DIR`` or the default models
    folder), loaded and hash-checked once per process and folder; None when none is
    shipped, or with a :class:`StabilityModelSkipped` warning when it fails its
    integrity check."""
    from ssbml.ml.store import default_models_dir

    return _stability_model(default_models_dir())


def learned_predictions(formula: str, alpha: float = 0.1) -> dict[str, LearnedValue] | None:
    """Predictions of the shipped stability model with their ``1 - alpha`` intervals,
    ``{target: LearnedValue}`` in the model's target order; None when no model is
    shipped."""
    model = shipped_stability_model()
    if model is None:
        return None
    row = model.predict_interval([formula], alpha=alpha).iloc[0]
    return {
        t: LearnedValue(row[t], row[f"{t}_lower"], row[f"{t}_upper"]) for t in model.targets_
    }


def _interval_text(alpha: float) -> str:
    return f"{1 - alpha:.0%} conformal (grouped cross-validation residuals)"


# ------------------------------------------------------------------ the decision
@dataclass(frozen=True)
class LearnedFallback:
    """The exact-then-learned rule applied to many rows (:func:`learned_fallback`).

    ``learned_rows`` are the indices the learned model answers, ``source`` every row's
    final label (``exact``, ``phase diagram``, ``learned`` or ``unavailable``), ``note``
    why the reference did not answer a row (``""`` where it did)."""

    learned_rows: np.ndarray
    source: np.ndarray
    note: np.ndarray


def learned_fallback(route: Sequence[str] | np.ndarray, *, learned_available: bool
                     ) -> LearnedFallback:
    """ssbml's exact-then-learned rule over rows, vectorised (the per-formula form is
    :func:`stability_report`).

    ``route`` holds each row's exact-route label: ``exact`` / ``phase diagram`` where
    the reference covers the chemical system, ``"uncovered: <reason>"`` where it does
    not (:func:`ssbml.stability.batch.stability_table`, which decides coverage by
    :func:`ssbml.stability.batch.covered` like :func:`stability_report`). Covered rows
    keep their label; uncovered rows go to the learned model when one is available
    (``learned``), else are ``unavailable``."""
    import numpy as np

    route = np.asarray(route, dtype=object).astype(str)
    uncovered = np.char.startswith(route, UNCOVERED_PREFIX)
    note = np.where(uncovered, np.char.replace(route, UNCOVERED_PREFIX, "", count=1), "")
    source = route.astype(object)
    source[uncovered] = SOURCE_LEARNED if learned_available else SOURCE_UNAVAILABLE
    rows = np.flatnonzero(uncovered) if learned_available else np.zeros(0, dtype=np.int64)
    return LearnedFallback(rows, source, note.astype(object))


def _parse(formula: object):
    from ssbml.composition import CompositionError, parse_formula
    from ssbml.stability.reference import StabilityInputError

    try:
        return parse_formula(formula)
    except CompositionError as err:
        raise StabilityInputError(formula, err.reason) from None


def stability_report(
    formula: str,
    electrodes: Sequence[str] = DEFAULT_ELECTRODES,
    *,
    open_to_li: bool = True,
    rel_tol: float = 0.05,
    exclude: Sequence[str] = (),
    alpha: float = 0.1,
) -> StabilityReport:
    """The stability report of one composition.

    When the shipped reference covers the chemical system (every element in some
    reference compound, at most :data:`ssbml.stability.reference.MAX_ELEMENTS`
    elements) the numbers come from its phase diagrams: ``exact`` for a reference
    compound, ``phase diagram`` for a composition placed at its hull energy, with the
    interface reactions with every one of ``electrodes`` (and, ``open_to_li``, each
    cathode's reaction open to Li at its computed delithiation onset), the window by
    ``rel_tol`` (see :func:`ssbml.stability.window.electrochemical_window`) and the
    reduced formulas in ``exclude`` left out of the phase diagrams. Otherwise the
    shipped learned model answers (every number ``learned``, with its ``1 - alpha``
    interval; reactions with Li and LiCoO2 only, whatever ``electrodes``).

    Raises :class:`~ssbml.stability.reference.StabilityInputError` (one line naming the
    input and the reason) for a formula that does not parse, has no Li, an unknown
    electrode, or a system neither the reference nor a shipped learned model covers.
    """
    from ssbml.stability.batch import covered
    from ssbml.stability.reference import StabilityInputError

    comp = _parse(formula)
    reason = covered([el.symbol for el in comp.elements])
    if reason is None:
        return _exact_report(
            formula, electrodes, open_to_li=open_to_li, rel_tol=rel_tol, exclude=tuple(exclude)
        )
    why = f"the reference does not cover it: {reason}"
    learned = learned_predictions(comp.formula, alpha=alpha)
    if learned is None:
        raise StabilityInputError(formula, f"{why}; and no learned stability model is shipped")
    nan = float("nan")
    value = {t: v.value for t, v in learned.items()}
    return StabilityReport(
        formula=comp.reduced_formula,
        input=formula,
        reduction_V=value.get("reduction_V", nan),
        oxidation_V=value.get("oxidation_V", nan),
        e_above_hull_meV_atom=value.get("e_above_hull_meV_atom", nan),
        decomposition_energy_meV_atom=value.get("decomposition_energy_meV_atom", nan),
        hull_energy_eV_atom=nan,
        reactions=tuple(
            LearnedReaction(e, value[f"rxn_{e}_meV_atom"])
            for e in LEARNED_REACTION_ELECTRODES
            if f"rxn_{e}_meV_atom" in value
        ),
        source=dict.fromkeys(value, SOURCE_LEARNED),
        learned=learned,
        interval=_interval_text(alpha),
        reference="",
        note=f"exact values unavailable: {why}",
    )


def _exact_report(
    formula: str,
    electrodes: Sequence[str],
    *,
    open_to_li: bool,
    rel_tol: float,
    exclude: tuple[str, ...] = (),
) -> StabilityReport:
    from ssbml.stability.decomposition import decomposition
    from ssbml.stability.interface import get_electrode, interface_reaction
    from ssbml.stability.reference import check_composition, suspect_phases
    from ssbml.stability.window import electrochemical_window

    comp = check_composition(formula)
    elecs = [get_electrode(e) for e in electrodes]
    window = electrochemical_window(comp, rel_tol=rel_tol, exclude=exclude)
    dec = decomposition(comp, exclude=exclude)
    reactions = []
    for e in elecs:
        reactions.append(interface_reaction(comp, e, exclude=exclude))
        has_host = any(el.symbol != "Li" for el in e.composition.elements)
        if open_to_li and has_host:
            reactions.append(interface_reaction(comp, e, open_to_li=True, exclude=exclude))
    suspects = suspect_phases([el.symbol for el in comp.elements], exclude=exclude)
    seen = set(window.reduction_products) | set(window.oxidation_products) | set(dec.products)
    src_w, src_d = window.source, dec.source
    return StabilityReport(
        formula=window.formula,
        input=formula,
        reduction_V=window.reduction_V,
        oxidation_V=window.oxidation_V,
        e_above_hull_meV_atom=dec.e_above_hull_meV_atom,
        decomposition_energy_meV_atom=dec.decomposition_energy_meV_atom,
        hull_energy_eV_atom=dec.hull_energy_eV_atom,
        reactions=tuple(reactions),
        source={
            "reduction_V": src_w,
            "oxidation_V": src_w,
            "e_above_hull_meV_atom": src_d,
            "decomposition_energy_meV_atom": src_d,
            "hull_energy_eV_atom": SOURCE_EXACT,
        },
        window_method=window.method,
        li_exchange=window.li_exchange,
        reduction_products=tuple(window.reduction_products),
        oxidation_products=tuple(window.oxidation_products),
        products=dict(dec.products),
        suspect_phases={k: v for k, v in suspects.items() if k in seen},
        excluded_phases=tuple(exclude),
        reference=REFERENCE_NOTE,
    )
