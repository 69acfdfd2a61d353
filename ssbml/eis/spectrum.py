"""Read and validate impedance spectra; detect the sign convention of the imaginary part.

A :class:`Spectrum` holds frequencies (Hz) and complex impedances (ohm) in the physics
convention ``Z = Z' + j Z''`` where a capacitive arc has ``Z'' < 0``. Files may store
``Z''`` or ``-Z''``; :func:`read_spectrum` finds out which from the column header (a
leading minus sign) or, failing that, from the sign of the data (the arcs of an ion
conductor are capacitive, so most ``Z''`` values are negative) and says which it used.

Every spectrum is validated: at least :data:`MIN_POINTS` points, finite numbers,
positive, strictly monotonic frequencies without duplicates. Errors name the file,
the data row (1-based) and the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ssbml.data.registry import file_sha256
from ssbml.errors import SsbmlError

__all__ = [
    "CONVENTIONS",
    "INSTRUMENTS",
    "MIN_POINTS",
    "EISInputError",
    "Spectrum",
    "crop",
    "parse_temperature",
    "read_spectrum",
    "validate_spectrum",
]

MIN_POINTS = 10
"""Fewest frequency points accepted in a spectrum."""

CONVENTIONS = ("auto", "Z''", "-Z''")
"""How the imaginary column is stored: detect, ``Z''`` (negative arcs), ``-Z''``."""

INSTRUMENTS = (
    "csv", "gamry", "autolab", "parstat", "zplot", "versastudio", "powersuite", "biologic",
    "chinstruments",
)
"""Input formats: a CSV table, or an instrument format read by impedance.py."""


class EISInputError(SsbmlError, ValueError):
    """A spectrum or measurement that cannot be used; the message names where and why."""


@dataclass(frozen=True)
class Spectrum:
    """One impedance spectrum, frequencies in decreasing order.

    Attributes
    ----------
    frequency_Hz : (n,) float array, strictly decreasing, > 0.
    Z_ohm : (n,) complex array, ``Z' + j Z''`` with capacitive ``Z'' < 0``.
    source : where it came from (file path or a label).
    convention : how the file stored the imaginary part, ``"Z''"`` or ``"-Z''"``.
    convention_note : how the convention was decided (header, data signs, user).
    temperature_K : measurement temperature (K) or None.
    meta : extra facts, e.g. ``sha256`` of the file read.
    """

    frequency_Hz: np.ndarray
    Z_ohm: np.ndarray
    source: str = "<array>"
    convention: str = "Z''"
    convention_note: str = "given as complex Z"
    temperature_K: float | None = None
    meta: dict = field(default_factory=dict)

    @classmethod
    def from_arrays(
        cls,
        frequency_Hz: np.ndarray,
        Z_ohm: np.ndarray,
        *,
        source: str = "<array>",
        temperature_K: float | None = None,
        convention: str = "Z''",
        convention_note: str = "given as complex Z",
    ) -> Spectrum:
        """Validate arrays and return a spectrum sorted by decreasing frequency."""
        f, Z = validate_spectrum(frequency_Hz, Z_ohm, source=source)
        if temperature_K is not None and not (np.isfinite(temperature_K) and temperature_K > 0):
            raise EISInputError(f"{source}: temperature_K must be > 0 K, got {temperature_K!r}")
        return cls(f, Z, source, convention, convention_note,
                   None if temperature_K is None else float(temperature_K), {})

    def __len__(self) -> int:
        return len(self.frequency_Hz)


def validate_spectrum(
    frequency_Hz: np.ndarray, Z_ohm: np.ndarray, *, source: str = "<array>"
) -> tuple[np.ndarray, np.ndarray]:
    """Check a spectrum and return (f, Z) in decreasing frequency order.

    Raises :class:`EISInputError` naming the 1-based data row and field for: fewer than
    :data:`MIN_POINTS` points, NaN or infinite values, non-positive frequencies, duplicate
    frequencies, and frequencies that are not monotonic (unsorted files are refused
    rather than silently reordered, since they usually mean merged or corrupted sweeps).
    """
    f = np.asarray(frequency_Hz, dtype=float).ravel()
    Z = np.asarray(Z_ohm, dtype=complex).ravel()
    if f.shape != Z.shape:
        raise EISInputError(f"{source}: {f.size} frequencies but {Z.size} impedances")
    if f.size < MIN_POINTS:
        raise EISInputError(
            f"{source}: too few points ({f.size}); a fit needs at least {MIN_POINTS} frequencies"
        )
    for name, values in (("frequency_Hz", f), ("Z' (ohm)", Z.real), ("Z'' (ohm)", Z.imag)):
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise EISInputError(
                f"{source}: row {bad[0] + 1} field {name} is {values[bad[0]]!r} "
                f"({bad.size} non-finite value(s) in total)"
            )
    bad = np.flatnonzero(f <= 0)
    if bad.size:
        raise EISInputError(f"{source}: row {bad[0] + 1} field frequency_Hz = {f[bad[0]]!r} "
                            "is not > 0 Hz")
    d = np.diff(f)
    dup = np.flatnonzero(d == 0)
    if dup.size:
        i = dup[0]
        raise EISInputError(
            f"{source}: rows {i + 1} and {i + 2} have the same frequency_Hz {f[i]!r} "
            f"({dup.size} duplicate(s) in total)"
        )
    decreasing = d[0] < 0
    wrong = np.flatnonzero(d > 0) if decreasing else np.flatnonzero(d < 0)
    if wrong.size:
        i = wrong[0]
        order = "decreasing" if decreasing else "increasing"
        raise EISInputError(
            f"{source}: frequencies are not sorted: row {i + 2} field frequency_Hz "
            f"({f[i + 1]:g}) breaks the {order} order after row {i + 1} ({f[i]:g}); "
            "sort the sweep or split merged sweeps"
        )
    if not decreasing:
        f, Z = f[::-1], Z[::-1]
    return f.copy(), Z.copy()


_TEMP = re.compile(r"^\s*(-?\d+(?:\.\d*)?|-?\.\d+)\s*(k|c|°c|degc|kelvin|celsius)\s*$", re.I)


def parse_temperature(text: str | float | None) -> float | None:
    """Parse ``"298.15K"``, ``"25C"`` or ``"25 °C"`` to kelvin; a bare number is refused."""
    if text is None:
        return None
    m = _TEMP.match(str(text))
    if not m:
        raise EISInputError(
            f"temperature {text!r}: give a number with a unit, e.g. '298.15K' or '25C'"
        )
    value = float(m.group(1))
    kelvin = value if m.group(2).lower() in ("k", "kelvin") else value + 273.15
    if kelvin <= 0:
        raise EISInputError(f"temperature {text!r} is not above 0 K")
    return round(kelvin, 6)


_FREQ_NAMES = re.compile(r"^(f|freq|frequency)([_(\[/]|$)", re.I)
_REAL_NAMES = re.compile(r"^(z'|zre|z_re|zreal|z_real|re\(z\)|re_z|real|z1)", re.I)
_IMAG_NAMES = re.compile(r"^(-|minus|neg)?\s*(z''|z\"|zim|z_im|zimag|z_imag|im\(z\)|im_z|imag|z2)",
                         re.I)


def _find_columns(columns: list[str], source: str) -> tuple[int, int, int, bool | None]:
    """Positions of frequency, real and imaginary columns, and whether imag is ``-Z''``."""
    norm = [str(c).strip().replace(" ", "").replace("\u2212", "-").replace("\u2032", "'")
            .replace("\u2033", "''") for c in columns]
    fi = [i for i, c in enumerate(norm) if _FREQ_NAMES.match(c)]
    ri = [i for i, c in enumerate(norm) if _REAL_NAMES.match(c) and not _IMAG_NAMES.match(c)]
    ii = [i for i, c in enumerate(norm) if _IMAG_NAMES.match(c)]
    if not (fi and ri and ii):
        raise EISInputError(
            f"{source}: cannot tell the frequency (Hz), Z' and Z'' (ohm) columns apart in "
            f"header {list(columns)}; name them e.g. frequency_Hz, Z'_ohm, -Z''_ohm or give "
            "three columns without a header"
        )
    m = _IMAG_NAMES.match(norm[ii[0]])
    negated = bool(m.group(1)) if m else None
    return fi[0], ri[0], ii[0], negated


def _read_csv_table(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool | None]:
    import pandas as pd

    source = str(path)
    text_lines = [ln for ln in path.read_text(errors="replace").splitlines()
                  if ln.strip() and not ln.lstrip().startswith("#")]
    if not text_lines:
        raise EISInputError(f"{source}: no data lines")
    first = text_lines[0]
    has_header = bool(re.search(r"[A-DF-Za-df-z]", first))  # letters other than 'e'/'E'
    sep = "\t" if "\t" in first else (";" if ";" in first and "," not in first else ",")
    if sep == "," and "," not in first:
        sep = r"\s+"
    try:
        df = pd.read_csv(path, sep=sep, comment="#", header=0 if has_header else None,
                         engine="python", skip_blank_lines=True)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise EISInputError(f"{source}: not a readable CSV table ({exc})") from exc
    if has_header:
        fi, ri, ii, negated = _find_columns(list(df.columns), source)
    else:
        if df.shape[1] < 3:
            raise EISInputError(f"{source}: expected 3 columns (frequency Hz, Z', Z'' ohm), "
                                f"found {df.shape[1]}")
        fi, ri, ii, negated = 0, 1, 2, None
    out = []
    for col, name in ((fi, "frequency_Hz"), (ri, "Z' (ohm)"), (ii, "Z'' (ohm)")):
        raw = df.iloc[:, col]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(np.isnan(values) & raw.notna().to_numpy()
                             & (raw.astype(str).str.strip().str.lower() != "nan").to_numpy())
        if bad.size:
            raise EISInputError(f"{source}: row {bad[0] + 1} field {name} = "
                                f"{raw.iloc[bad[0]]!r} is not a number")
        out.append(values)
    return out[0], out[1], out[2], negated


def read_spectrum(
    path: str | Path,
    *,
    instrument: str = "csv",
    convention: str = "auto",
    temperature_K: float | None = None,
) -> Spectrum:
    """Read one spectrum file and validate it.

    Parameters
    ----------
    path : a CSV file (columns frequency (Hz), Z' (ohm), Z'' or -Z'' (ohm), with or without
        a header; comma, semicolon, tab or whitespace separated) or an instrument file.
    instrument : ``"csv"`` or one of the impedance.py readers (gamry, autolab, parstat,
        zplot, versastudio, powersuite, biologic, chinstruments), which return ``Z''``.
    convention : ``"auto"`` (header minus sign, else data signs), ``"Z''"`` or ``"-Z''"``.
    temperature_K : measurement temperature in K, stored on the spectrum.
    """
    path = Path(path)
    source = str(path)
    if convention not in CONVENTIONS:
        raise EISInputError(f"convention must be one of {CONVENTIONS}, got {convention!r}")
    if instrument not in INSTRUMENTS:
        raise EISInputError(f"instrument must be one of {INSTRUMENTS}, got {instrument!r}")
    if not path.is_file():
        raise EISInputError(f"{source}: no such file")
    if instrument == "csv":
        f, zr, zi, negated = _read_csv_table(path)
    else:
        from impedance.preprocessing import readFile

        try:
            f, Z = readFile(str(path), instrument=instrument)
        except Exception as exc:  # the readers raise many kinds of errors on bad files
            raise EISInputError(f"{source}: impedance.py {instrument} reader failed: "
                                f"{type(exc).__name__}: {exc}") from exc
        f = np.asarray(f, dtype=float)
        Z = np.asarray(Z, dtype=complex)
        zr, zi, negated = Z.real, Z.imag, False
    # Validate numbers before deciding the sign so NaN rows are reported as such.
    validate_spectrum(f, zr + 1j * zi, source=source)
    finite = zi[np.isfinite(zi)]
    frac_pos = float(np.mean(finite > 0)) if finite.size else 0.0
    if convention != "auto":
        negate = convention == "-Z''"
        note = f"set by the user ({convention})"
    elif negated is True:
        if frac_pos < 0.2:
            raise EISInputError(
                f"{source}: the imaginary column is labelled -Z'' but {100 * (1 - frac_pos):.0f}%"
                " of its values are negative, which looks like Z''; pass the convention "
                "explicitly (--convention \"Z''\" or \"-Z''\")"
            )
        negate, note = True, "header names the column -Z''"
    elif instrument != "csv":
        negate, note = False, f"impedance.py {instrument} reader returns Z''"
    else:
        negate = frac_pos > 0.5
        note = (f"from the data signs: {100 * frac_pos:.0f}% of imaginary values are positive, "
                f"so the column is {'-Z' if negate else 'Z'}''")
    Z = zr + 1j * (-zi if negate else zi)
    spec = Spectrum.from_arrays(f, Z, source=source, temperature_K=temperature_K,
                                convention="-Z''" if negate else "Z''", convention_note=note)
    spec.meta["sha256"] = file_sha256(path)
    return spec


def crop(spectrum: Spectrum, f_min_Hz: float | None = None, f_max_Hz: float | None = None
         ) -> Spectrum:
    """The points with ``f_min_Hz <= f <= f_max_Hz`` (e.g. to drop an inductive
    high-frequency tail); the result is validated again (at least MIN_POINTS)."""
    f = spectrum.frequency_Hz
    keep = np.ones(f.size, dtype=bool)
    if f_min_Hz is not None:
        keep &= f >= f_min_Hz
    if f_max_Hz is not None:
        keep &= f <= f_max_Hz
    label = f"{spectrum.source} [{f_min_Hz or f[-1]:g}-{f_max_Hz or f[0]:g} Hz]"
    out = Spectrum.from_arrays(f[keep], spectrum.Z_ohm[keep], source=spectrum.source,
                               temperature_K=spectrum.temperature_K,
                               convention=spectrum.convention,
                               convention_note=spectrum.convention_note)
    out.meta.update(spectrum.meta)
    out.meta["cropped"] = label
    return out
