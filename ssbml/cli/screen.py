"""``ssbml screen``: rank doped variants of a parent electrolyte, or a list of
formulas, by predicted conductivity and interfacial stability."""

from __future__ import annotations

from pathlib import Path

import typer

from ssbml.cli.options import (
    TRACK_FALLBACK_HELP,
    TRUST_MODEL_HELP,
    check_number,
    number,
    tracking_uri_or_exit,
    trust_models,
)


def _floats(text: str, what: str, **rules) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise typer.BadParameter(f"{what} must be comma-separated numbers, got {text!r}") from None
    return check_number(values, what, **rules)


def _sites(values: list[str]) -> dict[str, str]:
    out = {}
    for v in values:
        dopant, sep, site = v.partition("=")
        if not sep or not dopant.strip() or not site.strip():
            raise typer.BadParameter(f"--site takes DOPANT=SITE such as Al=Li, got {v!r}")
        out[dopant.strip()] = site.strip()
    return out


def _electrodes(values: list[str]) -> tuple[str, ...]:
    from ssbml.stability.interface import get_electrode
    from ssbml.stability.reference import StabilityInputError

    try:
        names = tuple(dict.fromkeys(get_electrode(v).name for v in values))
    except StabilityInputError as err:
        raise typer.BadParameter(f"--electrode {err}") from None
    return names


def _excluded(values: list[str]) -> tuple[str, ...]:
    from ssbml.stability.reference import StabilityInputError, normalize_excluded

    try:
        return tuple(sorted(normalize_excluded(values)))
    except StabilityInputError as err:
        raise typer.BadParameter(f"--exclude-phase {err}") from None


def _amounts(values: list[str]) -> tuple[tuple[float, ...] | None, dict[str, tuple[float, ...]]]:
    """``--amounts 0.1,0.2`` (every dopant) and ``--amounts Al=0.1,0.25`` (one dopant)."""
    every: tuple[float, ...] | None = None
    per: dict[str, tuple[float, ...]] = {}
    for v in values:
        dopant, sep, grid = v.rpartition("=")
        if sep and not dopant.strip():
            raise typer.BadParameter(f"--amounts takes 0.1,0.2 or DOPANT=0.1,0.2, got {v!r}")
        what = f"--amounts {dopant.strip()}=" if sep else "--amounts"
        numbers = _floats(grid, what)
        if not numbers:
            raise typer.BadParameter(f"{what} has no numbers, got {v!r}")
        if sep:
            per[dopant.strip()] = numbers
        elif every is not None:
            raise typer.BadParameter("--amounts without DOPANT= given twice")
        else:
            every = numbers
    return every, per


def _min_li(text: str | None) -> dict[str, float]:
    """``--min-li 5`` (Li atoms per formula unit) or ``--min-li 70%`` (of the parent's Li)."""
    if text is None:
        return {}
    t = text.strip()
    try:
        if t.endswith("%"):
            return {"min_li_fraction": float(t[:-1]) / 100}
        return {"min_li": float(t)}
    except ValueError:
        raise typer.BadParameter(
            f"--min-li takes Li atoms per formula unit (5) or a share of the parent's Li "
            f"(70%), got {text!r}"
        ) from None


