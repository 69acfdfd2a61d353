"""How ssbml's element properties and statistics are named in matminer.

Used by the parity tests and the matminer benchmark (matminer itself is a test-only
dependency and is not imported here). Keys are ssbml property names (with units), values
matminer's names in its ``pymatgen`` or ``magpie`` data source.
"""

PYMATGEN_PROPS = {
    "atomic_number": "Z",
    "mendeleev_number": "mendeleev_no",
    "atomic_mass_amu": "atomic_mass",
    "melting_point_K": "melting_point",
    "boiling_point_K": "boiling_point",
    "group": "group",
    "row": "row",
    "atomic_radius_pm": "atomic_radius",
    "van_der_waals_radius_pm": "van_der_waals_radius",
    "average_ionic_radius_pm": "average_ionic_radius",
    "electronegativity_pauling": "X",
    "first_ionization_energy_eV": "ionization_energy",
    "electron_affinity_eV": "electron_affinity",
    "molar_volume_cm3_per_mol": "molar_volume",
}
MAGPIE_PROPS = {
    **{f"valence_{o}": f"N{o}Valence" for o in "spdf"},
    "valence_total": "NValence",
    **{f"unfilled_{o}": f"N{o}Unfilled" for o in "spdf"},
    "unfilled_total": "NUnfilled",
}
MATMINER_STATS = ["mean", "avg_dev", "minimum", "maximum", "range", "mode"]
"""matminer's statistic names, in the order of :data:`SSBML_STATS`."""
SSBML_STATS = ["mean", "avg_dev", "min", "max", "range", "mode"]
