"""DataFrame plumbing shared by the models: outputs keep the caller's index."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["caller_index"]


def caller_index(X: Any, n: int) -> pd.Index:
    """The index of a DataFrame/Series input (so outputs keep the caller's labels), else
    a RangeIndex of ``n`` rows."""
    if isinstance(X, pd.DataFrame | pd.Series) and len(X.index) == n:
        return X.index
    return pd.RangeIndex(n)
