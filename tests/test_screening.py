"""Screening end to end with a real (small) conductivity model trained on the mirror:
ranking, files, report, kill-and-resume, Dask, mlflow, and bad inputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ssbml.cli import app
from ssbml.screening.chunks import RunMismatchError
from ssbml.screening.rank import RankingCriteria, pareto_front
from ssbml.screening.run import CandidateFileError, ScreenSpec, screen

runner = CliRunner()


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    """A small but real conductivity model, trained on the mirror's room-temperature data."""
    if not (Path(__file__).resolve().parents[2] / "shared" / "data").is_dir():
        pytest.skip("../shared/data mirror not present")
    from sklearn.ensemble import HistGradientBoostingRegressor

    from ssbml.data.conductivity import load_room_temperature
    from ssbml.features import make_featurizer
    from ssbml.ml.store import save_model
    from ssbml.models.conductivity.model import ConductivityModel

    df = load_room_temperature(benchmark=False)
    model = ConductivityModel(
        featurizer=make_featurizer(["element_property", "stoichiometry"]),
        regressor=HistGradientBoostingRegressor(max_iter=40, random_state=0),
        n_splits=3,
    ).fit(df[["composition"]], df["log10_sigma"])
    folder = tmp_path_factory.mktemp("models")
    save_model(model, "conductivity", models_dir=folder, data_names=("obelix", "liverpool"))
    return folder


SPEC = ScreenSpec(parent="Li7La3Zr2O12", dopants=("Ta", "Nb", "Al", "Ga"), chunk_size=60)


def test_pareto_front_is_the_non_dominated_set():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=300), rng.normal(size=300)
    mask = pareto_front(a, b)
    for i in range(300):
        dominated = np.any((a >= a[i]) & (b >= b[i]) & ((a > a[i]) | (b > b[i])))
        assert mask[i] == (not dominated)
    assert not pareto_front(np.array([np.nan, 1.0]), np.array([1.0, np.nan])).any()


def test_screen_ranks_writes_and_reports(models_dir, tmp_path):
    result = screen(
        SPEC, tmp_path / "out", models_dir=models_dir, criteria=RankingCriteria(min_log10_sigma=-5)
    )
    table = result.table
    assert len(table) == 528 and table["candidate_id"].is_unique
    assert table["rank"].tolist() == list(range(1, 529))
    assert table["li_per_formula"].min() >= 4.9 - 1e-9  # 70 % of the parent's Li
    # the grid points not made are listed with a reason
    not_made = pd.read_csv(tmp_path / "out" / "rejected_candidates.csv")
    assert len(not_made) == 105 and not_made["reason"].notna().all()
    assert not set(not_made["doping"]) & set(table["doping"])
    passing = table[table["passes_filters"]]
    assert (passing["log10_sigma"] >= -5).all()
    assert passing["score"].is_monotonic_decreasing
    assert (table["log10_sigma_lower"] < table["log10_sigma"]).all()
    assert (table["log10_sigma"] < table["log10_sigma_upper"]).all()
    assert {"domain_distance", "in_domain", "composition", "doping"} <= set(table.columns)
    on_disk = pd.read_parquet(tmp_path / "out" / "candidates.parquet")
    pd.testing.assert_frame_equal(on_disk, table)
    html = (tmp_path / "out" / "report.html").read_text()
    assert "Top 20 candidates" in html and "data:image/png;base64," in html
    assert (tmp_path / "out" / "pareto.png").stat().st_size > 1000


def test_reference_compounds_get_exact_stability(models_dir, tmp_path):
    spec = ScreenSpec(parent="Li7La3Zr2O12", dopants=("Ta",), fractions=(0.25,), max_dopants=1)
    table = screen(spec, tmp_path / "e", models_dir=models_dir, report=False).table
    parent = table[table["doping"] == ""].iloc[0]
    assert parent["stability_source"] == "exact"
    assert parent["reduction_V"] == pytest.approx(0.05, abs=0.1)
    assert parent["oxidation_V"] == pytest.approx(2.91, abs=0.1)
    assert parent["rxn_Li_meV_atom"] <= 0 and parent["rxn_LiCoO2_meV_atom"] < 0
    # every stability column of an exact row is exact, none is left from the learned model
    from ssbml.stability.decomposition import decomposition

    e_dec = decomposition("Li7La3Zr2O12").decomposition_energy_meV_atom
    assert parent["decomposition_energy_meV_atom"] == pytest.approx(e_dec)
    for name in ("decomposition_energy_meV_atom_lower", "decomposition_energy_meV_atom_upper"):
        if name in table.columns:
            assert parent[name] == pytest.approx(e_dec)
    doped = table[table["doping"] != ""].iloc[0]
    assert doped["stability_source"] != "exact"


