"""Base class of the composition featurizers: input handling, bad rows, chunking, output.

A subclass implements ``_names()`` (feature names, with units) and
``_compute(batch, out)``, which writes the features of a
:class:`~ssbml.features.batch.Batch` into ``out`` of shape (n_features, n_rows): feature
major, so that each feature is one contiguous run of memory and the final table is
handed to pandas without a copy (pandas stores float columns the same way).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import ThreadpoolController

from ssbml.composition import CompositionError
from ssbml.features.batch import Batch
from ssbml.features.inputs import prepare_input

__all__ = ["CompositionFeaturizer", "ERRORS"]

ERRORS = ("raise", "nan")

_THREADPOOLS: list[ThreadpoolController] = []


def _single_blas_thread():
    """Context limiting BLAS to one thread (the controller is built once per process)."""
    if not _THREADPOOLS:
        _THREADPOOLS.append(ThreadpoolController())
    return _THREADPOOLS[0].limit(limits=1, user_api="blas")


class CompositionFeaturizer(TransformerMixin, BaseEstimator):
    """Common machinery; see the subclasses for the features.

    Parameters shared by every featurizer:

    errors : "raise" (a bad row raises :class:`CompositionError` naming the row index
        and the input) or "nan" (the row is all NaN; :meth:`transform_with_rejected`
        also returns the table of rejected rows).
    require_li : reject compositions without Li.
    chunk_size : rows featurized at once (bounds the memory of temporaries).
    """

    def __init__(
        self, *, errors: str = "raise", require_li: bool = False, chunk_size: int = 131072
    ) -> None:
        self.errors = errors
        self.require_li = require_li
        self.chunk_size = chunk_size

    # --- to implement -------------------------------------------------------------
    def _names(self) -> list[str]:
        raise NotImplementedError

    def _compute(self, batch: Batch, out: np.ndarray) -> None:
        raise NotImplementedError

    def citations(self) -> list[str]:
        """References for the method and data (BibTeX strings)."""
        raise NotImplementedError

    # --- sklearn API ----------------------------------------------------------------
    def _check_params(self) -> None:
        if self.errors not in ERRORS:
            raise ValueError(f"errors must be one of {ERRORS}, got {self.errors!r}")
        if not isinstance(self.chunk_size, int | np.integer) or self.chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive integer, got {self.chunk_size!r}")

    def fit(self, X: object = None, y: object = None) -> CompositionFeaturizer:
        """Nothing is learned; validates parameters and fixes the feature names."""
        self._check_params()
        self.feature_names_out_ = np.asarray(self._names(), dtype=object)
        return self

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """Names of the output columns (units in the names where they have units)."""
        return np.asarray(self._names(), dtype=object)

    def __sklearn_is_fitted__(self) -> bool:
        """Stateless: nothing is learned, so a featurizer is always ready to transform
        (``check_is_fitted`` passes, as for sklearn's stateless transformers)."""
        return True

    def transform(self, X: object) -> pd.DataFrame:
        """Feature table with one row per input row, in input order (index of the input
        for pandas input, else 0..n-1). Bad rows raise or become NaN (see ``errors``).
        Writes no state on the featurizer (safe to call from several threads)."""
        return self.transform_with_rejected(X)[0]

    def transform_with_rejected(self, X: object) -> tuple[pd.DataFrame, pd.DataFrame]:
        """:meth:`transform` and the rejected rows (columns row, input, reason; empty if
        every row was featurized)."""
        check_is_fitted(self)
        self._check_params()
        prepared = prepare_input(X, require_li=self.require_li)
        if self.errors == "raise" and len(prepared.rejected):
            row, text, reason = prepared.rejected.iloc[0][["row", "input", "reason"]]
            more = len(prepared.rejected) - 1
            extra = f" (and {more} more bad row(s))" if more else ""
            err = CompositionError(text, f"row {int(row)}: {reason}{extra}")
            err.row = int(row)  # type: ignore[attr-defined]
            raise err
        names = self._names()
        rows = prepared.rows
        all_rows = len(rows) == prepared.n_rows
        shape = (len(names), prepared.n_rows)  # feature-major
        buf = np.empty(shape) if all_rows else np.full(shape, np.nan)
        ef = prepared.fractions
        # the matrix products here are small and skinny: one BLAS thread is much faster
        # than several (and leaves the other cores alone)
        with _single_blas_thread():
            for start in range(0, len(ef), self.chunk_size):
                chunk = ef.take(slice(start, start + self.chunk_size))
                if all_rows:
                    self._compute(Batch(chunk), buf[:, start : start + len(chunk)])
                else:
                    part = np.empty((len(names), len(chunk)))
                    self._compute(Batch(chunk), part)
                    buf[:, rows[start : start + len(chunk)]] = part
        table = pd.DataFrame(buf.T, index=prepared.index, columns=names, copy=False)
        return table, prepared.rejected

    def set_output(self, *, transform: str | None = None) -> CompositionFeaturizer:
        """Output is always a DataFrame; accepted for Pipeline compatibility."""
        return self

    def __sklearn_tags__(self):
        """Honest tags: the input is one column of formulas (strings, pymatgen
        Compositions or :class:`~ssbml.composition.ElementFractions`), not a numeric 2-D
        array; nothing is learned (``requires_fit=False``); output is float64 (NaN for
        rejected rows with ``errors="nan"``)."""
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.input_tags.allow_nan = False
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags
