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
