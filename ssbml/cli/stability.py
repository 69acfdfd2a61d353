"""``ssbml stability``: electrochemical window (V vs Li/Li+), decomposition and
interface reactions (meV/atom) from the Materials Project formation energies."""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

import typer

from ssbml.cli.options import number
from ssbml.io import json_safe

DEFAULT_ELECTRODES = ("Li", "LiCoO2")


@cache
def _stability_model(models_dir: Path) -> Any | None:
    """The shipped stability model of ``models_dir``, loaded (and hash-checked) once
    per process; None when it is not shipped."""
    from ssbml.ml.store import ModelIntegrityError, ModelNotFoundError, load_model

    try:
        return load_model("stability", models_dir=models_dir)
    except ModelNotFoundError:
        return None
    except ModelIntegrityError as exc:  # tampered or untrusted: never unpickled
        typer.echo(f"warning: {exc}; learned stability numbers skipped", err=True)
        return None


def learned_report(formula: str, alpha: float = 0.1) -> dict | None:
    """Predictions of the shipped stability model with their ``1 - alpha`` intervals,
    ``{target: {"value", "lower", "upper"}}``; None when no model is shipped."""
    from ssbml.ml.store import default_models_dir

    model = _stability_model(default_models_dir())
    if model is None:
        return None
    row = model.predict_interval([formula], alpha=alpha).iloc[0]
    targets = list(model.targets_)
    out = {
        t: {"value": row[t], "lower": row[f"{t}_lower"], "upper": row[f"{t}_upper"]}
        for t in targets
    }
    out["interval"] = f"{1 - alpha:.0%} conformal (grouped cross-validation residuals)"
    return out


def _learned_only_report(formula: str, reason: str) -> tuple[dict, object]:
    """Report from the learned model alone (the reference data are not on this machine)."""
    from ssbml.composition import CompositionError, parse_formula
    from ssbml.stability.reference import StabilityInputError
    from ssbml.stability.window import StabilityWindow

    try:
        comp = parse_formula(formula)
    except CompositionError as err:
        raise StabilityInputError(formula, err.reason) from None
    learned = learned_report(comp.formula)
    if learned is None:
        raise StabilityInputError(formula, f"{reason}; and no learned stability model is shipped")
    value = {t: v["value"] for t, v in learned.items() if isinstance(v, dict)}
    window = StabilityWindow(
        comp.reduced_formula,
        value["reduction_V"],
        value["oxidation_V"],
        "learned",
        float("nan"),
        (),
        (),
        "learned",
    )
    report = {
        "formula": comp.reduced_formula,
        "input": formula,
        **value,
        "reactions": [
            {"electrode": e, "energy_meV_atom": value[f"rxn_{e}_meV_atom"], "source": "learned"}
            for e in ("Li", "LiCoO2")
            if f"rxn_{e}_meV_atom" in value
        ],
        "learned": learned,
        "source": {t: "learned" for t in value},
        "note": f"exact values unavailable: {reason}",
    }
    return json_safe(report), window


def stability_report(
    formula: str,
    electrodes: list[str],
    *,
    open_to_li: bool = True,
    rel_tol: float = 0.05,
    exclude: tuple[str, ...] = (),
) -> tuple[dict, object]:
    """The CLI's report of one composition as a JSON-ready dict, plus its window.

    Numbers come from the shipped reference phase diagrams (``exact`` for a reference
    compound, ``phase diagram`` for a composition placed at its hull energy); only a
    composition whose chemical system the reference does not cover gets the learned
    model's predictions (with intervals), every number marked ``learned``."""
    from ssbml.composition import CompositionError, parse_formula
    from ssbml.stability.batch import covered
    from ssbml.stability.reference import StabilityInputError

    try:
        comp = parse_formula(formula)
    except CompositionError as err:
        raise StabilityInputError(formula, err.reason) from None
    reason = covered([el.symbol for el in comp.elements])
    if reason is not None:
        return _learned_only_report(formula, f"the reference does not cover it: {reason}")
    return _exact_report(
        formula, electrodes, open_to_li=open_to_li, rel_tol=rel_tol, exclude=exclude
    )


