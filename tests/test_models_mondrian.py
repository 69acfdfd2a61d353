"""Issue 12: per-family (Mondrian) conformal intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ssbml.ml.conformal import POOLED, FamilyConformal, cross_fold_quantiles
from ssbml.models.conductivity.temperature import interval_scores


def _scores(rng, n, scale):
    return np.abs(rng.normal(0.0, scale, n))


def test_each_large_family_gets_its_own_quantile():
    rng = np.random.default_rng(0)
    s = np.concatenate([_scores(rng, 200, 1.0), _scores(rng, 200, 3.0)])
    fam = np.array(["garnet"] * 200 + ["glass"] * 200)
    cal = FamilyConformal(min_rows=20).fit(s, fam)
    q_garnet, q_glass = cal.quantile(["garnet", "glass"], 0.1)
    # 90 % quantile of |N(0, s)| is 1.645 s
    assert q_garnet == pytest.approx(1.645, rel=0.2)
    assert q_glass == pytest.approx(3 * 1.645, rel=0.2)
    # each family's own rows are covered at about 90 %
    for name, q in (("garnet", q_garnet), ("glass", q_glass)):
        assert 0.85 <= np.mean(s[fam == name] <= q) <= 0.95


def test_small_and_unseen_families_share_the_pooled_quantile():
    rng = np.random.default_rng(1)
    s = np.concatenate([_scores(rng, 100, 1.0), _scores(rng, 15, 5.0),
                        _scores(rng, 15, 5.0)])
    fam = np.array(["nasicon"] * 100 + ["rocksalt"] * 15 + ["spinel"] * 15)
    cal = FamilyConformal(min_rows=20).fit(s, fam)
    assert list(cal.category(["nasicon", "rocksalt", "never-seen"])) == [
        "nasicon", POOLED, POOLED]
    q = cal.quantile(["nasicon", "rocksalt", "spinel", "never-seen"], 0.1)
    assert q[1] == q[2] == q[3] > 2 * q[0]  # the pooled small families are wider
    assert np.isfinite(q).all() and (q > 0).all()


def test_pooled_bin_falls_back_to_all_rows_when_too_small():
    rng = np.random.default_rng(2)
    s = np.concatenate([_scores(rng, 100, 1.0), _scores(rng, 5, 10.0)])
    fam = np.array(["garnet"] * 100 + ["rocksalt"] * 5)
    cal = FamilyConformal(min_rows=20).fit(s, fam)
    assert cal.pooled_is_global_
    q_pooled = cal.quantile(["rocksalt"], 0.1)[0]
    assert q_pooled == pytest.approx(np.quantile(s, 0.9), rel=0.25)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="2 scores but 3 families"):
        FamilyConformal().fit([0.1, 0.2], ["a", "b", "c"])
    cal = FamilyConformal(min_rows=2).fit([0.1, 0.2, 0.3], ["a", "a", "a"])
    with pytest.raises(ValueError, match="alpha"):
        cal.quantile(["a"], float("nan"))


def test_cross_fold_quantiles_never_see_their_own_fold():
    rng = np.random.default_rng(3)
    s = _scores(rng, 300, 1.0)
    folds = np.repeat(np.arange(3), 100)
    s[folds == 0] *= 100.0  # a fold with huge scores ...
    q = cross_fold_quantiles(s, np.array(["a"] * 300), folds, 0.1, 20)
    # ... does not widen its own rows' quantile, only the others'
    assert q[folds == 0].max() < 5.0
    assert q[folds == 1].min() > 5.0


def test_interval_scores_of_the_temperature_term():
    t = pd.DataFrame({"log10_sigma": [-1.0, -6.0, -4.5, -3.0, -3.0],
                      "pred": [-4.0, -4.0, -4.0, -4.0, -4.0],
                      "h_rt_lower": [1.0, 1.0, 1.0, 1.0, 1.0],
                      "h_rt_upper": [2.0, 2.0, 2.0, 0.5, 0.5],
                      "h_ea": [1.0, 0.5, 1.0, 0.0, 1.0]})
    s = interval_scores(t)
    assert s[0] == pytest.approx(np.sqrt(9 - 4))  # 3 above, h_rt 2, h_ea 1
    assert s[1] == pytest.approx(np.sqrt(4 - 1) / 0.5)  # 2 below, h_rt 1, h_ea 0.5
    assert s[2] == 0.0  # inside the room-temperature half-width alone
    assert s[3] == 1e6  # outside with no temperature term: no scale can cover it
    # the score is the scale that puts the row on the interval edge
    assert np.hypot(0.5, s[4] * 1.0) == pytest.approx(1.0)


def test_temperature_interval_is_the_room_temperature_one_at_298K_and_widens():
    from ssbml.ml.store import load_model

    cond = load_model("conductivity")
    temp = load_model("conductivity-temperature")
    X = ["Li6PS5Cl", "Li7La3Zr2O12", "Li3YCl6", "Li1.3Al0.3Ti1.7(PO4)3"]
    rt = cond.predict_interval(X)
    at_t0 = temp.predict_interval(X, 298.15)
    cols = ["log10_sigma", "log10_sigma_lower", "log10_sigma_upper"]
    np.testing.assert_allclose(at_t0[cols].to_numpy(), rt[cols].to_numpy(), atol=1e-9)
    # before the cut at the physical ceiling (1 S/cm), which can only narrow it
    F = temp._features(X)
    width = {T: temp.predict_interval_from_features(F, T, clip_to_physical=False)
             .eval("log10_sigma_upper - log10_sigma_lower").to_numpy()
             for T in (298.15, 330.0, 400.0)}
    assert (width[330.0] >= width[298.15] - 1e-9).all()
    assert (width[400.0] >= width[330.0] - 1e-9).all()


def test_shipped_models_give_per_family_intervals():
    from ssbml.ml.store import load_model

    cond = load_model("conductivity")
    temp = load_model("conductivity-temperature")
    X = pd.DataFrame({"composition": ["Li7La3Zr2O12", "Li6PS5Cl", "Li1.3Al0.3Ti1.7(PO4)3",
                                      "Li3PS4"]}, index=[10, 20, 30, 40])
    rt = cond.predict_interval(X)
    assert list(rt.index) == [10, 20, 30, 40]
    assert {"interval_family"} <= set(rt.columns)
    assert rt["interval_family"].iloc[0] == "garnet"
    half = (rt["log10_sigma_upper"] - rt["log10_sigma_lower"]) / 2
    q = cond.interval_calibrator_.quantile(rt["interval_family"], 0.1)
    assert len(set(np.round(q, 6))) > 1  # not one quantile for every family
    assert (half > 0).all()
    hot = temp.predict_interval(X, 400.0)
    assert list(hot.index) == [10, 20, 30, 40]
    assert (hot["log10_sigma_lower"] < hot["log10_sigma"]).all()
    assert (hot["log10_sigma"] < hot["log10_sigma_upper"]).all()
    assert hot["interval_family"].notna().all()
    # the nominal level moves the interval: 80 % inside 90 % inside 95 %
    w = {a: (temp.predict_interval(X, 400.0, alpha=a)
             .eval("log10_sigma_upper - log10_sigma_lower")) for a in (0.2, 0.1, 0.05)}
    assert (w[0.2] <= w[0.1]).all() and (w[0.1] <= w[0.05]).all()


def test_no_value_or_interval_end_above_the_physical_ceiling():
    from ssbml.ml.store import load_model
    from ssbml.models.conductivity.model import MAX_LOG10_SIGMA

    temp = load_model("conductivity-temperature")
    X = ["Li3YCl6", "Li1.3Al0.3Ti1.7(PO4)3", "Li10GeP2S12"]
    raw = temp.predict_interval_from_features(temp._features(X), 900.0,
                                              clip_to_physical=False)
    assert (raw["log10_sigma_upper"] > MAX_LOG10_SIGMA).any()  # the raw interval does
    hot = temp.predict_interval(X, 900.0)
    cols = ["log10_sigma", "log10_sigma_lower", "log10_sigma_upper"]
    assert (hot[cols].to_numpy() <= MAX_LOG10_SIGMA).all()
    # still monotone in T below the ceiling
    warm = temp.predict_interval(X, 350.0)
    assert (hot["log10_sigma"].to_numpy() >= warm["log10_sigma"].to_numpy()).all()
