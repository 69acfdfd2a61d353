"""``ssbml train``: fit models from a config or run the OBELiX benchmark, tracked with
mlflow (tracking URI: ``--tracking-uri`` > ``MLFLOW_TRACKING_URI`` > the per-user
``<user data dir>/ssbml/mlflow.db``).

Each model kind is one command (``conductivity`` now; ``stability`` can be added the
same way).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ssbml.cli.options import TRACK_FALLBACK_HELP, tracking_uri_or_exit

app = typer.Typer(help="Train models (tracked with mlflow).", no_args_is_help=True)


@app.command("conductivity")
def conductivity(
    config: Path = typer.Option(None, "--config", "-c", help="experiment TOML file"),
    benchmark: str = typer.Option(
        None, "--benchmark", help="run a named benchmark instead of a config: obelix"
    ),
    user_data: list[str] = typer.Option(
        None, "--user-data", help="extra user data set(s) (ssbml.data.user), repeatable"
    ),
    tracking_uri: str = typer.Option(None, "--tracking-uri", help="mlflow tracking URI"),
    track_fallback: str = typer.Option(None, "--track-fallback", help=TRACK_FALLBACK_HELP),
    experiment: str = typer.Option("ssbml-conductivity", "--experiment", help="mlflow experiment"),
    register: bool = typer.Option(
        True, "--register/--no-register", help="register benchmark models (alias champion)"
    ),
    as_json: bool = typer.Option(False, "--json", help="print metrics as JSON"),
) -> None:
    """Train the room-temperature conductivity model (log10 S/cm)."""
    import warnings

    from ssbml.models.conductivity.config import BENCHMARK_CONFIG, load_config
    from ssbml.models.conductivity.train import run_training

    if (config is None) == (benchmark is None):
        raise typer.BadParameter("give exactly one of --config or --benchmark")
    if benchmark is not None:
        if benchmark.lower() != "obelix":
            raise typer.BadParameter(f"unknown benchmark {benchmark!r}; available: obelix")
        cfg = BENCHMARK_CONFIG
    else:
        try:
            cfg = load_config(config)
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from exc
    if user_data:
        cfg.user_data = [*cfg.user_data, *user_data]
    tracking_uri = tracking_uri_or_exit(tracking_uri, track_fallback, hint=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_training(cfg, tracking_uri=tracking_uri, experiment=experiment,
                              register=register)
    metrics = result["metrics"]
    if as_json:
        out = {"run_id": result["run_id"], "config": cfg.name,
               "model_version": result["model_version"], "metrics": metrics}
        typer.echo(json.dumps(out, indent=2, sort_keys=True))
        return
    typer.echo(f"run {result['run_id']} ({cfg.name})")
    for key in sorted(metrics):
        typer.echo(f"  {key:28s} {metrics[key]:.4f}")


@app.command("conductivity-temperature")
def conductivity_temperature(
    tracking_uri: str = typer.Option(None, "--tracking-uri", help="mlflow tracking URI"),
    track_fallback: str = typer.Option(None, "--track-fallback", help=TRACK_FALLBACK_HELP),
    experiment: str = typer.Option(
        "ssbml-conductivity-temperature", "--experiment", help="mlflow experiment"
    ),
    features: str = typer.Option("default", "--features", help="feature set name"),
    as_json: bool = typer.Option(False, "--json", help="print metrics as JSON"),
) -> None:
    """Train the Arrhenius model (log10 S/cm at T, activation energy in eV) on Liverpool,
    evaluated with a 5-fold CV grouped by composition."""
    import warnings

    from ssbml.models.conductivity.train import run_temperature_training

    tracking_uri = tracking_uri_or_exit(tracking_uri, track_fallback, hint=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_temperature_training(
            tracking_uri=tracking_uri, experiment=experiment, features=features
        )
    metrics = result["metrics"]
    if as_json:
        typer.echo(json.dumps({"run_id": result["run_id"], "metrics": metrics}, indent=2,
                              sort_keys=True))
        return
    typer.echo(f"run {result['run_id']} (arrhenius-liverpool)")
    for key in sorted(metrics):
        typer.echo(f"  {key:32s} {metrics[key]:.4f}")
