"""``ssbml predict``: placeholder, replaced by the models work."""

import typer

app = typer.Typer(help="predict models (placeholder).", no_args_is_help=True)
