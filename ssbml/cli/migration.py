"""``ssbml migration``: bond-valence site energy (BVSE) Li+ migration barriers (eV),
percolation radii (Angstrom) and the Li sublattice of a crystal structure file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from ssbml.io import json_safe


def _read(path: Path):
    from ssbml.data.structures import StructureLoadError, parse_structure

    if not path.is_file():
        raise StructureLoadError(str(path), "no such file")
    suffix = path.suffix.lower()
    fmt = "cif" if suffix in (".cif", ".mcif") else "poscar"
    if path.name.upper().startswith(("POSCAR", "CONTCAR")) or suffix == ".vasp":
        fmt = "poscar"
    elif fmt != "cif":
        raise StructureLoadError(str(path), f"unknown structure format {suffix!r} (use .cif)")
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise StructureLoadError(str(path), f"cannot read ({err.strerror})") from None
    return parse_structure(text, str(path), fmt=fmt)


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "none below cutoff" if unit == "eV" else "n/a"
    return f"{v:.3f} {unit}"


def _print(report: dict) -> None:
    li = report["li_sublattice"]
    typer.echo(f"{report['formula']}  ({report['source']})")
    typer.echo(f"  structure model: {report['structure_model']}; oxidation states: "
               f"{report['oxidation_method']} ("
               + ", ".join(f"{el} {q:+g}" for el, q in report["oxidation_states"].items())
               + ")")
    for d in ("1D", "2D", "3D"):
        typer.echo(f"  {d} percolation: barrier {_fmt(report['barriers_eV'][d], 'eV')}, "
                   f"radius {_fmt(report['percolation_radius_A'][d], 'A')}")
    nearest = li["li_li_nearest_A"]
    typer.echo(
        f"  Li sublattice: {li['li_sites']} sites, {li['li_per_cell']:g} Li per cell, "
        f"{li['li_per_volume_per_A3']:.4f} Li/A^3, mean site occupancy "
        f"{li['li_site_occupancy_mean']:.2f}, nearest Li-Li "
        + ("n/a" if nearest is None else f"{nearest:.2f} A")
    )
    s = report["settings"]
    typer.echo(f"  grid {s['grid_points']:,} points at {s['resolution_used_A']} A, "
               f"cutoff {s['r_cut_A']} A; {report['seconds']:.1f} s")
    for note in report["notes"]:
        typer.echo(f"  note: {note}")


def migration(
    structures: list[Path] = typer.Argument(..., help="Crystal structure file(s) (.cif)"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per structure"),
    plot: Path = typer.Option(
        None, "--plot", help="Save the BVSE landscape (PNG) here; with several structures "
        "the structure's file name is appended"
    ),
    disorder: str = typer.Option(
        "weighted", "--disorder",
        help="Partial occupancies: 'weighted' (occupancy-weighted cation charges) or "
        "'majority' (majority species per site)",
    ),
    max_grid_points: int = typer.Option(
        120_000, "--max-grid-points", min=1000,
        help="Coarsen the 0.2 A grid until it has at most this many points (cost)",
    ),
) -> None:
    """BVSE Li+ migration barriers (eV) for 1D/2D/3D percolation, percolation radii (A)
    and the Li sublattice (bvlain; Adams and Rao 2011, softBV)."""
    from ssbml.data.structures import StructureLoadError
    from ssbml.structure.bvse import MigrationInputError, migration_report, plot_landscape

    if disorder not in ("weighted", "majority"):
        typer.echo(f"error: --disorder: expected 'weighted' or 'majority', got {disorder!r}",
                   err=True)
        raise typer.Exit(code=2)
    reports = []
    for path in structures:
        try:
            structure = _read(path)
            report = migration_report(
                structure, str(path), disorder=disorder, keep_grid=plot is not None,
                settings={"max_grid_points": max_grid_points},
            )
        except (StructureLoadError, MigrationInputError) as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(code=2) from None
        if plot is not None:
            out = plot if len(structures) == 1 else plot.with_name(
                f"{plot.stem}_{path.stem}{plot.suffix or '.png'}")
            plot_landscape(report, str(out))
            typer.echo(f"plot saved to {out}", err=True)
        reports.append(json_safe(report.to_dict()))
    if as_json:
        payload = reports[0] if len(reports) == 1 else reports
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
    else:
        for report in reports:
            _print(report)
