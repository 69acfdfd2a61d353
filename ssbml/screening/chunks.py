"""A folder of screening results written chunk by chunk, atomically, so that a run
killed part way resumes and finishes with every candidate exactly once.

Layout of an output folder::

    run.json               parameters and model hashes of the run (its fingerprint)
    chunks/part-00000.parquet, part-00001.parquet, ...   one finished chunk each
    candidates.parquet     all chunks, ranked (written last)

A chunk file appears only complete (written to a temporary name in the same folder,
then renamed). A folder whose ``run.json`` describes a different run is never reused:
the user is told to choose another folder.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from ssbml.errors import SsbmlError
from ssbml.io import atomic_write_parquet, atomic_write_text

__all__ = ["ChunkStore", "RunMismatchError", "atomic_write_parquet", "fingerprint"]


class RunMismatchError(SsbmlError, RuntimeError):
    """The output folder holds results of a different screening run."""


def fingerprint(spec: dict[str, Any]) -> str:
    """sha256 of a run's parameters (JSON, sorted keys)."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ChunkStore:
    """The chunk files of one screening run in ``folder``."""

    def __init__(self, folder: Path | str, spec: dict[str, Any], n_chunks: int) -> None:
        self.folder = Path(folder)
        self.spec = spec
        self.n_chunks = n_chunks
        self.fingerprint = fingerprint(spec)

    @property
    def chunk_dir(self) -> Path:
        return self.folder / "chunks"

    def chunk_path(self, index: int) -> Path:
        return self.chunk_dir / f"part-{index:05d}.parquet"

    def open(self) -> list[int]:
        """Create or reopen the folder; return the chunk indices still to do.

        Raises :class:`RunMismatchError` if the folder belongs to another run.
        """
        run_file = self.folder / "run.json"
        if run_file.is_file():
            existing = json.loads(run_file.read_text())
            if existing.get("fingerprint") != self.fingerprint:
                raise RunMismatchError(
                    f"{self.folder} holds a different screening run (parameters or models "
                    "differ); nothing was overwritten. Choose another output folder or "
                    "delete this one."
                )
        elif self.folder.exists() and any(self.folder.iterdir()):
            raise RunMismatchError(
                f"{self.folder} exists, is not empty and is not a screening output folder; "
                "nothing was overwritten. Choose another output folder."
            )
        else:
            payload = {"fingerprint": self.fingerprint, "n_chunks": self.n_chunks, **self.spec}
            atomic_write_text(json.dumps(payload, indent=2, default=str) + "\n", run_file)
        self._take_lock()
        # half-written temporary files of a run that was killed: never part of the result
        if self.chunk_dir.is_dir():
            for stale in self.chunk_dir.glob(".part-*.part"):
                stale.unlink(missing_ok=True)
        return [i for i in range(self.n_chunks) if not self.chunk_path(i).is_file()]

    def _take_lock(self) -> None:
        """Refuse to run while another live process screens into the same folder."""
        lock = self.folder / ".lock"
        if lock.is_file():
            try:
                pid = int(lock.read_text().strip() or 0)
            except ValueError:
                pid = 0
            if pid and pid != os.getpid() and _alive(pid):
                raise RunMismatchError(
                    f"another screening (process {pid}) is writing into {self.folder}; "
                    "wait for it to finish or choose another output folder"
                )
        atomic_write_text(str(os.getpid()), lock)

    def release(self) -> None:
        """Drop the folder lock (after the run has finished or failed)."""
        (self.folder / ".lock").unlink(missing_ok=True)

    def read_all(self) -> pd.DataFrame:
        """All chunks in order; raises if any is missing."""
        missing = [i for i in range(self.n_chunks) if not self.chunk_path(i).is_file()]
        if missing:
            raise RuntimeError(
                f"{len(missing)} chunk(s) missing in {self.chunk_dir}: {missing[:5]}"
            )
        frames = [pd.read_parquet(self.chunk_path(i)) for i in range(self.n_chunks)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
