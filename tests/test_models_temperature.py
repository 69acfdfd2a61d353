"""Temperature model anchored on the room-temperature model (real Liverpool + OBELiX)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from ssbml.ml.regressors import make_regressor
from ssbml.ml.splits import chemical_system_groups
from ssbml.models.conductivity.model import ConductivityModel
from ssbml.models.conductivity.temperature import (
    K_B_EV,
    T0_K,
    ArrheniusModel,
    arrhenius_fit,
    arrhenius_series,
)


@pytest.fixture(scope="module")
def liverpool() -> pd.DataFrame:
    from ssbml.data.conductivity import load_liverpool

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_liverpool()


@pytest.fixture(scope="module")
def rt_model() -> ConductivityModel:
    from ssbml.data.conductivity import load_room_temperature

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = load_room_temperature(benchmark=False)
    model = ConductivityModel(regressor=make_regressor("rf", {"n_estimators": 20}),
                              censoring="classifier")
    return model.fit(df[["composition"]], df["log10_sigma"],
                     groups=chemical_system_groups(df["composition"]),
                     censored=df["censored"].to_numpy())


@pytest.fixture(scope="module")
def model(rt_model, liverpool) -> ArrheniusModel:
    small = {"n_estimators": 20, "min_samples_leaf": 2}
    return ArrheniusModel(rt_model, ea_regressor=make_regressor("rf", small)).fit(liverpool)


def test_arrhenius_fit_recovers_activation_energy():
    T = np.array([300.0, 350.0, 400.0, 450.0])
    ea = 0.35
    log10_sigma = 2.0 - ea / (K_B_EV * np.log(10) * T)
    a, e = arrhenius_fit(T, log10_sigma)
    assert a == pytest.approx(2.0)
    assert e == pytest.approx(ea)


def test_series_never_merge_papers_or_polymorphs():
    # one composition, two papers and, in the first paper, two polymorphs
    rows = []
    for doi, fam, ea in [("10.1/a", "beta", 0.40), ("10.1/a", "gamma", 0.80),
                         ("10.1/b", "beta", 0.30)]:
        for T in (300.0, 350.0, 400.0):
            rows.append({"composition": "Li3PS4", "composition_key": "Li3PS4", "doi": doi,
                         "family": fam, "temperature_K": T,
                         "log10_sigma": 1.0 - ea / (K_B_EV * np.log(10) * T)})
    series = arrhenius_series(pd.DataFrame(rows))
    assert len(series) == 3
    np.testing.assert_allclose(sorted(series["Ea_fit_eV"]), [0.30, 0.40, 0.80])


def test_anchored_on_the_room_temperature_model(model, rt_model):
    X = ["Li3YCl6", "Li3InCl6", "Li6PS5Cl", "Li3PS4", "Li7La3Zr2O12"]
    at_t0 = model.predict_interval(X, T0_K)
    rt = rt_model.predict_interval(X)
    np.testing.assert_allclose(at_t0["log10_sigma"], rt["log10_sigma"], atol=1e-12)
    np.testing.assert_allclose(at_t0["log10_sigma_lower"], rt["log10_sigma_lower"], atol=1e-12)


def test_conductivity_never_decreases_with_temperature(model, liverpool):
    comps = liverpool[["composition"]].drop_duplicates().head(40)
    temps = np.linspace(200.0, 900.0, 15)
    pred = np.array([model.predict(comps, t) for t in temps])
    assert (np.diff(pred, axis=0) >= -1e-12).all()
    ea = model.activation_energy_eV(comps)
    assert (ea >= model.ea_min_eV).all() and (ea <= model.ea_max_eV).all()


def test_learned_activation_energies_are_plausible(model):
    # per-series Arrhenius fits: typical Li-ion conductors have Ea of 0.2 to 0.8 eV
    fits = model.series_["Ea_fit_eV"].to_numpy()
    assert model.n_arrhenius_fits_ == len(fits) > 50
    assert 0.2 < np.median(fits) < 0.8
    oof_mae = np.mean(np.abs(model.series_["Ea_target_eV"] - model.oof_activation_energy_eV_))
    assert 0.02 < oof_mae < 0.4


def test_intervals_widen_away_from_room_temperature_and_per_row(model):
    X = ["Li7La3Zr2O12", "Li10GeP2S12"]
    out = model.predict_interval(X, temperature_K=[300.0, 400.0], alpha=0.1)
    np.testing.assert_allclose(out["log10_sigma"], [model.predict([X[0]], 300.0)[0],
                                                    model.predict([X[1]], 400.0)[0]])
    assert (out["log10_sigma_upper"] - out["log10_sigma_lower"] > 0).all()
    assert (out["activation_energy_eV_lower"] <= out["activation_energy_eV"]).all()
    width = [np.ptp(model.predict_interval(X[:1], t)[["log10_sigma_lower",
                                                      "log10_sigma_upper"]].to_numpy())
             for t in (T0_K, 400.0, 600.0)]
    assert width[0] <= width[1] <= width[2]
    # the width depends on the composition
    both = model.predict_interval(X, 500.0)
    w = both["log10_sigma_upper"] - both["log10_sigma_lower"]
    assert abs(w.iloc[0] - w.iloc[1]) > 1e-6


def test_index_is_kept(model):
    X = pd.DataFrame({"composition": ["Li3PS4", "Li7La3Zr2O12"]}, index=["a", "b"])
    assert list(model.predict_interval(X, 350.0).index) == ["a", "b"]


def test_bad_inputs(model, rt_model, liverpool):
    with pytest.raises(ValueError, match="positive"):
        model.predict(["Li3PS4"], -5.0)
    with pytest.raises(ValueError, match="room_temperature_model"):
        ArrheniusModel().fit(liverpool)
    with pytest.raises(ValueError, match="temperature_K"):
        ArrheniusModel(rt_model).fit(liverpool.drop(columns="temperature_K"))
    bad = liverpool.head(30).copy()
    bad.loc[4, "temperature_K"] = 0.0
    with pytest.raises(ValueError, match=r"row\(s\) \[4\]"):
        ArrheniusModel(rt_model).fit(bad)
