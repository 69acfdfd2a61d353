"""Conductivity models (log10 S/cm): :class:`~.model.ConductivityModel` (room
temperature) and :class:`~.temperature.ArrheniusModel` (at T in K, anchored on it).

- :mod:`.model`, :mod:`.temperature`: the estimators;
- :mod:`.config`: TOML training configs and the model they build;
- :mod:`.train`: tracked (mlflow) training runs;
- :mod:`.evaluate`: bound-aware metrics, per-family coverage, temperature-path CV;
- :mod:`.predict`: the prediction table of ``ssbml predict conductivity``.

Submodules are imported on first use of a name.
"""

from __future__ import annotations

import importlib

__all__ = ["ArrheniusModel", "ConductivityModel", "TrainConfig"]

_WHERE = {"ConductivityModel": "model", "ArrheniusModel": "temperature",
          "TrainConfig": "config"}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
