"""Electrochemical impedance spectra (EIS) of solid-electrolyte pellets to conductivity.

Read and validate spectra (:mod:`~ssbml.eis.spectrum`), fit equivalent circuits with
initial guesses taken from the spectrum (:mod:`~ssbml.eis.circuits`,
:mod:`~ssbml.eis.fit`), turn resistances into conductivity (S/cm) and area-specific
resistance (ohm cm^2) (:mod:`~ssbml.eis.physics`), fit Arrhenius series (eV)
(:mod:`~ssbml.eis.arrhenius`), plot (:mod:`~ssbml.eis.plot`) and generate synthetic
spectra with known answers (:mod:`~ssbml.eis.synthetic`).
"""

from ssbml.eis.spectrum import EISInputError, Spectrum, read_spectrum

__all__ = ["EISInputError", "Spectrum", "read_spectrum"]
