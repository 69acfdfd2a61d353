"""ssbml: solid electrolytes for all-solid-state Li batteries.

Conductivity in log10 S/cm, temperatures in K, potentials in V vs Li/Li+, energies in
meV/atom unless a name says otherwise.
"""

__version__ = "0.1.0"
