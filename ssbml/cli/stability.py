"""``ssbml stability``: electrochemical window and interface reactions (placeholder)."""

import typer


def stability(formula: str = typer.Argument(..., help="Composition, e.g. Li3PS4")) -> None:
    """Stability window (V vs Li/Li+) and reaction energies (meV/atom) of FORMULA."""
    raise typer.Exit(code=1)
