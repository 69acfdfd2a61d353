"""User data sets: validated appends, no duplicates, atomic writes, load/list, CLI add."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from ssbml.cli import user_data
from ssbml.data.user import (
    COLUMNS,
    UserDataError,
    append_rows,
    list_user_datasets,
    load_user_dataset,
    user_data_dir,
)


@pytest.fixture()
def udir(tmp_path, monkeypatch):
    d = tmp_path / "user"
    monkeypatch.setenv("SSBML_USER_DATA_DIR", str(d))
    return d


def _rows(**over) -> pd.DataFrame:
    base = {"composition": "Li7La3Zr2O12", "log10_sigma": -3.7, "temperature_K": 298.15,
            "sigma_kind": "total", "provenance_file": "a.csv", "fit_circuit": "R0-p(R1,CPE1)"}
    base.update(over)
    return pd.DataFrame([base])


def test_append_creates_then_appends_and_never_overwrites(udir):
    assert user_data_dir() == udir and list_user_datasets() == []
    r1 = append_rows("lab", _rows())
    assert r1.n_existing == 0 and r1.n_added == 1 and r1.path == udir / "lab.csv"
    first = load_user_dataset("lab")
    r2 = append_rows("lab", pd.concat([_rows(temperature_K=320.0), _rows(temperature_K=340.0)]))
    assert r2.n_existing == 1 and r2.n_added == 2
    df = load_user_dataset("lab")
    assert list(df.columns) == list(COLUMNS) and len(df) == 3
    pd.testing.assert_frame_equal(df.iloc[:1], first)  # the first row is untouched
    row = df.iloc[0]
    assert row["source"] == "user:lab" and row["split"] == "train" and not row["censored"]
    assert df["censored"].dtype == bool
    # missing family: None (pandas 2 object column) or NaN (pandas 3 str column)
    assert row["composition"] == "Li7La3Zr2O12" and pd.isna(row["family"])
    assert list_user_datasets() == ["lab"]
    # loadable by path too, for the training code
    assert len(load_user_dataset(udir / "lab.csv")) == 3
    assert not list(udir.glob("*.tmp"))


def test_duplicates_are_refused_and_nothing_is_written(udir):
    append_rows("lab", _rows())
    before = (udir / "lab.csv").read_bytes()
    with pytest.raises(UserDataError, match="already in data set"):
        append_rows("lab", pd.concat([_rows(temperature_K=400.0), _rows()]))
    with pytest.raises(UserDataError, match="row 2 repeats row 1"):
        append_rows("lab", pd.concat([_rows(temperature_K=500.0), _rows(temperature_K=500.0)]))
    assert (udir / "lab.csv").read_bytes() == before
    # same measurement stored as bulk is a different row
    append_rows("lab", _rows(sigma_kind="bulk"))
    assert len(load_user_dataset("lab")) == 2


@pytest.mark.parametrize(
    ("over", "match"),
    [
        ({"composition": "Xx2O"}, "row 1 field composition"),
        ({"composition": "La2O3"}, "row 1 field composition"),
        ({"log10_sigma": float("nan")}, "row 1 field log10_sigma"),
        ({"log10_sigma": "high"}, "row 1 field log10_sigma"),
        ({"temperature_K": -5.0}, "row 1 field temperature_K"),
        ({"sigma_kind": "ionic"}, "row 1 field sigma_kind"),
        ({"source": "obelix"}, "row 1 field source"),
        ({"split": "valid"}, "row 1 field split"),
        ({"censored": "maybe"}, "row 1 field censored"),
        ({"colour": "red"}, "unknown column"),
    ],
)
def test_bad_rows_name_row_and_field(udir, over, match):
    with pytest.raises(UserDataError, match=match):
        append_rows("lab", _rows(**over))
    assert not (udir / "lab.csv").exists()


def test_bad_names_and_missing_dataset(udir):
    for name in ("", "../x", "a b", "lab.csv"):
        with pytest.raises(UserDataError, match="data set name"):
            append_rows(name, _rows())
    with pytest.raises(UserDataError, match="no user data set"):
        load_user_dataset("nothing")
    with pytest.raises(UserDataError, match="no rows"):
        append_rows("lab", _rows().iloc[:0])


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("add")(user_data.add)
    app.command("other")(lambda: None)  # keep "add" a named sub-command
    return app


def test_cli_add_from_fit_json_stdin_and_csv(udir, tmp_path):
    fit = {"file": "llzo_25C.csv", "file_sha256": "ab" * 32, "temperature_K": 298.15,
           "circuit": "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3", "sigma_bulk_S_cm": 1e-4,
           "sigma_total_S_cm": 6.67e-5}
    p = tmp_path / "fit.json"
    p.write_text(json.dumps(fit))
    runner = CliRunner()
    res = runner.invoke(_cli(), ["add", str(p), "--dataset", "lab", "--composition",
                                 "Li6.4La3Zr1.4Ta0.6O12", "--kind", "bulk", "--family", "garnet"])
    assert res.exit_code == 0, res.output
    df = load_user_dataset("lab")
    assert df["log10_sigma"].iloc[0] == pytest.approx(-4.0)
    assert df["provenance_file"].iloc[0] == "llzo_25C.csv sha256:" + "ab" * 8
    assert df["family"].iloc[0] == "garnet" and df["sigma_kind"].iloc[0] == "bulk"
    res = runner.invoke(_cli(), ["add", "-", "--dataset", "lab", "--composition",
                                 "Li6.4La3Zr1.4Ta0.6O12"], input=json.dumps([fit]))
    assert res.exit_code == 0, res.output
    res = runner.invoke(_cli(), ["add", "-", "--dataset", "lab", "--composition",
                                 "Li6.4La3Zr1.4Ta0.6O12"], input=json.dumps([fit]))
    assert res.exit_code == 2 and "already in data set" in res.output
    csv = tmp_path / "rows.csv"
    csv.write_text("composition,log10_sigma,temperature_K,sigma_kind\n"
                   "Li3YCl6,-3.3,298.15,total\nLi3InCl6,-2.8,298.15,total\n")
    res = runner.invoke(_cli(), ["add", str(csv), "--dataset", "lab"])
    assert res.exit_code == 0, res.output
    assert len(load_user_dataset("lab")) == 4


@pytest.mark.parametrize(
    ("payload", "args", "match"),
    [
        ({"temperature_K": 300.0, "sigma_total_S_cm": 1e-4}, [], "--composition is required"),
        ({"sigma_total_S_cm": 1e-4}, ["--composition", "Li3YCl6"], "temperature_K is missing"),
        ({"temperature_K": 300.0, "sigma_total_S_cm": None}, ["--composition", "Li3YCl6"],
         "sigma_total_S_cm is missing"),
        ({"temperature_K": 300.0, "sigma_total_S_cm": 1e-4}, ["--composition", "Zz3"],
         "row 1 field composition"),
    ],
)
def test_cli_add_errors(udir, tmp_path, payload, args, match):
    p = tmp_path / "fit.json"
    p.write_text(json.dumps(payload))
    res = CliRunner().invoke(_cli(), ["add", str(p), "--dataset", "lab", *args])
    assert res.exit_code == 2 and match in res.output
    assert list_user_datasets() == []
