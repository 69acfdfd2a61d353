"""Conductivity model: regressors, intervals, grouped search, metrics (real OBELiX data)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from ssbml.composition import ElementFractions, parse_formula
from ssbml.models.benchmark import per_family_errors, regression_metrics
from ssbml.models.conductivity import (
    ConductivityModel,
    chemical_system_groups,
    conformal_quantile,
)
from ssbml.models.experiment import TrainConfig, load_config
from ssbml.models.featurizers import FallbackFeaturizer, make_featurizer_by_name
from ssbml.models.regressors import REGRESSORS, make_regressor
from ssbml.models.search import grouped_search, make_groups


@pytest.fixture(scope="module")
def obelix_train() -> pd.DataFrame:
    from ssbml.data.conductivity import load_room_temperature

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = load_room_temperature(benchmark=True, include_liverpool=False)
    return df[df["split"] == "train"].reset_index(drop=True)


@pytest.fixture(scope="module")
def small_model(obelix_train) -> ConductivityModel:
    model = ConductivityModel(regressor=make_regressor("rf", {"n_estimators": 30}))
    groups = chemical_system_groups(obelix_train["composition"])
    return model.fit(obelix_train[["composition"]], obelix_train["log10_sigma"], groups=groups)


def test_metrics_match_hand_computation():
    y = np.array([-3.0, -5.0, -15.0, -2.0])
    p = np.array([-3.5, -4.0, -9.0, -2.0])
    m = regression_metrics(y, p, y - 1, y + 1, prefix="test_")
    assert m["test_mae"] == pytest.approx((0.5 + 1 + 6 + 0) / 4)
    assert m["test_rmse"] == pytest.approx(np.sqrt((0.25 + 1 + 36) / 4))
    assert m["test_coverage90"] == 1.0
    assert m["test_interval_width90"] == pytest.approx(2.0)
    # superionic = above 1e-4 S/cm: -3 and -2 are positives, ranked on top by p
    assert m["test_roc_auc_superionic"] == 1.0
    assert m["test_spearman"] == pytest.approx(1.0)


def test_metrics_reject_shape_mismatch():
    with pytest.raises(ValueError, match="shape"):
        regression_metrics([1.0, 2.0], [1.0])


def test_per_family_errors_sorted():
    fam = per_family_errors(["a", "a", "b"], [0.0, 0.0, 0.0], [1.0, 3.0, 1.0])
    assert fam["family"].tolist() == ["a", "b"]
    assert fam["mae"].tolist() == [2.0, 1.0]
    assert fam["n"].tolist() == [2, 1]


def test_conformal_quantile():
    r = np.arange(1, 20, dtype=float)  # 19 residuals: ceil(20 * 0.9) = 18th smallest
    assert conformal_quantile(r, 0.1) == 18.0
    with pytest.raises(ValueError, match="alpha"):
        conformal_quantile(r, 1.5)


def test_chemical_system_groups_ignore_li_and_amounts():
    g = chemical_system_groups(["Li7La3Zr2O12", "Li6.5La3Zr2O11.75", "Li6.4La3Zr1.4Ta0.6O12"])
    assert g[0] == g[1] == "La-O-Zr"
    assert g[2] != g[0]


@pytest.mark.parametrize("name", REGRESSORS)
def test_every_regressor_fits_and_predicts(name):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = X[:, 0] * 2 + rng.normal(scale=0.1, size=60)
    params = {"n_estimators": 10} if name in ("rf", "et", "medrf", "medet", "gbr") else {}
    params = {"max_iter": 20} if name == "hgb" else params
    if name in ("stack", "vote"):
        params = {"members": ["rf", "et", "svr"], "rf": {"n_estimators": 10},
                  "et": {"n_estimators": 10}}
    reg = make_regressor(name, params).fit(X, y)
    assert np.corrcoef(reg.predict(X), y)[0, 1] > 0.8


def test_unknown_regressor_and_params():
    with pytest.raises(ValueError, match="unknown regressor"):
        make_regressor("xgboost")
    with pytest.raises(ValueError, match="unknown stack parameter"):
        make_regressor("stack", {"bogus": 1})


def test_model_predicts_intervals_for_every_input_type(small_model):
    formulas = ["Li7La3Zr2O12", "Li10GeP2S12", "Li3PO4"]
    df = small_model.predict_interval(pd.DataFrame({"composition": formulas}), alpha=0.1)
    assert list(df.columns) == ["log10_sigma", "log10_sigma_lower", "log10_sigma_upper"]
    assert len(df) == 3
    assert (df["log10_sigma_lower"] < df["log10_sigma"]).all()
    assert (df["log10_sigma"] < df["log10_sigma_upper"]).all()
    ef = ElementFractions.from_compositions([parse_formula(f) for f in formulas])
    np.testing.assert_allclose(small_model.predict(ef), df["log10_sigma"], atol=1e-9)
    np.testing.assert_allclose(small_model.predict(formulas), df["log10_sigma"], atol=1e-9)
    # a wider nominal coverage gives a wider interval
    assert small_model.interval_halfwidth(0.05) >= small_model.interval_halfwidth(0.2)


def test_model_domain_distance(small_model):
    d = small_model.domain_distance(["Li7La3Zr2O12", "LiXe0.5Rn2"])
    assert d[1] > d[0]
    assert small_model.in_domain(["Li7La3Zr2O12"])[0]


def test_oof_residuals_are_grouped_out_of_fold(small_model, obelix_train):
    y = obelix_train["log10_sigma"].to_numpy()
    oof_mae = np.mean(np.abs(y - small_model.oof_predictions_))
    in_sample = np.mean(np.abs(y - small_model.predict(obelix_train[["composition"]])))
    assert oof_mae > in_sample  # out-of-fold errors are honest, not training errors


def test_model_rejects_bad_targets_and_formulas(obelix_train):
    X = obelix_train[["composition"]].head(20)
    y = obelix_train["log10_sigma"].head(20).to_numpy().copy()
    y[3] = np.nan
    with pytest.raises(ValueError, match=r"row\(s\) \[3\]"):
        ConductivityModel(regressor=make_regressor("rf", {"n_estimators": 5})).fit(X, y)
    fb = FallbackFeaturizer().fit(["Li3PS4"])
    with pytest.raises(ValueError, match="row 1"):
        fb.transform(["Li2O", "Li2Qq"])


def test_grouped_search_keeps_groups_apart(obelix_train):
    feat = make_featurizer_by_name("default").fit(obelix_train[["composition"]])
    F = feat.transform(obelix_train[["composition"]])
    groups = make_groups(obelix_train, "chemsys")
    res = grouped_search(make_regressor("rf", {"n_estimators": 10}),
                         {"min_samples_leaf": [1, 20]}, F, obelix_train["log10_sigma"], groups)
    assert res["best_params"]["min_samples_leaf"] in (1, 20)
    assert len(res["table"]) == 2
    assert 0.5 < res["best_mae"] < 4.0
    with pytest.raises(ValueError, match="grouped folds"):
        grouped_search(make_regressor("rf"), {"n_estimators": [5]}, F.head(10),
                       obelix_train["log10_sigma"].head(10), np.zeros(10))
    with pytest.raises(ValueError, match="groups must be"):
        make_groups(obelix_train, "doi-year")


def test_config_parsing(tmp_path):
    cfg = load_config("experiments/obelix-hgb-search-lv.toml")
    assert cfg.regressor == "hgb" and cfg.search_n_iter == 12
    assert "learning_rate" in cfg.search_space
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[model]\nregresor = "rf"\n')
    with pytest.raises(ValueError, match=r"bad.toml.*model.regresor"):
        load_config(bad)
    with pytest.raises(ValueError, match="censored"):
        TrainConfig.from_dict({"data": {"censored": "zero"}})
    with pytest.raises(ValueError, match="unknown feature set"):
        make_featurizer_by_name("magic")


def test_user_data_added_without_test_compositions(tmp_path):
    from ssbml.models.experiment import load_training_data

    cfg = TrainConfig(include_liverpool=False, benchmark=True)
    base_train, test = load_training_data(cfg)
    test_formula = test["composition"].iloc[0]
    rows = pd.DataFrame({
        "composition": [test_formula, "Li3.05Y0.95Zr0.05Br3Cl3", "Li3.1P0.9Si0.1S4"],
        "log10_sigma": [-3.0, -2.2, -3.5],
        "temperature_K": [298.15, 300.0, 400.0],
        "censored": [False, False, False],
        "family": ["garnet", "halides", "thio-lisicon"],
        "doi": ["", "", ""], "source": ["user:lab"] * 3, "split": ["none"] * 3,
        "provenance_file": ["", "", ""], "fit_circuit": ["", "", ""],
        "added_utc": ["2026-01-01T00:00:00Z"] * 3, "sigma_kind": ["total"] * 3,
    })
    path = tmp_path / "lab.csv"
    rows.to_csv(path, index=False)
    cfg.user_data = [str(path)]
    train, test2 = load_training_data(cfg)
    # only the 300 K non-test row is added: the test composition is removed and the
    # 400 K row is not room temperature
    assert train["n_measurements"].sum() == base_train["n_measurements"].sum() + 1
    assert not set(test["composition_key"]) & set(train["composition_key"])
    assert len(test2) == len(test) == 121


def test_fraction_and_family_featurizers():
    from ssbml.models.featurizers import WithElementFractions, WithFamily

    train = pd.DataFrame({"composition": ["Li7La3Zr2O12", "Li3PS4", "Li6PS5Cl", "Li3InCl6"],
                          "family": ["garnet", "thio", "argyrodite", "halides"]})
    wf = WithElementFractions(make_featurizer_by_name("default")).fit(train[["composition"]])
    F = wf.transform(["Li2O", "LiXeF"])
    assert F.loc[0, "frac_O"] == pytest.approx(1 / 3)
    assert F.loc[1, "frac_other"] == pytest.approx(2 / 3)  # Xe and F unseen in training
    assert list(F.columns) == list(wf.get_feature_names_out())
    fam = WithFamily(make_featurizer_by_name("default"), min_count=1).fit(train)
    G = fam.transform(pd.DataFrame({"composition": ["Li3PS4"], "family": ["unseen"]}))
    assert G.filter(like="family_").to_numpy().sum() == 0
    with pytest.raises(ValueError, match="'family'"):
        fam.transform(["Li3PS4"])
