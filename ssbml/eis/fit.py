"""Fit an equivalent circuit to one spectrum, with uncertainties, residuals and checks.

The circuit is evaluated by impedance.py; the optimiser is
``scipy.optimize.least_squares`` (trust-region reflective). impedance.py's own
``CustomCircuit.fit`` (scipy ``curve_fit``) works with the installed numpy, but it
fits parameters on a linear scale, where resistances (~1e3 ohm) and CPE coefficients
(~1e-10) differ by 13 orders of magnitude, and returns only standard errors. Here every
positive parameter is fitted as log10(p) and CPE exponents on a linear scale in
[0.3, 1], residuals are weighted by |Z| (proportional noise), and the full covariance
is kept so that conductivities get correct error bars. Several starts from the
spectrum-derived guess (:func:`ssbml.eis.circuits.initial_guess`) are tried; the best
is kept. For circuits of R, C, L and CPE elements the Jacobian is analytic
(:func:`ssbml.eis.circuits.compile_circuit_jacobian`), otherwise finite differences.

A fit that stops without converging, or whose residuals exceed ``max_rms_percent`` of
|Z|, raises :class:`FitError` rather than returning a wrong number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ssbml.eis.circuits import (
    ARC_ROLES,
    DEFAULT_ROLES,
    CircuitLayout,
    candidate_circuits,
    compile_circuit,
    compile_circuit_jacobian,
    detect_arcs,
    initial_guess,
    parse_circuit,
    resolve_circuit,
)
from ssbml.eis.spectrum import EISInputError, Spectrum

__all__ = ["ArcResult", "CircuitFit", "FitError", "fit_spectrum"]

_N_BOUNDS = (0.3, 1.0)
_LOG_BOUNDS = (-20.0, 15.0)
_BIC_MARGIN = 10.0
"""BIC improvement needed to add an arc not seen as a maximum of -Z'' ("very strong")."""


class FitError(EISInputError):
    """The circuit fit failed or does not describe the spectrum; the message says why."""


@dataclass(frozen=True)
class ArcResult:
    """A fitted arc: role, resistance (ohm) with standard error, CPE Q and n, effective
    (Brug) capacitance (F) and characteristic frequency (Hz)."""

    role: str
    R_name: str
    R_ohm: float
    R_err_ohm: float
    Q: float
    n: float
    C_eff_F: float
    f_peak_Hz: float


class CircuitFit:
    """Equivalent-circuit fit of an impedance spectrum.

    Parameters
    ----------
    circuit : ``"auto"`` (chosen from the arcs and tail seen in the spectrum), a preset
        name from :data:`ssbml.eis.circuits.PRESETS`, or an impedance.py circuit string.
    arcs : roles of the fitted arcs in order of decreasing characteristic frequency,
        e.g. ``("bulk", "interface")``; default bulk, gb, interface by count.
    max_rms_percent : largest accepted RMS residual, as percent of |Z|.
    max_nfev : evaluation budget per start of the optimiser.
    n_starts : starting points tried per circuit (CPE exponents 0.9, 0.8, ...; positions
        of arcs hidden under a shoulder).

    Attributes (after :meth:`fit`)
    ------------------------------
    circuit_, layout_, parameters_ (dict name -> value), stderr_ (dict), covariance_
    (in parameter units), arcs_ (list of :class:`ArcResult`, high to low frequency),
    R_series_ohm_, residuals_ (complex, (Z_fit - Z) / |Z|), rms_percent_, warnings_.
    """

    def __init__(
        self,
        circuit: str = "auto",
        arcs: tuple[str, ...] | None = None,
        max_rms_percent: float = 5.0,
        max_nfev: int = 4000,
        n_starts: int = 4,
    ) -> None:
        self.circuit = circuit
        self.arcs = arcs
        self.max_rms_percent = max_rms_percent
        self.max_nfev = max_nfev
        self.n_starts = n_starts

    # -- model -----------------------------------------------------------------------
    def _model(self, f: np.ndarray):
        fn = compile_circuit(self.circuit_)

        def stacked(p: np.ndarray) -> np.ndarray:
            z = fn(f, p)
            return np.concatenate([z.real, z.imag])

        return stacked

    def predict(self, frequency_Hz: np.ndarray) -> np.ndarray:
        """Fitted impedance (ohm, complex) at ``frequency_Hz``."""
        f = np.asarray(frequency_Hz, dtype=float)
        out = self._model(f)(self.params_)
        return out[: f.size] + 1j * out[f.size:]

    # -- fit -------------------------------------------------------------------------
    def fit(self, spectrum: Spectrum) -> CircuitFit:
        """Fit the circuit to ``spectrum``; raises :class:`FitError` on failure.

        With ``circuit="auto"`` the candidates of
        :func:`ssbml.eis.circuits.candidate_circuits` are all fitted; the circuit with as
        many arcs as maxima of -Z'' is kept unless one more arc lowers the BIC by more
        than 10 with every arc resistance determined to 20% and CPE exponents >= 0.5.
        A series inductor L0 (leads) is then tried on the chosen circuit and kept on the
        same terms (``candidates_`` lists all fits with BIC and RMS residual).
        """
        src = spectrum.source
        self.spectrum_ = spectrum
        self.features_ = detect_arcs(spectrum)
        if self.circuit == "auto":
            circuits = candidate_circuits(self.features_, src)
        else:
            circuits = [resolve_circuit(self.circuit, self.features_, src)]
        results, errors = [], []
        for circuit in circuits:
            try:
                results.append(self._fit_one(circuit))
            except FitError as exc:
                errors.append(exc)
        if not results:
            raise errors[-1] if len(errors) == 1 else FitError(
                "; ".join(str(e) for e in errors))
        m = 2 * len(spectrum)
        for r in results:
            r["bic"] = m * np.log(2 * r["res"].cost / m) + r["n_par"] * np.log(m)
        best = results[0]
        for r in results[1:]:  # a more complex circuit must earn its place
            if r["bic"] < best["bic"] - _BIC_MARGIN and self._well_determined(r):
                best = r
        if self.circuit == "auto" and not best["circuit"].startswith("L0-"):
            # lead inductance distorts the bulk arc before Z'' turns positive: try L0 too
            try:
                r = self._fit_one("L0-" + best["circuit"])
            except FitError:
                r = None
            if r is not None:
                r["bic"] = m * np.log(2 * r["res"].cost / m) + r["n_par"] * np.log(m)
                results.append(r)
                if r["bic"] < best["bic"] - _BIC_MARGIN and self._well_determined(r):
                    best = r
        self.candidates_ = [
            {"circuit": r["circuit"], "bic": float(r["bic"]), "rms_percent": r["rms"]}
            for r in results
        ]
        self.circuit_ = best["circuit"]
        self.layout_ = best["layout"]
        self._is_exp = best["is_exp"]
        self.params_ = best["p"]
        r = best["res"].fun
        n = len(spectrum)
        self.residuals_ = r[:n] + 1j * r[n:]
        self.rms_percent_ = best["rms"]
        self.warnings_: list[str] = []
        self._covariance(best["res"], best["n_par"])
        names = self.layout_.param_names
        self.parameters_ = dict(zip(names, map(float, self.params_), strict=True))
        self.stderr_ = dict(zip(names, map(float, self._stderr), strict=True))
        self._assign_arcs()
        self._check()
        return self

    def _fit_one(self, circuit: str) -> dict:
        from scipy.optimize import least_squares

        spectrum, src = self.spectrum_, self.spectrum_.source
        layout: CircuitLayout = parse_circuit(circuit)
        if self.arcs is not None:
            bad = [r for r in self.arcs if r not in ARC_ROLES]
            if bad or len(self.arcs) != len(layout.arcs):
                raise EISInputError(
                    f"arcs {list(self.arcs)}: need {len(layout.arcs)} role(s) from {ARC_ROLES} "
                    f"for circuit {layout.circuit}"
                )
        n_par = len(layout.param_names)
        f, Z = spectrum.frequency_Hz, spectrum.Z_ohm
        if 2 * f.size <= n_par + 2:
            raise FitError(f"{src}: {f.size} points are too few for {n_par} parameters")
        is_exp = layout.exponent_mask
        absz = np.abs(Z)
        is_ohm = np.array([u == "Ohm" for u in layout.param_units])
        is_h = np.array([u == "H" for u in layout.param_units])
        l_scale = absz[0] / (2 * np.pi * f[0])  # inductance with |Z| at f_max (H)
        lo = np.where(is_exp, _N_BOUNDS[0],
                      np.where(is_ohm, np.log10(1e-6 * absz.min()),
                               np.where(is_h, np.log10(1e-5 * l_scale), _LOG_BOUNDS[0])))
        hi = np.where(is_exp, _N_BOUNDS[1],
                      np.where(is_ohm, np.log10(1e3 * absz.max()),
                               np.where(is_h, np.log10(10 * l_scale), _LOG_BOUNDS[1])))
        fn = compile_circuit(layout.circuit)
        w = np.abs(Z)
        data = np.concatenate([Z.real, Z.imag]) / np.concatenate([w, w])
        weight = np.concatenate([w, w])

        def to_p(x: np.ndarray) -> np.ndarray:
            return np.where(is_exp, x, 10.0**x)

        def resid(x: np.ndarray) -> np.ndarray:
            z = fn(f, to_p(x))
            return np.concatenate([z.real, z.imag]) / weight - data

        jac_fn = compile_circuit_jacobian(layout.circuit)

        def jac(x: np.ndarray) -> np.ndarray:
            p = to_p(x)
            d = jac_fn(f, p)[1] * np.where(is_exp, 1.0, p * np.log(10))  # d/dlog10 p
            return np.concatenate([d.real, d.imag]) / weight[:, None]

        hidden = len(layout.arcs) > len(self.features_.arcs)
        starts = [(n, h) for n in (0.9, 0.8, 0.95, 0.7) for h in ((0.4, 0.8) if hidden else (0.5,))]
        best, messages = None, []
        for n_arc, pos in starts[: max(1, self.n_starts)]:
            p0 = initial_guess(layout, spectrum, self.features_, n_arc=n_arc, hidden_position=pos)
            x0 = np.where(is_exp, p0, np.log10(np.maximum(p0, 1e-300)))
            x0 = np.clip(x0, lo + 1e-9, hi - 1e-9)
            with np.errstate(all="ignore"):
                res = least_squares(resid, x0, jac=jac if jac_fn else "2-point",
                                    bounds=(lo, hi), method="trf", max_nfev=self.max_nfev)
            messages.append(res.message)
            if res.status > 0 and np.all(np.isfinite(res.fun)):
                if best is not None and abs(res.cost - best.cost) <= 1e-6 * best.cost:
                    break  # a second start found the same minimum
                if best is None or res.cost < best.cost:
                    best = res
        if best is None:
            raise FitError(f"{src}: fit of {layout.circuit} did not converge from any of "
                           f"{len(messages)} starts ({messages[-1]})")
        rms = float(100 * np.sqrt(np.mean(best.fun**2)))
        if rms > self.max_rms_percent:
            raise FitError(
                f"{src}: circuit {layout.circuit} does not describe the spectrum: RMS residual "
                f"{rms:.2g}% of |Z| exceeds {self.max_rms_percent:g}%; try another "
                "--circuit (e.g. add an arc or a tail) or check the data"
            )
        return {"circuit": layout.circuit, "layout": layout, "is_exp": is_exp,
                "p": to_p(best.x), "res": best, "rms": rms, "n_par": n_par}

    @staticmethod
    def _well_determined(result: dict) -> bool:
        """Every arc of a candidate has R known to 20% and a CPE exponent >= 0.5."""
        res, layout, p = result["res"], result["layout"], result["p"]
        J = res.jac
        s2 = 2 * res.cost / max(J.shape[0] - result["n_par"], 1)
        try:
            cov = np.linalg.inv(J.T @ J) * s2
        except np.linalg.LinAlgError:
            return False
        names = list(layout.param_names)
        for arc in layout.arcs:
            i = names.index(arc.R)
            # parameters are fitted as log10: relative error of R = ln(10) * sd(log10 R)
            if not np.isfinite(cov[i, i]) or np.log(10) * np.sqrt(abs(cov[i, i])) > 0.2:
                return False
            if arc.n and p[names.index(arc.n)] < 0.5:
                return False
        return True

    def _covariance(self, res, n_par: int) -> None:
        J = res.jac
        dof = max(J.shape[0] - n_par, 1)
        s2 = 2 * res.cost / dof
        _, sv, vt = np.linalg.svd(J, full_matrices=False)
        tol = np.finfo(float).eps * max(J.shape) * sv[0]
        keep = sv > tol
        cov_x = (vt[keep].T / sv[keep] ** 2) @ vt[keep] * s2
        if not keep.all():
            bad = np.abs(vt[~keep]).max(axis=0) > 0.1
            names = [n for n, b in zip(self.layout_.param_names, bad, strict=True) if b]
            self.warnings_.append(f"parameters not determined by the data: {names}")
            cov_x[np.ix_(bad, bad)] = np.inf
        d = np.where(self._is_exp, 1.0, self.params_ * np.log(10))
        self.covariance_ = cov_x * np.outer(d, d)
        self._stderr = np.sqrt(np.abs(np.diag(self.covariance_)))

    def _assign_arcs(self) -> None:
        p = self.parameters_
        raw = []
        for arc in self.layout_.arcs:
            R, Q = p[arc.R], p[arc.Q]
            n = p[arc.n] if arc.n else 1.0
            tau = (R * Q) ** (1 / n)
            raw.append((1 / (2 * np.pi * tau), arc, R, Q, n, tau / R))
        raw.sort(key=lambda t: -t[0])
        roles = self.arcs or DEFAULT_ROLES.get(len(raw), ("other",) * len(raw))
        self.arcs_ = [
            ArcResult(role, arc.R, R, self.stderr_[arc.R], Q, n, C, fp)
            for role, (fp, arc, R, Q, n, C) in zip(roles, raw, strict=True)
        ]
        self.R_series_ohm_ = float(sum(p[r] for r in self.layout_.series_R))
        self.R_series_err_ohm_ = float(np.sqrt(sum(self.stderr_[r] ** 2
                                                   for r in self.layout_.series_R)))

    def _check(self) -> None:
        f = self.spectrum_.frequency_Hz
        inductive = int(np.argmax(self.spectrum_.Z_ohm.imag <= 0))
        has_l = any(u == "H" for u in self.layout_.param_units)
        if inductive > 0 and not has_l:
            self.warnings_.append(
                f"{inductive} point(s) at the high-frequency end are inductive (Z'' > 0, "
                f"above {f[inductive - 1]:.3g} Hz), which the circuit cannot describe; crop "
                "them (--f-max-hz) or add a series inductor (L0-...) to the circuit"
            )
        for a in self.arcs_:
            if a.f_peak_Hz > f[0] or a.f_peak_Hz < f[-1]:
                self.warnings_.append(
                    f"{a.role} arc ({a.R_name}) peaks at {a.f_peak_Hz:.3g} Hz, outside the "
                    f"measured {f[-1]:.3g}-{f[0]:.3g} Hz; its resistance is extrapolated"
                )
            if a.R_err_ohm > 0.2 * a.R_ohm:
                self.warnings_.append(
                    f"{a.role} resistance {a.R_name} = {a.R_ohm:.4g} +/- {a.R_err_ohm:.2g} ohm "
                    "is poorly determined (>20%)"
                )
        bulk = [a for a in self.arcs_ if a.role == "bulk"]
        if bulk and self.R_series_ohm_ > 0.1 * bulk[0].R_ohm:
            self.warnings_.append(
                f"series resistance {self.R_series_ohm_:.3g} ohm is >10% of the bulk "
                f"resistance {bulk[0].R_ohm:.3g} ohm: part of the bulk arc may lie above the "
                "highest frequency"
            )

    def arc(self, role: str) -> ArcResult | None:
        """The fitted arc with ``role`` (bulk, gb, interface), or None."""
        return next((a for a in self.arcs_ if a.role == role), None)

    def covariance_of(self, names: list[str]) -> np.ndarray:
        """Covariance block (parameter units) of the named parameters."""
        idx = [self.layout_.param_names.index(n) for n in names]
        return self.covariance_[np.ix_(idx, idx)]


def fit_spectrum(spectrum: Spectrum, circuit: str = "auto", **kwargs) -> CircuitFit:
    """Convenience: ``CircuitFit(circuit, **kwargs).fit(spectrum)``."""
    return CircuitFit(circuit=circuit, **kwargs).fit(spectrum)
