"""Crystal-structure analysis of Li-ion conductors: bond-valence site energy (BVSE)
migration barriers (eV), Li sublattice, free volume and bottleneck sizes (Angstrom).

Heavy modules (pymatgen, bvlain, ase) are imported inside the functions.
"""

from __future__ import annotations

from ssbml.structure.bvse import (
    BVSE_SETTINGS,
    MigrationInputError,
    MigrationReport,
    migration_report,
    prepare_structure,
)

__all__ = [
    "BVSE_SETTINGS",
    "MigrationInputError",
    "MigrationReport",
    "migration_report",
    "prepare_structure",
]