def screen(
    parent: str = typer.Option(
        None, "--parent", "-p", help="Parent composition, e.g. Li7La3Zr2O12."
    ),
    dopants: str = typer.Option(
        None, "--dopants", "-d", help="Comma-separated dopants, e.g. Ta,Nb,Al,Ga."
    ),
    parent_structure: Path = typer.Option(
        None, "--parent-structure",
        help="Parent crystal structure (CIF) instead of --parent: doped variants are made "
        "by site substitution on it and get structure-aware predictions beside the "
        "composition-only ones.",
    ),
    input_file: Path = typer.Option(
        None, "--input", "-i", help="CSV/Parquet with a 'composition' column (instead of --parent)."
    ),
    site: list[str] = typer.Option(
        [], "--site", help="Force a dopant's site: DOPANT=SITE (repeatable), e.g. Al=Li."
    ),
    amounts: list[str] = typer.Option(
        [],
        help="Dopant atoms per formula unit: 0.05,0.1,0.2 for every dopant, or "
        "DOPANT=0.1,0.25 for one (repeatable). Default: literature grids for known "
        "parents (Al, Ga 0.05-0.4 on the Li site and Ta, Nb 0.1-1.0 on Zr of LLZO), "
        "else 0.05-1.0.",
    ),
    fractions: str = typer.Option(
        None,
        help="Legacy grid instead of --amounts: comma-separated fractions of the "
        "substituted site replaced.",
    ),
    min_li: str = typer.Option(
        None,
        help="Lowest Li per formula unit: atoms (5) or share of the parent's Li (70%, "
        "the default).",
    ),
    max_site_fraction: float = typer.Option(
        None, help="Most of one site the dopants may replace (default 0.5)."
    ),
    solubility_cap: float = typer.Option(
        None,
        help="Solubility cap: most dopant atoms per formula unit in total (default: 1.2 "
        "for Li7La3Zr2O12, none otherwise).",
    ),
    max_dopants: int = typer.Option(
        2, min=1, max=4, help="Most dopants combined in one candidate."
    ),
    temperature: float = typer.Option(
        None, "--temperature", "-T", callback=number(positive=True),
        help="Also predict log10 S/cm at this temperature (K)."
    ),
    min_log10_sigma: float = typer.Option(
        None, callback=number(), help="Filter: lowest predicted conductivity (log10 S/cm)."
    ),
    window: str = typer.Option(
        None, help="Filter: LOW,HIGH (V vs Li/Li+) the stability window must cover, e.g. 0.5,4.0."
    ),
    max_rxn: float = typer.Option(
        None, callback=number(nonnegative=True),
        help="Filter: largest |reaction energy| with Li and LiCoO2 (meV/atom).",
    ),
    objective: str = typer.Option(
        "window_width_V", help="Stability objective of the Pareto front."
    ),
    allow_out_of_domain: bool = typer.Option(
        False, "--allow-out-of-domain",
        help="Let compositions outside the model's applicability domain pass the filters.",
    ),
    out: Path = typer.Option(
        None, "--out", "-o", help="Output folder (default: ssbml-output/screen-<name>)."
    ),
    fmt: str = typer.Option(
        "parquet", "--format", help="parquet or csv for the full candidate table."
    ),
    top: int = typer.Option(15, min=1, help="Rows in the printed table and the report."),
    chunk_size: int = typer.Option(
        50_000, min=1, help="Candidates per chunk (each chunk is written atomically)."
    ),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Local worker processes."),
    scheduler: str = typer.Option(
        None, help="Dask scheduler address (tcp://host:port) to run chunks on."
    ),
    models_dir: Path = typer.Option(
        None, help="Folder of shipped models (default: models/ or $SSBML_MODELS_DIR)."
    ),
    model_uri: str = typer.Option(
        None, help="Registered mlflow model replacing the shipped one of its kind, e.g. "
        "models:/ssbml-conductivity@champion.",
    ),
    exact: bool = typer.Option(
        True,
        help="Phase-diagram stability for every candidate the shipped reference covers "
        "(--no-exact: learned model only).",
    ),
    electrode: list[str] = typer.Option(
        ["Li", "LiCoO2"],
        "--electrode",
        "-e",
        help="Electrode for mutual reaction energies (repeatable): Li, LiCoO2, NMC811, "
        "LiFePO4, LiMn2O4, LiNiO2 or a formula.",
    ),
    exclude_phase: list[str] = typer.Option(
        [],
        "--exclude-phase",
        help="Leave a reference phase out of every phase diagram (repeatable), e.g. LiS4.",
    ),
    track: bool = typer.Option(True, help="Log the run to mlflow."),
    tracking_uri: str = typer.Option(
        None, help="mlflow tracking URI (default: $MLFLOW_TRACKING_URI or the per-user "
        "sqlite store, see `ssbml compare --help`)."
    ),
    track_fallback: str = typer.Option(None, "--track-fallback", help=TRACK_FALLBACK_HELP),
    trust_model: bool = typer.Option(False, "--trust-model", help=TRUST_MODEL_HELP),
) -> None:
    """Screen candidates for conductivity (log10 S/cm) and stability (V vs Li/Li+, meV/atom)."""
    from ssbml.cli.console import make_console

    console = make_console()
    err = make_console(stderr=True)
    if fmt not in ("parquet", "csv"):
        raise typer.BadParameter("--format must be parquet or csv")
    if parent is not None and parent_structure is not None:
        err.print("[red]error:[/red] give --parent (a composition) or --parent-structure "
                  "(a CIF), not both")
        raise typer.Exit(code=2)
    if sum(x is not None for x in (parent, input_file, parent_structure)) != 1:
        err.print("[red]error:[/red] give --parent or --parent-structure with --dopants, "
                  "or --input FILE")
        raise typer.Exit(code=2)
    if (parent is not None or parent_structure is not None) and not dopants:
        err.print("[red]error:[/red] --parent needs --dopants, e.g. --dopants Ta,Nb,Al,Ga")
        raise typer.Exit(code=2)

    if track:  # probe the tracking server before any work (seconds, not minutes)
        tracking_uri = tracking_uri_or_exit(tracking_uri, track_fallback)
    trust_models(trust_model)
    from ssbml.ml.store import ModelIntegrityError, ModelNotFoundError
    from ssbml.screening.candidates import DopingError
    from ssbml.screening.chunks import RunMismatchError
    from ssbml.screening.rank import RankingCriteria
    from ssbml.screening.run import CandidateFileError, ScreenSpec
    from ssbml.screening.run import screen as run_screen

    try:
        window_v = _floats(window, "--window") if window else None
        if window_v is not None and (len(window_v) != 2 or window_v[0] >= window_v[1]):
            raise typer.BadParameter("--window takes LOW,HIGH in V with LOW < HIGH, e.g. 0.5,4.0")
        # without --fractions the spec keeps its own default grid
        grid = {} if fractions is None else {
            "fractions": _floats(fractions, "--fractions", lo=0.0, hi=1.0, lo_open=True)
        }
        every, per_dopant = _amounts(amounts)
        if every is not None:
            grid["amounts"] = every
        spec = ScreenSpec(
            parent=parent,
            dopants=tuple(d.strip() for d in dopants.split(",") if d.strip()) if dopants else (),
            **grid,
            sites=_sites(site),
            max_dopants=max_dopants,
            input_file=str(input_file) if input_file else None,
            parent_structure=str(parent_structure) if parent_structure else None,
            temperature_K=temperature,
            chunk_size=chunk_size,
            exact_stability=exact,
            electrodes=_electrodes(electrode),
            exclude_phases=_excluded(exclude_phase),
            dopant_amounts=per_dopant,
            max_site_fraction=max_site_fraction,
            solubility_cap=solubility_cap,
            **_min_li(min_li),
        )
        if spec.parent_structure is not None:
            spec.parent_structure_info  # noqa: B018 - read and check the CIF now
        criteria = RankingCriteria(
            min_log10_sigma=min_log10_sigma,
            window_V=window_v,
            max_rxn_meV_atom=max_rxn,
            stability_objective=objective,
            require_in_domain=not allow_out_of_domain,
        )
        if model_uri:
            from ssbml.tracking.registry import materialize_model_uri

            models_dir = materialize_model_uri(
                model_uri, tracking_uri=tracking_uri, base_dir=models_dir
            )
        if out is None:
            from ssbml.screening.run import default_output_dir

            out = default_output_dir(spec, models_dir)
        out_dir = out
        result = run_screen(
            spec,
            out_dir,
            criteria=criteria,
            models_dir=models_dir,
            scheduler=scheduler,
            n_jobs=jobs,
            progress=True,
            output_name=f"candidates.{fmt}",
            track=track,
            tracking_uri=tracking_uri,
            top=top,
        )
    except (
        DopingError,
        CandidateFileError,
        RunMismatchError,
        ModelNotFoundError,
        ModelIntegrityError,
        ValueError,
    ) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(code=2) from None

    from ssbml.io import shorten

    _print_top(console, result, top)
    if len(result.rejected):
        err.print(
            f"[yellow]{len(result.rejected)} input row(s) rejected[/yellow] "
            f"(listed in {result.out_dir / 'rejected.csv'}):"
        )
        for r in result.rejected.head(10).itertuples():
            err.print(f"  row {r.row}: {shorten(r.input)}: {r.reason}", highlight=False,
                      markup=False)
    if result.doping_plan:
        err.print(result.doping_plan, highlight=False, markup=False)
    if result.parent_migration:
        from ssbml.screening.parent_structure import parent_migration_text

        err.print(parent_migration_text(result.parent_migration), highlight=False,
                  markup=False)
    rc = result.rejected_candidates
    if rc is not None and len(rc):
        counts = ", ".join(f"{n} {rule}" for rule, n in rc["rule"].value_counts().items())
        err.print(
            f"{len(rc):,} grid point(s) not made ({counts}); reasons in "
            f"{result.out_dir / 'rejected_candidates.csv'}",
            highlight=False,
        )
    console.print(
        f"results: {result.out_dir / f'candidates.{fmt}'}; report: "
        f"{result.out_dir / 'report.html'}"
        + (f"; mlflow run {result.run_id}" if result.run_id else "")
    )


