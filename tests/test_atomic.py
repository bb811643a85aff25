"""microgesture.atomic: results appear whole or not at all; temporaries of dead processes are swept."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from microgesture.atomic import atomic_dir, atomic_path, sweep, temp_sibling, write_json


def test_file_replaced_only_on_success(tmp_path):
    f = tmp_path / "a" / "x.json"
    write_json(f, {"v": 1})
    with pytest.raises(RuntimeError), atomic_path(f) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert f.read_text() == '{\n  "v": 1\n}\n'
    assert sorted(p.name for p in f.parent.iterdir()) == ["x.json"]


def test_npz_writer_that_appends_its_suffix(tmp_path):
    with atomic_path(tmp_path / "p.npz") as tmp:
        np.savez(tmp, a=np.arange(3))
    assert np.load(tmp_path / "p.npz")["a"].tolist() == [0, 1, 2]
    assert [p.name for p in tmp_path.iterdir()] == ["p.npz"]


def test_directory_replaced_whole(tmp_path):
    d = tmp_path / "ds"
    with atomic_dir(d) as tmp:
        (tmp / "one").write_text("1")
    with pytest.raises(ValueError), atomic_dir(d) as tmp:
        (tmp / "two").write_text("2")
        raise ValueError
    assert [p.name for p in d.iterdir()] == ["one"]
    with atomic_dir(d) as tmp:
        (tmp / "three").write_text("3")
    assert [p.name for p in d.iterdir()] == ["three"]
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]


def test_sweep_removes_only_dead_processes_temporaries(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    (tmp_path / f".ds.tmp-{pid}").mkdir()
    (tmp_path / f".x.tmp-{pid}.json").write_text("{")
    mine = temp_sibling(tmp_path / "y.json")
    mine.write_text("{")
    (tmp_path / "keep.json").write_text("{}")
    removed = sweep(tmp_path)
    assert sorted(p.name for p in removed) == sorted([f".ds.tmp-{pid}", f".x.tmp-{pid}.json"])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, "keep.json"])
