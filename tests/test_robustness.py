"""Property-based robustness: every input ends in a correct result or a clear error.

For the formula parser, the user-data CSV and JSON readers, the EIS spectrum and
Arrhenius-table readers and the numeric CLI options, hypothesis generates inputs and
each test asserts: either a correct result (checked, nothing dropped) or the module's
own error type with a short one-line message; never another exception, never a row
silently lost. Profiles (tests/conftest.py): ``ci`` (default, ~60 examples per test)
and ``long`` (``HYPOTHESIS_PROFILE=long``, used by experiments/robustness.py).
"""

from __future__ import annotations

import json
import math
import string

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from ssbml.cli import app  # noqa: E402
from ssbml.composition import (  # noqa: E402
    MAX_AMOUNT,
    MAX_AMOUNT_RATIO,
    CompositionError,
    parse_formula,
    parse_formulas,
)

MAX_MESSAGE = 400  # characters: a message that echoes a huge input fails this

REAL_FORMULAS = ["Li7La3Zr2O12", "Li10GeP2S12", "Li6PS5Cl", "(Li2S)0.75(P2S5)0.25",
                 "0.75Li2S-0.25P2S5", "Li6.4La3Zr1.4Ta0.6O12", "LiBH4*H2O", "Li1.3Al0.3Ti1.7(PO4)3",
                 "Li3PS4", "Li0.33La0.557TiO3"]
FORMULA_CHARS = string.ascii_letters + string.digits + "()[].*+-·₂₃ '\"" + "\u2212"


def _mutate(draw, base: str) -> str:
    ops = draw(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 400),
                                  st.text(FORMULA_CHARS, min_size=1, max_size=40)),
                        max_size=4))
    s = base
    for op, pos, piece in ops:
        pos = pos % (len(s) + 1)
        if op == 0:
            s = s[:pos] + piece + s[pos:]
        elif op == 1:
            s = s[:pos] + s[pos + len(piece):]
        elif op == 2:
            s = s[:pos] + piece + s[pos + len(piece):]
        else:
            s = s + piece * draw(st.integers(1, 30))
    return s


@st.composite
def formulas(draw) -> str:
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return _mutate(draw, draw(st.sampled_from(REAL_FORMULAS)))
    if kind == 1:
        return draw(st.text(FORMULA_CHARS, max_size=300))
    return draw(st.text(max_size=80))


def _check_composition(comp) -> None:
    amounts = [float(v) for v in comp.element_composition.values()]
    assert amounts and all(math.isfinite(a) and a > 0 for a in amounts)
    assert max(amounts) <= MAX_AMOUNT
    assert max(amounts) / min(amounts) <= MAX_AMOUNT_RATIO
    assert comp["Li"] > 0


def _check_error(message: str) -> None:
    assert message and "\n" not in message.strip() and len(message) <= MAX_MESSAGE, message
    assert "Traceback" not in message


@given(formulas())
def test_formula_parser_result_or_clear_error(text):
    try:
        comp = parse_formula(text)
    except CompositionError as err:
        assert err.reason
        _check_error(str(err))
    else:
        _check_composition(comp)


@given(st.lists(formulas(), max_size=30))
def test_batch_parser_accounts_for_every_row(texts):
    batch = parse_formulas(texts)
    rows = sorted([*batch.rows.tolist(), *batch.rejected["row"].tolist()])
    assert rows == list(range(len(texts)))  # no row dropped, none counted twice
    assert (batch.rejected["reason"].str.len() > 0).all()
    for comp in batch.compositions:
        _check_composition(comp)


runner = CliRunner()


def _run(args: list[str], stdin: str | bytes | None = None):
    result = runner.invoke(app, args, input=stdin, catch_exceptions=True)
    # typer.Exit / usage errors are SystemExit; anything else escaped the CLI
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception), result.output)
    return result


