"""User data sets: a lab's own conductivity measurements in the training schema.

A user data set is a CSV file ``<name>.csv`` in the user data folder: the
``SSBML_USER_DATA_DIR`` environment variable if set, else
``platformdirs.user_data_dir("ssbml") / "datasets"`` (e.g.
``~/.local/share/ssbml/datasets`` on Linux). Rows follow the conductivity schema of
:mod:`ssbml.data.conductivity` (composition, log10_sigma in log10 S/cm, temperature_K,
censored, family, doi, source, split) plus provenance columns (provenance_file,
fit_circuit, added_utc, sigma_kind).

:func:`append_rows` validates every new row first (errors name the row and field),
then takes the data set's lock (``filelock``; a hidden ``.<name>.csv.lock`` beside it),
waiting up to :data:`LOCK_TIMEOUT_S` for another writer, re-reads the file, refuses rows
that exactly repeat an existing or another new row, and writes the whole file
atomically (:func:`ssbml.io.atomic_write`); existing rows are never changed, and
simultaneous writers all land, one after the other. :func:`read_text_input` reads an
input file (or stdin) as UTF-8 text within a size limit (:data:`MAX_INPUT_BYTES`,
``$SSBML_MAX_INPUT_MB``). :func:`load_user_dataset` and :func:`list_user_datasets` are what the
training code uses to include user data.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ssbml.composition import CompositionError, parse_formula
from ssbml.errors import SsbmlError
from ssbml.io import atomic_write_csv, shorten

__all__ = [
    "COLUMNS",
    "KEY_COLUMNS",
    "AppendResult",
    "UserDataError",
    "append_rows",
    "list_user_datasets",
    "load_user_dataset",
    "read_text_input",
    "user_data_dir",
    "validate_rows",
]

SCHEMA_COLUMNS = ("composition", "log10_sigma", "temperature_K", "censored", "family", "doi",
                  "source", "split")
PROVENANCE_COLUMNS = ("provenance_file", "fit_circuit", "added_utc", "sigma_kind")
COLUMNS = SCHEMA_COLUMNS + PROVENANCE_COLUMNS
"""Columns of a user data set, in file order."""
KEY_COLUMNS = tuple(c for c in COLUMNS if c != "added_utc")
"""Columns that define an exact duplicate (everything but the time it was added)."""

SIGMA_KINDS = ("bulk", "total")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
LOG10_SIGMA_RANGE = (-20.0, 2.0)
TEMPERATURE_RANGE_K = (1.0, 2000.0)
LOCK_TIMEOUT_S = 30.0
"""Longest wait for another writer of the same data set, in seconds."""
MAX_INPUT_BYTES = 10 * 1024 * 1024
"""Largest input file ``ssbml data add`` reads (10 MiB; ``$SSBML_MAX_INPUT_MB`` or
``--max-input-mb`` change it)."""
MAX_HEADER_CHARS = 4096


class UserDataError(SsbmlError, ValueError):
    """A user data row or data set that cannot be used; names the row and field."""


@dataclass(frozen=True)
class AppendResult:
    """What :func:`append_rows` did: file written, rows before, rows added."""

    path: Path
    n_existing: int
    n_added: int


def user_data_dir() -> Path:
    """Folder holding user data sets (``SSBML_USER_DATA_DIR`` or the platform data dir)."""
    env = os.environ.get("SSBML_USER_DATA_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("ssbml")) / "datasets"


def max_input_bytes(mb: float | None = None) -> int:
    """The input size limit in bytes: ``mb`` MiB, else ``$SSBML_MAX_INPUT_MB``, else
    :data:`MAX_INPUT_BYTES`."""
    if mb is None:
        env = os.environ.get("SSBML_MAX_INPUT_MB")
        if env:
            try:
                mb = float(env)
            except ValueError:
                raise UserDataError(f"SSBML_MAX_INPUT_MB = {shorten(env)}: not a number") from None
            if not (math.isfinite(mb) and 0 < mb <= 1_000_000):
                raise UserDataError(f"SSBML_MAX_INPUT_MB = {shorten(env)}: must be > 0 and "
                                    "<= 1000000 (MiB)")
    if mb is None:
        return MAX_INPUT_BYTES
    if not (math.isfinite(mb) and mb > 0):
        raise UserDataError(f"input size limit {mb!r} MiB: must be a finite number > 0")
    return int(min(mb, 1_000_000) * 1024 * 1024)


def read_text_input(source: str, *, max_bytes: int | None = None, stdin=None
                    ) -> tuple[str, str]:
    """``(text, where)`` of file ``source`` (``-``: ``stdin``'s bytes), refusing with a
    one-line :class:`UserDataError` a missing file, a file over ``max_bytes`` (checked
    before reading), text that is not UTF-8 (naming the first bad byte and its offset)
    and binary content (NUL bytes). A UTF-8 byte-order mark is dropped."""
    import sys

    limit = max_input_bytes() if max_bytes is None else max_bytes
    too_big = (f"is larger than the input limit of {limit:,} bytes; raise it with "
               "--max-input-mb or SSBML_MAX_INPUT_MB")
    if source == "-":
        where = "<stdin>"
        stream = stdin if stdin is not None else sys.stdin.buffer
        data = stream.read(limit + 1)
        if len(data) > limit:
            raise UserDataError(f"{where} {too_big}")
    else:
        where = source
        path = Path(source)
        if not path.is_file():
            raise UserDataError(f"{shorten(source)}: no such file")
        size = path.stat().st_size
        if size > limit:
            raise UserDataError(f"{where} ({size:,} bytes) {too_big}")
        data = path.read_bytes()[: limit + 1]
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserDataError(f"{where} is not UTF-8 text (byte 0x{data[exc.start]:02x} at "
                            f"offset {exc.start})") from None
    nul = text.find("\x00")
    if nul >= 0:
        raise UserDataError(f"{where} is not text (NUL byte at offset {len(text[:nul].encode())})")
    return text.removeprefix("\ufeff"), where


def check_csv_header(text: str, where: str) -> None:
    """Check the header line of a user-data CSV before pandas parses the rest: at most
    :data:`MAX_HEADER_CHARS` characters, only :data:`COLUMNS`. Linear in the text."""
    import csv

    m = re.search(r"[\r\n]", text)
    line = text if m is None else text[: m.start()]
    if len(line) > MAX_HEADER_CHARS:
        raise UserDataError(
            f"{where}: the first line is {len(line):,} characters long; expected a header "
            f"of user data columns ({', '.join(COLUMNS)})"
        )
    try:
        header = next(csv.reader([line]), [])
    except csv.Error as exc:
        raise UserDataError(f"{where}: the header line is not valid CSV ({exc})") from None
    unknown = [c for c in header if c.strip() not in COLUMNS]
    if unknown:
        shown = ", ".join(shorten(c) for c in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise UserDataError(f"{where}: unknown column(s) {shown}{more} in the header; "
                            f"allowed: {', '.join(COLUMNS)}")


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or name.endswith(".csv"):
        raise UserDataError(
            f"data set name {shorten(name)}: use 1-64 letters, digits, '_', '-' or '.', without "
            "the .csv suffix"
        )
    return name


def _path(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if p.suffix == ".csv" or p.parent != Path("."):
        return p
    return user_data_dir() / f"{_check_name(str(name_or_path))}.csv"


def _is_missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str)
                                                                    and not v.strip())


def _as_bool(v: object) -> bool | None:
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float) and v in (0, 1):
        return bool(v)
    if isinstance(v, str) and v.strip().lower() in ("true", "false", "0", "1"):
        return v.strip().lower() in ("true", "1")
    return None


def validate_rows(rows: pd.DataFrame, *, dataset: str) -> pd.DataFrame:
    """Check and normalise rows to :data:`COLUMNS`; raise :class:`UserDataError` naming
    the first bad row (1-based) and field.

    Fills ``source`` (``user:<dataset>``), ``split`` (train), ``censored`` (False) and
    ``added_utc`` (now) when absent; the composition is stored as pymatgen's reduced
    formula.
    """
    _check_name(dataset)
    if not isinstance(rows, pd.DataFrame) or rows.empty:
        raise UserDataError("no rows to add")
    unknown = [c for c in rows.columns if c not in COLUMNS]
    if unknown:
        shown = ", ".join(shorten(str(c)) for c in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        raise UserDataError(f"unknown column(s) {shown}{more}; allowed: {', '.join(COLUMNS)}")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = []
    for i, rec in enumerate(rows.to_dict("records"), start=1):
        def bad(field: str, why: str, rec=rec, i=i) -> UserDataError:
            return UserDataError(f"row {i} field {field} = {shorten(rec.get(field))}: {why}")

        row: dict = {}
        comp = rec.get("composition")
        if _is_missing(comp):
            raise bad("composition", "missing")
        try:
            row["composition"] = parse_formula(str(comp)).reduced_formula
        except CompositionError as exc:
            raise bad("composition", exc.reason) from None
        for field, (lo, hi) in (("log10_sigma", LOG10_SIGMA_RANGE),
                                ("temperature_K", TEMPERATURE_RANGE_K)):
            v = rec.get(field)
            try:
                if isinstance(v, bool):
                    raise TypeError
                fv = float(v)
            except (TypeError, ValueError, OverflowError):
                raise bad(field, "not a number") from None
            if not (math.isfinite(fv) and lo <= fv <= hi):
                raise bad(field, f"must be finite and within [{lo:g}, {hi:g}]")
            row[field] = fv
        cens = rec.get("censored", False)
        cens = False if _is_missing(cens) else _as_bool(cens)
        if cens is None:
            raise bad("censored", "must be True or False")
        row["censored"] = cens
        for field in ("family", "doi", "provenance_file", "fit_circuit"):
            v = rec.get(field)
            row[field] = "" if _is_missing(v) else str(v).strip()
            if _CONTROL.search(row[field]):
                raise bad(field, "contains a line break or control character")
        source = rec.get("source")
        row["source"] = f"user:{dataset}" if _is_missing(source) else str(source).strip()
        if not row["source"].startswith("user:"):
            raise bad("source", "user rows must have source 'user:<name>'")
        split = rec.get("split")
        row["split"] = "train" if _is_missing(split) else str(split).strip()
        if row["split"] not in ("train", "test"):
            raise bad("split", "must be train or test")
        kind = rec.get("sigma_kind")
        if _is_missing(kind) or str(kind).strip() not in SIGMA_KINDS:
            raise bad("sigma_kind", f"must be one of {SIGMA_KINDS}")
        row["sigma_kind"] = str(kind).strip()
        added = rec.get("added_utc")
        row["added_utc"] = now if _is_missing(added) else str(added)
        out.append(row)
    return pd.DataFrame(out, columns=list(COLUMNS))


def _read(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype={c: str for c in COLUMNS if c not in (
        "log10_sigma", "temperature_K", "censored")}, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise UserDataError(f"{path}: not a user data set (missing columns {missing})")
    df["censored"] = df["censored"].map(lambda v: _as_bool(v) is True)
    return df[list(COLUMNS)]


def _key(df: pd.DataFrame) -> pd.Series:
    k = df[list(KEY_COLUMNS)].copy()
    k["log10_sigma"] = k["log10_sigma"].astype(float).round(10)
    k["temperature_K"] = k["temperature_K"].astype(float).round(10)
    return k.astype(str).agg("\x1f".join, axis=1)


def _lock(path: Path, timeout_s: float, on_wait: Callable[[str], None] | None):
    """The data set's file lock, acquired (waiting up to ``timeout_s``; ``on_wait`` is
    told once if another writer holds it)."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(path.with_name(f".{path.name}.lock")))
    try:
        lock.acquire(timeout=min(0.2, timeout_s))
    except Timeout:
        if on_wait is not None:
            on_wait(f"waiting for {path}: another writer holds its lock (up to "
                    f"{timeout_s:g} s)")
        try:
            lock.acquire(timeout=timeout_s)
        except Timeout:
            raise UserDataError(f"{path} stayed locked by another writer for {timeout_s:g} s; "
                                "nothing was added, retry later") from None
    return lock


