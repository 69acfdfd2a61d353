"""ssbml: solid electrolytes for all-solid-state Li batteries.

Conductivity in log10 S/cm, temperatures in K, potentials in V vs Li/Li+, energies in
meV/atom unless a name says otherwise.

The public API is small and loaded on first use (``import ssbml`` imports nothing heavy):

- :func:`ssbml.screen`: rank doped variants of a parent (or a list of formulas) by
  predicted conductivity and interfacial stability;
- :func:`ssbml.predict_conductivity`: log10 S/cm with an interval for compositions;
- :mod:`ssbml.stability`: phase-diagram stability (window, hull, interface reactions).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "predict_conductivity", "screen", "stability"]

_LAZY = {
    "screen": ("ssbml.api", "screen"),
    "predict_conductivity": ("ssbml.api", "predict_conductivity"),
    "stability": ("ssbml.stability", None),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module_name, attr = _LAZY[name]
        module = importlib.import_module(module_name)
        value = module if attr is None else getattr(module, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ssbml' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
