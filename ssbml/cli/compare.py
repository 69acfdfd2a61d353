"""``ssbml compare``: the tracked runs of an experiment as a sorted table and a chart."""

from __future__ import annotations

from pathlib import Path

import typer

from ssbml.cli.options import TRACK_FALLBACK_HELP, tracking_uri_or_exit


def compare(
    experiment: str = typer.Option("ssbml-conductivity", "--experiment", help="mlflow experiment"),
    metric: str = typer.Option("test_mae", "--metric", help="metric to sort by"),
    descending: bool = typer.Option(False, "--descending", help="largest first (e.g. r2)"),
    plot: Path = typer.Option(Path("comparison.png"), "--plot", help="comparison chart (PNG)"),
    tracking_uri: str = typer.Option(None, "--tracking-uri", help="mlflow tracking URI"),
    track_fallback: str = typer.Option(None, "--track-fallback", help=TRACK_FALLBACK_HELP),
    limit: int = typer.Option(50, "--limit", min=1, help="rows to print"),
) -> None:
    """Print the runs of EXPERIMENT sorted by METRIC and write a comparison plot."""
    from rich.table import Table

    from ssbml.cli.console import make_console
    from ssbml.tracking.compare import compare_runs, comparison_plot

    tracking_uri = tracking_uri_or_exit(tracking_uri, track_fallback, hint=None)
    try:
        table = compare_runs(experiment, metric, tracking_uri=tracking_uri,
                             ascending=not descending)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    if table.empty:
        typer.echo(f"experiment {experiment!r} has no finished runs", err=True)
        raise typer.Exit(code=1)
    out = Table(title=f"{experiment}: runs by {metric}")
    for col in table.columns:
        out.add_column(col, justify="right" if table[col].dtype.kind == "f" else "left")
    for row in table.head(limit).itertuples(index=False):
        out.add_row(*[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row])
    make_console().print(out)
    comparison_plot(table, metric, plot, title=f"{experiment}: {metric}")
    typer.echo(f"comparison plot: {plot}")
