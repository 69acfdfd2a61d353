"""``ssbml train``: placeholder, replaced by the models work."""

import typer

app = typer.Typer(help="train models (placeholder).", no_args_is_help=True)
