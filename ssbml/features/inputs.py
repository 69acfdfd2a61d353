"""Turn any accepted featurizer input into an :class:`ElementFractions` matrix plus a table
of rejected rows.

Accepted: a list / tuple / numpy array / pandas Series of formula strings or pymatgen
Compositions, a DataFrame with a ``composition`` column, or an
:class:`ssbml.composition.ElementFractions` (validated with array operations only; no
per-row pymatgen objects are made).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pymatgen.core import Composition, Element

from ssbml.composition import CompositionError, ElementFractions, iter_parsed, parse_formula

__all__ = ["COMPOSITION_COLUMN", "PreparedInput", "prepare_input"]

COMPOSITION_COLUMN = "composition"
"""Column read when a DataFrame is given."""

_FRACTION_SUM_TOL = 1e-6


@dataclass(frozen=True)
class PreparedInput:
    """Featurizer input after validation.

    ``fractions`` holds the good rows only; ``rows[i]`` is the input position of
    ``fractions`` row ``i``; ``rejected`` has columns row, input, reason; ``index`` is the
    index of the output table (the input's index for pandas input, else 0..n-1).
    """

    fractions: ElementFractions
    rows: np.ndarray
    rejected: pd.DataFrame
    n_rows: int
    index: pd.Index


_EMPTY_REJECTED = pd.DataFrame(
    {"row": np.zeros(0, dtype=np.int64), "input": np.zeros(0, dtype=object),
     "reason": np.zeros(0, dtype=object)}
)


def _reject_table(records: list[tuple[int, object, str]]) -> pd.DataFrame:
    if not records:
        return _EMPTY_REJECTED.copy()
    return pd.DataFrame(records, columns=["row", "input", "reason"])


def _prepare_fractions(ef: ElementFractions, require_li: bool) -> PreparedInput:
    """Validate an ElementFractions matrix with array operations only."""
    f = np.asarray(ef.fractions, dtype=float)
    apf = np.asarray(ef.atoms_per_formula, dtype=float)
    n = f.shape[0]
    bad = np.zeros(n, dtype=bool)
    reasons: dict[int, str] = {}

    def reject(mask: np.ndarray, reason: str | None = None, sums: np.ndarray | None = None):
        new = mask & ~bad
        for i in np.flatnonzero(new):
            reasons[int(i)] = reason or f"element fractions sum to {sums[i]:.6g}, not 1"
        bad[new] = True

    reject(~np.isfinite(f).all(axis=1), "non-finite element fraction")
    reject((f < 0).any(axis=1), "negative element fraction")
    total = f.sum(axis=1)
    reject(np.abs(total - 1.0) > _FRACTION_SUM_TOL, sums=total)
    reject(~(np.isfinite(apf) & (apf > 0)), "atoms_per_formula must be positive and finite")
    if require_li:
        reject(ef.fraction_of("Li") <= 0, "no Li in composition (ssbml models Li-ion conductors)")
    bad_rows = np.flatnonzero(bad)
    if len(bad_rows) == 0:
        good_ef, rows = ef, np.arange(n)
    else:
        rows = np.flatnonzero(~bad)
        good_ef = ef.take(rows)
    formulas = ef.take(bad_rows).to_formulas() if len(bad_rows) else []
    rejected = _reject_table(
        [(int(i), text, reasons[int(i)]) for i, text in zip(bad_rows, formulas, strict=True)]
    )
    return PreparedInput(good_ef, rows, rejected, n, pd.RangeIndex(n))


def prepare_input(X: object, *, require_li: bool = False) -> PreparedInput:
    """Validate and convert featurizer input; never raises for a bad row (see ``rejected``).

    Raises :class:`TypeError` / :class:`ValueError` only for an input that is not a batch
    at all (a bare string, a DataFrame without a ``composition`` column, a 2-D array).
    """
    if isinstance(X, ElementFractions):
        return _prepare_fractions(X, require_li)
    index: pd.Index | None = None
    if isinstance(X, pd.DataFrame):
        if COMPOSITION_COLUMN not in X.columns:
            raise ValueError(
                f"DataFrame input needs a {COMPOSITION_COLUMN!r} column; got columns "
                f"{list(X.columns)[:10]}"
            )
        index = X.index
        values = X[COMPOSITION_COLUMN].tolist()
    elif isinstance(X, pd.Series):
        index = X.index
        values = X.tolist()
    elif isinstance(X, str | bytes):
        raise TypeError("expected a batch of formulas (list, array, Series), got one string")
    elif isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        if X.ndim != 1:
            raise ValueError(
                f"array input must be 1-D formulas (or one column), got shape {X.shape}; "
                "wrap element-fraction matrices in ssbml.composition.ElementFractions"
            )
        values = X.tolist()
    else:
        try:
            values = list(X)  # type: ignore[call-overload]
        except TypeError as err:
            raise TypeError(f"cannot featurize a {type(X).__name__}") from err
    n = len(values)
    ef, rows, rejected = _from_values(values, require_li)
    return PreparedInput(
        ef, rows, rejected, n, index if index is not None else pd.RangeIndex(n)
    )


def _from_values(
    values: list, require_li: bool
) -> tuple[ElementFractions, np.ndarray, pd.DataFrame]:
    """Formula strings (parsed once each) and Compositions (read directly, no hashing of
    Composition objects) into an amounts matrix over the elements present. Compositions
    are checked as :func:`parse_formula` checks them (empty, non-positive or non-finite
    amounts, Li when required), with array operations."""

    def amounts_of(value: object) -> dict[str, float]:
        if isinstance(value, Composition):
            amounts = value.get_el_amt_dict()
            if not amounts:
                raise CompositionError(value, "empty composition")
            return amounts
        return parse_formula(value, require_li=require_li).get_el_amt_dict()

    col: dict[str, int] = {}
    r_idx: list[int] = []
    c_idx: list[int] = []
    amt: list[float] = []
    rows: list[int] = []
    rejected: list[tuple[int, object, str]] = []
    for i, value, amounts in iter_parsed(values, amounts_of):
        if isinstance(amounts, CompositionError):
            rejected.append((i, value, amounts.reason))
            continue
        r = len(rows)
        rows.append(i)
        for el, a in amounts.items():
            r_idx.append(r)
            c_idx.append(col.setdefault(el, len(col)))
            amt.append(a)
    symbols = sorted(col, key=lambda s: Element(s).Z)
    matrix = np.zeros((len(rows), len(col)))
    np.add.at(matrix, (np.asarray(r_idx, dtype=np.intp), np.asarray(c_idx, dtype=np.intp)),
              np.asarray(amt, dtype=float))
    matrix = matrix[:, [col[s] for s in symbols]]
    good_rows = np.asarray(rows, dtype=np.intp)
    amt_arr = np.asarray(amt, dtype=float)
    bad_entry = ~(np.isfinite(amt_arr) & (amt_arr > 0))
    bad = np.zeros(len(rows), dtype=bool)
    bad[np.asarray(r_idx, dtype=np.intp)[bad_entry]] = True
    reasons = {int(r): "non-positive or non-finite amount" for r in np.flatnonzero(bad)}
    if require_li and "Li" in symbols:
        no_li = ~bad & (matrix[:, symbols.index("Li")] <= 0)
    else:
        no_li = ~bad if require_li else np.zeros(len(rows), dtype=bool)
    for r in np.flatnonzero(no_li):
        reasons[int(r)] = "no Li in composition (ssbml models Li-ion conductors)"
    if reasons:
        drop = np.array(sorted(reasons), dtype=np.intp)
        rejected += [(int(good_rows[r]), values[good_rows[r]], reasons[int(r)]) for r in drop]
        rejected.sort(key=lambda rec: rec[0])
        keep = np.ones(len(rows), dtype=bool)
        keep[drop] = False
        matrix, good_rows = matrix[keep], good_rows[keep]
    if len(good_rows):
        ef = ElementFractions.from_amounts(matrix, symbols)
    else:
        ef = ElementFractions(np.zeros((0, len(symbols))), tuple(symbols), np.zeros(0))
    return ef, good_rows, _reject_table(rejected)
