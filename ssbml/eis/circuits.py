"""Equivalent circuits for solid-electrolyte pellets and initial guesses from the spectrum.

Circuits are impedance.py circuit strings (``R0-p(R1,CPE1)-p(R2,CPE2)-CPE3``). Each
``p(R,CPE)`` or ``p(R,C)`` block is an *arc*; after a fit the arcs are given roles in
order of decreasing characteristic frequency: bulk, grain boundary (gb), interface.
A resistor in series is the series (lead/offset) resistance; a series CPE, C or Warburg
element is the low-frequency *tail* (blocking electrode or diffusion).

:func:`detect_arcs` reads the spectrum itself: the high-frequency intercept, each arc's
apex (peak of -Z'') and the frequency there, and whether a capacitive tail follows.
:func:`initial_guess` turns that into starting parameters: an arc of resistance R with
apex height h and CPE exponent n has ``R = 2 h / tan(n pi / 4)``, and its peak
frequency gives ``Q = tau^n / R`` with ``tau = 1 / (2 pi f_peak)``.
:func:`compile_circuit` and :func:`compile_circuit_jacobian` evaluate a circuit (and its
analytic derivatives, for R, C, L and CPE elements) fast enough for many fits.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ssbml.eis.spectrum import EISInputError, Spectrum

__all__ = [
    "ARC_ROLES",
    "PRESETS",
    "Arc",
    "ArcFeatures",
    "CircuitLayout",
    "SpectrumFeatures",
    "arcs_circuit",
    "candidate_circuits",
    "compile_circuit",
    "compile_circuit_jacobian",
    "detect_arcs",
    "initial_guess",
    "parse_circuit",
    "resolve_circuit",
]

PRESETS: dict[str, str] = {
    "bulk-blocking": "R0-p(R1,CPE1)-CPE2",
    "bulk-gb-blocking": "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3",
    "bulk": "R0-p(R1,CPE1)",
    "bulk-gb": "R0-p(R1,CPE1)-p(R2,CPE2)",
    "bulk-gb-interface": "R0-p(R1,CPE1)-p(R2,CPE2)-p(R3,CPE3)",
    "bulk-gb-interface-tail": "R0-p(R1,CPE1)-p(R2,CPE2)-p(R3,CPE3)-CPE4",
    "bulk-gb-interface-warburg": "R0-p(R1,CPE1)-p(R2,CPE2)-p(R3,CPE3)-W1",
    "intercept-blocking": "R0-CPE1",
}
"""Named circuits. ``intercept-blocking`` takes the total resistance from the
high-frequency intercept when no arc is resolved."""

ARC_ROLES = ("bulk", "gb", "interface", "other")
DEFAULT_ROLES = {1: ("bulk",), 2: ("bulk", "gb"), 3: ("bulk", "gb", "interface")}

_ARC = re.compile(r"^p\((R\d+),(CPE\d+|C\d+)\)$|^p\((CPE\d+|C\d+),(R\d+)\)$")
_TAIL = re.compile(r"^(CPE|C|W|Wo|Ws)\d+$")


@dataclass(frozen=True)
class Arc:
    """One ``p(R, CPE)`` block: parameter names of R (ohm), Q and n (None for a C)."""

    R: str
    Q: str
    n: str | None


@dataclass(frozen=True)
class CircuitLayout:
    """What the parameters of a circuit mean."""

    circuit: str
    param_names: tuple[str, ...]
    param_units: tuple[str, ...]
    arcs: tuple[Arc, ...]
    series_R: tuple[str, ...]
    tail: tuple[str, ...]

    @property
    def exponent_mask(self) -> np.ndarray:
        """Boolean mask over ``param_names`` of the dimensionless CPE exponents (fitted on
        a linear scale in [0, 1]; every other parameter is fitted as its log10)."""
        return np.array([u == "" for u in self.param_units])


def _circuit_text(circuit: str) -> str:
    """The impedance.py string of a preset name or circuit string, spaces removed."""
    return PRESETS.get(circuit, circuit).replace(" ", "")


def parse_circuit(circuit: str) -> CircuitLayout:
    """Parse an impedance.py circuit string (or a preset name) into a layout."""
    from impedance.models.circuits import CustomCircuit
    from impedance.models.circuits.fitting import calculateCircuitLength

    text = _circuit_text(circuit)
    try:
        n_par = calculateCircuitLength(text)
        names, units = CustomCircuit(text, initial_guess=[1.0] * n_par).get_param_names()
    except Exception as exc:  # impedance.py raises ValueError/IndexError on bad strings
        raise EISInputError(f"circuit {circuit!r} is not a valid impedance.py circuit string "
                            f"({type(exc).__name__}: {exc}); presets: {sorted(PRESETS)}") from exc
    arcs, series_R, tail = [], [], []
    for part in _split_level(text, "-"):
        m = _ARC.match(part)
        if m:
            r, q = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
            if q.startswith("CPE"):
                arcs.append(Arc(r, f"{q}_0", f"{q}_1"))
            else:
                arcs.append(Arc(r, q, None))
        elif re.fullmatch(r"R\d+", part):
            series_R.append(part)
        elif _TAIL.fullmatch(part):
            tail.append(part)
    return CircuitLayout(text, tuple(names), tuple(units), tuple(arcs), tuple(series_R),
                         tuple(tail))


def _split_level(text: str, sep: str) -> list[str]:
    parts, depth, cur = [], 0, []
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _unchecked(element: Callable) -> Callable:
    """The function an impedance.py element decorator wraps, without its per-call type
    check (a Python loop over every frequency, half the time of a fit); the parameters
    passed here are always a list of floats and the frequencies a float array."""
    for cell in getattr(element, "__closure__", None) or ():
        inner = cell.cell_contents
        if (callable(inner) and inner is not element
                and getattr(inner, "__name__", None) == element.__name__):
            return inner
    return element


def compile_circuit(circuit: str) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A fast evaluator ``Z(f_Hz, params) -> complex ohm`` of an impedance.py circuit.

    Uses impedance.py's element functions (``circuit_elements``) but builds the
    series/parallel tree once, instead of impedance.py's per-call string ``eval``.
    """
    from impedance.models.circuits.elements import circuit_elements, get_element_from_name

    text = _circuit_text(circuit)
    counter = [0]

    def build(expr: str):
        series = _split_level(expr, "-")
        if len(series) > 1:
            subs = [build(e) for e in series]
            return lambda f, p: sum(g(f, p) for g in subs)
        if expr.startswith("p(") and expr.endswith(")"):
            subs = [build(e) for e in _split_level(expr[2:-1], ",")]
            return lambda f, p: 1.0 / sum(1.0 / g(f, p) for g in subs)
        checked = circuit_elements[get_element_from_name(expr)]
        fn = _unchecked(checked)
        start = counter[0]
        counter[0] += checked.num_params
        stop = counter[0]
        return lambda f, p: np.asarray(fn([float(v) for v in p[start:stop]], f), dtype=complex)

    tree = build(text)
    n_params = counter[0]

    def evaluate(frequency_Hz: np.ndarray, params: np.ndarray) -> np.ndarray:
        p = np.asarray(params, dtype=float)
        if p.size != n_params:
            raise ValueError(f"circuit {text} takes {n_params} parameters, got {p.size}")
        return tree(np.asarray(frequency_Hz, dtype=float), p)

    return evaluate


