"""Conductivity model: regressors, intervals, grouped search, metrics (real OBELiX data)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from ssbml.composition import ElementFractions, parse_formula
from ssbml.features.presets import FallbackFeaturizer, make_featurizer_by_name
from ssbml.ml.conformal import conformal_quantile
from ssbml.ml.metrics import per_family_errors, regression_metrics
from ssbml.ml.regressors import REGRESSORS, make_regressor
from ssbml.ml.search import grouped_search
from ssbml.ml.splits import chemical_system_groups, make_groups
from ssbml.models.conductivity.config import TrainConfig, load_config
from ssbml.models.conductivity.model import ConductivityModel


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
    from ssbml.models.conductivity.train import load_training_data

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
    from ssbml.features.presets import WithElementFractions, WithFamily

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
    assert list(G.columns) == list(fam.get_feature_names_out())
    with pytest.raises(ValueError, match="'family'"):
        fam.transform(["Li3PS4"])


def test_adaptive_intervals_vary_and_cover_the_test_split(small_model):
    from ssbml.data.conductivity import load_room_temperature

    assert small_model.difficulty_kind_ == "tree_spread"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = load_room_temperature(benchmark=True, include_liverpool=False)
    test = df[df["split"] == "test"].reset_index(drop=True)
    from ssbml.models.conductivity.model import MAX_LOG10_SIGMA

    out = small_model.predict_interval(test[["composition"]], alpha=0.1)
    raw = small_model.predict_interval_from_features(
        small_model._features(test[["composition"]]).to_numpy(), clip_to_physical=False)
    half = (raw["log10_sigma_upper"] - raw["log10_sigma_lower"]) / 2
    assert half.std() > 0.1  # the width adapts to the row
    np.testing.assert_allclose(raw["log10_sigma"] - raw["log10_sigma_lower"], half)
    # the reported interval is the raw one cut at the physical ceiling (1 S/cm)
    assert (out["log10_sigma_upper"] <= MAX_LOG10_SIGMA).all()
    np.testing.assert_allclose(out["log10_sigma_upper"],
                               np.minimum(raw["log10_sigma_upper"], MAX_LOG10_SIGMA))
    np.testing.assert_allclose(out["log10_sigma_lower"], raw["log10_sigma_lower"])
    y = test["log10_sigma"].to_numpy()
    coverage = np.mean((y >= out["log10_sigma_lower"]) & (y <= out["log10_sigma_upper"]))
    assert 0.8 <= coverage <= 0.99
    # the difficulty estimate ranks the out-of-fold errors (it is informative)
    r = np.abs(small_model.oof_predictions_ - _train_targets())
    from scipy.stats import spearmanr

    assert spearmanr(small_model.oof_difficulty_, r).statistic > 0.2
    # per-row half-widths from interval_halfwidth(alpha, X); marginal without X
    np.testing.assert_allclose(small_model.interval_halfwidth(0.1, test[["composition"]]), half)
    assert np.isscalar(small_model.interval_halfwidth(0.1))
    wide = small_model.predict_interval(test[["composition"]], alpha=0.02)
    assert (wide["log10_sigma_upper"] >= out["log10_sigma_upper"]).all()


def _train_targets() -> np.ndarray:
    from ssbml.data.conductivity import load_room_temperature

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = load_room_temperature(benchmark=True, include_liverpool=False)
    return df.loc[df["split"] == "train", "log10_sigma"].to_numpy()


def test_predict_interval_from_features_matches_and_checks_columns(small_model):
    formulas = ["Li7La3Zr2O12", "Li10GeP2S12", "Li3PO4", "Li3InCl6"]
    F = small_model.featurizer_.transform(formulas)
    a = small_model.predict_interval_from_features(F, alpha=0.1)
    b = small_model.predict_interval(formulas, alpha=0.1)
    pd.testing.assert_frame_equal(a, b)
    f32 = small_model.predict_interval_from_features(F.astype(np.float32), alpha=0.1)
    np.testing.assert_allclose(f32.to_numpy(), a.to_numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="columns"):
        small_model.predict_interval_from_features(F.drop(columns=F.columns[3]))
    with pytest.raises(ValueError, match="columns"):
        small_model.predict_interval_from_features(F.to_numpy()[:, :10])
    with pytest.raises(ValueError, match="alpha"):
        small_model.predict_interval_from_features(F, alpha=0.0)


def test_constant_and_residual_model_intervals(obelix_train):
    X = obelix_train[["composition"]]
    y = obelix_train["log10_sigma"]
    groups = chemical_system_groups(obelix_train["composition"])
    const = ConductivityModel(regressor=make_regressor("rf", {"n_estimators": 10}),
                              interval="constant").fit(X, y, groups=groups)
    out = const.predict_interval(["Li3PS4", "Li2O"], alpha=0.1)
    np.testing.assert_allclose(out["log10_sigma_upper"] - out["log10_sigma"],
                               const.interval_halfwidth(0.1))
    # a regressor without trees: the difficulty is a model of the |out-of-fold residual|
    hgb = ConductivityModel(regressor=make_regressor("hgb", {"max_iter": 20}))
    hgb.fit(X, y, groups=groups)
    assert hgb.difficulty_kind_ == "residual_model"
    out = hgb.predict_interval(["Li3PS4", "Li2O", "Li7La3Zr2O12"], alpha=0.1)
    assert (out["log10_sigma_lower"] < out["log10_sigma"]).all()
    half = (out["log10_sigma_upper"] - out["log10_sigma_lower"]) / 2
    assert half.nunique() > 1
    with pytest.raises(ValueError, match="interval must be"):
        ConductivityModel(interval="wide").fit(X, y)
    with pytest.raises(ValueError, match="difficulty_floor"):
        ConductivityModel(difficulty_floor=0.0).fit(X, y)


@pytest.mark.parametrize("name", ["rf", "medrf", "vote", "vote-hgb", "hgb"])
def test_predict_with_spread_matches_predict(name):
    from ssbml.ml.regressors import predict_with_spread

    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3))
    y = X[:, 0] + rng.normal(scale=0.3, size=80)
    small = {"medrf": {"n_estimators": 7}, "et": {"n_estimators": 5}, "hgb": {"max_iter": 10}}
    # a vote with a non-forest member (hgb): the spread is that of the forest trees
    members = ["medrf", "et"] if name == "vote" else ["medrf", "hgb"]
    params = {"members": members} | {m: small[m] for m in members}
    params = small["hgb"] if name == "hgb" else params
    params = {"n_estimators": 9} if name in ("rf", "medrf") else params
    reg = make_regressor(name.split("-")[0], params).fit(X, y)
    both = predict_with_spread(reg, X[:30], chunk=7)
    if name == "hgb":
        assert both is None
        return
    mu, spread = both
    np.testing.assert_allclose(mu, reg.predict(X[:30]), rtol=1e-5, atol=1e-5)
    assert (spread >= 0).all() and spread.max() > 0


def test_benchmark_default_is_the_documented_composition_only_config():
    from ssbml.models.conductivity.config import BENCHMARK_CONFIG, model_inputs

    cfg = load_config("experiments/obelix-vote3-hgbl1-lv.toml")
    assert {k: v for k, v in vars(cfg).items() if k != "name"} == {
        k: v for k, v in vars(BENCHMARK_CONFIG).items() if k != "name"}
    assert model_inputs(BENCHMARK_CONFIG) == ["composition"]
    model = make_regressor(BENCHMARK_CONFIG.regressor, BENCHMARK_CONFIG.params)
    assert [name for name, _ in model.estimators] == ["medrf", "medet", "hgb"]
    assert model.estimators[2][1].loss == "absolute_error"


@pytest.fixture(scope="module")
def all_rt() -> pd.DataFrame:
    from ssbml.data.conductivity import load_room_temperature

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_room_temperature(benchmark=False)


@pytest.fixture(scope="module")
def censoring_model(all_rt) -> ConductivityModel:
    model = ConductivityModel(regressor=make_regressor("rf", {"n_estimators": 30}),
                              censoring="classifier")
    return model.fit(all_rt[["composition"]], all_rt["log10_sigma"],
                     groups=chemical_system_groups(all_rt["composition"]),
                     censored=all_rt["censored"].to_numpy())


def test_censored_rows_are_bounds_not_values(censoring_model, all_rt):
    from ssbml.models.conductivity.evaluate import paper_convention

    cens = all_rt["censored"].to_numpy()
    assert cens.sum() > 20 and (all_rt.loc[cens, "log10_sigma"] == -15.0).all()
    # the placeholder is never learned: another fill value gives the same regressor
    refill = all_rt["log10_sigma"].where(~all_rt["censored"], -12.0)
    X = all_rt[["composition"]]
    groups = chemical_system_groups(all_rt["composition"])
    for mode in ("classifier", "bound"):
        pair = [ConductivityModel(regressor=make_regressor("rf", {"n_estimators": 30}),
                                  censoring=mode).fit(X, target, groups=groups, censored=cens)
                for target in (all_rt["log10_sigma"], refill)]
        np.testing.assert_allclose(pair[0].predict_measured(X), pair[1].predict_measured(X))
    out = censoring_model.predict_interval(X)
    below = out["below_detection"].to_numpy()
    # in-sample, most censored compositions are recognised and reported as "< 1e-10"
    assert below[cens].mean() > 0.5 and below[~cens].mean() < 0.05
    assert (out.loc[below, "log10_sigma_bound"] == -10.0).all()
    assert (out.loc[below, "log10_sigma"] == -10.0).all()
    assert (out.loc[below, "log10_sigma_upper"] == -10.0).all()
    assert out.loc[~below, "log10_sigma_bound"].isna().all()
    # no 1e-15-like numbers: nothing is predicted below the lowest measured value
    assert out["log10_sigma"].min() >= censoring_model.min_measured_log10_
    # the OBELiX paper's convention maps below-detection predictions back to -15
    paper = paper_convention(out, all_rt["log10_sigma"].to_numpy(), cens)
    assert (paper[below] == -15.0).all()
    # a model without censoring learns the placeholder as a value
    plain = ConductivityModel(regressor=make_regressor("rf", {"n_estimators": 30})).fit(
        X, all_rt["log10_sigma"], groups=chemical_system_groups(all_rt["composition"]))
    assert plain.predict(X).min() < -12


def test_nearest_neighbour_applicability_domain(censoring_model):
    out = ["Li0.01Xe", "LiAu", "Li0.5Pu", "LiBH4"]
    inside = ["Li6.4La3Zr1.4Ta0.6O12", "Li6.25Al0.25La3Zr2O12", "Li7La3Zr2O12", "Li6PS5Cl"]
    table = censoring_model.domain_table(out + inside)
    assert not table["in_domain"].iloc[:4].any(), table
    assert table["in_domain"].iloc[4:].all(), table
    assert table["domain_reason"].iloc[0] == "element(s) Xe not in the training data"
    assert table["domain_reason"].iloc[3].startswith("far from training compositions")
    assert (table["domain_reason"].iloc[4:] == "").all()
    # the threshold is the held-out (grouped) neighbour distance quantile
    held = censoring_model.oof_domain_distance_
    assert np.mean(held <= censoring_model.domain_threshold_) == pytest.approx(0.95, abs=0.01)


def test_caller_index_is_kept(censoring_model):
    from ssbml.models.conductivity.predict import predict_table

    X = pd.DataFrame({"composition": ["Li3PS4", "Li7La3Zr2O12", "LiAu"]},
                     index=[10, 20, 30])
    assert list(censoring_model.predict_interval(X).index) == [10, 20, 30]
    assert list(censoring_model.domain_table(X).index) == [10, 20, 30]
    out, bad = predict_table(X.assign(note=["a", "b", "c"]), censoring_model)
    assert list(out.index) == [10, 20, 30] and list(out["note"]) == ["a", "b", "c"]
    assert list(out["in_domain"]) == [True, True, False]
    assert "Au" in out.loc[30, "domain_reason"]
