"""The Python API: microgesture.load(RUN) -> Predictor; predictions equal the run's own test predictions."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import microgesture
from microgesture.data.format import Dataset
from microgesture.predictions import load_predictions

FAST = {
    "model": {"channels": [8, 16], "temporal_strides": [1, 2]},
    "input": {"clip_len": 8, "num_test_clips": 2, "layout": "mmg36"},
    "train": {"epochs": 1, "batch_size": 4, "predict_train": False},
}
DOC = Path(__file__).resolve().parents[1] / "docs" / "scaling.md"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from conftest import make_tiny_dataset

    from microgesture.train import fit, resolve_config

    root = tmp_path_factory.mktemp("api")
    ds = make_tiny_dataset(root / "data" / "tiny")
    fit(resolve_config(branch="joint-dstcnn", dataset=str(ds), overrides=FAST), out=root / "runs" / "joint",
        progress=False)
    return root


def test_import_stays_light():
    code = "import sys, microgesture; assert 'torch' not in sys.modules; print(callable(microgesture.load))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"


def test_predict_matches_the_runs_test_predictions(run, tmp_path):
    from microgesture.pose import PoseResult

    model = microgesture.load(run / "runs" / "joint")
    ref = load_predictions(run / "runs" / "joint" / "preds_test.npz")
    ds = Dataset.open(run / "data" / "tiny")
    clip = ds.split("test")[0]
    skel = ds.skeleton(clip)
    probs = model.predict(skel)
    assert list(probs) == ["class0", "class1", "class2"]
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(list(probs.values()), ref.probs()[list(ref.clip_ids).index(clip.clip_id)], atol=1e-6)
    # the same skeleton as a pose file (what `microgesture pose` writes)
    f = PoseResult(keypoints=skel, fps=25.0, frame_size=(320, 180), backend="openpose-json").save(tmp_path / "c.npz")
    assert model.predict(f) == pytest.approx(probs, abs=1e-6)
    # a whole split: the same ids, order and probabilities as the run's preds_test.npz
    p = model.predict_dataset(run / "data" / "tiny", "test")
    assert list(p.clip_ids) == list(ref.clip_ids) and list(p.labels) == list(ref.labels)
    np.testing.assert_allclose(p.probs(), ref.probs(), atol=1e-6)


def test_other_test_views(run, tmp_path):
    """``test_views`` reads the same weights through other views: the run's own views give its predictions, no flipped
    copy gives others, and `predict --no-flip-test` writes what the API gives."""
    import csv

    from typer.testing import CliRunner

    from microgesture.cli import app

    ref = load_predictions(run / "runs" / "joint" / "preds_test.npz")
    data = run / "data" / "tiny"
    same = microgesture.load(run / "runs" / "joint", test_views={"num_test_clips": 2, "flip_test": True})
    np.testing.assert_allclose(same.predict_dataset(data, "test").probs(), ref.probs(), atol=1e-6)
    plain = microgesture.load(run / "runs" / "joint", test_views={"flip_test": False}).predict_dataset(data, "test")
    assert not np.allclose(plain.probs(), ref.probs(), atol=1e-4)
    res = CliRunner().invoke(app, ["predict", str(run / "runs" / "joint"), str(data), "--no-flip-test", "-o",
                                   str(tmp_path / "plain.csv")])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader((tmp_path / "plain.csv").open()))
    np.testing.assert_allclose([[float(r[c]) for c in plain.classes] for r in rows], plain.probs(), atol=1e-5)


def test_bad_inputs_are_named(run, tmp_path):
    from microgesture.api import PredictError

    model = microgesture.load(run / "runs" / "joint")
    with pytest.raises(PredictError, match="joints match neither"):
        model.predict(np.zeros((10, 11, 3), np.float32))
    with pytest.raises(PredictError, match="nothing.npz: file not found"):
        model.predict(tmp_path / "nothing.npz")
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(PredictError, match="x.txt: expected a pose .npz"):
        model.predict(tmp_path / "x.txt")


def test_doc_example_runs(run, monkeypatch, capsys):
    """The Python example of docs/scaling.md runs as written, from a directory holding runs/joint and data/tiny."""
    block = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    monkeypatch.chdir(run)
    exec(compile(block, str(DOC), "exec"), {})
    out = capsys.readouterr().out
    assert "class" in out and "clips" in out


def test_predict_command_writes_csv(run, tmp_path):
    import csv

    from typer.testing import CliRunner

    from microgesture.cli import app
    from microgesture.pose import PoseResult

    ds = Dataset.open(run / "data" / "tiny")
    res = CliRunner().invoke(app, ["predict", str(run / "runs" / "joint"), str(run / "data" / "tiny"), "--split",
                                   "test", "-o", str(tmp_path / "probs.csv")])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader((tmp_path / "probs.csv").open()))
    ref = load_predictions(run / "runs" / "joint" / "preds_test.npz")
    assert [r["id"] for r in rows] == list(ref.clip_ids)
    assert [r["label"] for r in rows] == [ds.classes[v] for v in ref.labels]
    np.testing.assert_allclose([[float(r[c]) for c in ds.classes] for r in rows], ref.probs(), atol=1e-5)
    files = [PoseResult(keypoints=ds.skeleton(c), fps=25.0, frame_size=(320, 180), backend="openpose-json").save(
        tmp_path / f"{c.clip_id}.npz") for c in ds.split("test")[:2]]
    res = CliRunner().invoke(app, ["predict", str(run / "runs" / "joint"), *map(str, files), "-o",
                                   str(tmp_path / "files.csv")])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader((tmp_path / "files.csv").open()))
    assert [r["id"] for r in rows] == [f.stem for f in files] and "label" not in rows[0]
    res = CliRunner().invoke(app, ["predict", str(run / "runs" / "joint"), str(tmp_path / "nope.npz"), "-o",
                                   str(tmp_path / "x.csv")])
    assert res.exit_code != 0 and not (tmp_path / "x.csv").exists()
