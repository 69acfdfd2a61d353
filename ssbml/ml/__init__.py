"""The machine-learning layer shared by the property models (conductivity, stability).

- :mod:`~ssbml.ml.regressors`: regressor factory, median-of-trees forests, spread;
- :mod:`~ssbml.ml.splits`: grouped (chemical-system) cross-validation splits;
- :mod:`~ssbml.ml.conformal`: split-conformal quantiles and per-family (Mondrian)
  calibration;
- :mod:`~ssbml.ml.search`: grouped hyperparameter search;
- :mod:`~ssbml.ml.metrics`: regression metrics (log10 S/cm) and per-family errors;
- :mod:`~ssbml.ml.store`: the hash-checked store of shipped models;
- :mod:`~ssbml.ml.frames`: outputs that keep the caller's index.

Modules are imported on use; this package imports nothing at import time.
"""