def _csv_cell() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(REAL_FORMULAS), st.text(FORMULA_CHARS, max_size=12),
                     st.sampled_from(["-3.5", "300", "nan", "inf", "-inf", "1e400", "", "True",
                                      "total", "bulk", "train", "x"]),
                     st.floats(allow_nan=True, allow_infinity=True).map(repr))


@st.composite
def user_csv(draw) -> tuple[str, int]:
    from ssbml.data.user import COLUMNS

    base = ["composition", "log10_sigma", "temperature_K", "sigma_kind"]
    extra = draw(st.lists(st.sampled_from([*COLUMNS, "bogus", " composition", ""]), max_size=3))
    header = base + extra if draw(st.booleans()) else draw(st.permutations(base))
    n = draw(st.integers(0, 6))
    lines = [",".join(header)]
    for _ in range(n):
        cells = [draw(_csv_cell()) for _ in range(len(header) + draw(st.integers(-1, 1)))]
        lines.append(",".join(c.replace(",", ";").replace("\n", " ").replace('"', "")
                              for c in cells))
    return "\n".join(lines) + "\n", n


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(user_csv(), st.integers(0, 10**9))
def test_data_add_csv_lands_every_row_or_refuses(tmp_path, case, salt):
    text, n_rows = case
    src = tmp_path / f"in{salt}.csv"
    src.write_text(text)
    name = f"fuzz{salt}"
    result = _run(["data", "add", str(src), "--dataset", name])
    if result.exit_code == 0:
        from ssbml.data.user import load_user_dataset

        assert f"added {n_rows} row(s)" in result.output  # every data row, none dropped
        assert len(load_user_dataset(name)) >= n_rows
    else:
        assert result.exit_code == 2
        _check_error(result.output.strip().splitlines()[-1])
        assert result.output.strip().startswith("error:")


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False), st.integers(),
              st.text(max_size=10)),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=12,
)


@st.composite
def fit_json(draw):
    entry = {"temperature_K": draw(st.one_of(st.floats(0, 3000), json_values)),
             "sigma_total_S_cm": draw(st.one_of(st.floats(1e-12, 1.0), json_values)),
             "file": draw(st.one_of(st.text(max_size=10), json_values)),
             "file_sha256": draw(st.one_of(st.text(max_size=70), json_values)),
             "circuit": draw(json_values)}
    entries = draw(st.lists(st.just(entry) | st.builds(dict), min_size=1, max_size=3))
    return entries if draw(st.booleans()) else entries[0]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.one_of(fit_json(), json_values), st.integers(0, 10**9))
def test_data_add_json_lands_or_refuses(tmp_path, data, salt):
    result = _run(["data", "add", "-", "--dataset", f"json{salt}", "--composition",
                   "Li3PS4"], stdin=json.dumps(data))
    n = len(data) if isinstance(data, list) else 1
    if result.exit_code == 0:
        assert f"added {n} row(s)" in result.output
    else:
        assert result.exit_code == 2 and result.output.startswith("error:")
        _check_error(result.output.strip().splitlines()[-1])


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.binary(min_size=1, max_size=200))
def test_data_add_bytes_never_crash(tmp_path, data):
    src = tmp_path / "bytes.csv"
    src.write_bytes(data)
    result = _run(["data", "add", str(src), "--dataset", "bytes"])
    if result.exit_code != 0:
        _check_error(result.output.strip().splitlines()[-1])


