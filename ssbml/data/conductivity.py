"""Loaders of measured Li-ion conductivity into one tidy schema.

Every loader returns a DataFrame with these columns (more may follow):

=================  ==========================================================
``composition``    reduced formula (str), parsed and validated with pymatgen
``log10_sigma``    log10 of the conductivity in S/cm
``temperature_K``  measurement temperature in K (OBELiX: room temperature, 298.15)
``censored``       True where the source gives only an upper bound (``<1E-10``)
``family``         structural family, normalized to lower case
``doi``            DOI of the measurement's publication
``source``         ``obelix``, ``liverpool`` or ``user:<name>``
``split``          ``train``/``test`` (official OBELiX split) or ``none``
``composition_key`` canonical key (:func:`ssbml.composition.composition_key`)
=================  ==========================================================

Rows whose formula cannot be parsed are never dropped silently: they are listed in
``df.attrs["rejected"]`` (a list of records: row, input, reason, dataset, field; see
:func:`rejected_rows`) and reported with a warning.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import pandas as pd

from ssbml.composition import composition_key, parse_formulas
from ssbml.data.registry import fetch

__all__ = [
    "PAPER_CENSORED_LOG10",
    "ROOM_TEMPERATURE_RANGE_K",
    "SCHEMA",
    "load_liverpool",
    "load_obelix",
    "load_room_temperature",
    "merge_duplicates",
    "normalize_family",
    "rejected_rows",
]

CensoredConvention = Literal["paper", "drop", "bound"]

SCHEMA = [
    "composition",
    "log10_sigma",
    "temperature_K",
    "censored",
    "family",
    "doi",
    "source",
    "split",
    "composition_key",
]
PAPER_CENSORED_LOG10 = -15.0
"""log10 S/cm given to ``<1E-10`` values by the OBELiX paper's benchmarks (1e-15 S/cm)."""
ROOM_TEMPERATURE_K = 298.15
ROOM_TEMPERATURE_RANGE_K = (288.15, 308.15)
"""Measurements between 15 and 35 degC count as room temperature."""

_FAMILY_SYNONYMS = {
    "argyrodites": "argyrodite",
    "garnet-like": "garnet",
    "cholorides": "chlorides",
    "chloride": "chlorides",
    "halide": "halides",
    "nitride": "nitrides",
    "perovskite": "perovskites",
    "anti-perovskite": "antiperovskite",
    "diphosphate": "pyrophosphate",
    "": "unknown",
    "#n/a": "unknown",
    "nan": "unknown",
}


def normalize_family(values: pd.Series) -> pd.Series:
    """Lower-case structural family names and merge spelling variants."""
    lowered = values.fillna("").astype(str).str.strip().str.lower()
    return lowered.replace(_FAMILY_SYNONYMS)


