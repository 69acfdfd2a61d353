"""mlflow helpers shared by every training and screening run.

Tracking URI precedence: explicit ``--tracking-uri`` > ``MLFLOW_TRACKING_URI`` >
``sqlite:///mlflow.db`` (mlflow's own default). mlflow is imported inside functions so
importing this package stays cheap.
"""

from ssbml.tracking.runs import (
    DEFAULT_TRACKING_URI,
    library_versions,
    log_dataframe_artifact,
    log_dataset,
    log_figure,
    log_sklearn_model,
    promote_champion,
    resolve_tracking_uri,
    standard_tags,
    start_run,
)

__all__ = [
    "DEFAULT_TRACKING_URI",
    "library_versions",
    "log_dataframe_artifact",
    "log_dataset",
    "log_figure",
    "log_sklearn_model",
    "promote_champion",
    "resolve_tracking_uri",
    "standard_tags",
    "start_run",
]
