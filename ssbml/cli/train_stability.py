"""``ssbml train stability``: fit the learned interfacial-stability model (window in
V vs Li/Li+, energies in meV/atom) on the thermodynamic labels, evaluate it with a
5-fold grouped by chemical system, log the run to mlflow (experiment
``ssbml-stability``) and optionally ship it to ``models/``.

Register in the train app with ``app.command("stability")(stability)``.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ssbml.cli.options import TRACK_FALLBACK_HELP, tracking_uri_or_exit


def stability(
    tracking_uri: str = typer.Option(None, "--tracking-uri", help="mlflow tracking URI"),
    track_fallback: str = typer.Option(None, "--track-fallback", help=TRACK_FALLBACK_HELP),
    as_json: bool = typer.Option(False, "--json", help="print metrics as JSON"),
    ship: bool = typer.Option(
        False, "--ship/--no-ship", help="write models/stability.joblib and the manifest entry"
    ),
    models_dir: Path = typer.Option(
        None, "--models-dir", help="folder of shipped models (default: the repository's models/)"
    ),
    n_jobs: int = typer.Option(1, "--n-jobs", min=1, help="parallel folds (and label jobs)"),
    max_rows: int = typer.Option(
        None, "--max-rows", min=10, help="train on a random subset of this many labels"
    ),
    register: bool = typer.Option(
        True, "--register/--no-register", help="register in mlflow (alias champion if best)"
    ),
) -> None:
    """Train the learned stability model (window limits, energy above hull,
    decomposition and reaction energies) on the Materials Project labels."""
    import warnings

    from ssbml.models.stability.model import TARGETS
    from ssbml.models.stability.train import save_stability_model, train_stability_model

    tracking_uri = tracking_uri_or_exit(tracking_uri, track_fallback, hint=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = train_stability_model(
                tracking_uri=tracking_uri, max_rows=max_rows, n_jobs=n_jobs, register=register
            )
        except (ValueError, FileNotFoundError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from exc
    shipped = str(save_stability_model(result, models_dir)) if ship else None
    metrics = result["metrics"]
    if as_json:
        out = {
            "run_id": result["run_id"],
            "model_version": result["model_version"],
            "shipped": shipped,
            "n_excluded": result["n_excluded"],
            "metrics": metrics,
        }
        typer.echo(json.dumps(out, indent=2, sort_keys=True))
        return
    typer.echo(f"run {result['run_id']} ({int(metrics['n_train'])} labels, grouped 5-fold CV)")
    typer.echo(f"  {'target':32s} {'MAE':>9s} {'median':>9s} {'kNN':>9s} {'cover90':>8s}")
    for t in TARGETS:
        typer.echo(
            f"  {t:32s} {metrics[f'cv_mae_{t}']:9.3f} {metrics[f'baseline_median_mae_{t}']:9.3f}"
            f" {metrics[f'baseline_knn_mae_{t}']:9.3f} {metrics[f'cv_coverage90_{t}']:8.3f}"
        )
    typer.echo(f"  cv_mean_normalized_mae {metrics['cv_mean_normalized_mae']:.4f}")
    if shipped:
        typer.echo(f"shipped {shipped}")
