"""``ssbml predict``: predictions with intervals from the shipped models."""

from __future__ import annotations

from pathlib import Path

import typer

from ssbml.cli.options import TRUST_MODEL_HELP, number, trust_models

app = typer.Typer(help="Predict with the shipped models.", no_args_is_help=True)


@app.command("conductivity")
def conductivity(
    input_csv: Path = typer.Argument(..., help="CSV with a 'composition' column"),
    output: Path = typer.Option(..., "--output", "-o", help="output CSV"),
    temperature: float = typer.Option(
        None, "--temperature", "-T", callback=number(positive=True),
        help="temperature in K (uses the Arrhenius model; default: room-temperature model)",
    ),
    alpha: float = typer.Option(
        0.1, "--alpha", callback=number(lo=0, hi=1, lo_open=True, hi_open=True),
        help="interval miscoverage (0.1 = 90%)",
    ),
    column: str = typer.Option("composition", "--column", help="formula column"),
    models_dir: Path = typer.Option(None, "--models-dir", help="folder with manifest.json"),
    model_uri: str = typer.Option(
        None, "--model-uri",
        help="registered mlflow model instead of the shipped one, e.g. "
        "models:/ssbml-conductivity@champion (registry at $MLFLOW_TRACKING_URI or the "
        "per-user store)",
    ),
    trust_model: bool = typer.Option(False, "--trust-model", help=TRUST_MODEL_HELP),
) -> None:
    """Predict log10 conductivity (log10 S/cm) with a 1-alpha interval for each row.

    Both paths give the same number at 298.15 K (the temperature model is anchored on
    the room-temperature one). ``in_domain``/``domain_reason`` flag compositions
    outside the training data; ``below_detection`` rows report ``log10_sigma_bound``
    (an upper bound, e.g. "< 1.0e-10" S/cm) instead of a value.

    Every input row appears in the output; rows that cannot be predicted have an
    ``error`` and are listed on stderr. Exit code 1 if no row could be predicted.
    """
    import pandas as pd

    from ssbml.ml.store import ModelIntegrityError, ModelNotFoundError, load_model
    from ssbml.models.conductivity.predict import predict_table

    if not 0 < alpha < 1:
        raise typer.BadParameter(f"--alpha must be in (0, 1), got {alpha}")
    if temperature is not None and not temperature > 0:
        raise typer.BadParameter(f"--temperature must be positive (K), got {temperature}")
    try:
        table = pd.read_csv(input_csv, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        typer.echo(f"error: cannot read {input_csv}: {str(exc).strip()[:200]}", err=True)
        raise typer.Exit(code=2) from exc
    name = "conductivity" if temperature is None else "conductivity-temperature"
    trust_models(trust_model)
    try:
        if model_uri:
            from ssbml.tracking.registry import check_uri_model, materialize_model_uri

            models_dir = materialize_model_uri(model_uri, base_dir=models_dir)
            check_uri_model(model_uri, models_dir, name)
        model = load_model(name, models_dir)
    except (ModelNotFoundError, ModelIntegrityError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    try:
        out, bad = predict_table(
            table, model, alpha=alpha, temperature_K=temperature, column=column
        )
    except ValueError as exc:
        typer.echo(f"error: {input_csv}: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    from ssbml.io import atomic_write_csv, shorten

    atomic_write_csv(out, output)
    n_good = len(out) - len(bad)
    typer.echo(f"wrote {n_good} prediction(s) for {len(out)} row(s) to {output}")
    if "in_domain" in out.columns:
        outside = out[out["in_domain"].eq(False)]
        for row, text, why in zip(outside.index, outside[column], outside["domain_reason"],
                                  strict=True):
            typer.echo(f"out of domain: row {row} ({column}={text!r}): {why}", err=True)
    for r in bad.itertuples(index=False):
        typer.echo(f"bad row {r.row} ({column}={shorten(r.input)}): {r.reason}", err=True)
    if n_good == 0:
        raise typer.Exit(code=1)
