"""`microgesture run STUDY --smoke`: full-size branches (AIM's 68-joint DST-CNN and PoseC3D-68) for two steps and a
prediction pass on a generated iMiGUE-shaped dataset; the table and smoke.json carry their real sizes."""

import json

import pytest
from typer.testing import CliRunner

from microgesture.cli import app


@pytest.mark.slow  # about 3 minutes on 2 CPU cores: PoseC3D-68 at full size predicts 20 views
def test_smoke_of_a_full_size_skeleton_and_heatmap_branch(tmp_path):
    res = CliRunner().invoke(app, ["run", "aim", "--smoke", "--only", "joint,heatmap", "-o", str(tmp_path)])
    assert res.exit_code == 0, res.output
    rows = {r["name"]: r for r in json.loads((tmp_path / "smoke.json").read_text())}
    assert set(rows) == {"joint", "heatmap"} and all(r["status"] == "ok" for r in rows.values()), rows
    # the configured sizes: aim68, 64 frames (DST-CNN); 68 joint heatmaps, 48 frames, 56 x 56 crop (PoseC3D)
    assert rows["joint"]["input_shape"] == [3, 64, 68] and rows["joint"]["test_views"] == 10
    assert rows["heatmap"]["input_shape"] == [68, 48, 56, 56] and rows["heatmap"]["test_views"] == 20
    for r in rows.values():
        assert r["params"] > 5e5 and len(r["step_s"]) == 2 and r["peak_mem_mb"] > 0 and r["predict_s_per_clip"] > 0
    header = json.loads((tmp_path / "data-skeleton" / "dataset.json").read_text())
    assert header["frame_size"] == [1280, 720] and header["layout"] == "openpose137" and len(header["classes"]) == 32
    assert "aim/heatmap" in (tmp_path / "smoke.md").read_text() and "heatmap-posec3d-joint" in res.output


def test_unknown_branch_is_named(tmp_path):
    res = CliRunner().invoke(app, ["run", "aim", "--smoke", "--only", "jiont", "-o", str(tmp_path)])
    assert res.exit_code != 0 and "no branch jiont" in str(res.exception)


TINY = ["--set", "model.channels=[8,16]", "--set", "model.temporal_strides=[1,2]", "--set", "input.clip_len=8",
        "--set", "input.num_test_clips=1"]


def test_train_smoke_of_one_small_branch(tmp_path, monkeypatch):
    """`train --smoke`: the branch as configured (here cut by --set to stay fast) for two steps and a prediction pass
    on the generated iMiGUE-shaped dataset, in a child process; then the same in this process, which silences
    Lightning's tips and device lines as `train` does."""
    import logging

    res = CliRunner().invoke(app, ["train", "--smoke", "-b", "joint-dstcnn", *TINY, "-o", str(tmp_path)])
    assert res.exit_code == 0, res.output
    (row,) = json.loads((tmp_path / "smoke.json").read_text())
    assert row["status"] == "ok" and row["study"] == "train" and row["branch"] == "joint-dstcnn"
    assert row["input_shape"] == [3, 8, 68] and len(row["step_s"]) == 2 and row["params"] > 0
    header = json.loads((tmp_path / "data-skeleton" / "dataset.json").read_text())
    assert header["frame_size"] == [1280, 720] and header["layout"] == "openpose137"

    from microgesture.config import parse_overrides
    from microgesture.smoke import smoke_branch, smoke_spec

    monkeypatch.delenv("MICROGESTURE_VERBOSE", raising=False)
    logging.getLogger("lightning.pytorch").setLevel(logging.INFO)  # as Lightning leaves it when imported
    spec = smoke_spec({"branch": "joint-dstcnn", **parse_overrides(TINY[1::2])})
    r = smoke_branch(spec, tmp_path / "data-skeleton", accelerator="cpu")
    assert r.status == "ok" and r.input_shape == [3, 8, 68]
    assert logging.getLogger("lightning.pytorch").level == logging.WARNING


def test_train_needs_a_dataset_unless_smoke(capsys):
    from microgesture.cli import main

    with pytest.raises(SystemExit) as e:
        main(["train", "-b", "joint-dstcnn", "-o", "x"])
    assert e.value.code == 2 and "train needs --dataset (or --smoke)" in capsys.readouterr().err