def _leaf_derivatives(name: str, z: np.ndarray, omega: np.ndarray,
                      p: np.ndarray) -> list[np.ndarray] | None:
    """dZ/dp of an element (one array per parameter), or None if not written out."""
    if name == "R":
        return [np.ones_like(z)]
    if name == "C":
        return [-z / p[0]]
    if name == "L":
        return [1j * omega + 0 * z]
    if name == "CPE":
        return [-z / p[0], -z * np.log(1j * omega)]
    return None


def compile_circuit_jacobian(
    circuit: str,
) -> Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None:
    """Impedance and its analytic derivatives ``(Z, dZ/dp)`` (complex, shapes (n_f,) and
    (n_f, n_params)) for circuits of R, C, L and CPE elements; None if the circuit has
    another element (then use finite differences). Z is computed with impedance.py's
    element functions, as in :func:`compile_circuit`."""
    from impedance.models.circuits.elements import circuit_elements, get_element_from_name

    text = _circuit_text(circuit)
    counter = [0]
    names = set()

    def build(expr: str):
        series = _split_level(expr, "-")
        if len(series) > 1:
            subs = [build(e) for e in series]

            def series_fn(f, w, p):
                parts = [g(f, w, p) for g in subs]
                return sum(z for z, _ in parts), sum(d for _, d in parts)
            return series_fn
        if expr.startswith("p(") and expr.endswith(")"):
            subs = [build(e) for e in _split_level(expr[2:-1], ",")]

            def parallel_fn(f, w, p):
                parts = [g(f, w, p) for g in subs]
                z = 1.0 / sum(1.0 / zi for zi, _ in parts)
                return z, sum(((z / zi) ** 2)[:, None] * di for zi, di in parts)
            return parallel_fn
        name = get_element_from_name(expr)
        names.add(name)
        checked = circuit_elements[name]
        fn = _unchecked(checked)
        start = counter[0]
        counter[0] += checked.num_params
        stop = counter[0]

        def leaf(f, w, p):
            z = np.asarray(fn([float(v) for v in p[start:stop]], f), dtype=complex)
            d = np.zeros((f.size, n_params[0]), dtype=complex)
            for k, dk in enumerate(_leaf_derivatives(name, z, w, p[start:stop])):
                d[:, start + k] = dk
            return z, d
        return leaf

    n_params = [0]
    tree = build(text)
    n_params[0] = counter[0]
    if not names <= {"R", "C", "L", "CPE"}:
        return None

    def evaluate(frequency_Hz: np.ndarray, params: np.ndarray):
        p = np.asarray(params, dtype=float)
        if p.size != n_params[0]:
            raise ValueError(f"circuit {text} takes {n_params[0]} parameters, got {p.size}")
        f = np.asarray(frequency_Hz, dtype=float)
        return tree(f, 2 * np.pi * f, p)

    return evaluate


