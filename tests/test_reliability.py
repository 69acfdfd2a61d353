"""Issue 16: atomic writes, short messages, stoichiometry bounds, model trust, data add
input checks, eis --plot folders and the numeric option checks."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from ssbml.cli import app
from ssbml.composition import MAX_AMOUNT, MAX_AMOUNT_RATIO, CompositionError, parse_formula
from ssbml.io import (
    OutputPathError,
    atomic_write,
    atomic_write_csv,
    atomic_write_text,
    inside,
    shorten,
)

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples" / "eis"
ROW = "composition,log10_sigma,temperature_K,sigma_kind\nLi3PS4,-3.5,298,total\n"


def test_shorten_keeps_60_characters_and_gives_the_length():
    assert shorten("Li3PS4") == "'Li3PS4'"
    long = "Li" + "O" * 6_000_000
    text = shorten(long)
    assert len(text) < 100 and "6,000,002 characters" in text and text.startswith("'LiOOO")
    assert shorten(3.5) == "3.5"


def test_atomic_write_replaces_whole_file_and_honours_umask(tmp_path):
    target = tmp_path / "sub" / "a.txt"
    atomic_write_text("old\n", target)
    old = os.umask(0o027)
    try:
        atomic_write_text("new\n", target)
    finally:
        os.umask(old)
    assert target.read_text() == "new\n"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in target.parent.iterdir()] == ["a.txt"]  # no temporary left


def test_failed_atomic_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "t.csv"
    atomic_write_csv(pd.DataFrame({"a": [1]}), target)
    with pytest.raises(RuntimeError), atomic_write(target) as fh:
        fh.write("partial")
        raise RuntimeError("writer died")
    assert target.read_text() == "a\n1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_inside_refuses_paths_that_escape(tmp_path):
    assert inside(tmp_path, "x.png") == tmp_path / "x.png"
    for bad in ("../x.png", "/etc/x", "a/../../x"):
        with pytest.raises(OutputPathError, match="outside"):
            inside(tmp_path, bad)


@pytest.mark.parametrize(("text", "match"), [
    ("Li7P3S12345678901234567890123456789011", "amount of S is 1.235e\\+31 per formula unit"),
    ("Li1001O", "amount of Li is 1001"),
    ("Li7La3Zr2O12Al0.00001", "O/Al amount ratio is 1.2e\\+06"),
])
def test_absurd_stoichiometry_is_refused_with_the_reason(text, match):
    with pytest.raises(CompositionError, match=match):
        parse_formula(text)


def test_stoichiometry_bounds_are_inclusive():
    assert parse_formula(f"Li{MAX_AMOUNT:g}O")["Li"] == MAX_AMOUNT
    comp = parse_formula("Li1000O0.1")
    assert comp["Li"] / comp["O"] == pytest.approx(MAX_AMOUNT_RATIO)
    with pytest.raises(CompositionError, match="ratio"):
        parse_formula("Li1000O0.09")


def test_huge_composition_is_not_echoed_back(tmp_path):
    src = tmp_path / "long.csv"
    src.write_text("composition,log10_sigma,temperature_K,sigma_kind\n"
                   + "Li" + "O" * 6_000_000 + ",-3,300,total\n")
    r = runner.invoke(app, ["data", "add", str(src), "--dataset", "long"])
    assert r.exit_code == 2
    assert len(r.output) < 400 and "6,000,002 characters" in r.output


def test_binary_input_is_named_with_byte_and_offset(tmp_path):
    src = tmp_path / "rand.csv"
    rng = np.random.default_rng(0)
    src.write_bytes(b"\xab" + rng.bytes(1_000_000))
    r = runner.invoke(app, ["data", "add", str(src), "--dataset", "bin"])
    assert r.exit_code == 2
    assert r.output.strip() == f"error: {src} is not UTF-8 text (byte 0xab at offset 0)"
    src.write_bytes(b"composition\x00,x\n")
    r = runner.invoke(app, ["data", "add", str(src), "--dataset", "bin"])
    assert r.exit_code == 2 and "NUL byte at offset 11" in r.output


def test_size_limit_and_one_huge_line(tmp_path, monkeypatch):
    src = tmp_path / "big.csv"
    src.write_text("A" * 3_000_000)
    monkeypatch.setenv("SSBML_MAX_INPUT_MB", "1")
    r = runner.invoke(app, ["data", "add", str(src), "--dataset", "big"])
    assert r.exit_code == 2 and "3,000,000 bytes) is larger than the input limit of 1,048,576" \
        in r.output
    r = runner.invoke(app, ["data", "add", str(src), "--dataset", "big", "--max-input-mb", "5"])
    assert r.exit_code == 2 and "the first line is 3,000,000 characters long" in r.output
    src.write_text("composition,bogus\nLi3PS4,1\n")
    r = runner.invoke(app, ["data", "add", str(src), "--dataset", "big"])
    assert r.exit_code == 2 and "unknown column(s) 'bogus'" in r.output
    src.write_text("")
    r = runner.invoke(app, ["data", "add", str(src), "--dataset", "big"])
    assert r.exit_code == 2 and "no rows to add" in r.output


def test_data_add_from_stdin_within_limit(tmp_path):
    r = runner.invoke(app, ["data", "add", "-", "--dataset", "stdin16"], input=ROW)
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["data", "add", "-", "--dataset", "stdin16b", "--max-input-mb",
                            "0.00001"], input=ROW * 10)
    assert r.exit_code == 2 and "<stdin> is larger than the input limit" in r.output


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="data/examples/eis missing")
def test_eis_plot_creates_missing_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["eis", "fit", str(EXAMPLES / "llzo_25C.csv"), "--plot",
                            "nodir/sub/p.png"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "nodir" / "sub" / "p.png").read_bytes()[:4] == b"\x89PNG"


def test_eis_plot_in_unwritable_place_is_a_clean_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = runner.invoke(app, ["eis", "fit", str(EXAMPLES / "llzo_25C.csv"), "--plot",
                            str(blocker / "sub" / "p.png")])
    assert r.exit_code == 2 and r.output.startswith("error:") and r.exception.code == 2


@pytest.mark.parametrize("value", ["NaN", "nan", "inf", "-inf", "-5", "0"])
def test_max_rms_percent_refuses_meaningless_values(value):
    r = runner.invoke(app, ["eis", "fit", "x.csv", "--max-rms-percent", value])
    assert r.exit_code == 2
    assert r.output.strip().startswith("error: --max-rms-percent = ")
    assert "must be a finite number > 0" in r.output


@pytest.mark.parametrize(("args", "needle"), [
    (["screen", "--parent", "Li3PS4", "--dopants", "Cl", "--window", "4,0.5", "--no-track"],
     "LOW < HIGH"),
    (["screen", "--parent", "Li3PS4", "--dopants", "Cl", "--window", "0,nan", "--no-track"],
     "--window = nan"),
    (["screen", "--parent", "Li3PS4", "--dopants", "Cl", "--fractions", "0.1,1.5",
      "--no-track"], "--fractions = 1.5"),
    (["screen", "--parent", "Li3PS4", "--dopants", "Cl", "--min-log10-sigma", "nan",
      "--no-track"], "--min-log10-sigma = nan"),
    (["stability", "Li3PS4", "--rel-tol", "nan"], "--rel-tol"),
    (["eis", "fit", "x.csv", "--f-min-hz", "10", "--f-max-hz", "1"], "must be below"),
    (["data", "add", "x.csv", "--dataset", "d", "--lock-timeout", "inf"], "--lock-timeout"),
])
def test_numeric_options_at_the_boundary(args, needle):
    r = runner.invoke(app, args)
    assert r.exit_code == 2
    assert needle in r.output, r.output


def test_untrusted_model_folder_is_refused_unless_trusted(tmp_path, monkeypatch):
    from ssbml.ml.store import (
        UntrustedModelError,
        load_model,
        read_manifest,
        save_model,
        trust_store_path,
    )

    save_model({"w": 1}, "toy", models_dir=tmp_path / "mine")
    assert load_model("toy", tmp_path / "mine") == {"w": 1}  # trained here: trusted
    # the same manifest and file, but written by someone else (not in any trusted list)
    other = tmp_path / "downloaded"
    other.mkdir()
    import joblib

    joblib.dump({"w": 2}, other / "toy.joblib")
    from ssbml.data.registry import file_sha256

    manifest = read_manifest(tmp_path / "mine")
    manifest["models"]["toy"]["sha256"] = file_sha256(other / "toy.joblib")
    (other / "manifest.json").write_text(__import__("json").dumps(manifest))
    with pytest.raises(UntrustedModelError, match="no trusted manifest"):
        load_model("toy", other)
    assert load_model("toy", other, trust=True) == {"w": 2}
    monkeypatch.setenv("SSBML_TRUST_MODEL", "1")
    assert load_model("toy", other) == {"w": 2}
    assert trust_store_path().is_file()


def test_predict_refuses_untrusted_model_in_one_line(tmp_path):
    import joblib

    folder = tmp_path / "models"
    folder.mkdir()
    joblib.dump([1], folder / "conductivity.joblib")
    from ssbml.data.registry import file_sha256

    (folder / "manifest.json").write_text(__import__("json").dumps({"models": {
        "conductivity": {"file": "conductivity.joblib",
                         "sha256": file_sha256(folder / "conductivity.joblib")}}}))
    src = tmp_path / "in.csv"
    src.write_text("composition\nLi3PS4\n")
    r = runner.invoke(app, ["predict", "conductivity", str(src), "-o", str(tmp_path / "o.csv"),
                            "--models-dir", str(folder)])
    assert r.exit_code == 2 and "refusing to unpickle" in r.output and "--trust-model" in r.output
    assert r.output.count("\n") == 1
