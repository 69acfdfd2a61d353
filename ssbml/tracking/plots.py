"""Matplotlib figures for tracked runs (``matplotlib.figure.Figure``: no pyplot, no
backend switching; matplotlib is imported inside the functions)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["bar_chart", "parity_plot"]


def parity_plot(
    y_true: Any,
    y_pred: Any,
    *,
    lower: Any = None,
    upper: Any = None,
    censored: Any = None,
    title: str = "",
    unit: str = "log10 S/cm",
) -> Any:
    """Measured vs predicted, with interval bars if given; censored points marked."""
    from matplotlib.figure import Figure

    y = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    cens = np.zeros(len(y), bool) if censored is None else np.asarray(censored, bool)
    fig = Figure(figsize=(5, 5), dpi=110)
    ax = fig.subplots()
    if lower is not None and upper is not None:
        err = np.vstack([p - np.asarray(lower), np.asarray(upper) - p])
        ax.errorbar(y, p, yerr=err, fmt="none", ecolor="0.8", lw=0.8, zorder=1)
    ax.scatter(y[~cens], p[~cens], s=14, c="C0", label="measured", zorder=2)
    if cens.any():
        ax.scatter(y[cens], p[cens], s=22, marker="v", c="C3", label="censored", zorder=3)
    lo = float(np.nanmin([y.min(), p.min()])) - 0.5
    hi = float(np.nanmax([y.max(), p.max()])) + 0.5
    ax.plot([lo, hi], [lo, hi], "k--", lw=1)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel(f"measured ({unit})")
    ax.set_ylabel(f"predicted ({unit})")
    mae = float(np.mean(np.abs(y - p)))
    ax.set_title(f"{title}  MAE={mae:.2f}".strip())
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


def bar_chart(
    table: pd.DataFrame, label: str, value: str, *, title: str = "", xlabel: str = ""
) -> Any:
    """Horizontal bars of ``table[value]`` labelled by ``table[label]`` (top row first)."""
    from matplotlib.figure import Figure

    n = len(table)
    fig = Figure(figsize=(7, 1.2 + 0.35 * max(n, 1)), dpi=110)
    ax = fig.subplots()
    ax.barh(np.arange(n)[::-1], table[value].to_numpy(dtype=float), color="C0")
    ax.set_yticks(np.arange(n)[::-1])
    ax.set_yticklabels([str(v) for v in table[label]], fontsize=8)
    for i, v in enumerate(table[value].to_numpy(dtype=float)):
        ax.text(v, n - 1 - i, f" {v:.3g}", va="center", fontsize=7)
    ax.set_xlabel(xlabel or value)
    ax.set_title(title)
    fig.tight_layout()
    return fig
