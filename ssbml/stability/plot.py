"""Plot electrochemical stability windows (V vs Li/Li+) with electrode potentials."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ssbml.stability.interface import ELECTRODES, Electrode
from ssbml.stability.window import StabilityWindow

__all__ = ["plot_windows"]

_POINT_WIDTH_V = 0.03  # drawn width of a zero-width (single-potential) window


def plot_windows(
    windows: Sequence[StabilityWindow],
    path: str | Path,
    *,
    electrodes: Sequence[Electrode] | None = None,
    title: str | None = None,
) -> Path:
    """Horizontal bars from reduction to oxidation limit (V vs Li/Li+), one per
    composition, with each electrode's potential (line) or range (band) marked; saved
    to ``path`` (format from the suffix). Returns the path."""
    if not windows:
        raise ValueError("plot_windows needs at least one window")
    from matplotlib import colormaps
    from matplotlib.figure import Figure

    electrodes = list(ELECTRODES.values()) if electrodes is None else list(electrodes)
    path = Path(path)
    fig = Figure(figsize=(8.5, 1.3 + 0.5 * len(windows)))
    ax = fig.subplots()
    colors = {"exact": "tab:blue", "phase diagram": "tab:orange"}
    labels = []
    for i, w in enumerate(windows):
        width = max(w.width_V, _POINT_WIDTH_V)
        left = w.reduction_V - (width - w.width_V) / 2
        ax.barh(i, width, left=left, height=0.55, color=colors.get(w.source, "tab:gray"),
                edgecolor="black", linewidth=0.6, zorder=3)
        ax.text(w.oxidation_V + 0.05, i, f"{w.reduction_V:.2f}–{w.oxidation_V:.2f} V",
                va="center", fontsize=8, zorder=4,
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})
        labels.append(w.formula + ("" if w.source == "exact" else " *"))
    palette = colormaps["tab10"]
    for k, e in enumerate(electrodes):
        lo, hi = e.range_V
        if lo != lo or hi != hi:  # NaN: no known potential
            continue
        color = "black" if e.name == "Li" else palette((k + 2) % 10)
        if hi - lo > 1e-9:
            ax.axvspan(lo, hi, color=color, alpha=0.12, lw=0, zorder=0)
        span = f"{hi:.1f} V" if hi - lo <= 1e-9 else f"{lo:.1f}–{hi:.1f} V"
        ax.axvline(hi, color=color, lw=1.2, ls="-" if e.name == "Li" else "--", zorder=1,
                   label=f"{e.name} ({span})")
    ax.set_yticks(range(len(windows)), labels)
    ax.set_ylim(len(windows) - 0.4, -0.6)  # first composition on top
    vmax = max([w.oxidation_V for w in windows] + [e.range_V[1] for e in electrodes
                                                   if e.range_V[1] == e.range_V[1]])
    ax.set_xlim(-0.2, vmax + 1.0)
    ax.set_xlabel("V vs Li/Li+")
    ax.set_title(title or "Electrochemical stability window (MP formation energies)",
                 fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False,
              title="electrodes", title_fontsize=7)
    if any(w.source != "exact" for w in windows):
        ax.text(1.02, 0.0, "orange, *: not in the\nreference table; window\nof its equilibrium\n"
                "decomposition", transform=ax.transAxes, ha="left", va="bottom", fontsize=7)
    fig.tight_layout()
    from ssbml.io import atomic_savefig

    atomic_savefig(fig, path, dpi=150)
    return path
