"""``ssbml data``: list, show and fetch the registered data sets."""

from __future__ import annotations

import typer

app = typer.Typer(help="Registered data sets: list, show, fetch.", no_args_is_help=True)


@app.command("list")
def list_datasets() -> None:
    """List the registered data sets with rows, license and where each resolves."""
    from rich.console import Console
    from rich.table import Table

    from ssbml.data.registry import DATASETS, cache_dir, data_dir

    table = Table(title="ssbml data sets")
    for col in ("name", "rows", "path", "license", "local"):
        table.add_column(col)
    mirror = data_dir()
    for d in DATASETS.values():
        where = "-"
        if mirror is not None and (mirror / d.path).is_file():
            where = "SSBML_DATA_DIR"
        elif (cache_dir() / d.path).is_file():
            where = "cache"
        table.add_row(d.name, f"{d.rows:,}", d.path, d.license, where)
    Console().print(table)
