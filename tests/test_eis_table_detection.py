"""``ssbml eis arrhenius`` recognises a table by the same column names its reader accepts,
and reads ``ssbml eis fit --json`` output with the same checks as ``ssbml data add``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from ssbml.cli import app
from ssbml.eis.arrhenius import K_B_EV, is_arrhenius_table

runner = CliRunner()

T_K = np.array([250.0, 275.0, 300.0, 325.0, 350.0])
EA_EV = 0.4
SIGMA_S_CM = 1e3 / T_K * np.exp(-EA_EV / (K_B_EV * T_K))


def _write(path, header: str, temps: np.ndarray) -> None:
    rows = "\n".join(f"{t:g},{s:.10g}" for t, s in zip(temps, SIGMA_S_CM, strict=True))
    path.write_text(f"{header}\n{rows}\n")


@pytest.mark.parametrize(
    ("header", "temps"),
    [
        ("T,sigma", T_K),
        ("T (K),sigma (S/cm)", T_K),
        ("t_c,sigma_S_cm", T_K - 273.15),
        ("Temperature (C),conductivity_S_cm", T_K - 273.15),
    ],
)
def test_arrhenius_cli_reads_table_with_any_accepted_header(tmp_path, header, temps):
    table = tmp_path / "series.csv"
    _write(table, header, temps)
    assert is_arrhenius_table(table)
    res = runner.invoke(app, ["eis", "arrhenius", str(table), "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["n_points"] == T_K.size
    assert d["Ea_eV"] == pytest.approx(EA_EV, abs=1e-6)


def test_spectrum_is_not_a_table(tmp_path):
    spectrum = tmp_path / "spectrum.csv"
    spectrum.write_text("frequency_Hz,Z'_ohm,-Z''_ohm\n1e6,100,5\n1e5,120,40\n")
    headerless = tmp_path / "headerless.csv"
    headerless.write_text("1e6,100,5\n1e5,120,40\n")
    assert not is_arrhenius_table(spectrum)
    assert not is_arrhenius_table(headerless)
    assert not is_arrhenius_table(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"sigma_total_S_cm": 1e-4}, "entry 2 field temperature_K is missing"),
        ({"temperature_K": 300.0}, "entry 2 field sigma_total_S_cm is missing"),
        ({"temperature_K": 300.0, "sigma_total_S_cm": -1.0}, "must be > 0 S/cm"),
        ([1, 2], "entry 2: expected a JSON object"),
    ],
)
def test_arrhenius_cli_names_the_bad_fit_json_entry(tmp_path, entry, message):
    good = {"temperature_K": 250.0, "sigma_total_S_cm": 1e-5}
    path = tmp_path / "fits.json"
    path.write_text(json.dumps([good, entry]))
    res = runner.invoke(app, ["eis", "arrhenius", str(path)])
    assert res.exit_code == 2
    assert message in res.output
