"""Issue 12: the shipped conductivity models hold together (CLI, screen)."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from ssbml.cli import app

runner = CliRunner()
FORMULAS = ["Li3YCl6", "Li3InCl6", "Li6PS5Cl", "Li3PS4", "Li7La3Zr2O12"]


def _predict(tmp_path, formulas, *extra: str) -> tuple[pd.DataFrame, str]:
    src = tmp_path / "in.csv"
    pd.DataFrame({"composition": formulas}).to_csv(src, index=False)
    dst = tmp_path / f"out{len(extra)}.csv"
    res = runner.invoke(app, ["predict", "conductivity", str(src), "-o", str(dst), *extra])
    assert res.exit_code == 0, res.output
    return pd.read_csv(dst), res.stderr


def test_room_temperature_and_298K_paths_agree(tmp_path):
    rt, _ = _predict(tmp_path, FORMULAS)
    at_t0, _ = _predict(tmp_path, FORMULAS, "-T", "298.15")
    diff = (rt["log10_sigma"] - at_t0["log10_sigma"]).abs()
    assert (diff <= 0.05).all(), pd.concat([rt["composition"], diff], axis=1)
    hot, _ = _predict(tmp_path, FORMULAS, "-T", "353.15")
    assert (hot["log10_sigma"] >= at_t0["log10_sigma"]).all()
    assert hot["activation_energy_eV"].between(0.1, 1.5).all()


def test_out_of_domain_is_flagged_in_predict(tmp_path):
    out, err = _predict(tmp_path, ["Li7La3Zr2O12", "Li0.01Xe", "LiAu"])
    assert list(out["in_domain"]) == [True, False, False]
    assert "Xe" in out["domain_reason"].iloc[1]
    assert "out of domain: row 1" in err


@pytest.mark.parametrize("allow", [False, True])
def test_out_of_domain_does_not_pass_the_screen(tmp_path, allow):
    from ssbml.screening.rank import RankingCriteria
    from ssbml.screening.run import ScreenSpec, screen

    src = tmp_path / "cands.csv"
    formulas = ["Li6.4La3Zr1.4Ta0.6O12", "Li6.25Al0.25La3Zr2O12", "Li0.01Xe", "LiAu",
                "Li0.5Pu", "LiBH4"]
    pd.DataFrame({"composition": formulas}).to_csv(src, index=False)
    spec = ScreenSpec(input_file=str(src), exact_stability=False)
    table = screen(spec, tmp_path / "out", report=False,
                   criteria=RankingCriteria(require_in_domain=not allow)).table
    table = table.set_index("input")
    assert table["in_domain"].to_dict() == {f: i < 2 for i, f in enumerate(formulas)}
    assert table.loc[["LiAu", "LiBH4"], "domain_reason"].str.len().gt(0).all()
    outside = table.loc[["Li0.01Xe", "LiAu", "Li0.5Pu", "LiBH4"], "passes_filters"]
    assert outside.all() if allow else not outside.any()


def test_screen_cli_allow_out_of_domain_flag(tmp_path):
    src = tmp_path / "cands.csv"
    pd.DataFrame({"composition": ["Li7La3Zr2O12", "Li0.01Xe"]}).to_csv(src, index=False)
    for flag, expected in (([], False), (["--allow-out-of-domain"], True)):
        out = tmp_path / f"o{len(flag)}"
        res = runner.invoke(app, ["screen", "--input", str(src), "--out", str(out),
                                  "--format", "csv", "--no-track", "--no-exact", *flag])
        assert res.exit_code == 0, res.output
        table = pd.read_csv(out / "candidates.csv").set_index("input")
        assert bool(table.loc["Li0.01Xe", "passes_filters"]) is expected


def test_a_bound_stays_a_bound_at_temperature(tmp_path):
    from ssbml.ml.store import load_model

    temp = load_model("conductivity-temperature")
    out = temp.predict_interval(["Li2PO2N", "Li6PS5Cl"], [298.15, 373.15])
    assert list(out["below_detection"]) == [True, False]
    for T in (298.15, 373.15, 450.0):
        row = temp.predict_interval(["Li2PO2N"], T).iloc[0]
        assert row["below_detection"]
        assert row["log10_sigma"] == row["log10_sigma_upper"] == row["log10_sigma_bound"]
        assert row["log10_sigma_lower"] <= row["log10_sigma"]
    hot, _ = _predict(tmp_path, ["Li2PO2N"], "-T", "373.15")
    assert hot["sigma_reported"].iloc[0].startswith("< ")
