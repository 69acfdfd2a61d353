"""``ssbml eis fit`` / ``ssbml eis arrhenius`` on the example spectra in data/examples/eis."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ssbml.cli import app

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples" / "eis"
TRUTH = json.loads((EXAMPLES / "truth.json").read_text()) if EXAMPLES.is_dir() else None
runner = CliRunner()

pytestmark = pytest.mark.skipif(TRUTH is None, reason="data/examples/eis missing")


def _truth(name: str) -> dict:
    return next(s for s in TRUTH["spectra"] if s["file"] == name)


@pytest.fixture(scope="module")
def fit_json(tmp_path_factory) -> tuple[list[dict], Path]:
    """`eis fit --json` of three temperatures, written to a file like a user would."""
    names = ["llzo_m40C.csv", "llzo_m10C.csv", "llzo_25C.csv"]
    temps = ["-40C", "-10C", "25C"]
    args = ["eis", "fit", *[str(EXAMPLES / n) for n in names], "--thickness-mm", "1",
            "--diameter-mm", "10", "--json"]
    for t in temps:
        args += ["--temperature", t]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    out = tmp_path_factory.mktemp("fits") / "fits.json"
    out.write_text(res.output)
    return data, out


def test_fit_json_has_physics_with_units_and_matches_truth(fit_json):
    data, _ = fit_json
    assert len(data) == 3
    for d in data:
        t = _truth(Path(d["file"]).name)
        assert d["convention"] == "-Z''"
        assert d["sigma_bulk_S_cm"] == pytest.approx(t["sigma_bulk_S_cm"], rel=0.02)
        assert d["sigma_total_S_cm"] == pytest.approx(t["sigma_total_S_cm"], rel=0.02)
        assert d["asr_ohm_cm2"] is None
        assert d["parameters"]["R1"]["unit"] == "Ohm" and d["parameters"]["R1"]["stderr"] > 0
        assert d["temperature_K"] == pytest.approx(t["temperature_K"])
        assert len(d["file_sha256"]) == 64


def test_fit_symmetric_cell_text_and_plot(tmp_path):
    png = tmp_path / "nyquist.png"
    res = runner.invoke(app, ["eis", "fit", str(EXAMPLES / "li_symmetric_25C.csv"),
                              "--thickness-mm", "1", "--area-cm2", "0.785", "--plot", str(png),
                              "--json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["asr_ohm_cm2"] == pytest.approx(TRUTH["asr_ohm_cm2"], rel=0.02)
    assert png.stat().st_size > 10_000 and png.read_bytes()[:4] == b"\x89PNG"
    text = runner.invoke(app, ["eis", "fit", str(EXAMPLES / "li_symmetric_25C.csv"),
                               "--thickness-mm", "1", "--area-cm2", "0.785"])
    assert "asr_ohm_cm2" in text.output and "halved" in text.output


def test_arrhenius_from_fit_json_and_table(fit_json, tmp_path):
    _, path = fit_json
    png = tmp_path / "arr.png"
    res = runner.invoke(app, ["eis", "arrhenius", str(path), "--kind", "bulk", "--json",
                              "--plot", str(png)])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert d["Ea_eV"] == pytest.approx(TRUTH["Ea_bulk_eV"], abs=0.01)
    assert d["sigma_25C_S_cm"] == pytest.approx(TRUTH["sigma_bulk_25C_S_cm"], rel=0.03)
    assert png.stat().st_size > 10_000
    table = tmp_path / "t.csv"
    table.write_text("temperature_K,sigma_S_cm\n" + "\n".join(
        f"{x['temperature_K']},{x['sigma_bulk_S_cm']}" for x in json.loads(path.read_text())))
    res2 = runner.invoke(app, ["eis", "arrhenius", str(table), "--json"])
    assert res2.exit_code == 0, res2.output
    assert json.loads(res2.output)["Ea_eV"] == pytest.approx(d["Ea_eV"], abs=1e-9)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["eis", "fit", "nope.csv"], "no such file"),
        (["eis", "fit", str(EXAMPLES / "llzo_25C.csv"), "--temperature", "25"], "with a unit"),
        (["eis", "fit", str(EXAMPLES / "llzo_25C.csv"), "--temperature", "25C",
          "--temperature", "30C"], "2 --temperature value"),
        (["eis", "fit", str(EXAMPLES / "llzo_25C.csv"), "--area-cm2", "0.785"],
         "--thickness-mm is needed"),
        (["eis", "fit", str(EXAMPLES / "llzo_25C.csv"), "--circuit", "R0-Q1"], "not a valid"),
        (["eis", "arrhenius", str(EXAMPLES / "llzo_25C.csv")], "--thickness-mm"),
    ],
)
def test_cli_errors_are_clear(args, match):
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert match in res.output
