"""``ssbml compare``: placeholder, replaced by the models work."""

import typer


def compare(experiment: str = typer.Option("ssbml-conductivity", help="mlflow experiment")) -> None:
    """Compare tracked runs (placeholder)."""
    raise typer.Exit(code=1)
