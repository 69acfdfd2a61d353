"""Conductivity loaders on the real mirror: schema, split, censoring, merging."""

from __future__ import annotations

import numpy as np
import pytest

from ssbml.data.conductivity import (
    PAPER_CENSORED_LOG10,
    SCHEMA,
    load_liverpool,
    load_obelix,
    load_room_temperature,
    merge_duplicates,
    rejected_rows,
)

pytestmark = pytest.mark.usefixtures("mirror")


def test_obelix_rows_split_and_censoring():
    df = load_obelix()
    assert len(df) == 599
    assert df["split"].value_counts().to_dict() == {"train": 478, "test": 121}
    assert set(SCHEMA) <= set(df.columns)
    assert df["censored"].sum() == 37
    assert (df.loc[df["censored"], "log10_sigma"] == PAPER_CENSORED_LOG10).all()
    # measured (uncensored) values span about 1e-18 to 1e-1 S/cm
    assert df.loc[~df["censored"], "log10_sigma"].between(-20, 0).all()
    assert rejected_rows(df).empty


def test_obelix_censored_conventions():
    bound = load_obelix(censored="bound")
    # the written bounds are <1E-10 (36 rows) and <1E-8 (1 row)
    bounds = np.round(bound.loc[bound["censored"], "log10_sigma"], 9).value_counts().to_dict()
    assert bounds == {-10.0: 36, -8.0: 1}
    dropped = load_obelix(censored="drop")
    assert len(dropped) == 599 - 37 and not dropped["censored"].any()
    with pytest.raises(ValueError, match="censored must be"):
        load_obelix(censored="zero")


def test_liverpool_units():
    df = load_liverpool()
    assert len(df) == 820
    assert df["temperature_K"].min() == pytest.approx(5 + 273.15)
    assert df["temperature_K"].max() == pytest.approx(873 + 273.15)
    assert not df["censored"].any()
    assert (df["split"] == "none").all()
    assert df["composition"].str.contains("Li").all()


def test_room_temperature_benchmark_never_leaks_test_compositions():
    df = load_room_temperature(benchmark=True)
    test = df[df["split"] == "test"]
    train = df[df["split"] == "train"]
    assert len(test) == 121
    assert not set(train["composition_key"]) & set(test["composition_key"])
    assert (train["source"].str.contains("liverpool")).any()
    assert train["composition_key"].is_unique
    lo, hi = 288.15, 308.15
    assert train["temperature_K"].between(lo, hi).all()


def test_room_temperature_for_shipping_uses_everything():
    df = load_room_temperature(benchmark=False)
    assert (df["split"] == "train").all()
    assert df["composition_key"].is_unique
    assert df["n_measurements"].sum() >= 599
    repeated = df[df["n_measurements"] > 1]
    assert len(repeated) > 100
    # the median is bracketed by the spread of the measurements it summarizes
    assert (repeated["log10_sigma_range"] >= 0).all()


def test_merge_duplicates_takes_median_and_keeps_censoring_honest():
    df = load_obelix().iloc[:3].copy()
    df["composition_key"] = "same"
    df["log10_sigma"] = [-3.0, -5.0, -4.0]
    df["censored"] = [False, True, False]
    merged = merge_duplicates(df)
    assert len(merged) == 1
    assert merged.loc[0, "log10_sigma"] == -4.0
    assert merged.loc[0, "n_measurements"] == 3
    assert merged.loc[0, "log10_sigma_range"] == 2.0
    assert not merged.loc[0, "censored"]
    assert np.isfinite(merged["log10_sigma"]).all()
