"""Conductivity models: training, conformal intervals, the shipped-model store.

Modules are imported on use (``ssbml.models.store``, ``ssbml.models.conductivity``, ...);
this package imports nothing at import time.
"""
