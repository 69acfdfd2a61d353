"""OBELiX-provided crystal-structure inputs (benchmark-only features), and the run.

    python experiments/obelix_structure.py --config experiments/obelix-vote-structure-lv.toml \
        --tracking-uri sqlite:////tmp/bench.db

Every OBELiX row comes with its space group and lattice parameters (raw
``obelix/all.csv``: ``Space group #``, ``a``, ``b``, ``c`` in Angstrom, ``alpha``,
``beta``, ``gamma`` in degrees, ``True Composition`` = cell contents). The OBELiX
paper's structure-based models use them, so they are legitimate inputs for the OBELiX
benchmark -- but a new composition to be screened has no measured structure, so models
built on them (feature set ``"<base>+structure"``, e.g. ``"default+fractions+structure"``)
are a BENCHMARK-ONLY option that lives here, outside the library, and is never shipped
for screening. The run trains with :func:`ssbml.models.conductivity.train.run_training`
given this module's data, featurizer and input columns.

Rows without a known structure (Liverpool compositions) get NaN, which the tree models
route natively.
"""

from __future__ import annotations

import argparse
import dataclasses
import json

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from ssbml.features.concat import concat_feature_names, concat_features

__all__ = [
    "STRUCTURE_COLUMNS",
    "WithStructure",
    "attach_structure",
    "main",
    "obelix_structure_table",
    "run_structure_benchmark",
]

STRUCTURE_COLUMNS = (
    "space_group_number",
    "lattice_a_A",
    "lattice_b_A",
    "lattice_c_A",
    "lattice_alpha_deg",
    "lattice_beta_deg",
    "lattice_gamma_deg",
    "cell_volume_A3",
    "volume_per_atom_A3",
    "li_per_volume_per_A3",
    "formula_units_per_cell",
)
"""Structure inputs (Angstrom, degrees, Angstrom^3, Li atoms per Angstrom^3)."""


def _cell_volume(a: np.ndarray, b: np.ndarray, c: np.ndarray, al: np.ndarray,
                 be: np.ndarray, ga: np.ndarray) -> np.ndarray:
    """Triclinic cell volume (Angstrom^3) from lengths (Angstrom) and angles (degrees)."""
    ca, cb, cg = (np.cos(np.radians(x)) for x in (al, be, ga))
    return a * b * c * np.sqrt(np.clip(1 - ca**2 - cb**2 - cg**2 + 2 * ca * cb * cg, 0, None))


def obelix_structure_table() -> pd.DataFrame:
    """One row per OBELiX entry: ``id``, ``composition_key``, ``split`` and
    :data:`STRUCTURE_COLUMNS` from the raw OBELiX file. Errors name the bad row."""
    from pymatgen.core import Composition

    from ssbml.data.conductivity import load_obelix
    from ssbml.data.registry import fetch

    raw = pd.read_csv(fetch("obelix"))
    num = {}
    for src in ("Space group #", "a", "b", "c", "alpha", "beta", "gamma", "Z"):
        values = pd.to_numeric(raw[src], errors="coerce")
        bad = values.isna() | (values <= 0)
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ValueError(f"obelix row {i} (ID {raw['ID'].iloc[i]}): bad {src!r} "
                             f"value {raw[src].iloc[i]!r}")
        num[src] = values.to_numpy(dtype=float)
    n_atoms, n_li = [], []
    for i, text in enumerate(raw["True Composition"]):
        try:
            comp = Composition(str(text))
        except Exception as exc:  # pymatgen raises several types
            raise ValueError(f"obelix row {i} (ID {raw['ID'].iloc[i]}): bad "
                             f"'True Composition' {text!r} ({exc})") from exc
        n_atoms.append(comp.num_atoms)
        n_li.append(comp["Li"])
    vol = _cell_volume(num["a"], num["b"], num["c"], num["alpha"], num["beta"], num["gamma"])
    table = pd.DataFrame({
        "id": raw["ID"].astype(str),
        "space_group_number": num["Space group #"],
        "lattice_a_A": num["a"], "lattice_b_A": num["b"], "lattice_c_A": num["c"],
        "lattice_alpha_deg": num["alpha"], "lattice_beta_deg": num["beta"],
        "lattice_gamma_deg": num["gamma"],
        "cell_volume_A3": vol,
        "volume_per_atom_A3": vol / np.asarray(n_atoms),
        "li_per_volume_per_A3": np.asarray(n_li) / vol,
        "formula_units_per_cell": num["Z"],
    })
    ids = load_obelix(censored="paper")[["id", "composition_key", "split"]]
    ids = ids.assign(id=ids["id"].astype(str))
    return ids.merge(table, on="id", how="left", validate="one_to_one")


