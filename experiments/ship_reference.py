"""Write the shipped phase-diagram reference table ``models/mp_reference.parquet``.

Derived by ssbml's own code (:func:`ssbml.data.thermo.load_mp_formation_energies`)
from the registry file ``mp-e-form`` (Matbench ``matbench_mp_e_form``): the lowest DFT
formation energy (eV/atom) per reduced formula, elements at 0 eV/atom, with the
columns the chemical-system lookups need. Records its sha256, source, license and the
source file's sha256 in ``models/manifest.json`` under ``data``.

    SSBML_DATA_DIR=../shared/data python experiments/ship_reference.py
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ssbml.data.registry import file_sha256, get_dataset
from ssbml.data.thermo import SHIPPED_NAME, load_mp_formation_energies
from ssbml.ml.store import MANIFEST, default_models_dir, read_manifest


def main() -> None:
    folder = default_models_dir()
    table = load_mp_formation_energies(use_cache=False)
    path = folder / "mp_reference.parquet"
    tmp = path.with_suffix(".tmp")
    table.to_parquet(tmp, index=False, compression="zstd", compression_level=19)
    tmp.replace(path)
    ds = get_dataset("mp-e-form")
    manifest = read_manifest(folder)
    manifest.setdefault("data", {})[SHIPPED_NAME] = {
        "file": path.name,
        "sha256": file_sha256(path),
        "size_bytes": path.stat().st_size,
        "rows": len(table),
        "description": (
            "lowest DFT formation energy (eV/atom, GGA/GGA+U with MP corrections) per "
            "reduced formula; elements at 0 eV/atom; derived by "
            "experiments/ship_reference.py"
        ),
        "source": ds.url,
        "source_sha256": ds.sha256,
        "license": "CC BY 4.0",
        "attribution": (
            "Materials Project (Jain et al., APL Mater. 1, 011002 (2013)); Matbench "
            "matbench_mp_e_form (Dunn et al., npj Comput. Mater. 6, 138 (2020))"
        ),
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB, {len(table):,} formulas)")


if __name__ == "__main__":
    main()
