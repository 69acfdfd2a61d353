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
    # one featurization for the interval, the activation energy (eV) and the domain
    F = model.featurizer_.transform(X)
    F = F if isinstance(F, pd.DataFrame) else pd.DataFrame(F)
    Fv = F.to_numpy(dtype=float)
    # the domain first: its nearest-family column also picks the per-family interval
    # calibration, so the neighbour search runs once
    dom = (model.domain_table_from_features(Fv, X)
           if hasattr(model, "domain_table_from_features") else None)
    kw: dict[str, Any] = {} if temperature_K is None else {"temperature_K": temperature_K}
    if dom is not None and "nearest_family" in dom:
        kw["families"] = dom["nearest_family"].to_numpy()
    pred = model.predict_interval_from_features(Fv, alpha=alpha, **kw)
    if dom is not None:
        pred = pd.concat([pred.reset_index(drop=True), dom.reset_index(drop=True)], axis=1)
    return pred


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

    Returns (output: the input columns plus predictions, one row per input row with
    the input's index, ``error`` naming why a row has none; bad rows: row (position),
    input, reason). Also ``in_domain``/``domain_reason`` (applicability domain) and,
    for models that treat censored data as bounds, ``below_detection`` and
    ``log10_sigma_bound`` (log10 S/cm; ``log10_sigma`` is then that upper bound). A
    row whose formula does not parse, lacks Li, or cannot be featurized is a bad row.
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
    if pred is not None:
        cols += [c for c in pred.columns if c not in cols]
    for c in cols:
        out[c] = np.nan
    for c in ("below_detection", "in_domain"):
        if c in cols:
            out[c] = pd.array([pd.NA] * len(out), dtype="boolean")
    # text columns (domain_reason, nearest_family, interval_family): '' where no row
    text_cols = {"domain_reason"} | ({c for c in pred.columns
                                      if not pd.api.types.is_numeric_dtype(pred[c])
                                      and not pd.api.types.is_bool_dtype(pred[c])}
                                     if pred is not None else set())
    for c in text_cols & set(cols):
        out[c] = pd.Series([""] * len(out), dtype=object)
    if pred is not None and len(good_rows):
        idx = np.asarray(good_rows, dtype=int)
        for c in cols:
            out.loc[idx, c] = pred[c].to_numpy()
    out["sigma_S_per_cm"] = 10.0 ** out["log10_sigma"]
    if "below_detection" in out:
        # report below-detection rows as "< bound", not as a number
        below = out["below_detection"].fillna(False).to_numpy(dtype=bool)
        text = np.where(below, "< " + (10.0 ** out["log10_sigma_bound"]).map("{:.1e}".format),
                        out["sigma_S_per_cm"].map("{:.3g}".format))
        out["sigma_reported"] = np.where(out["log10_sigma"].isna(), "", text)
    bad_df = pd.DataFrame(bad, columns=["row", "input", "reason"]).sort_values("row")
    out["error"] = ""
    out.loc[bad_df["row"].to_numpy(dtype=int), "error"] = bad_df["reason"].to_numpy()
    out.index = table.index
    return out, bad_df.reset_index(drop=True)
