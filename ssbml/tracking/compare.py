"""Tabulate and chart the tracked runs of an experiment."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["compare_runs", "comparison_plot"]


def compare_runs(
    experiment: str, metric: str = "test_mae", *, tracking_uri: str | None = None,
    ascending: bool = True,
) -> pd.DataFrame:
    """One row per finished run of ``experiment`` sorted by ``metric`` (runs without it
    last): run_id, run_name, start time, the metric and the other headline metrics."""
    import mlflow

    from ssbml.tracking.runs import resolve_tracking_uri

    uri = resolve_tracking_uri(tracking_uri)
    mlflow.set_tracking_uri(uri)
    exp = mlflow.get_experiment_by_name(experiment)
    if exp is None:
        names = sorted(e.name for e in mlflow.search_experiments())
        known = ", ".join(repr(n) for n in names) if names else "none (no run tracked yet)"
        raise ValueError(
            f"no mlflow experiment named {experiment!r} at {uri}; experiments there: {known}"
        )
    runs = mlflow.search_runs([exp.experiment_id], output_format="pandas")
    if runs.empty:
        return pd.DataFrame(columns=["run_id", "run_name", metric])
    runs = runs[runs["status"] == "FINISHED"]
    metric_cols = [c for c in runs.columns if c.startswith("metrics.")]
    if f"metrics.{metric}" not in runs.columns:
        known = sorted(c.removeprefix("metrics.") for c in metric_cols)
        raise ValueError(f"no run of {experiment!r} has metric {metric!r} (known: {known})")
    out = pd.DataFrame({
        "run_id": runs["run_id"].str[:8],
        "run_name": runs.get("tags.mlflow.runName", pd.Series("", index=runs.index)),
        "start_time": pd.to_datetime(runs["start_time"]).dt.strftime("%Y-%m-%d %H:%M"),
    })
    headline = [metric] + [m for m in ("test_mae", "test_rmse", "test_r2", "test_spearman",
                                       "test_roc_auc_superionic", "test_coverage90", "cv_mae")
                           if m != metric]
    for m in headline:
        if f"metrics.{m}" in runs.columns:
            out[m] = runs[f"metrics.{m}"].to_numpy()
    return out.sort_values(metric, ascending=ascending, na_position="last").reset_index(drop=True)


def comparison_plot(table: pd.DataFrame, metric: str, path: Path, *, title: str = "") -> Path:
    """Bar chart of ``metric`` per run (best first), saved as PNG at ``path``."""
    from ssbml.tracking.plots import bar_chart

    t = table.dropna(subset=[metric]).head(30).copy()
    t["label"] = t["run_name"].astype(str) + " (" + t["run_id"] + ")"
    fig = bar_chart(t, "label", metric, title=title or f"runs by {metric}", xlabel=metric)
    path = Path(path)
    from ssbml.io import atomic_savefig

    atomic_savefig(fig, path)
    return path
