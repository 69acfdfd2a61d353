"""Data registry: resolution order, hash checks, and the errors a user sees."""

from __future__ import annotations

import shutil

import pytest

from ssbml.data import registry
from ssbml.data.registry import (
    DATASETS,
    DataHashError,
    DataNotFoundError,
    fetch,
    file_sha256,
    get_dataset,
)


def test_every_mirror_file_matches_the_registry(mirror):
    for d in DATASETS.values():
        path = fetch(d.name)
        assert path == mirror / d.path
        assert file_sha256(path) == d.sha256
        assert d.url.startswith("https://") and d.license and d.citation


def test_unknown_name_lists_known_names():
    with pytest.raises(KeyError, match="known data sets: .*obelix"):
        get_dataset("obelics")


def test_missing_offline_says_where_it_looked_and_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("SSBML_DATA_DIR", str(tmp_path / "mirror"))
    monkeypatch.setenv("SSBML_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SSBML_OFFLINE", "1")
    with pytest.raises(DataNotFoundError) as info:
        fetch("liverpool")
    msg = str(info.value)
    assert "liverpool/LiIonDatabase.csv" in msg
    assert str(tmp_path / "mirror" / "liverpool" / "LiIonDatabase.csv") in msg
    assert str(tmp_path / "cache" / "liverpool" / "LiIonDatabase.csv") in msg
    assert "SSBML_DATA_DIR" in msg and DATASETS["liverpool"].url in msg


def test_failed_download_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SSBML_DATA_DIR", str(tmp_path / "mirror"))
    monkeypatch.setenv("SSBML_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("SSBML_OFFLINE", raising=False)
    bad = registry.Dataset(
        **{**vars(DATASETS["obelix-test"]), "name": "bad", "url": "http://127.0.0.1:9/nothing.csv"}
    )
    monkeypatch.setitem(DATASETS, "bad", bad)
    with pytest.raises(DataNotFoundError, match="download .* failed"):
        fetch("bad")


def test_hash_mismatch_in_mirror_is_refused(tmp_path, monkeypatch, mirror):
    target = tmp_path / "mirror" / "obelix" / "test.csv"
    target.parent.mkdir(parents=True)
    shutil.copy(mirror / "obelix" / "test.csv", target)
    with open(target, "a") as fh:
        fh.write("tampered\n")
    monkeypatch.setenv("SSBML_DATA_DIR", str(tmp_path / "mirror"))
    with pytest.raises(DataHashError) as info:
        fetch("obelix-test")
    msg = str(info.value)
    assert str(target) in msg and DATASETS["obelix-test"].sha256 in msg
    assert "ssbml data fetch obelix-test" in msg


def test_user_cache_is_used_and_verified(tmp_path, monkeypatch, mirror):
    cache = tmp_path / "cache"
    (cache / "obelix").mkdir(parents=True)
    shutil.copy(mirror / "obelix" / "test.csv", cache / "obelix" / "test.csv")
    monkeypatch.setenv("SSBML_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("SSBML_CACHE_DIR", str(cache))
    monkeypatch.setenv("SSBML_OFFLINE", "1")
    assert fetch("obelix-test") == cache / "obelix" / "test.csv"
    (cache / "obelix" / "test.csv").write_text("ID\nnot the real file\n")
    with pytest.raises(DataHashError, match="user|cache|sha256"):
        fetch("obelix-test")