def rejected_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The rows a loader set aside, as a table (row, input, reason, dataset, field)."""
    return pd.DataFrame(
        df.attrs.get("rejected", []), columns=["row", "input", "reason", "dataset", "field"]
    )


def _parse_column(formulas: pd.Series, dataset: str, field: str) -> tuple[pd.DataFrame, list[dict]]:
    """Parse a formula column; return (parsed columns for good rows, rejected rows)."""
    batch = parse_formulas(formulas.tolist())
    index = formulas.index[batch.rows]
    parsed = pd.DataFrame(
        {
            "composition": [c.reduced_formula for c in batch.compositions],
            "composition_key": [composition_key(c) for c in batch.compositions],
        },
        index=index,
    )
    rejected = batch.rejected.assign(dataset=dataset, field=field)
    if len(rejected):
        rows = ", ".join(f"row {r} ({i!r}: {why})" for r, i, why in rejected.iloc[:5, :3].values)
        warnings.warn(
            f"{dataset}: {len(rejected)} row(s) with an unusable {field!r} were set aside "
            f"(see df.attrs['rejected']): {rows}",
            stacklevel=3,
        )
    return parsed, rejected.to_dict("records")


def load_obelix(censored: CensoredConvention = "paper") -> pd.DataFrame:
    """OBELiX (599 rows) with its official train/test split.

    ``censored`` chooses how ``<1E-10`` conductivities become numbers:
    ``"paper"`` stores them at 1e-15 S/cm (log10 = -15) as the OBELiX benchmarks do,
    ``"bound"`` keeps the written bound itself (log10 = -10 for ``<1E-10``),
    ``"drop"`` removes those rows.
    Either way ``censored`` marks them.
    """
    if censored not in ("paper", "drop", "bound"):
        raise ValueError(f"censored must be 'paper', 'drop' or 'bound', got {censored!r}")
    raw = pd.read_csv(fetch("obelix"), dtype={"Ionic conductivity (S cm-1)": str})
    test_ids = set(pd.read_csv(fetch("obelix-test"), usecols=["ID"])["ID"])
    train_ids = set(pd.read_csv(fetch("obelix-train"), usecols=["ID"])["ID"])

    text = raw["Ionic conductivity (S cm-1)"].astype(str).str.strip()
    is_censored = text.str.startswith("<")
    value = pd.to_numeric(text.str.lstrip("<"), errors="coerce")
    bad = value.isna() | (value <= 0)
    if bad.any():
        rows = raw.index[bad].tolist()
        raise ValueError(
            f"obelix: field 'Ionic conductivity (S cm-1)' is not a positive number in row(s) "
            f"{rows[:10]} (values {text[bad].tolist()[:10]})"
        )
    log10_sigma = np.log10(value)
    if censored == "paper":
        log10_sigma = log10_sigma.where(~is_censored, PAPER_CENSORED_LOG10)

    parsed, rejected = _parse_column(raw["True Composition"], "obelix", "True Composition")
    split = np.where(
        raw["ID"].isin(test_ids), "test", np.where(raw["ID"].isin(train_ids), "train", "none")
    )
    out = pd.DataFrame(
        {
            "id": raw["ID"],
            "composition": parsed["composition"],
            "log10_sigma": log10_sigma,
            "temperature_K": ROOM_TEMPERATURE_K,
            "censored": is_censored,
            "family": normalize_family(raw["Family"]),
            "doi": raw["DOI"].fillna(""),
            "source": "obelix",
            "split": split,
            "composition_key": parsed["composition_key"],
            "formula_raw": raw["Reduced Composition"],
            "space_group_number": raw["Space group #"],
        }
    ).loc[parsed.index]
    if censored == "drop":
        out = out[~out["censored"]]
    out = out.reset_index(drop=True)
    out.attrs["rejected"] = rejected
    out.attrs["censored_convention"] = censored
    return out


def load_liverpool() -> pd.DataFrame:
    """The Liverpool Ionics Dataset (820 rows, many compositions at several temperatures).

    Temperatures are converted from degC to K; ``log10_sigma`` is recomputed from the
    conductivity in S/cm. Unparseable formulas are listed in ``attrs["rejected"]``.
    """
    raw = pd.read_csv(fetch("liverpool"), encoding="utf-8-sig")
    sigma = pd.to_numeric(raw["target"], errors="coerce")
    temp_c = pd.to_numeric(raw["temperature"], errors="coerce")
    bad = sigma.isna() | (sigma <= 0) | temp_c.isna()
    if bad.any():
        rows = raw.index[bad].tolist()
        raise ValueError(
            f"liverpool: 'target' (S/cm) or 'temperature' (degC) unusable in row(s) {rows[:10]}"
        )
    parsed, rejected = _parse_column(raw["composition"], "liverpool", "composition")
    family = raw["family"].where(raw["family"].notna(), raw["ChemicalFamily"])
    out = pd.DataFrame(
        {
            "id": raw["ID"].astype(str),
            "composition": parsed["composition"],
            "log10_sigma": np.log10(sigma),
            "temperature_K": temp_c + 273.15,
            "censored": False,
            "family": normalize_family(family),
            "doi": raw["source"].fillna(""),
            "source": "liverpool",
            "split": "none",
            "composition_key": parsed["composition_key"],
            "formula_raw": raw["composition"],
            "chemical_family": raw["ChemicalFamily"],
        }
    ).loc[parsed.index]
    out = out.reset_index(drop=True)
    out.attrs["rejected"] = rejected
    return out


def merge_duplicates(df: pd.DataFrame) -> pd.DataFrame:
    """One row per ``composition_key``: median ``log10_sigma``, the count of measurements
    (``n_measurements``), their spread (``log10_sigma_range``) and the joined sources and
    DOIs. ``censored`` is kept only when every measurement was censored."""
    if df.empty:
        return df.assign(n_measurements=pd.Series(dtype=int))
    grouped = df.groupby("composition_key", sort=False)
    merged = grouped.agg(
        composition=("composition", "first"),
        log10_sigma=("log10_sigma", "median"),
        log10_sigma_range=("log10_sigma", lambda s: float(s.max() - s.min())),
        temperature_K=("temperature_K", "median"),
        censored=("censored", "all"),
        family=("family", lambda s: s.mode().iloc[0] if s.notna().any() else "unknown"),
        doi=("doi", lambda s: ";".join(sorted({d for d in s if d}))),
        source=("source", lambda s: "+".join(sorted(set(s)))),
        split=("split", "first"),
        n_measurements=("log10_sigma", "size"),
    )
    return merged.reset_index()[SCHEMA + ["n_measurements", "log10_sigma_range"]]


def load_room_temperature(
    *,
    benchmark: bool = True,
    censored: CensoredConvention = "paper",
    include_liverpool: bool = True,
    merge: bool = True,
) -> pd.DataFrame:
    """Room-temperature (15 to 35 degC) conductivity from OBELiX and Liverpool combined.

    With ``benchmark=True`` the official OBELiX test split is kept exactly as published
    (``split == "test"``, 121 rows, never merged) and every training row whose
    composition matches a test composition is removed, so training never sees a test
    composition. With ``benchmark=False`` everything is training data (for shipped
    models). ``merge`` combines repeated measurements of a composition by their median.
    """
    obelix = load_obelix(censored=censored)
    parts = [obelix]
    if include_liverpool:
        lv = load_liverpool()
        lo, hi = ROOM_TEMPERATURE_RANGE_K
        parts.append(lv[(lv["temperature_K"] >= lo) & (lv["temperature_K"] <= hi)])
    rows = pd.concat(parts, ignore_index=True)
    rejected = [r for p in parts for r in p.attrs.get("rejected", [])]

    if benchmark:
        test = rows[rows["split"] == "test"].copy()
        train = rows[
            (rows["split"] != "test") & ~rows["composition_key"].isin(test["composition_key"])
        ]
        train = train.assign(split="train")
        if merge:
            train = merge_duplicates(train)
            test = test.assign(n_measurements=1, log10_sigma_range=0.0)
        out = pd.concat([train, test], ignore_index=True)
    else:
        rows = rows.assign(split="train")
        out = merge_duplicates(rows) if merge else rows
    out.attrs["rejected"] = rejected
    out.attrs["benchmark"] = benchmark
    out.attrs["censored_convention"] = censored
    return out.reset_index(drop=True)
