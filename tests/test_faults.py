"""Fault tests with real processes: an unreachable tracking server (a closed local
port), simultaneous writers of one user data set, and writers killed mid-write."""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pandas as pd
import pytest

from ssbml.tracking.runs import TrackingUnreachableError, probe_tracking_uri

REPO = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def _ssbml(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    # the timeout only guards against a hang; the case is answered in seconds
    # the per-user mlflow store goes to a folder beside cwd (never the real home)
    env.setdefault("XDG_DATA_HOME", str(cwd.parent / f"{cwd.name}-xdg"))
    return subprocess.run([sys.executable, "-m", "ssbml", *args], cwd=cwd, env=_env(**env),
                          capture_output=True, text=True, timeout=120)


@pytest.fixture()
def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_probe_refuses_closed_port_and_missing_sqlite_folder(closed_port, tmp_path):
    with pytest.raises(TrackingUnreachableError, match="unreachable"):
        probe_tracking_uri(f"http://127.0.0.1:{closed_port}", timeout_s=1.0)
    with pytest.raises(TrackingUnreachableError, match="does not exist"):
        probe_tracking_uri(f"sqlite:///{tmp_path}/no/such/mlflow.db")
    ok = f"sqlite:///{tmp_path}/mlflow.db"
    assert probe_tracking_uri(ok) == ok


def test_probe_accepts_any_http_answer():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server API)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    try:
        uri = f"http://127.0.0.1:{server.server_port}"
        assert probe_tracking_uri(uri, timeout_s=5.0) == uri
    finally:
        thread.join(10)
        server.server_close()


UNREACHABLE_COMMANDS = [
    ["compare"],
    ["train", "conductivity", "--benchmark", "obelix"],
    ["train", "conductivity-temperature"],
    ["train", "stability"],
]


