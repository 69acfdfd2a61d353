"""``ssbml data``: list, show and fetch the registered data sets."""

from __future__ import annotations

import typer

from ssbml.cli import user_data as _user_data

app = typer.Typer(
    help="Registered data sets: list, show, fetch; add your own measurements.",
    no_args_is_help=True,
)
app.command("add")(_user_data.add)


@app.command("list")
def list_datasets() -> None:
    """List the registered data sets with rows, license and where each resolves."""
    from rich.table import Table

    from ssbml.cli.console import make_console
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
    make_console().print(table)


_LOADERS = {
    "obelix": ("ssbml.data.conductivity", "load_obelix"),
    "liverpool": ("ssbml.data.conductivity", "load_liverpool"),
    "obelix-cifs": ("ssbml.data.structures", "obelix_structure_index"),
}


@app.command("show")
def show(
    name: str = typer.Argument(..., help="Data set name (see `ssbml data list`)."),
    rows: int = typer.Option(5, "--rows", "-n", min=0, help="How many rows to print."),
) -> None:
    """Rows, columns, source, license and citation of a data set, and its first rows."""
    import importlib

    import pandas as pd

    from ssbml.cli.console import make_console
    from ssbml.data.registry import fetch, get_dataset

    console = make_console()
    try:
        dataset = get_dataset(name)
    except KeyError as err:
        console.print(f"[red]error:[/red] {err.args[0]}")
        raise typer.Exit(code=2) from None
    path = _fetch_or_exit(console, fetch, name)
    if name in _LOADERS:
        module, func = _LOADERS[name]
        df = getattr(importlib.import_module(module), func)()
        kind = "tidy ssbml schema"
    else:
        df = pd.read_csv(path, encoding="utf-8-sig")
        kind = "raw file"
    console.print(f"[bold]{dataset.name}[/bold]: {dataset.description}")
    console.print(f"file: {path}")
    console.print(f"source: {dataset.url}")
    console.print(f"sha256: {dataset.sha256}")
    console.print(f"license: {dataset.license}")
    console.print(f"cite: {dataset.citation}")
    console.print(
        f"{len(df):,} rows x {df.shape[1]} columns ({kind}): {', '.join(map(str, df.columns))}"
    )
    if rows:
        with pd.option_context("display.width", 200, "display.max_columns", 12):
            console.print(df.head(rows).to_string(), markup=False, highlight=False)


def _fetch_or_exit(console, fetch, name: str):
    from ssbml.data.registry import DataHashError, DataNotFoundError

    try:
        return fetch(name)
    except (DataNotFoundError, DataHashError) as err:
        console.print(f"[red]error:[/red] {err}", markup=True, highlight=False)
        raise typer.Exit(code=1) from None


@app.command("fetch")
def fetch_cmd(
    names: list[str] = typer.Argument(None, help="Data set names; all when omitted."),
) -> None:
    """Resolve (and if needed download and verify) data sets; print where each lives."""
    from ssbml.cli.console import make_console
    from ssbml.data.registry import DATASETS, fetch, get_dataset

    console = make_console()
    for name in names or list(DATASETS):
        try:
            get_dataset(name)
        except KeyError as err:
            console.print(f"[red]error:[/red] {err.args[0]}")
            raise typer.Exit(code=2) from None
        path = _fetch_or_exit(console, fetch, name)
        console.print(f"{name}: {path} [green](sha256 verified)[/green]")
