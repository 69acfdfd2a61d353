"""Screening report: one self-contained HTML page (no network: inline SVG and CSS only)
with a readable table of the top candidates, an interactive Pareto plot (hover a point
for its composition and values; front points labelled), the stability windows of the
top candidates, and the provenance of every number (models and their sha256, data
hashes, mlflow run, ssbml version, the screened parent and dopants).

``pareto.png`` and ``windows.png`` are written beside it for slides and papers.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ssbml.io import atomic_write_bytes, atomic_write_text
from ssbml.screening.rank import STABILITY_OBJECTIVES, RankingCriteria
from ssbml.stability.sources import SOURCE_MEANING

__all__ = [
    "STABILITY_SOURCES",
    "pareto_plot",
    "pareto_svg",
    "provenance",
    "top_table_html",
    "window_plot",
    "write_report",
]

ELECTRODE_POTENTIALS_V = {
    "Li metal": 0.0,
    "LiCoO2 charged (experiment)": 4.2,
    "NMC811 charged (experiment)": 4.3,
}
"""Electrode potentials (V vs Li/Li+) marked on the window plot."""

TOP_COLUMNS = [
    "rank",
    "composition",
    "doping",
    "log10_sigma",
    "log10_sigma_lower",
    "log10_sigma_upper",
    "log10_sigma_composition",
    "log10_sigma_structure",
    "log10_sigma_structure_lower",
    "log10_sigma_structure_upper",
    "structure_flag",
    "structure_flag_reason",
    "rank_source",
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
"""Columns of ``top.csv`` (machine-readable names; the HTML table has readable ones)."""

STABILITY_SOURCES = {
    **SOURCE_MEANING,
    "unavailable": "no stability number: the reference does not cover the system and no "
    "learned model is shipped",
}
"""What each ``stability_source`` value means."""

OBJECTIVE_LABELS = {
    "window_width_V": "Window width (V)",
    "oxidation_V": "Oxidation limit (V vs Li/Li+)",
    "rxn_LiCoO2_meV_atom": "Reaction energy with LiCoO2 (meV/atom)",
    "rxn_Li_meV_atom": "Reaction energy with Li metal (meV/atom)",
}

_SCORE_LABEL = "Conductivity, lower 90% bound (log10 S/cm)"


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float | np.floating) and math.isnan(v))


def _num(v: Any, digits: int = 2) -> str:
    return "–" if _missing(v) else f"{float(v):.{digits}f}"


def _span(lo: Any, hi: Any, digits: int = 2) -> str:
    if _missing(lo) and _missing(hi):
        return "–"
    return f"{_num(lo, digits)} – {_num(hi, digits)}"


def _yes(v: Any) -> str:
    return "–" if _missing(v) else ("Yes" if bool(v) else "No")


def _temperature(table: pd.DataFrame) -> float | None:
    if "temperature_K" in table.columns and len(table):
        return float(table["temperature_K"].iloc[0])
    return None


def top_table_html(head: pd.DataFrame, temperature_K: float | None = None) -> str:
    """The top candidates as an HTML table with readable headers (units in them), the
    90% interval as one ``lower – upper`` column and Yes/No flags."""
    cols: list[tuple[str, str, str, Any]] = [
        ("#", "", "num", lambda r: str(int(r["rank"]))),
        ("Composition", "", "txt", lambda r: html.escape(str(r["composition"]))),
    ]
    if "doping" in head and head["doping"].astype(str).str.len().any():
        cols.append(("Doping", "element@site:atoms per f.u.", "txt",
                     lambda r: html.escape(str(r["doping"]).replace("+", " + "))))
    cols += [
        ("log10 σ", "S/cm, 298 K", "num", lambda r: _num(r["log10_sigma"])),
        ("90% interval", "log10 S/cm", "num",
         lambda r: _span(r["log10_sigma_lower"], r["log10_sigma_upper"])),
    ]
    if "log10_sigma_structure" in head:
        cols += [
            ("log10 σ structure-aware", "S/cm, 298 K", "num",
             lambda r: _num(r["log10_sigma_structure"])),
            ("90% interval", "structure-aware", "num",
             lambda r: _span(r["log10_sigma_structure_lower"],
                             r["log10_sigma_structure_upper"])),
            ("Structure check", "", "txt",
             lambda r: html.escape(str(r["structure_flag_reason"]) or "agrees")),
            ("Ranked on", "", "txt", lambda r: html.escape(str(r["rank_source"]))),
        ]
    if "log10_sigma_at_T" in head:
        t = f"{temperature_K:g} K" if temperature_K else "T"
        cols.append(("log10 σ", f"S/cm, {t}", "num", lambda r: _num(r["log10_sigma_at_T"])))
    if "Ea_eV" in head:
        cols.append(("Ea", "eV", "num", lambda r: _num(r["Ea_eV"])))
    if {"reduction_V", "oxidation_V"} <= set(head.columns):
        cols.append(("Window", "V vs Li/Li+", "num",
                     lambda r: _span(r["reduction_V"], r["oxidation_V"])))
    if "rxn_Li_meV_atom" in head:
        cols.append(("Mutual reaction with Li", "meV/atom", "num",
                     lambda r: _num(r["rxn_Li_meV_atom"], 1)))
    if "rxn_LiCoO2_meV_atom" in head:
        cols.append(("Mutual reaction with LiCoO2", "meV/atom", "num",
                     lambda r: _num(r["rxn_LiCoO2_meV_atom"], 1)))
    if "stability_source" in head:
        cols.append(("Stability source", "", "txt",
                     lambda r: html.escape(str(r["stability_source"]))))
    if "in_domain" in head:
        cols.append(("In domain", "", "txt", lambda r: _yes(r["in_domain"])))
    cols.append(("Passes filters", "", "txt", lambda r: _yes(r["passes_filters"])))
    cols.append(("Pareto front", "", "txt", lambda r: _yes(r["pareto"])))
    header = "".join(
        f'<th class="{k}">{html.escape(name)}'
        + (f'<br><span class="unit">({html.escape(unit)})</span>' if unit else "") + "</th>"
        for name, unit, k, _ in cols
    )
    rows = []
    for _, r in head.iterrows():
        cells = "".join(f'<td class="{k}">{f(r)}</td>' for _, _, k, f in cols)
        rows.append(f"<tr>{cells}</tr>")
    return (f'<table class="top"><thead><tr>{header}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    """Round tick positions covering [lo, hi]."""
    if not hi > lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [round(first + i * step, 10) for i in range(int((hi - first) / step + 1e-9) + 1)]


def pareto_svg(
    table: pd.DataFrame,
    objective: str = "window_width_V",
    *,
    max_points: int = 3000,
    max_labels: int = 10,
    width: int = 860,
    height: int = 480,
) -> str:
    """The Pareto plot as inline SVG: every point has a hover tooltip (composition,
    conductivity bound, objective); front points are red and the first ``max_labels``
    of them (by score) carry their composition. Larger tables are subsampled for drawing
    (the front never is). Returns an empty string without a stability objective."""
    if objective not in table.columns or table.empty:
        return ""
    data = table.dropna(subset=[objective, "score"])
    if data.empty:
        return ""
    front = data[data["pareto"]].sort_values(objective)
    rest = data[~data["pareto"]]
    if len(rest) > max_points:
        rest = rest.sample(max_points, random_state=0)
    x_all, y_all = data[objective].to_numpy(float), data["score"].to_numpy(float)
    pad_x = 0.05 * (np.ptp(x_all) or 1.0)
    pad_y = 0.05 * (np.ptp(y_all) or 1.0)
    x0, x1 = float(x_all.min() - pad_x), float(x_all.max() + pad_x)
    y0, y1 = float(y_all.min() - pad_y), float(y_all.max() + pad_y)
    left, right, top, bottom = 70, 20, 20, 50
    pw, ph = width - left - right, height - top - bottom

    def px(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * pw

    def py(v: float) -> float:
        return top + (y1 - v) / (y1 - y0) * ph

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="pareto" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="Pareto plot">',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="#999"/>',
    ]
    for t in _ticks(x0, x1):
        parts.append(f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{top}" y2="{top + ph}" '
                     'stroke="#eee"/>')
        parts.append(f'<text x="{px(t):.1f}" y="{top + ph + 16}" text-anchor="middle" '
                     f'class="tick">{t:g}</text>')
    for t in _ticks(y0, y1):
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{py(t):.1f}" y2="{py(t):.1f}" '
                     'stroke="#eee"/>')
        parts.append(f'<text x="{left - 6}" y="{py(t) + 4:.1f}" text-anchor="end" '
                     f'class="tick">{t:g}</text>')
    xlabel = OBJECTIVE_LABELS.get(objective, objective)
    parts.append(f'<text x="{left + pw / 2}" y="{height - 10}" text-anchor="middle" '
                 f'class="axis">{html.escape(xlabel)}</text>')
    parts.append(f'<text transform="translate(16 {top + ph / 2}) rotate(-90)" '
                 f'text-anchor="middle" class="axis">{html.escape(_SCORE_LABEL)}</text>')

    def tip(r: Any) -> str:
        lines = [str(r["composition"]),
                 f"rank {int(r['rank'])}",
                 f"lower bound {r['score']:.2f} log10 S/cm",
                 f"{xlabel}: {r[objective]:.2f}"]
        if "stability_source" in r and isinstance(r["stability_source"], str):
            lines.append(f"stability: {r['stability_source']}")
        return html.escape("\n".join(lines))

    for _, r in rest.iterrows():
        cls = "pass" if r["passes_filters"] else "out"
        parts.append(f'<circle class="{cls}" cx="{px(r[objective]):.1f}" '
                     f'cy="{py(r["score"]):.1f}" r="3.5"><title>{tip(r)}</title></circle>')
    if len(front) > 1:
        pts = " ".join(f"{px(a):.1f},{py(b):.1f}"
                       for a, b in zip(front[objective], front["score"], strict=True))
        parts.append(f'<polyline points="{pts}" fill="none" stroke="#c0392b" '
                     'stroke-width="1.5"/>')
    for _, r in front.iterrows():
        parts.append(f'<circle class="front" cx="{px(r[objective]):.1f}" '
                     f'cy="{py(r["score"]):.1f}" r="5"><title>{tip(r)}</title></circle>')
    # labels: best front points first, each at the first offset that overlaps no label
    # placed before and stays inside the plot (points without room keep their tooltip)
    boxes: list[tuple[float, float, float, float]] = []
    offsets = [(8, -6), (8, 14), (-8, -6), (-8, 14), (8, -20), (-8, 28), (8, 28), (-8, -20)]
    best = front.sort_values("score", ascending=False).head(max_labels)
    for _, r in best.iterrows():
        cx, cy = px(r[objective]), py(r["score"])
        text = str(r["composition"])
        w, h = 6.6 * len(text), 12.0
        for dx, dy in offsets:
            x_left = cx + dx if dx > 0 else cx + dx - w
            box = (x_left, cy + dy - h + 2, x_left + w, cy + dy + 2)
            inside = left <= box[0] and box[2] <= left + pw and top <= box[1] and box[3] <= top + ph
            clash = any(not (box[2] < b[0] or b[2] < box[0] or box[3] < b[1] or b[3] < box[1])
                        for b in boxes)
            if inside and not clash:
                boxes.append(box)
                parts.append(f'<text class="label" x="{box[0]:.1f}" y="{cy + dy:.1f}">'
                             f"{html.escape(text)}</text>")
                break
    # legend: only the groups that are present
    legend = [("front", "Pareto front")]
    if rest["passes_filters"].any():
        legend.append(("pass", "passes filters"))
    if (~rest["passes_filters"].astype(bool)).any():
        legend.append(("out", "filtered out"))
    for i, (cls, name) in enumerate(legend):
        y = top + 16 + 18 * i
        parts.append(f'<circle class="{cls}" cx="{left + pw - 150}" cy="{y}" r="4.5"/>'
                     f'<text class="legend" x="{left + pw - 140}" y="{y + 4}">{name}</text>')
    parts.append("</svg>")
    return "".join(parts)


def pareto_plot(table: pd.DataFrame, objective: str = "window_width_V", max_points: int = 50_000,
                max_labels: int = 8):
    """Conductivity lower bound (log10 S/cm) against the stability objective; Pareto
    front highlighted and its best points labelled. Large tables are subsampled for
    drawing (the front never is); the legend names only the groups present."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 4.8), dpi=110)
    ax = fig.subplots()
    if objective not in table.columns:
        ax.hist(table["score"].dropna(), bins=50, color="C0")
        ax.set_xlabel(_SCORE_LABEL)
        ax.set_ylabel("candidates")
        ax.set_title("No stability model: conductivity only")
        fig.tight_layout()
        return fig
    rest = table[~table["pareto"]]
    if len(rest) > max_points:
        rest = rest.sample(max_points, random_state=0)
    passing = rest["passes_filters"].to_numpy(dtype=bool)
    if (~passing).any():
        ax.scatter(rest.loc[~passing, objective], rest.loc[~passing, "score"], s=4, c="0.75",
                   label="filtered out", rasterized=True)
    if passing.any():
        ax.scatter(rest.loc[passing, objective], rest.loc[passing, "score"], s=5, c="C0",
                   label="passes filters", rasterized=True)
    front = table[table["pareto"]].sort_values(objective)
    ax.plot(front[objective], front["score"], "-o", c="C3", ms=4, label="Pareto front")
    best = front.sort_values("score", ascending=False).head(max_labels)
    for i, (_, r) in enumerate(best.iterrows()):
        ax.annotate(str(r["composition"]), (r[objective], r["score"]), fontsize=6,
                    xytext=(4, 6 if i % 2 == 0 else -9), textcoords="offset points")
    ax.set_xlabel(STABILITY_OBJECTIVES.get(objective, objective))
    ax.set_ylabel(_SCORE_LABEL)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(f"{len(table):,} candidates")
    fig.tight_layout()
    return fig


