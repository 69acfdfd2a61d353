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


def screen(
    parent: str = typer.Option(
        None, "--parent", "-p", help="Parent composition, e.g. Li7La3Zr2O12."
    ),
    dopants: str = typer.Option(
        None, "--dopants", "-d", help="Comma-separated dopants, e.g. Ta,Nb,Al,Ga."
    ),
    input_file: Path = typer.Option(
        None, "--input", "-i", help="CSV/Parquet with a 'composition' column (instead of --parent)."
    ),
    site: list[str] = typer.Option(
        [], "--site", help="Force a dopant's site: DOPANT=SITE (repeatable), e.g. Al=Li."
    ),
    fractions: str = typer.Option(
        None,
        help="Comma-separated fractions of the substituted site replaced "
        "(default: 0.05 to 0.5 in steps of 0.05).",
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
    exact: bool = typer.Option(
        True,
        help="Exact stability for reference compounds (if the MP table is on this machine).",
    ),
    track: bool = typer.Option(True, help="Log the run to mlflow."),
    tracking_uri: str = typer.Option(
        None, help="mlflow tracking URI (default: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db)."
    ),
    track_fallback: str = typer.Option(None, "--track-fallback", help=TRACK_FALLBACK_HELP),
    trust_model: bool = typer.Option(False, "--trust-model", help=TRUST_MODEL_HELP),
) -> None:
    """Screen candidates for conductivity (log10 S/cm) and stability (V vs Li/Li+, meV/atom)."""
    from rich.console import Console

    console = Console()
    err = Console(stderr=True)
    if fmt not in ("parquet", "csv"):
        raise typer.BadParameter("--format must be parquet or csv")
    if (parent is None) == (input_file is None):
        err.print("[red]error:[/red] give --parent with --dopants, or --input FILE")
        raise typer.Exit(code=2)
    if parent is not None and not dopants:
        err.print("[red]error:[/red] --parent needs --dopants, e.g. --dopants Ta,Nb,Al,Ga")
        raise typer.Exit(code=2)

    if track:  # probe the tracking server before any work (seconds, not minutes)
        tracking_uri = tracking_uri_or_exit(tracking_uri, track_fallback)
    trust_models(trust_model)
    from ssbml.models.store import ModelIntegrityError, ModelNotFoundError
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
        spec = ScreenSpec(
            parent=parent,
            dopants=tuple(d.strip() for d in dopants.split(",") if d.strip()) if dopants else (),
            **grid,
            sites=_sites(site),
            max_dopants=max_dopants,
            input_file=str(input_file) if input_file else None,
            temperature_K=temperature,
            chunk_size=chunk_size,
            exact_stability=exact,
        )
        criteria = RankingCriteria(
            min_log10_sigma=min_log10_sigma,
            window_V=window_v,
            max_rxn_meV_atom=max_rxn,
            stability_objective=objective,
        )
        name = f"{parent}-{'-'.join(spec.dopants)}" if parent else Path(input_file).stem
        if out is None:
            # the default folder is named by the run's fingerprint (spec + model hashes):
            # the same command resumes, changed parameters or models get a new folder
            from ssbml.io import inside
            from ssbml.screening.run import run_fingerprint

            out = inside("ssbml-output", f"screen-{name}-{run_fingerprint(spec, models_dir)[:8]}")
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
    if stability:
        notes.append("window in V vs Li/Li+, learned unless marked 'exact'")
    if "in_domain" in t.columns:
        notes.append("'?' marks compositions outside the model's applicability domain")
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
    if stability:
        table.add_column("window V", no_wrap=True)
    table.add_column("pass", no_wrap=True, min_width=4)

    def f(v: float) -> str:
        return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2f}"

    for _, row in t.iterrows():
        name = str(row["composition"])
        if "in_domain" in t.columns and not row["in_domain"]:
            name += " ?"
        cells = [
            str(row["rank"]),
            name,
            f"{f(row['log10_sigma'])} [{f(row['log10_sigma_lower'])}, "
            f"{f(row['log10_sigma_upper'])}]",
        ]
        if stability:
            exact = " exact" if row.get("stability_source") == "exact" else ""
            cells.append(f"{f(row['reduction_V'])}-{f(row['oxidation_V'])}{exact}")
        cells.append("yes" if row["passes_filters"] else "no")
        table.add_row(*cells)
    console.print(table)
