"""The small public Python API re-exported by :mod:`ssbml` (loaded on first use).

>>> import ssbml
>>> ssbml.predict_conductivity(["Li7La3Zr2O12"])[["log10_sigma_lower", "log10_sigma_upper"]]
... # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["predict_conductivity", "screen"]


def _models_folder(
    models_dir: str | Path | None, model_uri: str | None, tracking_uri: str | None
) -> Path | None:
    if model_uri is None:
        return None if models_dir is None else Path(models_dir)
    from ssbml.tracking.registry import materialize_model_uri

    return materialize_model_uri(
        model_uri, tracking_uri=tracking_uri, base_dir=None if models_dir is None else
        Path(models_dir)
    )


def predict_conductivity(
    compositions: str | Iterable[Any],
    *,
    temperature_K: float | None = None,
    alpha: float = 0.1,
    models_dir: str | Path | None = None,
    model_uri: str | None = None,
    tracking_uri: str | None = None,
):
    """Predicted conductivity of each composition (formula strings or pymatgen
    Compositions): ``log10_sigma`` with its ``1 - alpha`` interval
    (``log10_sigma_lower``/``_upper``, log10 S/cm) and ``sigma_S_per_cm``; at
    ``temperature_K`` (K) from the Arrhenius model, with ``activation_energy_eV``.

    One row per input; a row that cannot be predicted has NaN values and its reason in
    ``error``. ``model_uri`` (e.g. ``models:/ssbml-conductivity@champion``) takes a
    registered model instead of the shipped one.
    """
    import pandas as pd

    from ssbml.ml.store import load_model
    from ssbml.models.conductivity.predict import predict_table

    if isinstance(compositions, str):
        compositions = [compositions]
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if temperature_K is not None and not temperature_K > 0:
        raise ValueError(f"temperature_K must be positive (K), got {temperature_K}")
    table = pd.DataFrame({"composition": [str(c) for c in compositions]})
    folder = _models_folder(models_dir, model_uri, tracking_uri)
    name = "conductivity" if temperature_K is None else "conductivity-temperature"
    model = load_model(name, folder)
    out, _ = predict_table(table, model, alpha=alpha, temperature_K=temperature_K)
    return out


def screen(
    parent: str | None = None,
    dopants: Iterable[str] = (),
    *,
    input_file: str | Path | None = None,
    out_dir: str | Path | None = None,
    fractions: Iterable[float] | None = None,
    sites: Mapping[str, str] | None = None,
    max_dopants: int = 2,
    temperature_K: float | None = None,
    min_log10_sigma: float | None = None,
    window_V: tuple[float, float] | None = None,
    max_rxn_meV_atom: float | None = None,
    objective: str = "window_width_V",
    models_dir: str | Path | None = None,
    model_uri: str | None = None,
    track: bool = False,
    tracking_uri: str | None = None,
    n_jobs: int = 1,
    top: int = 20,
    exact_stability: bool = True,
    parent_structure: str | Path | None = None,
):
    """Screen doped variants of ``parent`` (``dopants`` on a grid of site ``fractions``)
    or of the CIF ``parent_structure`` (site substitution on it, with structure-aware
    values beside the composition-only ones, see
    :mod:`ssbml.screening.parent_structure`), or the compositions of ``input_file``:
    conductivity (log10 S/cm) and stability
    (V vs Li/Li+, meV/atom), ranked by the conductivity lower bound, with filters, a
    Pareto front, ``candidates.parquet`` and ``report.html`` in ``out_dir`` (default
    ``ssbml-output/screen-<name>-<fingerprint>``). Returns a
    :class:`ssbml.screening.run.ScreenResult` (``.table`` is the ranked table)."""
    from ssbml.screening.rank import RankingCriteria
    from ssbml.screening.run import ScreenSpec, default_output_dir
    from ssbml.screening.run import screen as run_screen

    grid = {} if fractions is None else {"fractions": tuple(float(f) for f in fractions)}
    spec = ScreenSpec(
        parent=parent,
        dopants=tuple(dopants),
        **grid,
        sites=dict(sites or {}),
        max_dopants=max_dopants,
        input_file=None if input_file is None else str(input_file),
        parent_structure=None if parent_structure is None else str(parent_structure),
        temperature_K=temperature_K,
        exact_stability=exact_stability,
    )
    criteria = RankingCriteria(
        min_log10_sigma=min_log10_sigma,
        window_V=window_V,
        max_rxn_meV_atom=max_rxn_meV_atom,
        stability_objective=objective,
    )
    folder = _models_folder(models_dir, model_uri, tracking_uri)
    if out_dir is None:
        out_dir = default_output_dir(spec, folder)
    return run_screen(
        spec,
        out_dir,
        criteria=criteria,
        models_dir=folder,
        n_jobs=n_jobs,
        track=track,
        tracking_uri=tracking_uri,
        top=top,
    )
