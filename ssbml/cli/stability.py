"""``ssbml stability``: electrochemical window (V vs Li/Li+), decomposition and
interface reactions (meV/atom) from the Materials Project formation energies."""

from __future__ import annotations

import json
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import typer

from ssbml.cli.options import number
from ssbml.stability.report import DEFAULT_ELECTRODES


@contextmanager
def _model_warnings_as_lines():
    """Show a skipped stability model (:class:`StabilityModelSkipped`) as one
    ``warning: ...`` line on stderr; every other warning as usual."""
    from ssbml.stability.report import StabilityModelSkipped

    with warnings.catch_warnings():
        warnings.simplefilter("always", StabilityModelSkipped)
        show = warnings.showwarning

        def line(message, category, *args, **kwargs):
            if issubclass(category, StabilityModelSkipped):
                typer.echo(f"warning: {message}", err=True)
            else:
                show(message, category, *args, **kwargs)

        warnings.showwarning = line
        yield


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
    from ssbml.stability.report import stability_report

    reports = []
    try:
        excluded = tuple(sorted(normalize_excluded(exclude_phase)))
        elecs = [get_electrode(e) for e in electrode]
        with _model_warnings_as_lines():
            for formula in formulas:
                reports.append(stability_report(
                    formula, electrode, open_to_li=open_to_li, rel_tol=rel_tol,
                    exclude=excluded,
                ))
    except StabilityInputError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(code=2) from None
    dicts = [r.to_dict() for r in reports]
    if as_json:
        payload = dicts[0] if len(dicts) == 1 else dicts
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        for report in dicts:
            _print_report(report)
    if plot is not None:
        from ssbml.stability.plot import plot_windows

        marked = {e.name: e for e in elecs}
        marked.setdefault("Li", ELECTRODES["Li"])
        out = plot_windows([r.window for r in reports], plot,
                           electrodes=list(marked.values()))
        typer.echo(f"plot saved to {out}", err=True)
