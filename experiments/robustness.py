"""Fuzz and fault campaign for issue 16: every bad input and fault gets a clear, fast
answer, and nothing computed is lost.

Fuzz (in this process, seeded): mutated real formulas (OBELiX + Liverpool from the
mirror) and random text through the formula parser and the batch parser; user-data CSV,
fit JSON and raw bytes through ``ssbml data add``; spectrum files through the EIS reader;
Arrhenius tables; NaN/inf/negative/zero values for the numeric CLI options. Each input
ends as a *result* (checked: finite, within bounds, nothing dropped) or a *clear error*
(the module's own error type, one line, at most 400 characters). Anything else is
counted: *crash* (another exception), *hang* (more than --hang-seconds), *silent drop*
(a row or point missing from an accepted result), *questionable accept* (an accepted
result that breaks a bound), *unclear error* (multi-line or overlong message).

Faults (real processes): rounds of 12 simultaneous ``ssbml data add`` into one data set
(held = all 12 land, no duplicate, file whole); writers SIGKILLed mid-write (the
atomic-write helper and ``append_rows``; survived = the file is the old or a new whole
version); ``ssbml screen`` / ``train`` / ``compare`` against a closed local port (seconds
to the one-line error).

    nice python experiments/robustness.py            # about 4-5 minutes on 2 busy cores
    nice python experiments/robustness.py --quick    # about 1 minute
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import signal
import socket
import string
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("MPLBACKEND", "Agg")

CHARS = string.ascii_letters + string.digits + "()[].*+-·₂₃ '\"\u2212"
MAX_MESSAGE = 400


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


class Tally:
    """Outcome counts of one fuzz target."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.c: Counter[str] = Counter()
        self.examples: dict[str, str] = {}

    def add(self, outcome: str, example: object = "") -> None:
        self.c[outcome] += 1
        if outcome not in ("result", "clear error") and outcome not in self.examples:
            self.examples[outcome] = repr(example)[:160]

    @property
    def n(self) -> int:
        return sum(self.c.values())


def run_case(tally: Tally, fn, arg, expected_errors: tuple, hang_s: float) -> None:
    signal.setitimer(signal.ITIMER_REAL, hang_s)
    try:
        outcome = fn(arg)
    except Hang:
        outcome = "hang"
    except expected_errors as err:
        msg = str(err)
        outcome = "clear error" if msg and "\n" not in msg and len(msg) <= MAX_MESSAGE \
            else "unclear error"
    except Exception as err:  # noqa: BLE001 - counted, that is the point
        outcome = "crash"
        arg = (arg, f"{type(err).__name__}: {err}")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    tally.add(outcome, arg)


def mutate(rng: random.Random, base: str) -> str:
    s = base
    for _ in range(rng.randint(1, 4)):
        op, pos = rng.randint(0, 4), rng.randint(0, len(s))
        piece = "".join(rng.choice(CHARS) for _ in range(rng.randint(1, 8)))
        if op == 0:
            s = s[:pos] + piece + s[pos:]
        elif op == 1:
            s = s[:pos] + s[pos + rng.randint(1, 4):]
        elif op == 2:
            s = s[:pos] + rng.choice(string.digits) * rng.randint(1, 40) + s[pos:]
        elif op == 3:
            s = s + piece * rng.randint(1, 50)
        else:
            s = s[:pos] + rng.choice(["(", ")", "-", "0", "0.0", ".", "*", "x", "e9"]) + s[pos:]
    return s


def real_formulas() -> list[str]:
    try:
        import pandas as pd

        from ssbml.data.registry import fetch

        out = list(pd.read_csv(fetch("obelix"))["True Composition"].astype(str))
        out += list(pd.read_csv(fetch("liverpool"), encoding="utf-8-sig")["composition"]
                    .astype(str))
        return sorted(set(out))
    except Exception:  # noqa: BLE001 - no mirror: a built-in list
        return ["Li7La3Zr2O12", "Li10GeP2S12", "Li6PS5Cl", "(Li2S)0.75(P2S5)0.25",
                "Li1.3Al0.3Ti1.7(PO4)3", "Li3PS4", "LiBH4*H2O"]


def check_comp(comp) -> str:
    from ssbml.composition import MAX_AMOUNT, MAX_AMOUNT_RATIO

    a = [float(v) for v in comp.element_composition.values()]
    ok = a and all(math.isfinite(x) and x > 0 for x in a) and max(a) <= MAX_AMOUNT \
        and max(a) / min(a) <= MAX_AMOUNT_RATIO and comp["Li"] > 0
    return "result" if ok else "questionable accept"


