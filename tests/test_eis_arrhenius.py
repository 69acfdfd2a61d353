"""Arrhenius fits: known Ea recovered from fitted spectra, slope changes, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from ssbml.eis.arrhenius import K_B_EV, ArrheniusFit, read_arrhenius_table
from ssbml.eis.fit import fit_spectrum
from ssbml.eis.physics import Pellet, summarize
from ssbml.eis.spectrum import EISInputError
from ssbml.eis.synthetic import (
    EPS0_F_CM,
    arrhenius_sigma,
    frequencies,
    pellet_parameters,
    simulate,
)

EA_BULK, EA_GB = 0.35, 0.35
T_K = np.array([233.15, 248.15, 263.15, 278.15, 293.15, 308.15])


@pytest.fixture(scope="module")
def fitted_series():
    """Spectra of a pellet at six temperatures (0.5% noise), each fitted; true Ea 0.35 eV."""
    L, A = 0.1, 0.785
    out = []
    for i, T in enumerate(T_K):
        sb = float(arrhenius_sigma(T, EA_BULK, 5e-5))
        sg = float(arrhenius_sigma(T, EA_GB, 1e-4))
        circuit, params, truth = pellet_parameters(
            sigma_bulk_S_cm=sb, sigma_gb_S_cm=sg, thickness_cm=L, area_cm2=A,
            C_bulk_F=EPS0_F_CM * 50 * A / L, C_gb_F=1e-8, n_gb=0.9)
        spec = simulate(circuit, params, frequencies(1e7, 0.1, 10), noise=0.005, seed=20 + i,
                        temperature_K=T)
        out.append((summarize(fit_spectrum(spec), Pellet(L, A)), truth))
    return out


def test_known_activation_energy_recovered_from_spectra(fitted_series):
    T = [s["temperature_K"] for s, _ in fitted_series]
    for kind in ("bulk", "total"):
        sigma = [s[f"sigma_{kind}_S_cm"] for s, _ in fitted_series]
        fit = ArrheniusFit().fit(T, sigma)
        assert fit.Ea_eV_ == pytest.approx(0.35, abs=0.01)
        assert 0 < fit.Ea_err_eV_ < 0.01
        truth_25 = float(arrhenius_sigma(298.15, 0.35, 5e-5 if kind == "bulk" else 1 / 3e4))
        assert fit.sigma_25C_S_cm_ == pytest.approx(truth_25, rel=0.03)
        assert fit.change_of_slope_ is None
        assert not fit.extrapolated_
        d = fit.to_dict()
        assert {"Ea_eV", "sigma_25C_S_cm", "Ea_err_eV", "log10_prefactor_S_K_cm"} <= set(d)


def test_two_slope_series_is_flagged_and_single_slope_is_not():
    rng = np.random.default_rng(3)
    temps = np.linspace(250.0, 400.0, 12)
    t_break = 320.0
    # continuous kink at t_break: Ea 0.55 eV below, 0.30 eV above
    logst = np.where(temps < t_break,
                     -0.55 / (K_B_EV * np.log(10)) * (1 / temps - 1 / t_break),
                     -0.30 / (K_B_EV * np.log(10)) * (1 / temps - 1 / t_break))
    sigma = 10 ** (logst + 1.0) / temps * (1 + 0.01 * rng.standard_normal(temps.size))
    fit = ArrheniusFit().fit(temps, sigma)
    cos = fit.change_of_slope_
    assert cos is not None
    assert temps[temps < t_break].max() <= cos["T_break_K"] <= temps[temps > t_break].min()
    assert cos["Ea_low_T_eV"] == pytest.approx(0.55, abs=0.03)
    assert cos["Ea_high_T_eV"] == pytest.approx(0.30, abs=0.03)
    assert "change of slope" in fit.slope_test_
    straight = arrhenius_sigma(temps, 0.42, 1e-4) * (1 + 0.01 * rng.standard_normal(temps.size))
    fit2 = ArrheniusFit().fit(temps, straight)
    assert fit2.change_of_slope_ is None and fit2.Ea_eV_ == pytest.approx(0.42, abs=0.01)
    assert not fit2.extrapolated_  # 298 K lies inside 250-400 K
    hot = temps[temps > 330]
    fit3 = ArrheniusFit().fit(hot, arrhenius_sigma(hot, 0.42, 1e-4))
    assert fit3.extrapolated_ and any("extrapolated" in w for w in fit3.warnings_)
    assert fit3.sigma_25C_S_cm_ == pytest.approx(1e-4, rel=1e-6)

def test_too_few_points_for_slope_test_is_said():
    T = np.array([300.0, 320.0, 340.0, 360.0])
    fit = ArrheniusFit().fit(T, arrhenius_sigma(T, 0.3, 1e-3))
    assert fit.change_of_slope_ is None and fit.slope_test_.startswith("not tested")


@pytest.mark.parametrize(
    ("T", "sigma", "match"),
    [
        ([300.0, 320.0], [1e-4, 2e-4], "at least 3"),
        ([300.0, np.nan, 340.0], [1e-4, 2e-4, 3e-4], "row 2 field temperature_K"),
        ([300.0, 320.0, 340.0], [1e-4, -2e-4, 3e-4], "row 2 field sigma_S_cm"),
        ([300.0, 320.0, 320.0], [1e-4, 2e-4, 3e-4], "appears twice"),
        ([300.0, 320.0], [1e-4, 2e-4, 3e-4], "2 temperatures but 3"),
    ],
)
def test_bad_arrhenius_input(T, sigma, match):
    with pytest.raises(EISInputError, match=match):
        ArrheniusFit().fit(T, sigma)


def test_negative_activation_energy_is_warned():
    T = np.array([250.0, 275.0, 300.0, 325.0])
    fit = ArrheniusFit().fit(T, arrhenius_sigma(T, 0.3, 1e-4)[::-1])
    assert fit.Ea_eV_ < 0 and any("not positive" in w for w in fit.warnings_)


def test_read_table_in_celsius_and_log10(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("temperature_C,log10_sigma\n0,-5\n25,-4.5\n50,-4\n")
    T, s = read_arrhenius_table(str(p))
    np.testing.assert_allclose(T, [273.15, 298.15, 323.15])
    np.testing.assert_allclose(s, [1e-5, 10**-4.5, 1e-4])
    p.write_text("temperature_K,sigma_S_cm\n300,1e-4\n310,x\n")
    with pytest.raises(EISInputError, match="row 2 field sigma_S_cm"):
        read_arrhenius_table(str(p))
    p.write_text("T_K,foo\n300,1\n")
    with pytest.raises(EISInputError, match="need a temperature column"):
        read_arrhenius_table(str(p))
