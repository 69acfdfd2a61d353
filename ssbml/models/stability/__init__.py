"""The learned stability model: window limits (V vs Li/Li+), energy above hull,
decomposition and reaction energies (meV/atom) from composition, for compositions the
reference phase diagrams (:mod:`ssbml.stability`) do not cover.

- :mod:`.model`: :class:`~.model.StabilityModel`;
- :mod:`.train`: the tracked (mlflow) training run and shipping;
- :mod:`.evaluate`: grouped-CV metrics against baselines.

Submodules are imported on first use of a name.
"""

from __future__ import annotations

import importlib

__all__ = ["TARGETS", "StabilityModel"]


def __getattr__(name: str):
    if name in __all__:
        return getattr(importlib.import_module(f"{__name__}.model"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
