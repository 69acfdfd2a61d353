"""Predict every screening target for a chunk of candidates with the shipped models.

Conductivity (log10 S/cm at 298.15 K, with its interval), optionally at another
temperature (K) with the activation energy (eV), and the learned interfacial
stability (window in V vs Li/Li+, energies in meV/atom) with intervals. Features are
computed once per chunk and shared by every model that uses the same featurizer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ssbml.composition import ElementFractions

__all__ = ["ScreeningModels", "predict_chunk"]

@dataclass
class ScreeningModels:
    """The models a screening run uses, loaded (and hash-checked) from ``models_dir``."""

    conductivity: Any
    temperature: Any | None = None
    stability: Any | None = None
    hashes: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, models_dir: Path | str | None = None, *, need_temperature: bool = False):
        """Load the shipped models; stability and temperature models are optional
        unless asked for (a missing optional model leaves its columns out)."""
        from ssbml.ml.store import ModelNotFoundError, load_model, read_manifest

        folder = Path(models_dir) if models_dir else None
        manifest = read_manifest(folder).get("models", {})
        conductivity = load_model("conductivity", folder)
        temperature = stability = None
        if need_temperature:
            temperature = load_model("conductivity-temperature", folder)
        if "stability" in manifest:
            try:
                stability = load_model("stability", folder)
            except ModelNotFoundError:
                stability = None
        used = ["conductivity"] + (["conductivity-temperature"] if temperature else [])
        used += ["stability"] if stability is not None else []
        hashes = {name: manifest[name]["sha256"] for name in used if name in manifest}
        return cls(conductivity, temperature, stability, hashes)


@lru_cache(maxsize=4)
def _cached_models(models_dir: str | None, need_temperature: bool) -> ScreeningModels:
    """Models loaded once per process (worker processes and Dask workers reuse them)."""
    return ScreeningModels.load(models_dir, need_temperature=need_temperature)


def _features_once(models: list[Any], X: ElementFractions) -> dict[int, pd.DataFrame]:
    """Feature tables per model (``None`` entries skipped), computing each distinct
    featurizer only once."""
    out: dict[int, pd.DataFrame] = {}
    seen: dict[str, pd.DataFrame] = {}
    for m in models:
        if m is None:
            continue
        featurizer = m.featurizer_
        key = f"{type(featurizer).__qualname__}:{featurizer.get_params(deep=False)!r}"
        if key not in seen:
            F = featurizer.transform(X)
            seen[key] = F if isinstance(F, pd.DataFrame) else pd.DataFrame(F)
        out[id(m)] = seen[key]
    return out


def predict_chunk(
    X: ElementFractions,
    labels: pd.DataFrame,
    models: ScreeningModels,
    *,
    temperature_K: float | None = None,
    alpha: float = 0.1,
    exact_stability: bool = True,
    electrodes: tuple[str, ...] = ("Li", "LiCoO2"),
    exclude: tuple[str, ...] = (),
) -> pd.DataFrame:
    """One row per candidate: labels, formula, predictions with ``_lower``/``_upper``
    bounds at nominal coverage ``1 - alpha``, the applicability domain
    (``domain_distance``, ``in_domain``, ``domain_reason``) and, for models treating
    censored data as bounds, ``below_detection``/``log10_sigma_bound``.

    With ``exact_stability`` every candidate whose chemical system the reference covers
    gets phase-diagram stability (``stability_source`` exact / phase diagram; see
    :mod:`ssbml.screening.exact`), the learned model only the rest; reactions are
    reported with each of ``electrodes``, without the phases in ``exclude``."""
    out = labels.reset_index(drop=True).copy()
    out["composition"] = X.formula_array().to_numpy(zero_copy_only=False)
    cond = models.conductivity
    feats = _features_once([cond, models.stability, models.temperature], X)
    F = feats[id(cond)]
    # nearest-neighbour applicability domain (float32 standardized features: half the
    # memory of a large chunk) and elements never seen in training; its nearest-family
    # column also selects the per-family interval calibration (one neighbour search)
    dom = None
    if hasattr(cond, "domain_table_from_features"):
        dom = cond.domain_table_from_features(F, X, dtype=np.float32)
    fam_kw = ({"families": dom["nearest_family"].to_numpy()}
              if dom is not None and "nearest_family" in dom else {})
    pred = cond.predict_interval_from_features(F, alpha=alpha, **fam_kw)
    for col in pred.columns:
        out[col] = pred[col].to_numpy()
    if dom is not None:
        for col in dom.columns:
            out[col] = dom[col].to_numpy()
    if temperature_K is not None and models.temperature is not None:
        out["temperature_K"] = float(temperature_K)
        at_T = models.temperature.predict_interval_from_features(
            feats[id(models.temperature)], temperature_K, alpha=alpha, **fam_kw
        )
        out["log10_sigma_at_T"] = at_T["log10_sigma"].to_numpy()
        out["log10_sigma_at_T_lower"] = at_T["log10_sigma_lower"].to_numpy()
        out["log10_sigma_at_T_upper"] = at_T["log10_sigma_upper"].to_numpy()
        out["Ea_eV"] = at_T["activation_energy_eV"].to_numpy()
        out["Ea_eV_lower"] = at_T["activation_energy_eV_lower"].to_numpy()
        out["Ea_eV_upper"] = at_T["activation_energy_eV_upper"].to_numpy()
    from ssbml.screening.exact import stability_columns

    stab = stability_columns(
        X,
        learned=models.stability,
        learned_features=feats.get(id(models.stability)),
        alpha=alpha,
        electrodes=electrodes,
        exclude=exclude,
        exact=exact_stability,
        parents=labels["parent"].to_numpy() if "parent" in labels.columns else None,
    )
    for col in stab.columns:
        out[col] = stab[col].to_numpy()
    return out