def fuzz_formulas(rng, n, hang_s) -> list[Tally]:
    from ssbml.composition import CompositionError, parse_formula, parse_formulas

    real = real_formulas()
    t = Tally("formula parser")
    inputs = []
    for i in range(n):
        if i % 5 == 4:
            text = "".join(rng.choice(CHARS) for _ in range(rng.randint(0, 300)))
        else:
            text = mutate(rng, rng.choice(real))
        inputs.append(text)
        run_case(t, lambda s: check_comp(parse_formula(s)), text, (CompositionError,), hang_s)
    b = Tally("batch parser (rows accounted)")

    def batch(chunk):
        res = parse_formulas(chunk)
        rows = sorted([*res.rows.tolist(), *res.rejected["row"].tolist()])
        if rows != list(range(len(chunk))):
            return "silent drop"
        return "result"

    for k in range(0, len(inputs), 100):
        run_case(b, batch, inputs[k:k + 100], (), hang_s * 10)
    return [t, b]


def _cli():
    from typer.testing import CliRunner

    from ssbml.cli import app

    return CliRunner(), app


class CliOutcome(Exception):
    pass


def _invoke(runner, app, args, stdin=None):
    r = runner.invoke(app, args, input=stdin, catch_exceptions=True)
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise RuntimeError(f"{type(r.exception).__name__}: {r.exception}")
    return r


def _cell(rng) -> str:
    return rng.choice([
        lambda: rng.choice(["Li3PS4", "Li7La3Zr2O12", "Li6PS5Cl", "LiX", ""]),
        lambda: repr(rng.uniform(-25, 5)), lambda: repr(rng.uniform(-100, 2500)),
        lambda: rng.choice(["nan", "inf", "-inf", "1e400", "True", "total", "bulk", "test",
                            "user:x", "x"]),
        lambda: "".join(rng.choice(CHARS) for _ in range(rng.randint(0, 12))).replace(",", ""),
    ])()


def fuzz_user_csv(rng, n, hang_s, tmp: Path) -> Tally:
    from ssbml.data.user import COLUMNS, LOG10_SIGMA_RANGE, TEMPERATURE_RANGE_K, load_user_dataset

    runner, app = _cli()
    t = Tally("data add CSV")

    def one(i):
        header = ["composition", "log10_sigma", "temperature_K", "sigma_kind"]
        if rng.random() < 0.2:
            header = header + rng.sample([*COLUMNS[4:], "bogus", ""], rng.randint(1, 2))
        rng.shuffle(header)
        n_rows = rng.randint(0, 6)
        lines = [",".join(header)]
        good = {"composition": lambda: rng.choice(["Li3PS4", "Li7La3Zr2O12", "Li6PS5Cl"]),
                "log10_sigma": lambda: f"{rng.uniform(-12, 0):.6f}",
                "temperature_K": lambda: f"{rng.uniform(200, 900):.4f}",
                "sigma_kind": lambda: rng.choice(["total", "bulk"])}
        for _ in range(n_rows):
            if rng.random() < 0.7:  # a valid row, or one with a single bad cell
                cells = [good.get(h, lambda: "")() for h in header]
                if rng.random() < 0.3:
                    cells[rng.randrange(len(cells))] = _cell(rng).replace('"', "")
            else:
                cells = [_cell(rng).replace('"', "")
                         for _ in range(len(header) + rng.choice([0, 0, 0, -1, 1]))]
            lines.append(",".join(cells))
        src = tmp / f"csv{i}.csv"
        src.write_text("\n".join(lines) + "\n")
        name = f"fz{i}"
        r = _invoke(runner, app, ["data", "add", str(src), "--dataset", name])
        if r.exit_code != 0:
            raise ValueError(r.output.strip())
        if f"added {n_rows} row(s)" not in r.output:
            return "silent drop"
        df = load_user_dataset(name)
        lo, hi = LOG10_SIGMA_RANGE
        tlo, thi = TEMPERATURE_RANGE_K
        ok = df["log10_sigma"].between(lo, hi).all() and df["temperature_K"].between(tlo, thi).all()
        return "result" if ok and len(df) == n_rows else "questionable accept"

    for i in range(n):
        run_case(t, one, i, (ValueError,), hang_s)
    return t


