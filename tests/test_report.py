"""The screening report: readable table, hoverable and labelled Pareto points, legend
with only the groups present, provenance, stability-source legend, file modes."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pandas as pd
import pytest

from ssbml.ml.store import default_models_dir, read_manifest
from ssbml.screening.rank import RankingCriteria
from ssbml.screening.report import pareto_svg, write_report
from ssbml.screening.run import ScreenSpec, screen

SPEC = ScreenSpec(parent="Li7La3Zr2O12", dopants=("Ta", "Nb", "Al", "Ga"))


@pytest.fixture(scope="module")
def shipped_screen(tmp_path_factory):
    """The main job with the shipped models (conductivity + learned stability)."""
    if "stability" not in read_manifest().get("models", {}):
        pytest.skip("shipped models not present")
    return screen(SPEC, tmp_path_factory.mktemp("screen") / "out", top=15)


def test_top_table_is_readable(shipped_screen):
    page = (shipped_screen.out_dir / "report.html").read_text()
    table = page[page.index('<table class="top">'):page.index("</table>")]
    for header in ("Composition", "log10 σ", "S/cm, 298 K", "90% interval", "Window",
                   "V vs Li/Li+", "meV/atom", "Stability source", "Passes filters"):
        assert header in table
    assert "True" not in table and "False" not in table and "snake" not in table
    assert "log10_sigma" not in table and "passes_filters" not in table
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1])
    assert len(rows) == 15
    first = shipped_screen.table.iloc[0]
    interval = f"{first['log10_sigma_lower']:.2f} – {first['log10_sigma_upper']:.2f}"
    assert interval in rows[0] and first["composition"] in rows[0]
    assert re.search(r">(Yes|No)<", rows[0])


def test_doping_column_gives_atoms_per_formula_unit(shipped_screen):
    """The Doping column's numbers are the dopant atoms per formula unit of the
    composition beside them (its header says so), not fractions of the site."""
    from pymatgen.core import Composition

    page = (shipped_screen.out_dir / "report.html").read_text()
    table = page[page.index('<table class="top">'):page.index("</table>")]
    assert "element@site:atoms per f.u." in table
    for _, row in shipped_screen.table.head(15).iterrows():
        comp = Composition(row["composition"])
        for piece in str(row["doping"]).split("+"):
            element, amount = piece.split("@")[0], float(piece.split(":")[1])
            assert comp[element] == pytest.approx(amount)


def test_pareto_points_hover_and_front_is_labelled(shipped_screen):
    page = (shipped_screen.out_dir / "report.html").read_text()
    svg = page[page.index("<svg"):page.index("</svg>")]
    table = shipped_screen.table
    assert svg.count("<title>") == len(table)  # every candidate has a tooltip
    best = table[table["pareto"]].sort_values("score").iloc[-1]["composition"]
    assert 'class="label"' in svg and f">{best}</text>" in svg
    # nothing was filtered: no 'filtered out' group in the legend
    assert table["passes_filters"].all()
    assert "filtered out" not in svg and "passes filters" in svg
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in page and "<script src" not in page


def test_legend_names_filtered_out_only_when_something_was(shipped_screen):
    table = shipped_screen.table.copy()
    table.loc[table.index[::2], "passes_filters"] = False
    assert "filtered out" in pareto_svg(table)


def test_provenance_names_models_data_run_and_version(shipped_screen, tmp_path):
    import ssbml

    page = (shipped_screen.out_dir / "report.html").read_text()
    prov = page[page.index("<h2>Provenance</h2>"):]
    manifest = read_manifest()["models"]
    for name in ("conductivity", "stability"):
        assert manifest[name]["sha256"] in prov and manifest[name]["file"] in prov
    assert manifest["conductivity"]["training_data_sha256"]["obelix"] in prov
    assert ssbml.__version__ in prov and "Li7La3Zr2O12" in prov and "Ta, Nb, Al, Ga" in prov
    assert "not tracked" in prov  # run without mlflow says so
    # with a run id the report names it
    shipped_screen.run_id = "0123456789abcdef"
    write_report(shipped_screen, tmp_path, top=5, criteria=RankingCriteria(), spec=SPEC,
                 models_dir=default_models_dir())
    assert "0123456789abcdef" in (tmp_path / "report.html").read_text()
    shipped_screen.run_id = None


def test_stability_source_legend(shipped_screen):
    page = (shipped_screen.out_dir / "report.html").read_text()
    for key in ("exact", "phase diagram", "learned"):
        assert f"<b>{key}</b>" in page
    assert "does not cover the chemical system" in page
    n = len(shipped_screen.table)
    counts = shipped_screen.table["stability_source"].value_counts()
    assert f"({counts['phase diagram']:,} of {n:,} candidates)" in page


def test_every_output_file_has_the_same_mode(shipped_screen):
    out = Path(shipped_screen.out_dir)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir() if p.is_file()}
    assert {"candidates.parquet", "report.html", "top.csv", "pareto.png"} <= set(modes)
    assert len(set(modes.values())) == 1, modes
    assert next(iter(modes.values())) & 0o044 == 0o044  # group and others can read


def test_top_csv_keeps_machine_names(shipped_screen):
    top = pd.read_csv(shipped_screen.out_dir / "top.csv")
    assert {"log10_sigma_lower", "log10_sigma_upper", "stability_source"} <= set(top.columns)
    assert len(top) == 15
