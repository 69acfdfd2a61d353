"""Screening report: a self-contained HTML page with the Pareto plot, the table of top
candidates and the stability windows of the top candidates (also as PNG files)."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ssbml.io import atomic_write_bytes, atomic_write_csv, atomic_write_text
from ssbml.screening.rank import STABILITY_OBJECTIVES, RankingCriteria

__all__ = ["pareto_plot", "window_plot", "write_report"]

ELECTRODE_POTENTIALS_V = {"Li metal": 0.0, "LiCoO2 (charged)": 4.2, "NMC811 (charged)": 4.3}
"""Electrode potentials (V vs Li/Li+) marked on the window plot."""

TOP_COLUMNS = [
    "rank",
    "composition",
    "doping",
    "log10_sigma",
    "log10_sigma_lower",
    "log10_sigma_upper",
    "log10_sigma_at_T",
    "Ea_eV",
    "reduction_V",
    "oxidation_V",
    "rxn_Li_meV_atom",
    "rxn_LiCoO2_meV_atom",
    "stability_source",
    "in_domain",
    "passes_filters",
    "pareto",
]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def pareto_plot(table: pd.DataFrame, objective: str = "window_width_V", max_points: int = 50_000):
    """Conductivity lower bound (log10 S/cm) against the stability objective; Pareto
    front highlighted. Large tables are subsampled for drawing (the front never is)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.5), dpi=110)
    if objective not in table.columns:
        ax.hist(table["score"].dropna(), bins=50, color="C0")
        ax.set_xlabel("conductivity lower bound (log10 S/cm)")
        ax.set_ylabel("candidates")
        ax.set_title("No stability model: conductivity only")
        fig.tight_layout()
        return fig
    rest = table[~table["pareto"]]
    if len(rest) > max_points:
        rest = rest.sample(max_points, random_state=0)
    passing = rest["passes_filters"].to_numpy(dtype=bool)
    ax.scatter(
        rest.loc[~passing, objective],
        rest.loc[~passing, "score"],
        s=4,
        c="0.75",
        label="filtered out",
        rasterized=True,
    )
    ax.scatter(
        rest.loc[passing, objective],
        rest.loc[passing, "score"],
        s=5,
        c="C0",
        label="passes filters",
        rasterized=True,
    )
    front = table[table["pareto"]].sort_values(objective)
    ax.plot(front[objective], front["score"], "-o", c="C3", ms=4, label="Pareto front")
    ax.set_xlabel(STABILITY_OBJECTIVES.get(objective, objective))
    ax.set_ylabel("conductivity lower bound (log10 S/cm)")
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(f"{len(table):,} candidates")
    fig.tight_layout()
    return fig


def window_plot(table: pd.DataFrame, n: int = 15):
    """Horizontal bars from reduction to oxidation limit (V vs Li/Li+) of the first
    ``n`` rows (exact values dark, learned ones light with their 90 % intervals as
    whiskers), with electrode potentials marked."""
    plt = _pyplot()
    top = table.head(n)
    fig, ax = plt.subplots(figsize=(7.5, 1.4 + 0.35 * max(len(top), 1)), dpi=110)
    y = np.arange(len(top))[::-1]
    red, ox = top["reduction_V"].to_numpy(float), top["oxidation_V"].to_numpy(float)
    exact = (top.get("stability_source", pd.Series("", index=top.index)) == "exact").to_numpy()
    ax.barh(y[~exact], (ox - red)[~exact], left=red[~exact], color="C2", alpha=0.55,
            height=0.6, label="learned")
    if exact.any():
        ax.barh(y[exact], (ox - red)[exact], left=red[exact], color="C2", height=0.6,
                label="exact (phase diagram)")
    for lim in ("reduction_V", "oxidation_V"):
        lo, hi = f"{lim}_lower", f"{lim}_upper"
        if {lo, hi} <= set(top.columns):
            v = top[lim].to_numpy(float)
            err = np.vstack([v - top[lo].to_numpy(float), top[hi].to_numpy(float) - v])
            err[:, exact] = 0
            ax.errorbar(v, y, xerr=err, fmt="none", ecolor="0.35", lw=0.8, capsize=2)
    for (name, v), color in zip(ELECTRODE_POTENTIALS_V.items(), ("k", "C3", "C4"), strict=True):
        ax.axvline(v, ls="--", lw=1, c=color, label=f"{name} {v:.1f} V")
    ax.set_yticks(y)
    ax.set_yticklabels(top["composition"], fontsize=7)
    ax.set_xlabel("V vs Li/Li+")
    ax.set_xlim(-0.3, max(5.0, float(np.nanmax(ox, initial=5)) + 0.2))
    ax.legend(fontsize=7, loc="lower right", framealpha=0.9)
    ax.set_title("Electrochemical stability windows of the top candidates")
    fig.tight_layout()
    return fig


def _png(fig, path: Path) -> str:
    """Save ``fig`` as a PNG file at ``path`` and return the same bytes in base64."""
    plt = _pyplot()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    data = buf.getvalue()
    atomic_write_bytes(data, path)
    return base64.b64encode(data).decode()


def write_report(result: Any, out_dir: Path, *, top: int, criteria: RankingCriteria) -> Path:
    """Write ``report.html``, ``pareto.png``, ``windows.png`` (if stability was
    predicted) and ``top.csv`` into ``out_dir``."""
    table = result.table
    cols = [c for c in TOP_COLUMNS if c in table.columns]
    head = table.head(top)[cols]
    atomic_write_csv(head, out_dir / "top.csv")
    images = [
        (
            "Pareto front",
            _png(pareto_plot(table, criteria.stability_objective), out_dir / "pareto.png"),
        )
    ]
    if {"reduction_V", "oxidation_V"} <= set(table.columns):
        images.append(
            ("Stability windows", _png(window_plot(table, n=min(top, 20)), out_dir / "windows.png"))
        )
    n_pass = int(table["passes_filters"].sum())
    summary = [
        f"{len(table):,} candidates screened in {result.seconds:.1f} s "
        f"({result.n_chunks} chunk(s)); {len(result.rejected)} input row(s) rejected",
        f"{n_pass:,} pass the filters; {int(table['pareto'].sum())} on the Pareto front",
        "score = lower bound of the predicted conductivity (log10 S/cm, "
        "nominal 90% interval); stability numbers are learned unless marked exact",
    ]
    if "in_domain" in table.columns:
        summary.append(
            f"{int((~table['in_domain']).sum()):,} candidates lie outside the "
            "applicability domain of the conductivity model (extrapolations)"
        )
    body = "".join(f"<li>{html.escape(s)}</li>" for s in summary)
    figs = "".join(
        f'<h2>{html.escape(t)}</h2><img alt="{html.escape(t)}" src="data:image/png;base64,{b}">'
        for t, b in images
    )
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>ssbml screening report</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}
table{{border-collapse:collapse;font-size:12px}}td,th{{border:1px solid #ccc;padding:2px 6px}}
img{{max-width:100%}}</style></head><body>
<h1>ssbml screening report</h1><ul>{body}</ul>
<h2>Top {len(head)} candidates</h2>{head.to_html(index=False, float_format=lambda v: f"{v:.3g}")}
{figs}
</body></html>
"""
    path = out_dir / "report.html"
    atomic_write_text(page, path)
    return path