def window_plot(table: pd.DataFrame, n: int = 15):
    """Horizontal bars from reduction to oxidation limit (V vs Li/Li+) of the first
    ``n`` rows (exact values dark, learned ones light with their 90 % intervals as
    whiskers), with electrode potentials marked."""
    from matplotlib.figure import Figure

    top = table.head(n)
    fig = Figure(figsize=(7.5, 2.4 + 0.35 * max(len(top), 1)), dpi=110)
    ax = fig.subplots()
    y = np.arange(len(top))[::-1]
    red, ox = top["reduction_V"].to_numpy(float), top["oxidation_V"].to_numpy(float)
    source = top.get("stability_source", pd.Series("", index=top.index)).astype(str)
    exact = (source != "learned").to_numpy() & (source != "").to_numpy()
    if (~exact).any():
        ax.barh(y[~exact], (ox - red)[~exact], left=red[~exact], color="C2", alpha=0.55,
                height=0.6, label="learned")
    if exact.any():
        ax.barh(y[exact], (ox - red)[exact], left=red[exact], color="C2", height=0.6,
                label="phase diagram or exact")
    for lim in ("reduction_V", "oxidation_V"):
        lo, hi = f"{lim}_lower", f"{lim}_upper"
        if {lo, hi} <= set(top.columns):
            v = top[lim].to_numpy(float)
            err = np.vstack([v - top[lo].to_numpy(float), top[hi].to_numpy(float) - v])
            err[:, exact] = 0
            ax.errorbar(v, y, xerr=np.nan_to_num(err), fmt="none", ecolor="0.35", lw=0.8,
                        capsize=2)
    for (name, v), color in zip(ELECTRODE_POTENTIALS_V.items(), ("k", "C3", "C4"), strict=True):
        ax.axvline(v, ls="--", lw=1, c=color, label=f"{name} {v:.1f} V")
    try:  # the charged state consistent with the DFT energies of the reaction columns
        from ssbml.stability.interface import charged_potential_V

        onset = charged_potential_V("LiCoO2")
        ax.axvline(onset, ls=":", lw=1.2, c="C3",
                   label=f"LiCoO2 delithiation onset (DFT table) {onset:.2f} V")
    except Exception:  # noqa: BLE001 - a plot annotation never stops a report
        pass
    ax.set_yticks(y)
    ax.set_yticklabels(top["composition"], fontsize=7)
    ax.set_xlabel("V vs Li/Li+")
    ax.set_xlim(-0.3, max(5.0, float(np.nanmax(ox, initial=5)) + 0.2))
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)
    ax.set_title("Electrochemical stability windows of the top candidates")
    fig.tight_layout()
    return fig