def test_rerun_same_folder_resumes_and_different_run_is_refused(models_dir, tmp_path):
    first = screen(SPEC, tmp_path / "o", models_dir=models_dir, report=False)
    stamp = (tmp_path / "o" / "chunks" / "part-00000.parquet").stat().st_mtime_ns
    again = screen(SPEC, tmp_path / "o", models_dir=models_dir, report=False)
    assert (tmp_path / "o" / "chunks" / "part-00000.parquet").stat().st_mtime_ns == stamp
    pd.testing.assert_frame_equal(first.table, again.table)
    other = ScreenSpec(parent="Li7La3Zr2O12", dopants=("Ta",), chunk_size=60)
    with pytest.raises(RunMismatchError, match="different screening run"):
        screen(other, tmp_path / "o", models_dir=models_dir)
    (tmp_path / "stranger").mkdir()
    (tmp_path / "stranger" / "notes.txt").write_text("mine")
    with pytest.raises(RunMismatchError, match="not a screening output folder"):
        screen(SPEC, tmp_path / "stranger", models_dir=models_dir)
    assert (tmp_path / "stranger" / "notes.txt").read_text() == "mine"


def test_kill_and_resume_gives_the_uninterrupted_result(models_dir, tmp_path):
    args = [
        sys.executable,
        "-m",
        "ssbml.cli",
        "screen",
        "--parent",
        "Li3PS4",
        "--dopants",
        "Cl,Si",
        "--chunk-size",
        "4",
        "--no-track",
        "--models-dir",
        str(models_dir),
    ]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    killed_dir = tmp_path / "killed"
    proc = subprocess.Popen(
        [*args, "-o", str(killed_dir)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    chunk_dir = killed_dir / "chunks"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if chunk_dir.is_dir() and len(list(chunk_dir.glob("part-*.parquet"))) >= 3:
            break
        if proc.poll() is not None:
            break
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = len(list(chunk_dir.glob("part-*.parquet")))
    total = json.loads((killed_dir / "run.json").read_text())["n_chunks"]
    assert 3 <= done_before < total, "the run was not interrupted part way"
    assert not (killed_dir / "candidates.parquet").exists()

    resumed = subprocess.run(
        [*args, "-o", str(killed_dir)], env=env, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    clean = subprocess.run(
        [*args, "-o", str(tmp_path / "clean")], env=env, capture_output=True, text=True
    )
    assert clean.returncode == 0, clean.stderr
    a = pd.read_parquet(killed_dir / "candidates.parquet")
    b = pd.read_parquet(tmp_path / "clean" / "candidates.parquet")
    assert a["candidate_id"].is_unique and len(a) == len(b)
    pd.testing.assert_frame_equal(a, b)
    assert not list(chunk_dir.glob(".*part"))  # no half-written files left behind


def test_dask_local_cluster_gives_the_same_result(models_dir, tmp_path):
    from distributed import LocalCluster

    local = screen(SPEC, tmp_path / "local", models_dir=models_dir, report=False)
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        remote = screen(
            SPEC,
            tmp_path / "dask",
            models_dir=models_dir,
            scheduler=cluster.scheduler_address,
            report=False,
        )
    # the neighbours are found by a float32 matrix product whose BLAS blocking depends
    # on the process (threads); their distances are exact float64, so they agree to
    # rounding unless a near-tie picks another neighbour
    near = ["domain_distance"]
    pd.testing.assert_frame_equal(local.table.drop(columns=near),
                                  remote.table.drop(columns=near))
    np.testing.assert_allclose(local.table[near].to_numpy(float),
                               remote.table[near].to_numpy(float), rtol=1e-5, atol=1e-6)


def test_screening_run_is_tracked(models_dir, tmp_path, mlflow_uri):
    import mlflow

    result = screen(SPEC, tmp_path / "t", models_dir=models_dir, track=True)
    run = mlflow.MlflowClient(mlflow_uri).get_run(result.run_id)
    assert run.data.metrics["n_candidates"] == 528
    assert run.data.metrics["n_rejected_candidates"] == 105
    assert run.data.params["parent"] == "Li7La3Zr2O12"
    assert "model_sha256.conductivity" in run.data.tags
    artifacts = {a.path for a in mlflow.MlflowClient(mlflow_uri).list_artifacts(result.run_id)}
    assert {"report.html", "pareto.png", "top.csv"} <= artifacts


def test_candidate_file_with_bad_rows(models_dir, tmp_path):
    path = tmp_path / "cands.csv"
    pd.DataFrame(
        {"composition": ["Li3PS4", "NaCl", "Li6PS5Cl", "Xx2O", "", "Li7La3Zr2O12"]}
    ).to_csv(path, index=False)
    result = screen(ScreenSpec(input_file=str(path)), tmp_path / "f", models_dir=models_dir)
    assert sorted(result.table["candidate_id"]) == [0, 2, 5]
    assert result.rejected["row"].tolist() == [1, 3, 4]
    assert "no Li" in result.rejected.loc[0, "reason"]
    on_disk = pd.read_csv(tmp_path / "f" / "rejected.csv")
    assert on_disk["row"].tolist() == [1, 3, 4]


def test_parquet_candidate_file(models_dir, tmp_path):
    path = tmp_path / "cands.parquet"
    pd.DataFrame({"composition": ["Li3PS4", "Li6PS5Cl", "KCl"], "note": ["a", "b", "c"]}
                 ).to_parquet(path)
    result = screen(ScreenSpec(input_file=str(path)), tmp_path / "pq", models_dir=models_dir)
    assert sorted(result.table["candidate_id"]) == [0, 1]
    assert result.rejected["row"].tolist() == [2]
    assert set(result.table["input"]) == {"Li3PS4", "Li6PS5Cl"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"composition\n", "header but no rows"),
        (b"formula\nLi3PS4\n", "no 'composition' column"),
        (b"composition\nNaCl\nKBr\n", "all 2 rows were rejected"),
    ],
)
def test_unusable_candidate_files(tmp_path, content, message):
    path = tmp_path / "c.csv"
    path.write_bytes(content)
    with pytest.raises(CandidateFileError, match=message):
        screen(ScreenSpec(input_file=str(path)), tmp_path / "o")


def test_cli_bad_inputs_are_clear(models_dir, tmp_path):
    base = ["screen", "--models-dir", str(models_dir), "--no-track", "-o", str(tmp_path / "x")]
    r = runner.invoke(app, [*base, "--parent", "Li7La3Zr2O12", "--dopants", "Ta,Qq"])
    assert r.exit_code == 2 and "unknown dopant element 'Qq'" in r.output
    r = runner.invoke(app, [*base, "--parent", "Li3PS4", "--dopants", "F", "--site", "F=P"])
    assert r.exit_code == 2 and "cannot balance charge" in r.output
    r = runner.invoke(app, [*base, "--parent", "NaCl", "--dopants", "K"])
    assert r.exit_code == 2 and "no Li" in r.output
    r = runner.invoke(app, [*base, "--dopants", "Ta"])
    assert r.exit_code == 2 and "--parent" in r.output
    r = runner.invoke(app, [*base, "--parent", "Li3PS4", "--dopants", "Si", "--site", "Si"])
    assert r.exit_code != 0 and "DOPANT=SITE" in r.output
    pd_ = [*base, "--parent", "Li3PS4", "--dopants", "Si"]
    r = runner.invoke(app, [*pd_, "--amounts", "Si=0.1,-0.2"])
    assert r.exit_code == 2 and "amounts for Si must be finite numbers > 0" in r.output
    r = runner.invoke(app, [*pd_, "--amounts", "0.1,nan"])
    assert r.exit_code == 2
    assert "--amounts" in r.output and "nan" in r.output and "finite" in r.output
    r = runner.invoke(app, [*pd_, "--amounts", "0.5,1.5"])
    assert r.exit_code == 2 and "above the size of its site P" in r.output
    r = runner.invoke(app, [*pd_, "--amounts", "0.1,x"])
    assert r.exit_code != 0 and "comma-separated numbers" in r.output
    r = runner.invoke(app, [*pd_, "--min-li", "lots"])
    assert r.exit_code != 0 and "--min-li takes" in r.output
    r = runner.invoke(app, [*pd_, "--max-site-fraction", "2"])
    assert r.exit_code == 2 and "max_site_fraction (of a site) must be between 0 and 1" in r.output
    r = runner.invoke(
        app,
        [
            "screen",
            "--parent",
            "Li3PS4",
            "--dopants",
            "Si",
            "--no-track",
            "-o",
            str(tmp_path / "y"),
            "--models-dir",
            str(tmp_path / "none"),
        ],
    )
    assert r.exit_code == 2 and "not in" in r.output


def test_cli_screen_prints_the_top_table(models_dir, tmp_path):
    r = runner.invoke(
        app,
        [
            "screen",
            "--parent",
            "Li6PS5Cl",
            "--dopants",
            "Br,Si",
            "--models-dir",
            str(models_dir),
            "--no-track",
            "--top",
            "5",
            "-o",
            str(tmp_path / "s"),
            "--format",
            "csv",
        ],
        terminal_width=200,
    )
    assert r.exit_code == 0, r.output
    assert "Top 5 of" in r.output
    table = pd.read_csv(tmp_path / "s" / "candidates.csv")
    assert table["rank"].iloc[0] == 1 and len(table) > 5


def test_shipped_models_screen_at_temperature_with_phase_diagram_stability(tmp_path):
    """The shipped models (as the README's main job uses them) at 373 K."""
    spec = ScreenSpec(parent="Li3PS4", dopants=("Cl", "Si"), amounts=(0.1, 0.3),
                      temperature_K=373.15)
    table = screen(spec, tmp_path / "hot", report=True).table
    assert len(table) == 1 + 2 * 2 + 4
    assert (table["temperature_K"] == 373.15).all()
    assert (table["Ea_eV"] >= 0).all()
    # Arrhenius: above room temperature the model never predicts lower conductivity
    from ssbml.ml.store import load_model

    tmodel = load_model("conductivity-temperature")
    X = table["composition"].tolist()
    assert (tmodel.predict(X, 373.15) >= tmodel.predict(X, 298.15) - 1e-9).all()
    for col in ("reduction_V", "oxidation_V", "rxn_Li_meV_atom", "rxn_LiCoO2_meV_atom"):
        assert table[col].notna().all()
    assert (table["reduction_V"] <= table["oxidation_V"]).all()
    parent = table[table["doping"] == ""].iloc[0]
    assert parent["stability_source"] == "exact"  # Li3PS4 is a reference compound
    assert parent["oxidation_V"] == pytest.approx(2.31, abs=0.1)
    # doped candidates: the phase-diagram route, never the learned model
    assert set(table.loc[table["doping"] != "", "stability_source"]) == {"phase diagram"}
    assert (tmp_path / "hot" / "windows.png").is_file()


def test_live_lock_refuses_and_stale_lock_is_taken_over(models_dir, tmp_path):
    out = tmp_path / "locked"
    screen(SPEC, out, models_dir=models_dir, report=False)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / ".lock").write_text(str(sleeper.pid))
        with pytest.raises(RunMismatchError, match=f"process {sleeper.pid}"):
            screen(SPEC, out, models_dir=models_dir, report=False)
    finally:
        sleeper.kill()
        sleeper.wait()
    # the holder is dead now: its lock is stale and the run goes ahead
    (out / "chunks" / ".part-00001.parquet.dead.part").write_bytes(b"half written")
    result = screen(SPEC, out, models_dir=models_dir, report=False)
    assert len(result.table) == 528
    assert not (out / ".lock").exists()
    assert not list((out / "chunks").glob(".*part"))


