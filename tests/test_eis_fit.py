"""Equivalent-circuit fits of synthetic spectra with known answers, physics, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from ssbml.eis.circuits import (
    PRESETS,
    compile_circuit,
    compile_circuit_jacobian,
    detect_arcs,
    parse_circuit,
)
from ssbml.eis.fit import CircuitFit, FitError, fit_spectrum
from ssbml.eis.physics import Pellet, summarize
from ssbml.eis.spectrum import EISInputError, Spectrum
from ssbml.eis.synthetic import EPS0_F_CM, cpe_q, frequencies, pellet_parameters, simulate

L_CM, A_CM2 = 0.1, 0.785
C_BULK = EPS0_F_CM * 50 * A_CM2 / L_CM  # eps_r = 50 pellet, ~35 pF
F = frequencies(1e7, 0.1, 10)


def _pellet_spectrum(sb, sg, seed, noise=0.005):
    """Blocking-electrode pellet; bulk (~35 pF) and gb (10 nF) arcs ~2 decades apart."""
    circuit, params, truth = pellet_parameters(
        sigma_bulk_S_cm=sb, sigma_gb_S_cm=sg, thickness_cm=L_CM, area_cm2=A_CM2,
        C_bulk_F=C_BULK, C_gb_F=1e-8, n_gb=0.9)
    return simulate(circuit, params, F, noise=noise, seed=seed), truth


@pytest.mark.parametrize(("sb", "sg", "seed"), [(1e-4, 1e-4, 0), (3e-5, 1e-5, 1), (1e-5, 3e-5, 2)])
def test_bulk_and_grain_boundary_recovered_within_2_percent(sb, sg, seed):
    spec, truth = _pellet_spectrum(sb, sg, seed, noise=0.005)
    fit = fit_spectrum(spec)
    assert fit.circuit_ == PRESETS["bulk-gb-blocking"]
    bulk, gb = fit.arc("bulk"), fit.arc("gb")
    assert bulk.R_ohm == pytest.approx(truth["R_bulk_ohm"], rel=0.02)
    assert gb.R_ohm == pytest.approx(truth["R_gb_ohm"], rel=0.02)
    assert 0 < bulk.R_err_ohm < 0.05 * bulk.R_ohm
    assert abs(bulk.R_ohm - truth["R_bulk_ohm"]) < 5 * bulk.R_err_ohm
    assert bulk.f_peak_Hz > gb.f_peak_Hz
    assert bulk.C_eff_F == pytest.approx(C_BULK, rel=0.3)
    out = summarize(fit, Pellet(L_CM, A_CM2))
    assert out["sigma_bulk_S_cm"] == pytest.approx(truth["sigma_bulk_S_cm"], rel=0.02)
    assert out["sigma_total_S_cm"] == pytest.approx(truth["sigma_total_S_cm"], rel=0.02)
    assert out["asr_ohm_cm2"] is None
    assert out["residual_rms_percent"] < 1.5
    assert np.abs(fit.residuals_).max() < 0.05


@pytest.mark.parametrize("seed", [10, 11])
def test_one_percent_noise_bulk_and_total_conductivity_within_2_percent(seed):
    spec, truth = _pellet_spectrum(1e-4, 2e-4, seed, noise=0.01)
    out = summarize(fit_spectrum(spec), Pellet(L_CM, A_CM2))
    assert out["sigma_bulk_S_cm"] == pytest.approx(truth["sigma_bulk_S_cm"], rel=0.02)
    assert out["sigma_total_S_cm"] == pytest.approx(truth["sigma_total_S_cm"], rel=0.02)
    # the error bar is honest: the truth lies within 4 standard errors
    assert abs(out["sigma_total_S_cm"] - truth["sigma_total_S_cm"]) < 4 * out[
        "sigma_total_err_S_cm"]


def test_bulk_arc_above_measured_range_is_warned():
    # 1e-3 S/cm: the bulk apex (~36 MHz) lies above the 10 MHz limit of the sweep
    spec, _ = _pellet_spectrum(1e-3, 1e-3, seed=12)
    fit = fit_spectrum(spec)
    assert fit.arc("bulk").f_peak_Hz > spec.frequency_Hz[0]
    assert any("bulk arc" in w and "extrapolated" in w for w in fit.warnings_)
    assert summarize(fit, Pellet(L_CM, A_CM2))["warnings"] == fit.warnings_


def test_single_arc_pellet_picks_one_arc_circuit():
    spec, truth = _pellet_spectrum(1e-4, None, seed=3)
    fit = fit_spectrum(spec)
    assert fit.circuit_ == PRESETS["bulk-blocking"]
    assert [c["circuit"] for c in fit.candidates_] == [
        PRESETS["bulk-blocking"], PRESETS["bulk-gb-blocking"], "L0-" + PRESETS["bulk-blocking"]]
    out = summarize(fit, Pellet.from_mm(1.0, diameter_mm=10.0))
    assert out["R_bulk_ohm"] == pytest.approx(truth["R_bulk_ohm"], rel=0.02)
    # total = bulk when no gb arc; geometry from mm matches 0.1 cm, 0.785 cm2
    assert out["sigma_total_S_cm"] == pytest.approx(1e-4, rel=0.02)
    assert out["total_from"].startswith("bulk (no gb")


def test_symmetric_cell_interface_asr_halved():
    Rb, Rgb, asr = 1273.9, 636.9, 200.0
    Rint = 2 * asr / A_CM2
    params = [2.0, Rb, cpe_q(Rb, C_BULK, 0.95), 0.95, Rgb, cpe_q(Rgb, 1e-8, 0.9), 0.9,
              Rint, cpe_q(Rint, 1e-6, 0.85), 0.85]
    spec = simulate(PRESETS["bulk-gb-interface"], params, F, noise=0.005, seed=4)
    fit = fit_spectrum(spec)
    assert [a.role for a in fit.arcs_] == ["bulk", "gb", "interface"]
    sym = summarize(fit, Pellet(L_CM, A_CM2, symmetric=True))
    one = summarize(fit, Pellet(L_CM, A_CM2, symmetric=False))
    assert sym["asr_ohm_cm2"] == pytest.approx(asr, rel=0.02)
    assert one["asr_ohm_cm2"] == pytest.approx(2 * sym["asr_ohm_cm2"])
    assert sym["R_interface_ohm"] == pytest.approx(Rint, rel=0.02)
    # the same spectrum read as bulk + interface (no gb) when the user says so
    fit2 = CircuitFit(circuit=PRESETS["bulk-gb-interface"],
                      arcs=("bulk", "other", "interface")).fit(spec)
    assert fit2.arc("gb") is None and fit2.arc("other").R_ohm == pytest.approx(Rgb, rel=0.02)


def _tail_only(seed=5) -> Spectrum:
    return simulate("R0-CPE1", [150.0, 2e-6, 0.85], F, noise=0.005, seed=seed)


def test_spectrum_without_arc_is_refused_but_intercept_circuit_works():
    spec = _tail_only()
    assert detect_arcs(spec).arcs == ()
    with pytest.raises(EISInputError, match="no arc found"):
        fit_spectrum(spec)
    with pytest.raises(EISInputError, match="no arc found"):
        fit_spectrum(spec, circuit="bulk-gb-blocking")
    fit = fit_spectrum(spec, circuit="intercept-blocking")
    out = summarize(fit, Pellet(L_CM, A_CM2))
    assert out["sigma_bulk_S_cm"] is None
    assert out["R_total_ohm"] == pytest.approx(150.0, rel=0.02)
    assert out["total_from"].startswith("high-frequency intercept")


def test_pure_resistor_has_no_arc():
    rng = np.random.default_rng(0)
    Z = 500.0 * (1 + 0.005 * rng.standard_normal(F.size)) + 1j * 2.5 * rng.standard_normal(F.size)
    with pytest.raises(EISInputError, match="no arc found"):
        fit_spectrum(Spectrum.from_arrays(F, Z))


def test_non_converging_fit_raises():
    spec, _ = _pellet_spectrum(1e-4, 2e-4, seed=6)
    with pytest.raises(FitError, match="did not converge"):
        CircuitFit(circuit="bulk-gb-blocking", max_nfev=3, n_starts=1).fit(spec)


def test_wrong_circuit_is_refused_not_reported():
    spec, _ = _pellet_spectrum(1e-4, 2e-4, seed=7)
    with pytest.raises(FitError, match="does not describe the spectrum"):
        fit_spectrum(spec, circuit="bulk")


def test_bad_circuit_and_roles():
    with pytest.raises(EISInputError, match="not a valid impedance.py circuit"):
        parse_circuit("R0-p(R1,XYZ1)")
    layout = parse_circuit("R0-p(R1,CPE1)-p(C2,R2)-W3")
    assert [a.R for a in layout.arcs] == ["R1", "R2"]
    assert layout.arcs[1].n is None and layout.series_R == ("R0",) and layout.tail == ("W3",)
    spec, _ = _pellet_spectrum(1e-4, 2e-4, seed=8)
    with pytest.raises(EISInputError, match="need 2 role"):
        CircuitFit(circuit="bulk-gb-blocking", arcs=("bulk",)).fit(spec)
    with pytest.raises(EISInputError, match="need 2 role"):
        CircuitFit(circuit="bulk-gb-blocking", arcs=("bulk", "grain")).fit(spec)


def test_pellet_geometry_validation():
    with pytest.raises(EISInputError):
        Pellet(0.0, 1.0)
    with pytest.raises(EISInputError):
        Pellet.from_mm(1.0)
    with pytest.raises(EISInputError):
        Pellet.from_mm(1.0, area_cm2=0.5, diameter_mm=10)
    with pytest.raises(EISInputError):
        Pellet.from_mm(-1.0, area_cm2=0.5)


def test_inductive_leads_get_a_series_inductor_in_auto_mode():
    spec, truth = _pellet_spectrum(1e-4, 1e-4, seed=13)
    f = spec.frequency_Hz
    Z = spec.Z_ohm + 1j * 2 * np.pi * f * 1e-6  # 1 uH of cable: bulk R 8% low without L0
    fit = fit_spectrum(Spectrum.from_arrays(f, Z))
    assert fit.circuit_.startswith("L0-R0-")
    assert fit.parameters_["L0"] == pytest.approx(1e-6, rel=0.15)
    assert fit.arc("bulk").R_ohm == pytest.approx(truth["R_bulk_ohm"], rel=0.02)
    # with Z'' > 0 at the top frequencies, a circuit without L0 is warned about
    f2 = frequencies(3e7, 0.1, 10)
    spec2 = simulate(PRESETS["bulk-blocking"], [2.0, 1273.9, cpe_q(1273.9, C_BULK, 0.95), 0.95,
                                                2e-6, 0.85], f2, noise=0.005, seed=14)
    Z2 = spec2.Z_ohm + 1j * 2 * np.pi * f2 * 2e-6
    forced = fit_spectrum(Spectrum.from_arrays(f2, Z2), circuit="bulk-blocking",
                          max_rms_percent=50)
    assert any("inductive" in w for w in forced.warnings_)


F20 = frequencies(1e7, 0.1, 20)  # 20 points per decade, common on impedance analysers


@pytest.mark.parametrize(("sb", "sg"), [(1e-4, 2e-4), (1e-4, 1e-4), (1e-5, 3e-5), (3e-5, 1e-5)])
def test_bulk_and_gb_within_2_percent_at_20_points_per_decade(sb, sg):
    """The issue's acceptance: both resistances within 2% at realistic (0.5%) noise, for
    every seed, with a sweep of 20 points per decade and gb arcs ~2 decades below bulk
    (Cramer-Rao sd of R_gb <= 0.7%, so 2% is >= 2.9 sd)."""
    circuit, params, truth = pellet_parameters(
        sigma_bulk_S_cm=sb, sigma_gb_S_cm=sg, thickness_cm=L_CM, area_cm2=A_CM2,
        C_bulk_F=C_BULK, C_gb_F=1e-8, n_gb=0.9)
    for seed in (100, 101, 102):
        fit = fit_spectrum(simulate(circuit, params, F20, noise=0.005, seed=seed))
        assert fit.circuit_ == circuit
        assert fit.arc("bulk").R_ohm == pytest.approx(truth["R_bulk_ohm"], rel=0.02)
        assert fit.arc("gb").R_ohm == pytest.approx(truth["R_gb_ohm"], rel=0.02)
        out = summarize(fit, Pellet(L_CM, A_CM2))
        assert out["sigma_total_S_cm"] == pytest.approx(truth["sigma_total_S_cm"], rel=0.02)


def test_gb_error_is_statistical_and_its_error_bar_honest():
    """Small gb arc 1.5 decades from the bulk arc at 1% noise (R_gb 7% off for this seed):
    the fit is the global least-squares minimum (no start or optimiser can do better),
    the reported standard error matches the Cramer-Rao bound, and covers the error."""
    from experiments.eis_benchmark import _pellet, _truth, at_optimum, precision_limit

    case = (1e-4, 2e-4, 3e-9)
    spec, truth = _pellet(*case, noise=0.01, seed=0)
    fit = fit_spectrum(spec)
    circuit, params, _ = _truth(*case)
    assert at_optimum(fit, spec, circuit, params)
    crlb = precision_limit(*case, noise=0.01)  # percent: R_b, R_gb, R_b + R_gb
    gb, bulk = fit.arc("gb"), fit.arc("bulk")
    assert 100 * gb.R_err_ohm / gb.R_ohm == pytest.approx(crlb[1], rel=0.25)
    assert 100 * bulk.R_err_ohm / bulk.R_ohm == pytest.approx(crlb[0], rel=0.25)
    assert abs(gb.R_ohm - truth["R_gb_ohm"]) < 4 * gb.R_err_ohm
    assert abs(gb.R_ohm / truth["R_gb_ohm"] - 1) > 0.02  # this seed is outside 2% ...
    out = summarize(fit, Pellet(L_CM, A_CM2))  # ... while the total is pinned
    assert out["sigma_total_S_cm"] == pytest.approx(truth["sigma_total_S_cm"], rel=0.01)
    # more points per decade shrink the bound as 1 / sqrt(density)
    assert precision_limit(*case, noise=0.01, per_decade=20)[1] == pytest.approx(
        crlb[1] / np.sqrt(2), rel=0.1)


def test_precision_limit_bad_input():
    from experiments.eis_benchmark import precision_limit

    with pytest.raises(ValueError, match="noise"):
        precision_limit(1e-4, 2e-4, 1e-8, noise=0.0)
    with pytest.raises(ValueError, match="per_decade"):
        precision_limit(1e-4, 2e-4, 1e-8, noise=0.005, per_decade=0)


def test_analytic_jacobian_matches_finite_differences():
    circuit = "L0-R0-p(R1,CPE1)-p(R2,C2)-CPE3"
    p = np.array([1e-6, 2.0, 1000.0, 1e-9, 0.9, 500.0, 1e-8, 2e-6, 0.85])
    z, dz = compile_circuit_jacobian(circuit)(F, p)
    fn = compile_circuit(circuit)
    np.testing.assert_allclose(z, fn(F, p))
    for k in range(p.size):
        h = 1e-6 * p[k]
        step = np.zeros(p.size)
        step[k] = h
        fd = (fn(F, p + step) - fn(F, p - step)) / (2 * h)
        assert np.abs(fd - dz[:, k]).max() < 1e-5 * np.abs(dz[:, k]).max(), k
    # elements without written-out derivatives fall back to finite differences
    assert compile_circuit_jacobian("R0-p(R1,CPE1)-W2") is None
    with pytest.raises(ValueError, match="takes 9 parameters"):
        compile_circuit_jacobian(circuit)(F, p[:-1])