def _png(fig, path: Path) -> str:
    """Save ``fig`` as a PNG file at ``path`` and return the same bytes in base64."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    data = buf.getvalue()
    atomic_write_bytes(data, path)
    return base64.b64encode(data).decode()


def _used_models(table: pd.DataFrame) -> list[str]:
    used = ["conductivity"]
    if "log10_sigma_at_T" in table.columns:
        used.append("conductivity-temperature")
    if "reduction_V" in table.columns:
        used.append("stability")
    if "log10_sigma_structure" in table.columns:
        used.append("conductivity-structure")
    return used


def provenance(
    result: Any, spec: Any = None, models_dir: str | Path | None = None
) -> dict[str, Any]:
    """Where the report's numbers come from: ssbml version, mlflow run id, the screened
    parent/dopants or input file (with sha256), each model used (file, sha256, training
    data sha256, registry version if any) and the reference data of exact stability."""
    import ssbml
    from ssbml.ml.store import default_models_dir, read_manifest

    folder = Path(models_dir) if models_dir else default_models_dir()
    manifest = read_manifest(folder).get("models", {})
    out: dict[str, Any] = {
        "ssbml_version": ssbml.__version__,
        "mlflow_run_id": getattr(result, "run_id", None),
        "models_dir": str(folder),
    }
    if spec is not None:
        d = spec.as_dict()
        if d.get("parent"):
            out["parent"] = d["parent"]
            out["dopants"] = ", ".join(d["dopants"])
            out["max_dopants"] = d["max_dopants"]
            if d.get("fractions"):
                out["fractions"] = ", ".join(f"{f:g}" for f in d["fractions"])
            if d.get("amounts"):
                out["amounts_per_formula_unit"] = ", ".join(f"{f:g}" for f in d["amounts"])
            for name, grid in (d.get("dopant_amounts") or {}).items():
                out[f"amounts_{name}"] = ", ".join(f"{f:g}" for f in grid)
            if d.get("electrodes"):
                out["electrodes"] = ", ".join(d["electrodes"])
            if d.get("exclude_phases"):
                out["excluded_phases"] = ", ".join(d["exclude_phases"])
        info = d.get("parent_structure_info")
        if info:
            out["parent_structure"] = info["file"]
            out["parent_structure_sha256"] = info["sha256"]
            out["parent_structure_formula"] = f"{info['formula']} (Z = {info['z']})"
            out["parent_structure_space_group"] = info["space_group"]
            out["dopants"] = ", ".join(d["dopants"])
            out["structure_descriptors"] = (
                "geometric (Li sublattice, volumes, anion framework, disorder) per "
                "candidate on the parent's sites; no BVSE per candidate")
        if d.get("input_file"):
            out["input_file"] = d["input_file"]
            out["input_sha256"] = d.get("input_sha256")
        if d.get("temperature_K"):
            out["temperature_K"] = d["temperature_K"]
        out["interval"] = f"{1 - d['alpha']:.0%} split-conformal"
    models = []
    data: dict[str, str] = {}
    for name in _used_models(result.table):
        entry = manifest.get(name)
        if entry is None:
            continue
        reg = entry.get("registered_model") or {}
        models.append({
            "name": name,
            "file": Path(entry["file"]).name,
            "sha256": entry.get("sha256", ""),
            "trained": entry.get("created_utc", ""),
            "training_run": entry.get("mlflow_run_id", ""),
            "registered": f"{reg['name']} v{reg['version']}" if reg else "",
        })
        data |= entry.get("training_data_sha256", {})
    source = result.table.get("stability_source")
    if source is not None and (source.astype(str) != "learned").any():
        from ssbml.data.thermo import reference_sha256

        data["phase-diagram reference (mp_reference.parquet, from mp-e-form)"] = (
            reference_sha256()
        )
    out["models"] = models
    out["data_sha256"] = dict(sorted(data.items()))
    return out


def _provenance_html(prov: dict[str, Any]) -> str:
    rows = []
    labels = {
        "ssbml_version": "ssbml version",
        "mlflow_run_id": "mlflow run id",
        "parent": "Parent",
        "parent_structure": "Parent structure (file)",
        "parent_structure_sha256": "Parent structure sha256",
        "parent_structure_formula": "Parent structure formula",
        "parent_structure_space_group": "Parent structure space group",
        "structure_descriptors": "Structure descriptors",
        "dopants": "Dopants",
        "max_dopants": "Most dopants per candidate",
        "fractions": "Site fractions substituted",
        "input_file": "Input file",
        "input_sha256": "Input file sha256",
        "temperature_K": "Temperature (K)",
        "interval": "Intervals",
        "models_dir": "Models folder",
    }
    for key, label in labels.items():
        if key in prov:
            value = prov[key]
            if key == "mlflow_run_id" and not value:
                value = "not tracked (--no-track)"
            rows.append(f"<tr><th>{label}</th><td><code>{html.escape(str(value))}</code></td></tr>")
    models = "".join(
        f"<tr><td>{html.escape(m['name'])}</td><td><code>{html.escape(m['file'])}</code></td>"
        f"<td><code>{html.escape(m['sha256'])}</code></td><td>{html.escape(m['trained'])}</td>"
        f"<td><code>{html.escape(m['training_run'])}</code></td>"
        f"<td>{html.escape(m['registered']) or '–'}</td></tr>"
        for m in prov["models"]
    )
    data = "".join(
        f"<tr><td>{html.escape(k)}</td><td><code>{html.escape(v)}</code></td></tr>"
        for k, v in prov["data_sha256"].items()
    )
    return (
        f'<table class="kv">{"".join(rows)}</table>'
        "<h3>Models</h3><table class=\"prov\"><thead><tr><th>Model</th><th>File</th>"
        "<th>sha256</th><th>Trained (UTC)</th><th>Training run</th><th>Registry version</th>"
        f"</tr></thead><tbody>{models}</tbody></table>"
        "<h3>Data</h3><table class=\"prov\"><thead><tr><th>Data set</th><th>sha256</th>"
        f"</tr></thead><tbody>{data}</tbody></table>"
    )


def _sources_html(present: Sequence[str]) -> str:
    items = []
    for key, text in STABILITY_SOURCES.items():
        count = present.count(key)
        n = f" ({count:,} of {len(present):,} candidates)" if count else " (none here)"
        items.append(f"<li><b>{html.escape(key)}</b>: {html.escape(text)}{n}</li>")
    return f'<ul class="sources">{"".join(items)}</ul>'


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5em auto;
max-width:1180px;padding:0 1em;color:#222;line-height:1.4}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
h3{font-size:1.05em}
.wrap{overflow-x:auto}
table{border-collapse:collapse;font-size:12px}
td,th{border-bottom:1px solid #e3e3e3;padding:3px 5px;vertical-align:top}
table.top th{background:#f4f6f8;text-align:center;vertical-align:bottom}
table.top td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
table.top td.txt{white-space:nowrap}
table.top tbody tr:hover{background:#fff8e1}
table.kv th{text-align:left;font-weight:600;padding-right:1.5em}
table.prov th{background:#f4f6f8;text-align:left}table.prov td{white-space:nowrap}
code{font-size:11.5px}
svg.pareto{width:100%;max-width:900px;height:auto;font-size:12px}
svg .tick{fill:#555;font-size:11px}svg .axis{fill:#222;font-size:13px}
svg .label{fill:#922;font-size:10.5px}svg .legend{fill:#222;font-size:12px}
svg circle.pass{fill:#1f77b4;fill-opacity:.55}svg circle.out{fill:#bbb}
svg circle.front{fill:#c0392b;stroke:#fff;stroke-width:1}
svg circle:hover{stroke:#000;stroke-width:2}
img{max-width:100%}.note{color:#555;font-size:.92em}
th .unit{font-weight:normal;color:#555;white-space:nowrap}
"""


