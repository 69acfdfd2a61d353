"""Build hook: copy the shipped files of the top-level ``models/`` folder (``manifest.json``
and every file it lists) into the wheel as package data ``ssbml/_shipped/``.

Editable installs skip the copy: :func:`ssbml.ml.store.default_models_dir` then falls
back to the checkout's ``models/`` folder. All metadata lives in ``pyproject.toml``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
MODELS = HERE / "models"


def _listed_files(node: object) -> set[str]:
    """Every ``"file"`` value anywhere in the manifest (models, tables, ...)."""
    out: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "file" and isinstance(value, str):
                out.add(value)
            else:
                out |= _listed_files(value)
    elif isinstance(node, list):
        for value in node:
            out |= _listed_files(value)
    return out


def shipped_files() -> list[Path]:
    """``models/manifest.json`` and the files it lists; a listed file that is missing
    stops the build (a wheel without its models is not a working package)."""
    manifest = MODELS / "manifest.json"
    if not manifest.is_file():
        return []
    names = sorted(_listed_files(json.loads(manifest.read_text())))
    missing = [n for n in names if not (MODELS / n).is_file()]
    if missing:
        raise SystemExit(f"models/manifest.json lists missing file(s): {', '.join(missing)}")
    return [manifest, *(MODELS / n for n in names)]


class BuildPyWithModels(build_py):
    """``build_py`` that also copies the shipped files into ``ssbml/_shipped``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "ssbml" / "_shipped"
        target.mkdir(parents=True, exist_ok=True)
        for src in shipped_files():
            shutil.copy2(src, target / src.name)


setup(cmdclass={"build_py": BuildPyWithModels})
