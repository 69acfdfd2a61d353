"""Safe file output and short messages: the one atomic-write helper of ssbml.

Every file ssbml writes (user data sets, the model store and its manifest, screening
chunks, ``candidates.parquet``, ``report.html``, ``rejected.csv``, plots) goes through
:func:`atomic_write`: the content is written to a temporary file in the same folder,
flushed and ``fsync``-ed, given mode ``0666 & ~umask`` (what a plain ``open`` would
give; ``mkstemp`` alone gives 0600), then renamed over the target with ``os.replace``
and the folder entry is ``fsync``-ed. A reader, or a writer killed at any moment, sees
either the old file or the new one, never a partial one; a killed writer leaves at
most a hidden ``.<name>.*.part`` file beside the target.

:func:`shorten` is the one place messages cut long values: at most the first
:data:`SHOW_CHARS` characters of a value plus its length.

Only the standard library and :mod:`ssbml.errors` are imported at module level
(pandas, matplotlib, joblib are imported by the functions that need them).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from ssbml.errors import SsbmlError

__all__ = [
    "SHOW_CHARS",
    "OutputPathError",
    "atomic_joblib_dump",
    "atomic_savefig",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_csv",
    "atomic_write_parquet",
    "atomic_write_text",
    "inside",
    "json_safe",
    "shorten",
]

SHOW_CHARS = 60
"""Most characters of one value that a message shows (the length is given too)."""


class OutputPathError(SsbmlError, ValueError):
    """An output path taken from an input would land outside the output folder."""


def shorten(value: object, limit: int = SHOW_CHARS) -> str:
    """``repr`` of ``value`` if its text is at most ``limit`` characters, else the repr
    of its first ``limit`` characters followed by ``... (N characters)``."""
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(value) if isinstance(value, str) else text
    return f"{text[:limit]!r}... ({len(text):,} characters)"


def _umask() -> int:
    """The process umask (from /proc where it can be read without changing it)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # os.umask can only be read by setting it; restore at once
    os.umask(mask)
    return mask


@contextmanager
def atomic_write(path: str | Path, mode: str = "w", **open_kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside ``path`` for writing (``mode`` ``"w"`` or ``"wb"``);
    on a clean exit it is fsync-ed and renamed over ``path``; on an exception it is
    removed and ``path`` is untouched. Creates missing parent folders."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        if "b" not in mode:
            open_kwargs.setdefault("encoding", "utf-8")
        with os.fdopen(fd, mode, **open_kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def atomic_write_text(text: str, path: str | Path) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_write(path, "w", newline="") as fh:
        fh.write(text)


def atomic_write_bytes(data: bytes, path: str | Path) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb") as fh:
        fh.write(data)


def atomic_write_csv(df: Any, path: str | Path, **to_csv_kwargs: Any) -> None:
    """Write a DataFrame as CSV (no index unless asked) to ``path`` atomically."""
    to_csv_kwargs.setdefault("index", False)
    with atomic_write(path, "w", newline="") as fh:
        df.to_csv(fh, **to_csv_kwargs)


def atomic_write_parquet(df: Any, path: str | Path) -> None:
    """Write a DataFrame as Parquet (no index) to ``path`` atomically."""
    with atomic_write(path, "wb") as fh:
        df.to_parquet(fh, index=False)


def atomic_savefig(fig: Any, path: str | Path, **savefig_kwargs: Any) -> None:
    """Save a matplotlib figure to ``path`` atomically (format from the suffix)."""
    path = Path(path)
    savefig_kwargs.setdefault("format", (path.suffix.lstrip(".") or "png").lower())
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, **savefig_kwargs)


def atomic_joblib_dump(obj: Any, path: str | Path, **dump_kwargs: Any) -> None:
    """``joblib.dump`` to ``path`` atomically."""
    import joblib

    with atomic_write(path, "wb") as fh:
        joblib.dump(obj, fh, **dump_kwargs)


def inside(folder: str | Path, name: str | Path) -> Path:
    """``folder / name``, refusing (:class:`OutputPathError`) a name that is absolute,
    holds ``..`` or otherwise resolves outside ``folder``: output names taken from
    input files never write outside the output folder."""
    folder = Path(folder)
    target = folder / name
    base = folder.resolve()
    resolved = target.resolve()
    if Path(name).is_absolute() or (resolved != base and base not in resolved.parents):
        raise OutputPathError(
            f"output name {shorten(str(name))} would write outside {folder}; refused"
        )
    return target


def json_safe(value: Any) -> Any:
    """A JSON-ready copy: NaN and infinity become None (null), tuples become lists."""
    import math

    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