def write_report(
    result: Any,
    out_dir: Path,
    *,
    top: int,
    criteria: RankingCriteria,
    spec: Any = None,
    models_dir: str | Path | None = None,
) -> Path:
    """Write ``report.html``, ``pareto.png``, ``windows.png`` (if stability was
    predicted) and ``top.csv`` into ``out_dir`` (all mode 0644 under umask 022)."""
    out_dir = Path(out_dir)
    table = result.table
    cols = [c for c in TOP_COLUMNS if c in table.columns]
    head = table.head(top)
    atomic_write_text(head[cols].to_csv(index=False), out_dir / "top.csv")
    objective = criteria.stability_objective
    pareto_b64 = _png(pareto_plot(table, objective), out_dir / "pareto.png")
    windows_b64 = None
    if {"reduction_V", "oxidation_V"} <= set(table.columns):
        windows_b64 = _png(window_plot(table, n=min(top, 20)), out_dir / "windows.png")

    n_pass = int(table["passes_filters"].sum())
    summary = [
        f"{len(table):,} candidates screened in {result.seconds:.1f} s "
        f"({result.n_chunks} chunk(s)); {len(result.rejected)} input row(s) rejected",
        f"{n_pass:,} pass the filters; {int(table['pareto'].sum())} on the Pareto front",
        "ranked by the lower bound of the 90% interval of the predicted room-temperature "
        "conductivity (log10 S/cm)",
    ]
    if "in_domain" in table.columns:
        summary.append(
            f"{int((~table['in_domain']).sum()):,} candidates lie outside the "
            "applicability domain of the conductivity model (extrapolations)"
        )
    plan = getattr(result, "doping_plan", "")
    if plan:
        summary.insert(0, plan)
    from ssbml.screening.parent_structure import parent_migration_text

    bvse = parent_migration_text(getattr(result, "parent_migration", None))
    if bvse:
        summary.insert(0, bvse)
    info = spec.as_dict().get("parent_structure_info") if spec is not None else None
    if info:
        summary.insert(0, (
            f"parent structure {info['file']} ({info['formula']}, Z = {info['z']}, "
            f"space group {info['space_group']}, sha256 {str(info['sha256'])[:12]}...): "
            "candidates made by site substitution on it"))
    if "structure_flag" in table.columns:
        summary[summary.index(
            "ranked by the lower bound of the 90% interval of the predicted room-temperature "
            "conductivity (log10 S/cm)")] = (
            "ranked by the more conservative of the composition-only and structure-aware "
            "90% lower bounds (log10 S/cm), composition-only where they disagree")
        summary.append(
            f"{int(table['structure_flag'].sum()):,} candidates where the structure-aware "
            "and composition-only values disagree by more than the larger 90% half-width "
            "(ranked on composition-only); "
            f"{int(table['log10_sigma_structure'].isna().sum()):,} without a structure value "
            "(outside the structure model's domain or not fitting the parent's sites)")
    summary_html = "".join(f"<li>{html.escape(s)}</li>" for s in summary)
    table_html = top_table_html(head, _temperature(table))
    sources = ""
    if "stability_source" in head.columns:
        sources = ("<p class=\"note\">Stability source of the candidates:</p>"
                   + _sources_html(table["stability_source"].astype(str).tolist()))
    svg = pareto_svg(table, objective)
    if svg:
        pareto_html = (
            f"<p class=\"note\">Each point is a candidate: its conductivity lower bound "
            f"against {html.escape(STABILITY_OBJECTIVES.get(objective, objective))}. Hover a "
            "point for its composition and values; the best points of the front are "
            f"labelled.</p>{svg}"
        )
    else:
        pareto_html = ('<img alt="Conductivity lower bounds" '
                       f'src="data:image/png;base64,{pareto_b64}">')
    windows_html = ""
    if windows_b64:
        windows_html = (
            "<h2>Stability windows of the top candidates</h2>"
            "<p class=\"note\">Bars from reduction to oxidation limit (V vs Li/Li+); light bars "
            "are learned (whiskers: 90% intervals of each limit), dark bars come from the phase "
            "diagram.</p>"
            f'<img alt="Stability windows" src="data:image/png;base64,{windows_b64}">'
        )
    prov = _provenance_html(provenance(result, spec, models_dir))
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ssbml screening report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>{_CSS}</style></head><body>
<h1>ssbml screening report</h1><ul>{summary_html}</ul>
<h2>Top {len(head)} candidates</h2><div class="wrap">{table_html}</div>{sources}
<h2>Pareto front: conductivity against stability</h2>{pareto_html}
{windows_html}
<h2>Provenance</h2>{prov}
</body></html>
"""
    path = out_dir / "report.html"
    atomic_write_text(page, path)
    return path
