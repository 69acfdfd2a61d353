"""The shared ML layer (ssbml.ml), the property-model packages and their configs."""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import numpy as np
import pytest

from ssbml.ml.regressors import MedianForestRegressor
from ssbml.ml.store import LEGACY_MODULES, unpickle_model
from ssbml.models.conductivity.config import (
    BENCHMARK_CONFIG,
    PACKAGED_PREFIX,
    load_config,
)

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENTS = ROOT / "experiments"


def _imported_modules(path: Path) -> set[str]:
    """Every ``ssbml`` module a file imports, at module or function level."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return {m for m in out if m.startswith("ssbml")}


def test_ml_layer_sits_below_the_property_models():
    above = ("ssbml.models", "ssbml.screening", "ssbml.cli", "ssbml.stability",
             "ssbml.structure", "ssbml.api")
    for path in sorted((ROOT / "ssbml" / "ml").glob("*.py")):
        bad = [m for m in _imported_modules(path) if m.startswith(above)]
        assert not bad, f"{path.name} imports {bad}"


def test_library_never_imports_the_experiments():
    for path in sorted((ROOT / "ssbml").rglob("*.py")):
        text = path.read_text()
        assert "from experiments" not in text and "import experiments" not in text, path


def test_model_pickled_under_a_legacy_module_name_still_loads(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=40)
    reg = MedianForestRegressor(n_estimators=5, random_state=0).fit(X, y)
    data = pickle.dumps(reg, protocol=2)  # GLOBAL opcodes: "c<module>\n<name>\n"
    new = b"cssbml.ml.regressors\nMedianForestRegressor\n"
    assert new in data
    old = b"cssbml.models.regressors\nMedianForestRegressor\n"
    assert "ssbml.models.regressors" in LEGACY_MODULES
    path = tmp_path / "legacy.joblib"
    path.write_bytes(data.replace(new, old))
    loaded = unpickle_model(path)
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))


def test_unrelated_missing_module_is_not_masked(tmp_path):
    data = pickle.dumps(MedianForestRegressor(n_estimators=2), protocol=2)
    path = tmp_path / "other.joblib"
    path.write_bytes(data.replace(b"cssbml.ml.regressors\n", b"cnot_a_module_xyz\n"))
    with pytest.raises(ModuleNotFoundError, match="not_a_module_xyz"):
        unpickle_model(path)


def test_every_experiment_config_loads_and_the_shared_block_applies():
    configs = sorted(EXPERIMENTS.glob("*.toml"))
    assert len(configs) >= 15
    for path in configs:
        cfg = load_config(path)
        if path.name.startswith("obelix-"):
            assert cfg.benchmark, path.name  # every OBELiX config scores on the test split
    assert load_config(EXPERIMENTS / "obelix-rf-obelix-only.toml").include_liverpool is False
    assert load_config(EXPERIMENTS / "obelix-medrf-bound-lv.toml").censored == "bound"
    ship = load_config(EXPERIMENTS / "ship-conductivity.toml")
    assert ship == load_config(f"{PACKAGED_PREFIX}ship") and not ship.benchmark
    bench = load_config(EXPERIMENTS / "obelix-ship-censored-lv.toml")
    assert (bench.regressor, bench.params, bench.benchmark) == ("medrf", ship.params, True)
    vote3 = load_config(EXPERIMENTS / "obelix-vote3-hgbl1-lv.toml")
    assert vote3.__dict__ | {"name": ""} == BENCHMARK_CONFIG.__dict__ | {"name": ""}


def test_extends_errors_name_the_file(tmp_path):
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text('extends = "b.toml"\nname = "a"\n')
    b.write_text('extends = "a.toml"\n')
    with pytest.raises(ValueError, match="loops"):
        load_config(a)
    b.write_text('extends = "missing.toml"\n')
    with pytest.raises(ValueError, match="missing.toml"):
        load_config(a)
    b.write_text('extends = "ssbml:no-such"\n')
    with pytest.raises(ValueError, match=r"no shipped config ssbml:no-such .*benchmark"):
        load_config(a)
    b.write_text("extends = 3\n")
    with pytest.raises(ValueError, match="'extends' must be"):
        load_config(a)
    b.write_text('[model]\nregressor = "rf"\nbogus = 1\n')
    with pytest.raises(ValueError, match=r"a.toml: unknown config key\(s\): \['model.bogus'\]"):
        load_config(a)