def _spectrum_text(draw) -> str:
    header = draw(st.sampled_from(["frequency_Hz,Z'_ohm,-Z''_ohm", "f;Zre;Zim", "", "# c\nf Z' Z''",
                                   "freq,zreal,zimag,extra", "a,b,c"]))
    rows = []
    for i in range(draw(st.integers(0, 12))):
        if draw(st.integers(0, 5)) == 0:
            cells = draw(st.lists(_csv_cell(), min_size=1, max_size=4))
        else:
            cells = [repr(10.0 ** (6 - i * 0.5)), repr(draw(st.floats(-1e6, 1e6))),
                     repr(draw(st.floats(-1e6, 1e6)))]
        sep = ";" if ";" in header else ("," if "," in header or not header else " ")
        rows.append(sep.join(c.replace(sep, "") for c in cells))
    return "\n".join([header, *rows]) + "\n"


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.data())
def test_spectrum_reader_result_or_clear_error(tmp_path, data):
    from ssbml.eis.spectrum import EISInputError, read_spectrum

    src = tmp_path / "s.csv"
    src.write_text(_spectrum_text(data.draw))
    try:
        spec = read_spectrum(src)
    except EISInputError as err:
        _check_error(str(err))
    else:
        f = spec.frequency_Hz
        assert f.size >= 3 and (f > 0).all() and (abs(spec.Z_ohm) < math.inf).all()
        n_data = sum(1 for ln in src.read_text().splitlines()[1:] if ln.strip())
        assert f.size <= n_data + 1  # only data rows become points


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.tuples(_csv_cell(), _csv_cell()), max_size=8),
       st.sampled_from(["temperature_K,sigma_S_cm", "temperature_C,log10_sigma", "T,sigma"]))
def test_arrhenius_table_reader_result_or_clear_error(tmp_path, rows, header):
    from ssbml.eis.arrhenius import read_arrhenius_table
    from ssbml.eis.spectrum import EISInputError

    src = tmp_path / "a.csv"
    src.write_text("\n".join([header, *(f"{a.replace(',', '')},{b.replace(',', '')}"
                                        for a, b in rows)]) + "\n")
    try:
        T, sigma = read_arrhenius_table(src)
    except EISInputError as err:
        _check_error(str(err))
    else:
        assert len(T) == len(sigma) == sum(1 for a, b in rows if (a + b).strip() != "")
        assert all(math.isfinite(t) and t > 0 for t in T)
        assert all(math.isfinite(v) and v > 0 for v in sigma)


NUMERIC_OPTIONS = [
    (["eis", "fit", "missing.csv", "--max-rms-percent"], "positive"),
    (["eis", "fit", "missing.csv", "--thickness-mm"], "positive"),
    (["eis", "fit", "missing.csv", "--f-min-hz"], "positive"),
    (["eis", "arrhenius", "missing.csv", "--area-cm2"], "positive"),
    # --parent with --input stops right after option parsing (never screens)
    (["screen", "--parent", "Li3PS4", "--input", "missing.csv", "--no-track", "--max-rxn"],
     "nonnegative"),
    (["screen", "--parent", "Li3PS4", "--input", "missing.csv", "--no-track", "--temperature"],
     "positive"),
    (["predict", "conductivity", "missing.csv", "-o", "x.csv", "--alpha"], "fraction"),
    (["data", "add", "missing.csv", "--dataset", "x", "--max-input-mb"], "mib"),
    (["data", "add", "missing.csv", "--dataset", "x", "--lock-timeout"], "seconds"),
]


def _valid(value: float, rule: str) -> bool:
    if not math.isfinite(value):
        return False
    return {"positive": value > 0, "nonnegative": value >= 0, "fraction": 0 < value < 1,
            "mib": 0 < value <= 1e6, "seconds": 0 < value <= 86_400}[rule]


@pytest.mark.parametrize(("args", "rule"), NUMERIC_OPTIONS, ids=lambda a: str(a)[-30:])
@settings(max_examples=15)
@given(value=st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                       st.sampled_from([0.0, -0.0, -1.0, 1e-300, 0.5, 1.0, 1e308])))
def test_numeric_options_refuse_nan_inf_and_out_of_range(args, rule, value):
    result = _run([*args, repr(value)])
    option = args[-1]
    refused = f"{option} = " in result.output
    assert refused == (not _valid(value, rule)), result.output
    if refused:
        assert result.exit_code == 2
        _check_error(result.output.strip().splitlines()[-1])
