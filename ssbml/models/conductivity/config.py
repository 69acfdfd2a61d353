"""Training configs of the conductivity model (TOML) and the model they build.

A config is a TOML file (see ``experiments/*.toml``)::

    extends = "ssbml:obelix-benchmark-data"   # optional: a config this one refines
    name = "medrf-lv"                 # run name
    seed = 0
    [data]
    include_liverpool = true          # add Liverpool room-temperature rows
    censored = "paper"                # "paper" (1e-15 S/cm), "bound" (1e-10) or "drop"
    benchmark = true                  # true: OBELiX train -> official test split
    user_data = []                    # names/paths for ssbml.data.user.load_user_dataset
    [features]
    set = "default"                   # see ssbml.features.presets.make_featurizer_by_name
    [model]
    regressor = "medrf"               # see ssbml.ml.regressors.REGRESSORS
    params = { n_estimators = 300 }
    groups = "chemsys"                # fold groups: chemsys, family, composition
    n_splits = 5
    censoring = "bound"               # "none", "classifier" or "bound" (censored rows as
                                      # bounds, see ssbml.models.conductivity.model)
    interval_groups = "family"        # "none" or "family" (per-family conformal)
    [search]                          # optional grouped hyperparameter search
    n_iter = 10                       # omit for a full grid
    [search.space]
    max_features = [0.33, 0.5, 1.0]

``extends`` names another config, either ``ssbml:<name>`` (a config shipped in
``ssbml/models/conductivity/configs/``: ``obelix-benchmark-data``, ``benchmark``,
``ship``) or a path relative to the file; the two are merged table by table, this file's
keys winning. The shipped model's recipe is ``ssbml:ship``; ``ssbml train conductivity
--benchmark obelix`` runs ``ssbml:benchmark``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "BENCHMARK_CONFIG",
    "PACKAGED_PREFIX",
    "SHIP_CONFIG",
    "TrainConfig",
    "build_model",
    "load_config",
    "model_inputs",
]


@dataclass
class TrainConfig:
    """One training run (see the module docstring for the TOML layout)."""

    name: str = "conductivity"
    seed: int = 0
    include_liverpool: bool = True
    censored: str = "paper"
    benchmark: bool = True
    user_data: list[str] = field(default_factory=list)
    features: str = "default"
    regressor: str = "hgb"
    params: dict[str, Any] = field(default_factory=dict)
    groups: str = "chemsys"
    n_splits: int = 5
    censoring: str = "none"
    interval_groups: str = "none"
    search_space: dict[str, list[Any]] = field(default_factory=dict)
    search_n_iter: int | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainConfig:
        """Build from the nested TOML dict; unknown keys raise."""
        raw = dict(raw)
        sections = {k: dict(raw.pop(k, {})) for k in ("data", "features", "model", "search")}
        flat: dict[str, Any] = {}
        for key in ("name", "seed"):
            if key in raw:
                flat[key] = raw.pop(key)
        if raw:
            raise ValueError(f"unknown top-level config key(s): {sorted(raw)}")
        d, f, m, s = (sections[k] for k in ("data", "features", "model", "search"))
        for key in ("include_liverpool", "censored", "benchmark", "user_data"):
            if key in d:
                flat[key] = d.pop(key)
        if "set" in f:
            flat["features"] = f.pop("set")
        for key in ("regressor", "params", "groups", "n_splits", "censoring",
                    "interval_groups"):
            if key in m:
                flat[key] = m.pop(key)
        if "space" in s:
            flat["search_space"] = s.pop("space")
        if "n_iter" in s:
            flat["search_n_iter"] = s.pop("n_iter")
        leftover = {f"{k}.{kk}" for k, v in zip(("data", "features", "model", "search"),
                                                 (d, f, m, s), strict=True) for kk in v}
        if leftover:
            raise ValueError(f"unknown config key(s): {sorted(leftover)}")
        cfg = cls(**flat)
        if cfg.censored not in ("paper", "bound", "drop"):
            raise ValueError(f"data.censored must be paper, bound or drop, got {cfg.censored!r}")
        if cfg.censoring not in ("none", "classifier", "bound"):
            raise ValueError("model.censoring must be none, classifier or bound, got "
                             f"{cfg.censoring!r}")
        if cfg.interval_groups not in ("none", "family"):
            raise ValueError("model.interval_groups must be none or family, got "
                             f"{cfg.interval_groups!r}")
        if cfg.censoring != "none" and cfg.censored == "drop":
            raise ValueError(f"model.censoring = {cfg.censoring!r} needs the censored rows "
                             "(data.censored = 'paper' or 'bound')")
        return cfg

    def as_params(self) -> dict[str, Any]:
        """Flat params for mlflow."""
        out = {k: v for k, v in self.__dict__.items() if k not in ("params", "search_space")}
        out |= {f"model.{k}": v for k, v in self.params.items()}
        out |= {f"search.{k}": v for k, v in self.search_space.items()}
        return out


PACKAGED_PREFIX = "ssbml:"
"""Prefix of a config shipped with the package (``ssbml:ship``)."""
_MAX_EXTENDS = 8


def _packaged(name: str) -> Any:
    """The shipped config file ``configs/<name>.toml`` (importlib.resources)."""
    from importlib.resources import files

    folder = files("ssbml.models.conductivity") / "configs"
    entry = folder / f"{name}.toml"
    if not entry.is_file():
        known = sorted(f.name[:-5] for f in folder.iterdir() if f.name.endswith(".toml"))
        raise ValueError(f"no shipped config {PACKAGED_PREFIX}{name} (shipped: {known})")
    return entry


def _merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``child`` table by table (child keys win)."""
    out = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_config(source: str | Path, chain: tuple[str, ...] = ()) -> dict[str, Any]:
    """The TOML dict of ``source`` with its ``extends`` chain merged in."""
    text = str(source)
    if text.startswith(PACKAGED_PREFIX):
        entry = _packaged(text[len(PACKAGED_PREFIX):])
        label, parent_dir = text, None
    else:
        entry = Path(source)
        label, parent_dir = str(entry), entry.parent
    if label in chain:
        raise ValueError(f"'extends' loops: {' -> '.join((*chain, label))}")
    if len(chain) >= _MAX_EXTENDS:
        raise ValueError(f"'extends' chain longer than {_MAX_EXTENDS}: {' -> '.join(chain)}")
    try:
        raw = tomllib.loads(entry.read_text())
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        where = f" (extended by {chain[-1]})" if chain else ""
        raise ValueError(f"config {label}{where}: {exc}") from exc
    parent = raw.pop("extends", None)
    if parent is None:
        return raw
    if not isinstance(parent, str) or not parent:
        raise ValueError(f"config {label}: 'extends' must be a file name or "
                         f"{PACKAGED_PREFIX}<name>, got {parent!r}")
    if not parent.startswith(PACKAGED_PREFIX):
        if parent_dir is None:  # a shipped config extends a sibling
            parent = f"{PACKAGED_PREFIX}{Path(parent).stem}"
        else:
            parent = str(parent_dir / parent)
    return _merge(_read_config(parent, (*chain, label)), raw)