def _exact_report(
    formula: str,
    electrodes: list[str],
    *,
    open_to_li: bool,
    rel_tol: float,
    exclude: tuple[str, ...] = (),
) -> tuple[dict, object]:
    from ssbml.stability.decomposition import decomposition
    from ssbml.stability.interface import get_electrode, interface_reaction
    from ssbml.stability.reference import check_composition, suspect_phases
    from ssbml.stability.window import electrochemical_window

    comp = check_composition(formula)
    elecs = [get_electrode(e) for e in electrodes]
    window = electrochemical_window(comp, rel_tol=rel_tol, exclude=exclude)
    dec = decomposition(comp, exclude=exclude)
    reactions = []
    for e in elecs:
        r = interface_reaction(comp, e, exclude=exclude)
        reactions.append(r.to_dict())
        has_host = any(el.symbol != "Li" for el in e.composition.elements)
        if open_to_li and has_host:
            opened = interface_reaction(comp, e, open_to_li=True, exclude=exclude)
            reactions.append(opened.to_dict())
    suspects = suspect_phases([el.symbol for el in comp.elements], exclude=exclude)
    seen = set(window.reduction_products) | set(window.oxidation_products) | set(dec.products)
    src_w, src_d = window.source, dec.source
    report = {
        "formula": window.formula,
        "input": formula,
        "reduction_V": window.reduction_V,
        "oxidation_V": window.oxidation_V,
        "window_method": window.method,
        "li_exchange": window.li_exchange,
        "reduction_products": list(window.reduction_products),
        "oxidation_products": list(window.oxidation_products),
        "e_above_hull_meV_atom": dec.e_above_hull_meV_atom,
        "decomposition_energy_meV_atom": dec.decomposition_energy_meV_atom,
        "hull_energy_eV_atom": dec.hull_energy_eV_atom,
        "decomposition_products": dec.products,
        "reactions": reactions,
        "source": {
            "reduction_V": src_w,
            "oxidation_V": src_w,
            "e_above_hull_meV_atom": src_d,
            "decomposition_energy_meV_atom": src_d,
            "hull_energy_eV_atom": "exact",
        },
        "suspect_phases": {k: v for k, v in suspects.items() if k in seen},
        "excluded_phases": list(exclude),
        "reference": "Materials Project formation energies (matbench_mp_e_form), 0 K DFT",
    }
    return json_safe(report), window