def attach_structure(df: pd.DataFrame, table: pd.DataFrame, split: str) -> pd.DataFrame:
    """``df`` plus :data:`STRUCTURE_COLUMNS`: by ``id`` where ``df`` has OBELiX ids, else
    by ``composition_key`` (median over the OBELiX entries of ``split`` with that key);
    NaN where the composition has no OBELiX entry in ``split``."""
    part = table[table["split"] == split]
    cols = list(STRUCTURE_COLUMNS)
    out = df.drop(columns=[c for c in cols if c in df.columns]).reset_index(drop=True)
    if "id" in out.columns and out["id"].astype(str).isin(part["id"]).all():
        values = part.set_index("id").loc[out["id"].astype(str), cols].reset_index(drop=True)
    else:
        by_key = part.groupby("composition_key")[cols].median()
        values = by_key.reindex(out["composition_key"]).reset_index(drop=True)
    return pd.concat([out, values], axis=1)


class WithStructure(TransformerMixin, BaseEstimator):
    """``base`` composition features followed by :data:`STRUCTURE_COLUMNS` taken from
    the input DataFrame (benchmark-only: see the module docstring)."""

    def __init__(self, base: TransformerMixin | None = None) -> None:
        self.base = base

    @staticmethod
    def _check(X: object) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            raise ValueError("this benchmark-only model needs a DataFrame with 'composition' "
                             f"and the structure columns {list(STRUCTURE_COLUMNS)}")
        missing = [c for c in ("composition", *STRUCTURE_COLUMNS) if c not in X.columns]
        if missing:
            raise ValueError(f"input DataFrame lacks column(s) {missing} (OBELiX structure "
                             "inputs; see experiments/obelix_structure.py)")
        return X.reset_index(drop=True)

    def fit(self, X: object, y: object = None) -> WithStructure:
        from sklearn.base import clone

        X = self._check(X)
        self.base_ = clone(self.base).fit(X[["composition"]])
        return self

    def transform(self, X: object) -> pd.DataFrame:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "base_")
        X = self._check(X)
        s = X[list(STRUCTURE_COLUMNS)].apply(pd.to_numeric, errors="coerce").astype(float)
        return concat_features(self.base_, X[["composition"]], s)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        return concat_feature_names(self.base_, STRUCTURE_COLUMNS)


def run_structure_benchmark(config: str, tracking_uri: str | None = None,
                            log_model: bool = False) -> dict:
    """Train and score the config's model on composition + OBELiX structure inputs
    (OBELiX train -> test split); the config's feature set must end in ``+structure``."""
    from ssbml.features.presets import make_featurizer_by_name
    from ssbml.models.conductivity.config import load_config
    from ssbml.models.conductivity.train import load_training_data, run_training

    cfg = load_config(config)
    base, _, tail = str(cfg.features).rpartition("+")
    if tail != "structure" or not cfg.benchmark:
        raise SystemExit(f"{config}: needs features.set = '<base>+structure' and "
                         "data.benchmark = true")
    train, test = load_training_data(dataclasses.replace(cfg, features=base))
    table = obelix_structure_table()
    train = attach_structure(train, table, "train")
    test = attach_structure(test, table, "test")
    return run_training(
        cfg, tracking_uri=tracking_uri, register=False, log_model=log_model,
        data=(train, test), featurizer=WithStructure(make_featurizer_by_name(base)),
        inputs=["composition", *STRUCTURE_COLUMNS],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="experiments/obelix-vote-structure-lv.toml")
    parser.add_argument("--tracking-uri", default=None)
    args = parser.parse_args()
    result = run_structure_benchmark(args.config, args.tracking_uri)
    print(json.dumps({"run_id": result["run_id"], **result["metrics"]}, indent=1))


if __name__ == "__main__":
    main()
