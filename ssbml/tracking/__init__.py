"""mlflow helpers shared by every training and screening run.

Tracking URI precedence: explicit ``--tracking-uri`` > ``MLFLOW_TRACKING_URI`` >
one per-user sqlite file, ``sqlite:///<user data dir>/mlflow.db`` (platformdirs:
``~/.local/share/ssbml/mlflow.db`` on Linux), with artifacts in ``mlartifacts/`` beside
it. mlflow is imported inside functions so importing this package stays cheap.
"""

from ssbml.tracking.runs import *  # noqa: F403 (the public API of runs.py)
from ssbml.tracking.runs import __all__  # noqa: F401