def load_config(path: str | Path) -> TrainConfig:
    """Read a TOML config (a path, or ``ssbml:<name>`` for a shipped one) with its
    ``extends`` chain; errors name the file."""
    try:
        raw = _read_config(path)
        return TrainConfig.from_dict(raw)
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        raise ValueError(msg if msg.startswith("config ") else f"config {path}: {msg}") from exc


BENCHMARK_CONFIG = load_config(f"{PACKAGED_PREFIX}benchmark")
"""The configuration behind ``ssbml train conductivity --benchmark obelix``
(``ssbml:benchmark``): the lowest grouped-CV MAE on the train split of every
composition-only config tried (experiments/results/conductivity.md). Composition only:
the OBELiX structure inputs (``experiments/obelix_structure.py``) are a separate,
benchmark-only option."""

SHIP_CONFIG = f"{PACKAGED_PREFIX}ship"
"""The recipe of the shipped room-temperature model (all data, no held-out split)."""


def model_inputs(cfg: TrainConfig) -> list[str]:
    """Input columns the model of ``cfg`` reads: ``composition``, plus ``family`` for
    the benchmark-only ``default+family`` set."""
    if "family" in str(cfg.features):
        return ["composition", "family"]
    return ["composition"]


def build_model(
    cfg: TrainConfig, params: dict[str, Any] | None = None, featurizer: Any = None
) -> Any:
    """The unfitted :class:`~ssbml.models.conductivity.model.ConductivityModel` of
    ``cfg`` (``params`` override the regressor's; ``featurizer`` replaces the feature
    set's, e.g. for the benchmark-only inputs of ``experiments/``)."""
    from ssbml.features.presets import make_featurizer_by_name
    from ssbml.ml.regressors import make_regressor
    from ssbml.models.conductivity.model import ConductivityModel

    reg = make_regressor(cfg.regressor, {**cfg.params, **(params or {})}, random_state=cfg.seed)
    return ConductivityModel(
        featurizer=make_featurizer_by_name(cfg.features) if featurizer is None else featurizer,
        regressor=reg,
        n_splits=cfg.n_splits,
        random_state=cfg.seed,
        censoring=cfg.censoring,
        interval_groups=cfg.interval_groups,
    )
