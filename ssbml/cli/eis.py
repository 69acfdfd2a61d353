"""``ssbml eis``: impedance spectra to conductivity; Arrhenius fits (placeholder)."""

import typer

app = typer.Typer(help="Impedance spectra to conductivity (S/cm) and Arrhenius fits (eV).",
                  no_args_is_help=True)