def test_cli_amounts_and_candidate_rules(models_dir, tmp_path):
    base = ["screen", "--parent", "Li7La3Zr2O12", "--dopants", "Al,Ta", "--models-dir",
            str(models_dir), "--no-track", "--format", "csv", "--amounts", "Al=0.25",
            "--amounts", "Ta=0.6"]
    r = runner.invoke(app, [*base, "--min-li", "80%", "-o", str(tmp_path / "a")],
                      terminal_width=200)
    assert r.exit_code == 0, r.output
    table = pd.read_csv(tmp_path / "a" / "candidates.csv")
    assert sorted(table["doping"].fillna("")) == ["", "Al@Li:0.25", "Al@Li:0.25+Ta@Zr:0.6",
                                                  "Ta@Zr:0.6"]
    assert not (tmp_path / "a" / "rejected_candidates.csv").exists()
    # Li5.65Al0.25La3Zr1.4Ta0.6O12 is below 6 Li per formula unit: listed, not made
    r = runner.invoke(app, [*base, "--min-li", "6", "-o", str(tmp_path / "b")],
                      terminal_width=200)
    assert r.exit_code == 0, r.output
    assert "1 grid point(s) not made (1 min_li)" in r.output
    table = pd.read_csv(tmp_path / "b" / "candidates.csv")
    assert len(table) == 3 and table["li_per_formula"].min() >= 6
    not_made = pd.read_csv(tmp_path / "b" / "rejected_candidates.csv")
    assert not_made["doping"].tolist() == ["Al@Li:0.25+Ta@Zr:0.6"]
    assert not_made["reason"].iloc[0] == "Li 5.65 per formula unit below the minimum 6"