def _print_top(console, result, top: int) -> None:
    import math

    from rich import box
    from rich.table import Table

    t = result.table.head(top)
    stability = {"reduction_V", "oxidation_V"} <= set(t.columns)
    notes = ["ranked by the lower bound of the 90% interval of log10 sigma (S/cm, 298 K)"]
    structure = "log10_sigma_structure" in t.columns
    if structure:
        notes[0] = ("ranked by the more conservative lower bound of composition-only and "
                    "structure-aware (composition-only where they disagree: '!')")
    if stability:
        notes.append(
            "window in V vs Li/Li+ from the phase diagram (pd) or the reference "
            "compound itself (exact); 'learned' where the reference does not cover it"
        )
    if "in_domain" in t.columns:
        notes.append("'?' marks compositions outside the model's applicability domain")
    below_col = "below_detection" in t.columns
    if below_col and t["below_detection"].fillna(False).astype(bool).any():
        notes.append("'<' marks an upper bound: predicted below the detection limit of the "
                     "training data")
    at_t = "log10_sigma_at_T" in t.columns and "temperature_K" in t.columns
    table = Table(
        title=f"Top {len(t)} of {len(result.table):,} candidates",
        caption="; ".join(notes),
        title_justify="left",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("#", justify="right", no_wrap=True, min_width=2)
    table.add_column("composition", no_wrap=True)
    table.add_column("log10 S/cm [90%]", no_wrap=True)
    if at_t:
        temp_k = float(t["temperature_K"].iloc[0])
        table.add_column(f"at {temp_k:g} K [90%]", no_wrap=True)
        table.add_column("Ea eV", no_wrap=True)
    if structure:
        table.add_column("structure-aware [90%]", no_wrap=True)
    if stability:
        table.add_column("window V", no_wrap=True)
    table.add_column("pass", no_wrap=True, min_width=4)

    def f(v: float) -> str:
        return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2f}"

    for _, row in t.iterrows():
        name = str(row["composition"])
        if "in_domain" in t.columns and not row["in_domain"]:
            name += " ?"
        bound = "< " if below_col and str(row["below_detection"]) == "True" else ""
        cells = [
            str(row["rank"]),
            name,
            f"{bound}{f(row['log10_sigma'])} [{f(row['log10_sigma_lower'])}, "
            f"{f(row['log10_sigma_upper'])}]",
        ]
        if at_t:
            cells.append(f"{bound}{f(row['log10_sigma_at_T'])} "
                         f"[{f(row['log10_sigma_at_T_lower'])}, "
                         f"{f(row['log10_sigma_at_T_upper'])}]")
            cells.append(f(row.get("Ea_eV")))
        if structure:
            lo, hi = row["log10_sigma_structure_lower"], row["log10_sigma_structure_upper"]
            cells.append(f"{f(row['log10_sigma_structure'])} [{f(lo)}, {f(hi)}]"
                         + (" !" if row["structure_flag"] else ""))
        if stability:
            tag = {"exact": " exact", "phase diagram": " pd", "learned": " learned"}.get(
                str(row.get("stability_source")), ""
            )
            cells.append(f"{f(row['reduction_V'])}-{f(row['oxidation_V'])}{tag}")
        cells.append("yes" if row["passes_filters"] else "no")
        table.add_row(*cells)
    console.print(table)
