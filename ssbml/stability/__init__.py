"""Interfacial-stability thermodynamics from the Materials Project formation energies.

Electrochemical stability window (V vs Li/Li+), energy above hull and decomposition
(meV/atom), and interface reactions with Li metal and cathodes (meV/atom of mixture),
from phase diagrams cached per chemical system; :func:`stability_report` gives all of
them for one composition as a :class:`StabilityReport` (the learned model's numbers
where the reference does not cover it); plus the label table of every Li compound of
the reference data for learning these targets.

Heavy imports (pymatgen, scipy) happen when a submodule is first used.
"""

from __future__ import annotations

import importlib

__all__ = [
    "ELECTRODES",
    "Decomposition",
    "Electrode",
    "InterfaceReaction",
    "StabilityInputError",
    "StabilityReport",
    "StabilityWindow",
    "compute_labels",
    "decomposition",
    "electrochemical_window",
    "get_electrode",
    "interface_reaction",
    "load_labels",
    "phase_diagram",
    "plot_windows",
    "stability_report",
]

_WHERE = {
    "ELECTRODES": "interface",
    "Electrode": "interface",
    "InterfaceReaction": "interface",
    "get_electrode": "interface",
    "interface_reaction": "interface",
    "Decomposition": "decomposition",
    "decomposition": "decomposition",
    "StabilityInputError": "reference",
    "phase_diagram": "reference",
    "StabilityWindow": "window",
    "electrochemical_window": "window",
    "compute_labels": "labels",
    "load_labels": "labels",
    "plot_windows": "plot",
    "StabilityReport": "report",
    "stability_report": "report",
}


def __getattr__(name: str):
    if name in _WHERE:
        module = importlib.import_module(f"ssbml.stability.{_WHERE[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'ssbml.stability' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