@pytest.mark.parametrize("args", UNREACHABLE_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_unreachable_server_stops_before_work_with_one_line(args, closed_port, tmp_path):
    uri = f"http://127.0.0.1:{closed_port}"
    r = _ssbml([*args, "--tracking-uri", uri], tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith(f"error: tracking server {uri} unreachable")
    assert "--tracking-uri sqlite:///" in lines[0] and "mlflow.db" in lines[0]
    assert list(tmp_path.iterdir()) == []  # nothing was started


def test_screen_unreachable_server_stops_before_screening(closed_port, tmp_path):
    (tmp_path / "two.csv").write_text("composition\nLi3PS4\nLi7La3Zr2O12\n")
    uri = f"http://127.0.0.1:{closed_port}"
    r = _ssbml(["screen", "--input", "two.csv", "--tracking-uri", uri], tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"tracking server {uri} unreachable; use --no-track or --tracking-uri " \
           "sqlite:///" in r.stderr
    assert not (tmp_path / "ssbml-output").exists()


@pytest.mark.slow
def test_screen_track_fallback_local_logs_to_sqlite_and_says_so(closed_port, tmp_path):
    (tmp_path / "two.csv").write_text("composition\nLi3PS4\nLi7La3Zr2O12\n")
    uri = f"http://127.0.0.1:{closed_port}"
    r = _ssbml(["screen", "--input", "two.csv", "--tracking-uri", uri, "--track-fallback",
                "local", "--no-exact"], tmp_path, MLFLOW_TRACKING_URI="")
    assert r.returncode == 0, r.stderr
    assert "logging to the local store sqlite:///" in r.stderr
    assert "mlflow run" in " ".join(r.stdout.split())
    assert (tmp_path.parent / f"{tmp_path.name}-xdg" / "ssbml" / "mlflow.db").is_file()


def test_compare_track_fallback_local(closed_port, tmp_path):
    r = _ssbml(["compare", "--tracking-uri", f"http://127.0.0.1:{closed_port}",
                "--track-fallback", "local"], tmp_path, MLFLOW_TRACKING_URI="")
    assert "logging to the local store" in r.stderr and "Traceback" not in r.stderr


def test_twelve_simultaneous_writers_all_land(tmp_path):
    udir = tmp_path / "udata"
    udir.mkdir()
    srcs = []
    for i in range(12):
        src = tmp_path / f"m{i}.csv"
        src.write_text("composition,log10_sigma,temperature_K,sigma_kind\n"
                       f"Li3PS4,{-3 - i / 100:.2f},{300 + i},total\n")
        srcs.append(src)
    from filelock import FileLock

    # hold the data set's lock while the 12 start, so that all of them must wait
    lock = FileLock(str(udir / ".lab.csv.lock"))
    lock.acquire()
    procs = [subprocess.Popen([sys.executable, "-m", "ssbml", "data", "add", str(s),
                               "--dataset", "lab"], cwd=tmp_path,
                              env=_env(SSBML_USER_DATA_DIR=str(udir)),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for s in srcs]
    time.sleep(3.0)
    lock.release()
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0] * 12, outs
    assert any("waiting for" in err for _, err in outs)
    table = pd.read_csv(udir / "lab.csv")
    assert len(table) == 12
    assert sorted(table["temperature_K"]) == [300.0 + i for i in range(12)]
    assert not table.duplicated(subset=["temperature_K"]).any()


def test_writer_gives_up_after_the_lock_timeout(tmp_path):
    udir = tmp_path / "udata"
    udir.mkdir()
    src = tmp_path / "m.csv"
    src.write_text("composition,log10_sigma,temperature_K,sigma_kind\nLi3PS4,-3,300,total\n")
    from filelock import FileLock

    with FileLock(str(udir / ".lab.csv.lock")):
        r = _ssbml(["data", "add", str(src), "--dataset", "lab", "--lock-timeout", "1"],
                   tmp_path, SSBML_USER_DATA_DIR=str(udir))
    assert r.returncode == 2
    assert "stayed locked by another writer for 1 s; nothing was added" in r.stderr
    assert not (udir / "lab.csv").exists()


_WRITER = textwrap.dedent("""
    import hashlib, os, sys
    from ssbml.io import atomic_write_bytes
    target, n = sys.argv[1], int(sys.argv[2])
    i = 0
    while True:
        body = (b"%d:" % i) + os.urandom(n)
        atomic_write_bytes(hashlib.sha256(body).hexdigest().encode() + b"\\n" + body, target)
        i += 1
""")


def _intact(path: Path) -> bool:
    data = path.read_bytes()
    digest, _, body = data.partition(b"\n")
    return hashlib.sha256(body).hexdigest().encode() == digest


def test_killed_writer_leaves_old_or_new_file_never_partial(tmp_path):
    target = tmp_path / "out.bin"
    body = b"old"
    target.write_bytes(hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    for k in range(6):
        p = subprocess.Popen([sys.executable, str(script), str(target), str(4_000_000)],
                             env=_env())
        time.sleep(0.6 + 0.13 * k)  # land at different points of a write
        p.send_signal(signal.SIGKILL)
        p.wait(30)
        assert _intact(target), f"kill {k}: partial file"
    mode = target.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


_APPENDER = textwrap.dedent("""
    import random
    import pandas as pd
    from ssbml.data.user import append_rows
    rng = random.Random()
    while True:  # distinct rows every time (random log10 S/cm), 200 per append
        rows = pd.DataFrame({"composition": ["Li3PS4"] * 200,
                             "log10_sigma": [-10 * rng.random() for _ in range(200)],
                             "temperature_K": [300 + j for j in range(200)],
                             "sigma_kind": "total"})
        append_rows("killed", rows)
""")


def test_killed_data_add_leaves_a_whole_data_set(tmp_path):
    udir = tmp_path / "udata"
    script = tmp_path / "appender.py"
    script.write_text(_APPENDER)
    from ssbml.data.user import load_user_dataset

    counts = []
    for k in range(4):
        p = subprocess.Popen([sys.executable, str(script)],
                             env=_env(SSBML_USER_DATA_DIR=str(udir)))
        time.sleep(4.0 + 0.37 * k)
        p.send_signal(signal.SIGKILL)
        p.wait(30)
        path = udir / "killed.csv"
        if not path.exists():
            continue
        df = pd.read_csv(path)
        assert len(df) % 200 == 0  # whole appends only
        assert df.notna()[["composition", "log10_sigma", "temperature_K"]].all().all()
        counts.append(len(df))
    assert counts and counts == sorted(counts)  # nothing lost between kills
    assert counts[-1] > counts[0]  # later writers did add rows
    assert len(load_user_dataset(udir / "killed.csv")) == counts[-1]