@dataclass(frozen=True)
class ArcFeatures:
    """An arc seen in the spectrum: apex index, -Z'' there (ohm), peak frequency (Hz)."""

    index: int
    height_ohm: float
    f_peak_Hz: float
    partial: bool


@dataclass(frozen=True)
class SpectrumFeatures:
    """What :func:`detect_arcs` found: intercept (ohm), arcs (high to low f), tail."""

    intercept_ohm: float
    arcs: tuple[ArcFeatures, ...]
    tail: bool
    tail_exponent: float
    valley_Re_ohm: tuple[float, ...]
    tail_onset_Hz: float
    inductive_points: int = 0


def detect_arcs(spectrum: Spectrum, *, min_prominence: float = 0.04) -> SpectrumFeatures:
    """Find arcs (local maxima of -Z'' along the sweep) and a low-frequency tail.

    A maximum counts as an arc when its prominence is at least ``min_prominence`` times
    |Z| at the apex (noise of ~1% of |Z| gives no arcs). The sweep is padded with
    ``-Z'' = 0`` above the highest frequency, so an arc whose apex lies above the
    measured range is still found (flagged ``partial``).
    """
    from scipy.signal import find_peaks

    f = spectrum.frequency_Hz
    x, y = spectrum.Z_ohm.real, -spectrum.Z_ohm.imag
    ys = np.convolve(np.pad(y, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    padded = np.concatenate([[0.0], ys, [ys[-1]]])
    peaks, props = find_peaks(padded, prominence=0)
    arcs = []
    for p, prom in zip(peaks, props["prominences"], strict=True):
        i = p - 1
        if i < 0 or i >= len(y):
            continue
        if prom >= min_prominence * abs(spectrum.Z_ohm[i]) and y[i] > 0:
            arcs.append(ArcFeatures(int(i), float(y[i]), float(f[i]), bool(i == 0)))
    valleys = []
    for k, a in enumerate(arcs):
        end = arcs[k + 1].index if k + 1 < len(arcs) else len(y)
        seg = slice(a.index, end)
        valleys.append(float(x[seg][np.argmin(ys[seg])]))
    tail, n_tail = False, 0.8
    last = arcs[-1].index if arcs else 0
    j = last + int(np.argmin(ys[last:]))
    if len(y) - j >= 3:
        dy, dx = y[-1] - ys[j], x[-1] - x[j]
        tail = bool(dy > 0.5 * max(ys[j], 1e-12 * abs(spectrum.Z_ohm[-1])) and dy > dx)
        k = max(j, len(y) - 5)
        if len(y) - k >= 2 and np.all(y[k:] > 0):
            slope = np.polyfit(np.log(f[k:]), np.log(y[k:]), 1)[0]
            n_tail = float(np.clip(-slope, 0.4, 1.0))
    intercept = float(max(x[0] - (y[0] if arcs and arcs[0].partial else 0.0), 0.0))
    inductive = int(np.argmax(y > 0)) if np.any(y > 0) else len(y)
    return SpectrumFeatures(intercept, tuple(arcs), tail, n_tail, tuple(valleys), float(f[j]),
                            inductive)


def _put_arc(guess: dict[str, float], arc: Arc, R: float, fp: float, n_arc: float) -> None:
    R = max(R, 1e-9)
    n = n_arc if arc.n else 1.0
    tau = 1.0 / (2 * np.pi * fp)
    guess[arc.R] = R
    guess[arc.Q] = tau**n / R
    if arc.n:
        guess[arc.n] = n


def arcs_circuit(n_arcs: int, tail: bool, inductor: bool = False) -> str:
    """``R0`` in series with ``n_arcs`` R||CPE arcs and, if ``tail``, a CPE tail; with
    ``inductor`` a series ``L0`` (lead inductance) first."""
    parts = (["L0"] if inductor else []) + ["R0"] + [f"p(R{k},CPE{k})"
                                                     for k in range(1, n_arcs + 1)]
    if tail:
        parts.append(f"CPE{n_arcs + 1}")
    return "-".join(parts)


def candidate_circuits(features: SpectrumFeatures, source: str = "<spectrum>") -> list[str]:
    """Circuits worth trying for ``circuit="auto"``: as many arcs as maxima of -Z'' and
    one more (an arc hidden under a shoulder, up to 3), with a CPE tail if one is seen and
    a series inductor L0 if the highest frequencies are inductive (Z'' > 0)."""
    n, tail = len(features.arcs), features.tail
    if n == 0:
        raise EISInputError(
            f"{source}: no arc found in the spectrum (-Z'' has no maximum above noise); "
            "a bulk or grain-boundary resistance cannot be read from it. If only the "
            "electrode tail is visible, fit --circuit intercept-blocking to take the total "
            "resistance from the high-frequency intercept"
        )
    if n > 3:
        raise EISInputError(f"{source}: {n} arcs found; give the circuit with --circuit")
    ind = features.inductive_points >= 2
    return [arcs_circuit(k, tail, ind) for k in range(n, min(n + 1, 3) + 1)]


def resolve_circuit(circuit: str, features: SpectrumFeatures, source: str) -> str:
    """The circuit string of a preset name or impedance.py string, refused if it has arcs
    but the spectrum shows none (``"auto"`` is handled by :func:`candidate_circuits`)."""
    layout = parse_circuit(circuit)
    if layout.arcs and not features.arcs:
        raise EISInputError(
            f"{source}: no arc found in the spectrum (-Z'' has no maximum above noise), but "
            f"circuit {layout.circuit} has {len(layout.arcs)} arc(s); nothing to fit them to"
        )
    return layout.circuit


def initial_guess(
    layout: CircuitLayout,
    spectrum: Spectrum,
    features: SpectrumFeatures,
    *,
    n_arc: float = 0.9,
    hidden_position: float = 0.5,
) -> np.ndarray:
    """Starting parameters for ``layout`` read from the spectrum (see module docstring).

    Arcs of the circuit beyond those seen as maxima of -Z'' (hidden under a shoulder)
    are placed at ``hidden_position`` (0..1) of the log-frequency span between the last
    seen apex and the onset of the tail (or the lowest frequency), with the resistance
    left over between the arcs seen and the tail onset.
    """
    f = spectrum.frequency_Hz
    absz = np.abs(spectrum.Z_ohm)
    guess: dict[str, float] = {}
    found = list(features.arcs)
    scale = float(np.median(absz))
    seen_R = 0.0
    for k, arc in enumerate(layout.arcs[: len(found)]):
        a = found[k]
        R = 2.0 * a.height_ohm / np.tan(n_arc * np.pi / 4)
        fp = a.f_peak_Hz * (3.0 if a.partial else 1.0)
        seen_R += R
        _put_arc(guess, arc, R, fp, n_arc)
    hidden = layout.arcs[len(found):]
    if hidden:
        f_hi = found[-1].f_peak_Hz if found else f[0]
        f_lo = features.tail_onset_Hz if features.tail else f[-1]
        end_Re = features.valley_Re_ohm[-1] if features.tail and features.valley_Re_ohm else float(
            spectrum.Z_ohm.real[-1])
        left = end_Re - features.intercept_ohm - seen_R
        for j, arc in enumerate(hidden):
            pos = hidden_position * (j + 1) / len(hidden)
            fp = f_hi * (f_lo / f_hi) ** pos
            R = max(left / len(hidden), 0.1 * (seen_R or scale))
            _put_arc(guess, arc, R, fp, n_arc)
    for r in layout.series_R:
        guess[r] = max(features.intercept_ohm, 1e-3 * float(absz[0]))
    w = 2 * np.pi * f[-1]
    y_end = max(float(-spectrum.Z_ohm.imag[-1]), 1e-3 * float(absz[-1]))
    for t in layout.tail:
        n = features.tail_exponent
        if t.startswith("CPE"):
            guess[f"{t}_0"] = np.sin(n * np.pi / 2) / (w**n * y_end)
            guess[f"{t}_1"] = n
        elif t.startswith("C"):
            guess[t] = 1.0 / (w * y_end)
        elif t.startswith("W") and t[:2] not in ("Wo", "Ws"):
            guess[t] = y_end * np.sqrt(w)
        else:  # finite-length Warburg: R (ohm), tau (s)
            guess[f"{t}_0"] = 2 * y_end
            guess[f"{t}_1"] = 1.0 / w
    zi0 = float(spectrum.Z_ohm.imag[0])
    out = []
    for name, unit in zip(layout.param_names, layout.param_units, strict=True):
        if unit == "H" and name not in guess:
            guess[name] = zi0 / (2 * np.pi * f[0]) if zi0 > 0 else 1e-9
        if name in guess:
            out.append(guess[name])
        elif unit == "":
            out.append(0.8)
        elif unit == "Ohm":
            out.append(0.1 * scale)
        else:
            out.append(1e-6)
    return np.asarray(out, dtype=float)
