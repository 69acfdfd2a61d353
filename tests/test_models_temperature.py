"""Arrhenius temperature model on the multi-temperature Liverpool data."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from ssbml.models.regressors import make_regressor
from ssbml.models.temperature import K_B_EV, ArrheniusModel, arrhenius_fit


@pytest.fixture(scope="module")
def liverpool() -> pd.DataFrame:
    from ssbml.data.conductivity import load_liverpool

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_liverpool()


@pytest.fixture(scope="module")
def model(liverpool) -> ArrheniusModel:
    small = {"n_estimators": 20, "min_samples_leaf": 2}
    return ArrheniusModel(ea_regressor=make_regressor("rf", small),
                          prefactor_regressor=make_regressor("rf", small)).fit(liverpool)


def test_arrhenius_fit_recovers_activation_energy():
    T = np.array([300.0, 350.0, 400.0, 450.0])
    ea = 0.35
    log10_sigma = 2.0 - ea / (K_B_EV * np.log(10) * T)
    a, e = arrhenius_fit(T, log10_sigma)
    assert a == pytest.approx(2.0)
    assert e == pytest.approx(ea)


def test_conductivity_never_decreases_with_temperature(model, liverpool):
    comps = liverpool[["composition"]].drop_duplicates().head(40)
    temps = np.linspace(200.0, 900.0, 15)
    pred = np.array([model.predict(comps, t) for t in temps])
    assert (np.diff(pred, axis=0) >= -1e-12).all()
    ea = model.activation_energy_eV(comps)
    assert (ea >= 0).all() and (ea <= model.ea_max_eV).all()


def test_learned_activation_energies_are_plausible(model, liverpool):
    # Arrhenius fits of compositions measured at several temperatures: typical Li-ion
    # conductors have Ea of 0.2 to 0.8 eV
    fits = np.array([v[1] for v in model.arrhenius_fits_.values()])
    assert model.n_arrhenius_fits_ == len(fits) > 50
    assert 0.2 < np.median(fits) < 0.8
    oof_mae = np.nanmean(np.abs(liverpool["log10_sigma"] - model.oof_predictions_))
    assert 0.3 < oof_mae < 2.5


def test_intervals_and_per_row_temperatures(model):
    X = ["Li7La3Zr2O12", "Li10GeP2S12"]
    out = model.predict_interval(X, temperature_K=[300.0, 400.0], alpha=0.1)
    assert list(out.columns) == ["log10_sigma", "log10_sigma_lower", "log10_sigma_upper"]
    np.testing.assert_allclose(out["log10_sigma"], [model.predict([X[0]], 300.0)[0],
                                                    model.predict([X[1]], 400.0)[0]])
    assert (out["log10_sigma_upper"] - out["log10_sigma_lower"] > 0).all()


def test_bad_inputs(model, liverpool):
    with pytest.raises(ValueError, match="positive"):
        model.predict(["Li3PS4"], -5.0)
    with pytest.raises(ValueError, match="temperature_K"):
        ArrheniusModel().fit(liverpool.drop(columns="temperature_K"))
    bad = liverpool.head(30).copy()
    bad.loc[4, "temperature_K"] = 0.0
    with pytest.raises(ValueError, match=r"row\(s\) \[4\]"):
        ArrheniusModel().fit(bad)
