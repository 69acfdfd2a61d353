"""The ``ssbml`` command line: a thin layer over the Python API.

Sub-command modules import only typer at import time; pymatgen, pandas, mlflow and
dask are imported inside the commands, so ``ssbml --help`` answers fast.

Any :class:`ssbml.errors.SsbmlError` a command does not handle itself ends in one line
``error: message`` on stderr and exit code 2 (no traceback).
"""

from __future__ import annotations

import typer
from typer.core import TyperGroup

from ssbml.cli import compare as _compare
from ssbml.cli import data as _data
from ssbml.cli import eis as _eis
from ssbml.cli import migration as _migration
from ssbml.cli import predict as _predict
from ssbml.cli import screen as _screen
from ssbml.cli import stability as _stability
from ssbml.cli import train as _train
from ssbml.cli import train_stability as _train_stability
from ssbml.errors import SsbmlError


class _Group(TyperGroup):
    """The root command group: turns an unhandled :class:`SsbmlError` into one line."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except SsbmlError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from None


app = typer.Typer(
    cls=_Group,
    name="ssbml",
    help=(
        "Solid electrolytes for all-solid-state Li batteries: conductivity (log10 S/cm) "
        "and interfacial stability (V vs Li/Li+, meV/atom) from composition."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("screen")(_screen.screen)
app.add_typer(_data.app, name="data")
app.add_typer(_eis.app, name="eis")
app.command("stability")(_stability.stability)
_train.app.command("stability")(_train_stability.stability)
app.add_typer(_train.app, name="train")
app.add_typer(_predict.app, name="predict")
app.command("compare")(_compare.compare)
app.command("migration")(_migration.migration)


def main() -> None:
    """Console-script entry point."""
    app()