def append_rows(dataset: str, rows: pd.DataFrame, *, lock_timeout_s: float = LOCK_TIMEOUT_S,
                on_wait: Callable[[str], None] | None = None) -> AppendResult:
    """Validate ``rows`` and append them to user data set ``dataset`` (created if new).

    Raises :class:`UserDataError` (and writes nothing) if any row is invalid or exactly
    repeats an existing row or another new row. Concurrent writers wait for each other
    (up to ``lock_timeout_s``; ``on_wait`` receives a message if they have to).
    """
    new = validate_rows(rows, dataset=dataset)
    path = _path(dataset)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = _lock(path, lock_timeout_s, on_wait)
    try:
        return _append_locked(path, dataset, new)
    finally:
        lock.release()


def _append_locked(path: Path, dataset: str, new: pd.DataFrame) -> AppendResult:
    old = _read(path) if path.is_file() else pd.DataFrame(columns=list(COLUMNS))
    old_keys = set(_key(old)) if len(old) else set()
    new_keys = _key(new)
    seen: dict[str, int] = {}
    for i, k in enumerate(new_keys, start=1):
        if k in old_keys:
            raise UserDataError(f"row {i} ({new['composition'].iloc[i - 1]}, "
                                f"{new['temperature_K'].iloc[i - 1]:g} K) is already in "
                                f"data set {dataset!r} ({path}); nothing was added")
        if k in seen:
            raise UserDataError(f"row {i} repeats row {seen[k]} of the input; nothing was added")
        seen[k] = i
    combined = pd.concat([old, new], ignore_index=True) if len(old) else new
    atomic_write_csv(combined, path)
    return AppendResult(path, len(old), len(new))


def load_user_dataset(name_or_path: str | Path) -> pd.DataFrame:
    """A user data set as a DataFrame: :data:`COLUMNS` (the conductivity schema without
    ``composition_key``, plus provenance columns), family and doi None where empty and
    family as written (see :func:`ssbml.data.conductivity.normalize_family`)."""
    path = _path(name_or_path)
    if not path.is_file():
        raise UserDataError(f"no user data set {shorten(str(name_or_path))} (looked for {path}); "
                            f"available: {list_user_datasets()}")
    df = _read(path)
    df["log10_sigma"] = df["log10_sigma"].astype(float)
    df["temperature_K"] = df["temperature_K"].astype(float)
    for col in ("family", "doi"):
        df[col] = df[col].replace("", None)
    return df


def list_user_datasets() -> list[str]:
    """Names of the user data sets in :func:`user_data_dir`."""
    d = user_data_dir()
    return sorted(p.stem for p in d.glob("*.csv")) if d.is_dir() else []
