"""The property models, one package each, with ``model`` / ``train`` / ``evaluate``
modules:

- :mod:`ssbml.models.conductivity`: log10 sigma (log10 S/cm) at room temperature and
  at T (Arrhenius, Ea in eV), with conformal intervals and an applicability domain;
- :mod:`ssbml.models.stability`: the learned stability model (window limits in V vs
  Li/Li+, energies in meV/atom) for compositions the reference phase diagrams do not
  cover.

They share the ML layer :mod:`ssbml.ml`. This package imports nothing at import time.
"""