def _fmt(value, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _print_report(report: dict) -> None:
    from rich.table import Table

    from ssbml.cli.console import make_console

    console = make_console()
    src = report["source"]
    title = f"{report['formula']} (input {report['input']!r})"
    table = Table(title=title, show_lines=False)
    for col in ("quantity", "value", "source", "details"):
        table.add_column(col)
    if "window_method" in report:
        _exact_rows(table, report, src)
    learned = report.get("learned") or {}
    labels = {
        "reduction_V": "reduction limit (V vs Li/Li+)",
        "oxidation_V": "oxidation limit (V vs Li/Li+)",
        "e_above_hull_meV_atom": "energy above hull (meV/atom)",
        "decomposition_energy_meV_atom": "decomposition energy (meV/atom)",
        "rxn_Li_meV_atom": "reaction with Li (meV/atom)",
        "rxn_LiCoO2_meV_atom": "reaction with LiCoO2 (meV/atom)",
    }
    for t, label in labels.items():
        v = learned.get(t)
        if isinstance(v, dict):
            digits = 2 if t.endswith("_V") else 1
            table.add_row(
                label,
                _fmt(v["value"], digits),
                "learned",
                f"90% interval [{_fmt(v['lower'], digits)}, {_fmt(v['upper'], digits)}]",
            )
    console.print(table)
    from ssbml.stability.batch import SOURCE_MEANING

    console.print(
        "[dim]"
        + "; ".join(f"{k} = {v}" for k, v in SOURCE_MEANING.items())
        + ". Reactions: mutual = both reactants at their hull energies; total adds the "
        "electrolyte's own decomposition.[/dim]",
        highlight=False,
    )
    for phase, why in (report.get("suspect_phases") or {}).items():
        console.print(f"[yellow]suspect phase {phase}: {why}[/yellow]", highlight=False)
    if "note" in report:
        console.print(f"[yellow]{report['note']}[/yellow]")


def _exact_rows(table, report: dict, src: dict) -> None:
    table.add_row(
        "reduction limit (V vs Li/Li+)",
        _fmt(report["reduction_V"]),
        src["reduction_V"],
        "below: " + (", ".join(report["reduction_products"]) or "stable against Li metal"),
    )
    table.add_row(
        "oxidation limit (V vs Li/Li+)",
        _fmt(report["oxidation_V"]),
        src["oxidation_V"],
        "above: "
        + ", ".join(report["oxidation_products"])
        + f"  [method: {report['window_method']}, Li exchange {report['li_exchange']:.1%}]",
    )
    table.add_row(
        "energy above hull (meV/atom)",
        _fmt(report["e_above_hull_meV_atom"], 1),
        src["e_above_hull_meV_atom"],
        "decomposes to "
        + ", ".join(f"{k} ({v:.2f})" for k, v in report["decomposition_products"].items()),
    )
    table.add_row(
        "decomposition energy (meV/atom)",
        _fmt(report["decomposition_energy_meV_atom"], 1),
        src["decomposition_energy_meV_atom"],
        "vs competing phases; < 0 means stable",
    )
    for r in report["reactions"]:
        label = f"mutual reaction with {r['electrode']} (meV/atom)"
        if r["open_to_li"]:
            label = (
                f"mutual reaction with {r['electrode']} open to Li at "
                f"{r['potential_V']:.2f} V"
            )
        ratio = "no reaction" if r["ratio"] is None else f"x_electrolyte={r['ratio']:.2f} -> "
        details = ratio + (", ".join(r["products"]) if r["ratio"] is not None else "")
        if not r["open_to_li"] and r.get("total_meV_atom") is not None:
            details += f"; total incl. own decomposition {_fmt(r['total_meV_atom'], 1)}"
        if r.get("potential_source"):
            details += f" [{r['potential_source']}]"
        table.add_row(label, _fmt(r["energy_meV_atom"], 1), r["source"], details)


def stability(
    formulas: list[str] = typer.Argument(..., help="Composition(s), e.g. Li3PS4 Li7La3Zr2O12"),
    electrode: list[str] = typer.Option(
        list(DEFAULT_ELECTRODES),
        "--electrode",
        "-e",
        help="Electrode (repeatable): Li, LiCoO2, LiNiO2, NMC811, LiFePO4, LiMn2O4 or a formula",
    ),
    open_to_li: bool = typer.Option(
        True,
        "--open/--closed",
        help="Also report cathode reactions open to Li at the cathode's potential",
    ),
    rel_tol: float = typer.Option(
        0.05,
        "--rel-tol",
        min=0.0,
        max=0.99,
        callback=number(lo=0.0, hi=0.99),
        help="Li exchange (fraction of the composition's Li) still counted as none",
    ),
    exclude_phase: list[str] = typer.Option(
        [],
        "--exclude-phase",
        help="Leave a reference phase out of the phase diagrams (repeatable), e.g. LiS4",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per formula"),
    plot: Path = typer.Option(None, "--plot", help="Save a window plot (PNG/SVG/PDF) here"),
) -> None:
    """Stability window (V vs Li/Li+), decomposition and reaction energies (meV/atom)."""
    from ssbml.stability.interface import ELECTRODES, get_electrode
    from ssbml.stability.reference import StabilityInputError, normalize_excluded

    reports, windows = [], []
    try:
        excluded = tuple(sorted(normalize_excluded(exclude_phase)))
        elecs = [get_electrode(e) for e in electrode]
        for formula in formulas:
            report, window = stability_report(
                formula, electrode, open_to_li=open_to_li, rel_tol=rel_tol, exclude=excluded
            )
            reports.append(report)
            windows.append(window)
    except StabilityInputError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(code=2) from None
    if as_json:
        payload = reports[0] if len(reports) == 1 else reports
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        for report in reports:
            _print_report(report)
    if plot is not None:
        from ssbml.stability.plot import plot_windows

        marked = {e.name: e for e in elecs}
        marked.setdefault("Li", ELECTRODES["Li"])
        out = plot_windows(windows, plot, electrodes=list(marked.values()))
        typer.echo(f"plot saved to {out}", err=True)
