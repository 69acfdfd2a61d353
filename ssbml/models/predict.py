"""Predict conductivity for a table of compositions, reporting every bad row."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["predict_table"]


def _predict_rows(
    model: Any, comps: list, alpha: float, temperature_K: float | None
) -> pd.DataFrame:
    from ssbml.composition import ElementFractions

    X = ElementFractions.from_compositions(comps)
    if temperature_K is None:
        return model.predict_interval(X, alpha=alpha)
    # one featurization for the interval and the activation energy (eV)
    F = model.featurizer_.transform(X)
    return model.predict_interval_from_features(F, temperature_K=temperature_K, alpha=alpha)


def predict_table(
    table: pd.DataFrame,
    model: Any,
    *,
    alpha: float = 0.1,
    temperature_K: float | None = None,
    column: str = "composition",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Predictions for every row of ``table`` (log10 S/cm with a ``1 - alpha`` interval,
    ``sigma_S_per_cm``; with ``temperature_K`` also ``activation_energy_eV``).

    Returns (output: the input columns plus predictions, one row per input row, with
    ``error`` naming why a row has none; bad rows: row, input, reason). A row whose
    formula does not parse, lacks Li, or cannot be featurized is a bad row.
    """
    from ssbml.composition import parse_formulas

    if column not in table.columns:
        raise ValueError(
            f"input has no {column!r} column (columns: {', '.join(map(str, table.columns))})"
        )
    batch = parse_formulas(table[column].tolist(), require_li=True)
    bad = [dict(r) for r in batch.rejected.to_dict("records")]
    comps, rows = list(batch.compositions), list(batch.rows)
    try:
        pred = _predict_rows(model, comps, alpha, temperature_K) if comps else None
        good_rows = rows
    except (ValueError, KeyError) as batch_error:
        # find the offending rows one by one; keep every row that works
        parts, good_rows = [], []
        for comp, row in zip(comps, rows, strict=True):
            try:
                parts.append(_predict_rows(model, [comp], alpha, temperature_K))
                good_rows.append(row)
            except (ValueError, KeyError) as exc:
                bad.append({"row": row, "input": table[column].iloc[row], "reason": str(exc)})
        if not parts and not bad:
            raise batch_error
        pred = pd.concat(parts, ignore_index=True) if parts else None
    out = table.copy().reset_index(drop=True)
    cols = ["log10_sigma", "log10_sigma_lower", "log10_sigma_upper"]
    if temperature_K is not None:
        out["temperature_K"] = float(temperature_K)
        cols.append("activation_energy_eV")
    for c in cols:
        out[c] = np.nan
    if pred is not None and len(good_rows):
        idx = np.asarray(good_rows, dtype=int)
        for c in cols:
            out.loc[idx, c] = pred[c].to_numpy()
    out["sigma_S_per_cm"] = 10.0 ** out["log10_sigma"]
    bad_df = pd.DataFrame(bad, columns=["row", "input", "reason"]).sort_values("row")
    out["error"] = ""
    out.loc[bad_df["row"].to_numpy(dtype=int), "error"] = bad_df["reason"].to_numpy()
    return out, bad_df.reset_index(drop=True)