def fuzz_json_and_bytes(rng, n, hang_s, tmp: Path) -> list[Tally]:
    runner, app = _cli()
    tj, tb = Tally("data add JSON"), Tally("data add bytes")

    def value(depth=0):
        kinds = [None, True, 0, -1.5, 1e-4, 1e308, "x", "", "25C"]
        if depth < 3 and rng.random() < 0.3:
            return rng.choice([[value(depth + 1) for _ in range(rng.randint(0, 3))],
                               {rng.choice(["a", "file", "circuit"]): value(depth + 1)}])
        return rng.choice(kinds)

    def one_json(i):
        entry = {"temperature_K": rng.choice([rng.uniform(-10, 3000), value()]),
                 "sigma_total_S_cm": rng.choice([10 ** rng.uniform(-12, 1), value()]),
                 "file": value(), "file_sha256": value(), "circuit": value()}
        data = [entry] * rng.randint(1, 3) if rng.random() < 0.5 else entry
        if rng.random() < 0.2:
            data = value()
        r = _invoke(runner, app, ["data", "add", "-", "--dataset", f"js{i}", "--composition",
                                  "Li3PS4"], stdin=json.dumps(data))
        if r.exit_code != 0:
            raise ValueError(r.output.strip())
        n_in = len(data) if isinstance(data, list) else 1
        return "result" if f"added {n_in} row(s)" in r.output else "silent drop"

    def one_bytes(i):
        src = tmp / f"b{i}.csv"
        src.write_bytes(rng.randbytes(rng.randint(1, 2000)))
        r = _invoke(runner, app, ["data", "add", str(src), "--dataset", f"by{i}"])
        if r.exit_code != 0:
            raise ValueError(r.output.strip())
        return "questionable accept"  # random bytes should never become data

    for i in range(n):
        run_case(tj, one_json, i, (ValueError,), hang_s)
    for i in range(max(1, n // 2)):
        run_case(tb, one_bytes, i, (ValueError,), hang_s)
    return [tj, tb]


def fuzz_spectra(rng, n, hang_s, tmp: Path) -> list[Tally]:
    from ssbml.eis.arrhenius import read_arrhenius_table
    from ssbml.eis.spectrum import EISInputError, read_spectrum

    ts, ta = Tally("EIS spectrum reader"), Tally("Arrhenius table reader")

    def one_spec(i):
        header = rng.choice(["frequency_Hz,Z'_ohm,-Z''_ohm", "f;Zre;Zim", "", "freq\tzreal\tzimag"])
        sep = ";" if ";" in header else ("\t" if "\t" in header else ",")
        n_pts = rng.randint(0, 40)
        garbage = rng.random() < 0.3
        rows = []
        for k in range(n_pts):
            cells = [repr(10.0 ** (6 - k * 0.2)), repr(rng.uniform(0, 1e5)),
                     repr(rng.uniform(-1e5, 1e3))]
            if garbage and rng.random() < 0.2:
                cells[rng.randint(0, 2)] = _cell(rng).replace(sep, "") or "x"
            rows.append(sep.join(cells))
        src = tmp / f"s{i}.csv"
        src.write_text("\n".join([header, *rows]) + "\n")
        spec = read_spectrum(src)
        f = spec.frequency_Hz
        if not ((f > 0).all() and all(math.isfinite(abs(z)) for z in spec.Z_ohm)):
            return "questionable accept"
        return "result" if f.size == n_pts else "silent drop"

    def one_table(i):
        header = rng.choice(["temperature_K,sigma_S_cm", "temperature_C,log10_sigma", "T,sigma"])
        rows = [f"{_cell(rng)},{_cell(rng)}".replace('"', "") if rng.random() < 0.3 else
                f"{rng.uniform(200, 800)!r},{10 ** rng.uniform(-8, -1)!r}"
                for _ in range(rng.randint(0, 8))]
        src = tmp / f"a{i}.csv"
        src.write_text("\n".join([header, *rows]) + "\n")
        T, sigma = read_arrhenius_table(src)
        if not all(math.isfinite(x) and x > 0 for x in [*T, *sigma]):
            return "questionable accept"
        n_rows = sum(1 for r in rows if r.replace(",", "").strip())
        return "result" if len(T) == n_rows else "silent drop"

    for i in range(n):
        run_case(ts, one_spec, i, (EISInputError,), hang_s)
        run_case(ta, one_table, i, (EISInputError,), hang_s)
    return [ts, ta]


NUMERIC = [
    (["eis", "fit", "missing.csv", "--max-rms-percent"], "positive"),
    (["eis", "fit", "missing.csv", "--thickness-mm"], "positive"),
    (["eis", "fit", "missing.csv", "--area-cm2"], "positive"),
    (["eis", "fit", "missing.csv", "--diameter-mm"], "positive"),
    (["eis", "fit", "missing.csv", "--f-max-hz"], "positive"),
    (["eis", "arrhenius", "missing.csv", "--thickness-mm"], "positive"),
    (["screen", "--parent", "Li3PS4", "--input", "x.csv", "--no-track", "--temperature"],
     "positive"),
    (["screen", "--parent", "Li3PS4", "--input", "x.csv", "--no-track", "--max-rxn"],
     "nonnegative"),
    (["screen", "--parent", "Li3PS4", "--input", "x.csv", "--no-track", "--min-log10-sigma"],
     "finite"),
    (["predict", "conductivity", "missing.csv", "-o", "o.csv", "--alpha"], "fraction"),
    (["predict", "conductivity", "missing.csv", "-o", "o.csv", "--temperature"], "positive"),
    (["data", "add", "missing.csv", "--dataset", "x", "--max-input-mb"], "mib"),
    (["data", "add", "missing.csv", "--dataset", "x", "--lock-timeout"], "seconds"),
]


def fuzz_numeric(rng, n, hang_s) -> Tally:
    runner, app = _cli()
    t = Tally("numeric CLI options")
    specials = ["nan", "NaN", "inf", "-inf", "0", "-0", "-1", "1e-300", "1e308", "0.5", "1", "2"]

    def valid(v: float, rule: str) -> bool:
        if not math.isfinite(v):
            return False
        return {"positive": v > 0, "nonnegative": v >= 0, "finite": True,
                "fraction": 0 < v < 1, "mib": 0 < v <= 1e6, "seconds": 0 < v <= 86_400}[rule]

    def one(case):
        args, rule, text = case
        r = _invoke(runner, app, [*args, text])
        refused = f"{args[-1]} = " in r.output
        if refused != (not valid(float(text), rule)):
            return "questionable accept" if not refused else "crash"
        if refused:
            raise ValueError(r.output.strip())
        return "result"

    for i in range(n):
        args, rule = NUMERIC[i % len(NUMERIC)]
        text = rng.choice(specials) if rng.random() < 0.5 else repr(rng.uniform(-1e3, 1e3))
        run_case(t, one, (args, rule, text), (ValueError,), hang_s)
    return t


def _env(**extra) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def fault_writers(rounds: int, tmp: Path) -> tuple[int, int]:
    """Rounds of 12 simultaneous data add processes; returns (writers held, writers)."""
    import pandas as pd

    held = total = 0
    for r in range(rounds):
        udir = tmp / f"writers{r}"
        procs = []
        for i in range(12):
            src = tmp / f"w{r}_{i}.csv"
            src.write_text("composition,log10_sigma,temperature_K,sigma_kind\n"
                           f"Li3PS4,-3.5,{300 + i},total\n")
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "ssbml", "data", "add", str(src), "--dataset", "lab"],
                env=_env(SSBML_USER_DATA_DIR=str(udir)), stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL))
        codes = [p.wait(300) for p in procs]
        df = pd.read_csv(udir / "lab.csv")
        whole = len(df) == 12 and not df.duplicated("temperature_K").any()
        held += sum(c == 0 for c in codes) if whole else 0
        total += 12
    return held, total


