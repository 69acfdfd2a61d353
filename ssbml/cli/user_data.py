"""``ssbml data add``: append measured conductivities to a user data set.

Registered by :mod:`ssbml.cli.data` as ``app.command("add")(user_data.add)``. Only typer
and the standard library are imported at module level.
"""

from __future__ import annotations

import csv
import json
import math

import typer

from ssbml.cli.options import number


def _rows_from_fit_json(data: object, composition: str | None, kind: str, family: str | None,
                        doi: str | None, split: str, where: str) -> list[dict]:
    from ssbml.data.user import UserDataError
    from ssbml.eis.arrhenius import fit_json_points
    from ssbml.eis.spectrum import EISInputError

    if composition is None:
        raise UserDataError("--composition is required with the JSON output of 'ssbml eis fit'")
    try:
        points = fit_json_points(data, kind, where)
    except EISInputError as exc:
        raise UserDataError(str(exc)) from None
    return [
        {
            "composition": composition, "log10_sigma": math.log10(sigma), "temperature_K": T,
            "censored": False, "family": family, "doi": doi, "split": split,
            "provenance_file": _provenance(obj), "fit_circuit": obj.get("circuit"),
            "sigma_kind": kind,
        }
        for obj, T, sigma in points
    ]


def _provenance(obj: dict) -> str | None:
    name, digest = obj.get("file"), obj.get("file_sha256")
    name = None if name is None else str(name)
    if name and digest:
        return f"{name} sha256:{str(digest)[:16]}"
    return name


def add(
    source: str = typer.Argument(..., help="JSON from 'ssbml eis fit --json' (file, or '-' "
                                 "for stdin), or a CSV of rows in the user data schema."),
    dataset: str = typer.Option(..., "--dataset", help="User data set name (created if new)."),
    composition: str | None = typer.Option(None, "--composition",
                                           help="Formula of the measured sample (JSON input)."),
    kind: str = typer.Option("total", "--kind", help="Conductivity to store from JSON input: "
                             "total or bulk."),
    family: str | None = typer.Option(None, "--family", help="Material family (optional)."),
    doi: str | None = typer.Option(None, "--doi", help="DOI of the publication (optional)."),
    split: str = typer.Option("train", "--split", help="train or test."),
    max_input_mb: float | None = typer.Option(
        None, "--max-input-mb", callback=number(positive=True, hi=1_000_000),
        help="Largest input accepted, MiB (default 10, or $SSBML_MAX_INPUT_MB)."),
    lock_timeout: float = typer.Option(
        30.0, "--lock-timeout", callback=number(positive=True, hi=86_400),
        help="Seconds to wait for another writer of the same data set."),
) -> None:
    """Append fitted conductivities (log10 S/cm at temperature_K) to a user data set.

    Every row is validated before anything is written; exact duplicates are refused.
    Existing rows are never changed. Simultaneous writers to one data set wait for each
    other (a file lock, up to --lock-timeout seconds) and all land.
    The folder is SSBML_USER_DATA_DIR or the platform user data folder.
    """
    import pandas as pd

    from ssbml.data.user import (
        UserDataError,
        append_rows,
        check_csv_header,
        max_input_bytes,
        read_text_input,
    )
    from ssbml.io import shorten

    try:
        if kind not in ("total", "bulk"):
            raise UserDataError(f"--kind must be total or bulk, got {shorten(kind)}")
        text, where = read_text_input(source, max_bytes=max_input_bytes(max_input_mb))
        if text.lstrip().startswith(("{", "[")):
            try:
                data = json.loads(text)
            except (json.JSONDecodeError, RecursionError) as exc:
                why = str(exc) if isinstance(exc, json.JSONDecodeError) else "nested too deep"
                raise UserDataError(f"{where}: invalid JSON ({why})") from None
            rows = pd.DataFrame(_rows_from_fit_json(data, composition, kind, family, doi, split,
                                                    where))
        else:
            from io import StringIO

            check_csv_header(text, where)
            try:
                rows = pd.read_csv(StringIO(text), keep_default_na=False, na_values=[""])
            except pd.errors.EmptyDataError:
                raise UserDataError(f"{where}: no rows to add (empty file)") from None
            except (pd.errors.ParserError, csv.Error) as exc:
                raise UserDataError(f"{where}: not a valid CSV "
                                    f"({shorten(str(exc).strip(), 120)})") from None
            if composition is not None:
                raise UserDataError("--composition applies to JSON input; a CSV carries its "
                                    "own composition column")
            if "provenance_file" not in rows.columns:
                rows["provenance_file"] = where
        result = append_rows(dataset, rows, lock_timeout_s=lock_timeout,
                             on_wait=lambda msg: typer.echo(msg, err=True))
    except (UserDataError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    typer.echo(f"added {result.n_added} row(s) to user data set {dataset!r} ({result.path}); "
               f"it now has {result.n_existing + result.n_added} row(s)")
