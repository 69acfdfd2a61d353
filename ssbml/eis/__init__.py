"""Electrochemical impedance spectra (EIS) of solid-electrolyte pellets to conductivity.

Read and validate spectra (:mod:`~ssbml.eis.spectrum`), fit equivalent circuits with
initial guesses taken from the spectrum (:mod:`~ssbml.eis.circuits`,
:mod:`~ssbml.eis.fit`), turn resistances into conductivity (S/cm) and area-specific
resistance (ohm cm^2) (:mod:`~ssbml.eis.physics`), fit Arrhenius series (eV)
(:mod:`~ssbml.eis.arrhenius`), plot (:mod:`~ssbml.eis.plot`) and generate synthetic
spectra with known answers (:mod:`~ssbml.eis.synthetic`).
"""

from ssbml.eis.arrhenius import ArrheniusFit, read_arrhenius_table
from ssbml.eis.circuits import PRESETS, parse_circuit
from ssbml.eis.fit import CircuitFit, FitError, fit_spectrum
from ssbml.eis.physics import Pellet, summarize
from ssbml.eis.spectrum import EISInputError, Spectrum, crop, parse_temperature, read_spectrum

__all__ = [
    "PRESETS",
    "ArrheniusFit",
    "CircuitFit",
    "EISInputError",
    "FitError",
    "Pellet",
    "Spectrum",
    "crop",
    "fit_spectrum",
    "parse_circuit",
    "parse_temperature",
    "read_arrhenius_table",
    "read_spectrum",
    "summarize",
]
