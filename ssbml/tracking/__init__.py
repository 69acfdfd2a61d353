"""mlflow helpers shared by every training and screening run.

Tracking URI precedence: explicit ``--tracking-uri`` > ``MLFLOW_TRACKING_URI`` >
``sqlite:///mlflow.db`` (mlflow's own default). mlflow is imported inside functions so
importing this package stays cheap.
"""

from ssbml.tracking.runs import *  # noqa: F403 (the public API of runs.py)
from ssbml.tracking.runs import __all__  # noqa: F401