_WRITER = textwrap.dedent("""
    import hashlib, os, sys
    from ssbml.io import atomic_write_bytes
    target = sys.argv[1]
    i = 0
    while True:
        body = (b"%d:" % i) + os.urandom(3_000_000)
        atomic_write_bytes(hashlib.sha256(body).hexdigest().encode() + b"\\n" + body, target)
        i += 1
""")
_APPENDER = textwrap.dedent("""
    import random
    import pandas as pd
    from ssbml.data.user import append_rows
    rng = random.Random()
    while True:  # distinct rows every time (random log10 S/cm), 100 per append
        append_rows("killed", pd.DataFrame({"composition": ["Li3PS4"] * 100,
                    "log10_sigma": [-10 * rng.random() for _ in range(100)],
                    "sigma_kind": "total", "temperature_K": [300 + j for j in range(100)]}))
""")


def fault_kills(n: int, tmp: Path, rng: random.Random) -> tuple[int, int]:
    """SIGKILL writers mid-write; returns (kills survived, kills)."""
    import pandas as pd

    target = tmp / "kill.bin"
    body = b"old"
    target.write_bytes(hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
    (tmp / "writer.py").write_text(_WRITER)
    (tmp / "appender.py").write_text(_APPENDER)
    survived = kills = 0
    last_rows = 0
    udir = tmp / "killed"
    for k in range(n):
        if k % 2 == 0:
            p = subprocess.Popen([sys.executable, str(tmp / "writer.py"), str(target)],
                                 env=_env())
            time.sleep(rng.uniform(0.4, 1.5))
            p.send_signal(signal.SIGKILL)
            p.wait(30)
            data = target.read_bytes()
            digest, _, rest = data.partition(b"\n")
            ok = hashlib.sha256(rest).hexdigest().encode() == digest
        else:
            p = subprocess.Popen([sys.executable, str(tmp / "appender.py")],
                                 env=_env(SSBML_USER_DATA_DIR=str(udir)))
            time.sleep(rng.uniform(3.0, 5.0))
            p.send_signal(signal.SIGKILL)
            p.wait(30)
            path = udir / "killed.csv"
            if path.exists():
                df = pd.read_csv(path)
                ok = len(df) % 100 == 0 and len(df) >= last_rows and not df.isna()[
                    ["composition", "log10_sigma", "temperature_K"]].any().any()
                last_rows = len(df)
            else:
                ok = last_rows == 0
        kills += 1
        survived += bool(ok)
    return survived, kills


def fault_unreachable(tmp: Path) -> list[tuple[str, int, float, str]]:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    uri = f"http://127.0.0.1:{port}"
    (tmp / "two.csv").write_text("composition\nLi3PS4\nLi7La3Zr2O12\n")
    out = []
    for args in (["screen", "--input", "two.csv"], ["train", "conductivity", "--benchmark",
                                                    "obelix"], ["train", "stability"],
                 ["compare"]):
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "ssbml", *args, "--tracking-uri", uri],
                           cwd=tmp, env=_env(), capture_output=True, text=True, timeout=300)
        out.append((" ".join(args[:2]), r.returncode, time.perf_counter() - t0,
                    r.stderr.strip().splitlines()[-1][:110] if r.stderr.strip() else ""))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--quick", action="store_true", help="smaller campaign (about 1 minute)")
    ap.add_argument("--hang-seconds", type=float, default=5.0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    scale = 0.1 if args.quick else 1.0
    signal.signal(signal.SIGALRM, _alarm)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ssbml-robustness-") as tmpdir:
        tmp = Path(tmpdir)
        os.environ["SSBML_USER_DATA_DIR"] = str(tmp / "user-data")
        os.environ["SSBML_TRUSTED_MODELS"] = str(tmp / "trusted.json")
        tallies = fuzz_formulas(rng, int(20_000 * scale), args.hang_seconds)
        tallies.append(fuzz_user_csv(rng, int(1500 * scale), args.hang_seconds, tmp))
        tallies += fuzz_json_and_bytes(rng, int(800 * scale), args.hang_seconds, tmp)
        tallies += fuzz_spectra(rng, int(800 * scale), args.hang_seconds, tmp)
        tallies.append(fuzz_numeric(rng, int(1300 * scale), args.hang_seconds))
        t_fuzz = time.perf_counter() - t0
        held, writers = fault_writers(2 if args.quick else 4, tmp)
        survived, kills = fault_kills(4 if args.quick else 12, tmp, rng)
        unreachable = fault_unreachable(tmp)
    cols = ["result", "clear error", "crash", "hang", "silent drop", "questionable accept",
            "unclear error"]
    print(f"| target | inputs | {' | '.join(cols)} |")
    print("|" + " --- |" * (len(cols) + 2))
    total = Counter()
    for t in tallies:
        total.update(t.c)
        print(f"| {t.name} | {t.n:,} | " + " | ".join(f"{t.c[c]:,}" for c in cols) + " |")
    print(f"| **all** | {sum(total.values()):,} | "
          + " | ".join(f"{total[c]:,}" for c in cols) + " |")
    for t in tallies:
        for outcome, ex in t.examples.items():
            print(f"  {t.name}: first {outcome}: {ex}")
    print(f"\nfuzz: {sum(total.values()):,} inputs in {t_fuzz:.0f} s; crashes "
          f"{total['crash']}, hangs {total['hang']}, silent drops {total['silent drop']}, "
          f"questionable accepts {total['questionable accept']}, unclear errors "
          f"{total['unclear error']}")
    print(f"concurrent writers held: {held} of {writers} (rounds of 12 simultaneous "
          "`ssbml data add`)")
    print(f"kills survived: {survived} of {kills} (SIGKILL mid-write; old or new file, "
          "never partial)")
    for cmd, code, secs, line in unreachable:
        print(f"unreachable server, {cmd}: exit {code} in {secs:.1f} s: {line}")
    print(f"total {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
