"""What each ``stability_source`` value of a screen or ``ssbml stability`` means."""

from __future__ import annotations

__all__ = [
    "SOURCE_EXACT",
    "SOURCE_LEARNED",
    "SOURCE_MEANING",
    "SOURCE_PHASE_DIAGRAM",
    "SOURCE_UNAVAILABLE",
    "UNCOVERED_PREFIX",
]

SOURCE_EXACT = "exact"
SOURCE_PHASE_DIAGRAM = "phase diagram"
SOURCE_LEARNED = "learned"
SOURCE_UNAVAILABLE = "unavailable"
"""A screened row with no stability number (uncovered and no learned model shipped)."""

UNCOVERED_PREFIX = "uncovered: "
"""Exact-route label of a row the reference does not cover, followed by the reason
(:func:`ssbml.stability.batch.stability_table`); :func:`ssbml.stability.report.
learned_fallback` turns it into ``learned`` or ``unavailable``."""

SOURCE_MEANING = {
    SOURCE_EXACT: (
        "a reference compound: its own DFT formation energy from the Materials Project "
        "table, in the phase diagram of its chemical system"
    ),
    SOURCE_PHASE_DIAGRAM: (
        "not a reference compound (doped or off-stoichiometric): placed at the hull "
        "energy of its chemical system's phase diagram; window and mutual reaction "
        "energies are exact for that energy, energy above hull and decomposition energy "
        "are unknown (n/a)"
    ),
    SOURCE_LEARNED: (
        "the reference table does not cover the chemical system: ssbml's learned "
        "stability model, with its 90 % interval"
    ),
}
"""``stability_source`` value -> meaning (shown in reports and the CLI)."""
