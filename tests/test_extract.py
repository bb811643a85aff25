import json
import logging
import os

import numpy as np
import pytest

from microgesture.cli import main
from microgesture.data.format import Clip, Dataset, DatasetHeader, DatasetWriter
from microgesture.data.video import probe_video, write_video
from microgesture.extract import branch_modality, modality_column, modality_video, output_relpath
from microgesture.extract.flow import FlowConfig
from microgesture.extract.runner import (
    ExtractError,
    RunConfig,
    make_config,
    merge,
    parse_shard,
    run_extraction,
    shard_clips,
    update_column,
)
from microgesture.extract.taylor import TaylorConfig


def _moving_square(rng, n=12, h=24, w=32):
    """(n, h, w, 3) uint8: a textured square moving 1 pixel right per frame on a smooth background."""
    yy, xx = np.mgrid[:h, :w]
    bg = (60 + 40 * xx / w + 30 * yy / h).astype(np.uint8)
    tex = rng.integers(120, 255, (10, 10), dtype=np.uint8)
    frames = np.repeat(bg[None], n, axis=0)
    for t in range(n):
        frames[t, 7:17, 3 + t : 13 + t] = tex
    return np.repeat(frames[..., None], 3, axis=-1)


@pytest.fixture
def dataset(tmp_path, rng):
    """4 clips of 12 frames, 32x24; clip d shares c's video with video_start 4 (8 frames)."""
    root = tmp_path / "ds"
    header = DatasetHeader(name="tiny", layout="openpose137", classes=("a", "b"), fps=25.0, frame_size=(32, 24))
    specs = [("a", "videos/a.mp4", 0, 12), ("b", "videos/b.mp4", 0, 12), ("c", "videos/c.mp4", 0, 12),
             ("d", "videos/c.mp4", 4, 8)]
    with DatasetWriter(root, header) as w:
        for rel in ("videos/a.mp4", "videos/b.mp4", "videos/c.mp4"):
            write_video(w.path_for(rel), _moving_square(rng))
        for cid, rel, start, n in specs:
            clip = Clip(clip_id=cid, video_id=rel, subject="s", split="train", label=0, start_frame=start,
                        end_frame=start + n - 1, num_frames=n, video_path=rel, video_start=start)
            w.add(clip, np.zeros((n, 137, 3), np.float32))
    return root


def _cli(*args: str) -> int:
    """Run the microgesture command line; returns its exit code (typer's standalone mode always exits)."""
    with pytest.raises(SystemExit) as e:
        main(list(args))
    return e.value.code or 0


def _column(root, modality):
    return {c.clip_id: c.extra.get(modality_column(modality), "") for c in Dataset.open(root).clips}


def test_taylor_end_to_end_and_resume(dataset):
    logs: list[str] = []
    rep = run_extraction(dataset, "taylor", TaylorConfig(), log=logs.append)
    assert sorted(rep.done) == ["a", "b", "c", "d"] and not rep.failed and rep.skipped == 0
    assert _column(dataset, "taylor") == {c: f"taylor/{c}.mp4" for c in "abcd"}
    ds = Dataset.open(dataset)
    for cid, n in [("a", 12), ("d", 8)]:
        info = probe_video(modality_video(ds, cid, "taylor"))
        assert info["num_frames"] == n - 5 and (info["width"], info["height"]) == (32, 24)
    meta = json.loads((dataset / "taylor" / "extract.json").read_text())
    assert meta["settings"] == {"terms": 3, "window": 6, "scale": "frame", "gray": "uint8"}
    assert meta["column"] == "taylor_path"
    report = json.loads((dataset / "taylor" / "report-0of1.json").read_text())
    assert report["column_present"] == 4 and report["frames"] == 12 * 3 + 8
    assert not list((dataset / "taylor").glob(".*"))  # no temporary files left
    # Resume: a second run skips everything and leaves the files untouched.
    mtimes = {p.name: p.stat().st_mtime_ns for p in (dataset / "taylor").glob("*.mp4")}
    rep2 = run_extraction(dataset, "taylor", TaylorConfig(), log=logs.append)
    assert rep2.skipped == 4 and rep2.done == [] and not rep2.failed
    assert {p.name: p.stat().st_mtime_ns for p in (dataset / "taylor").glob("*.mp4")} == mtimes
    # A deleted output is redone, and only it; a killed run's temporary file is swept.
    (dataset / "taylor" / "b.mp4").unlink()
    (dataset / "taylor" / ".b.tmp-999.mp4").write_bytes(b"partial")
    rep3 = run_extraction(dataset, "taylor", TaylorConfig(), log=logs.append)
    assert rep3.done == ["b"] and rep3.skipped == 3
    assert not list((dataset / "taylor").glob(".*"))


def test_corrupt_clip_is_reported_and_others_finish(dataset):
    (dataset / "videos" / "b.mp4").write_bytes(os.urandom(2000))
    logs: list[str] = []
    rep = run_extraction(dataset, "flow", FlowConfig(preset="ultrafast"), log=logs.append)
    assert sorted(rep.done) == ["a", "c", "d"] and list(rep.failed) == ["b"]
    assert "b.mp4" in rep.failed["b"]
    assert any("FAILED b" in line for line in logs)
    report = json.loads(rep.report_path.read_text())
    assert list(report["failed"]) == ["b"]
    col = _column(dataset, "flow")
    assert col["b"] == "" and col["a"] == "flow/a.mp4"
    assert probe_video(dataset / "flow" / "d.mp4")["num_frames"] == 8  # N flows frames (last duplicated)
    assert not list((dataset / "flow").glob(".*"))


def test_shards_then_merge_give_the_full_column(dataset):
    clips = Dataset.open(dataset).clips
    assert [c.clip_id for c in shard_clips(clips, 1, 2)] == ["b", "d"]  # clip k goes to shard k % N
    cfg = FlowConfig(preset="ultrafast")
    r0 = run_extraction(dataset, "flow", cfg, RunConfig(shard=0, num_shards=2), log=lambda s: None)
    assert sorted(r0.done) == ["a", "c"]
    assert _column(dataset, "flow") == {"a": "flow/a.mp4", "b": "", "c": "flow/c.mp4", "d": ""}
    # Another modality written between the two shards must survive the next shard's column update.
    run_extraction(dataset, "taylor", TaylorConfig(), RunConfig(shard=0, num_shards=2), log=lambda s: None)
    r1 = run_extraction(dataset, "flow", cfg, RunConfig(shard=1, num_shards=2), log=lambda s: None)
    assert sorted(r1.done) == ["b", "d"]
    assert _column(dataset, "flow") == {c: f"flow/{c}.mp4" for c in "abcd"}
    assert _column(dataset, "taylor") == {"a": "taylor/a.mp4", "b": "", "c": "taylor/c.mp4", "d": ""}
    # A stale column (e.g. a shard killed before its last step) is repaired by merge, from the files on disk.
    (dataset / "flow" / "c.mp4").unlink()
    s = merge(dataset, "flow", log=lambda s: None)
    assert s.present == 3 and s.missing == ["c"] and len(s.reports) == 2
    assert _column(dataset, "flow")["c"] == ""


def test_settings_mismatch_is_refused_unless_overwrite(dataset):
    run_extraction(dataset, "taylor", TaylorConfig(), RunConfig(shard=0, num_shards=4), log=lambda s: None)
    with pytest.raises(ExtractError, match="extract.json"):
        run_extraction(dataset, "taylor", TaylorConfig(window=7), log=lambda s: None)
    rep = run_extraction(dataset, "taylor", TaylorConfig(window=7), RunConfig(overwrite=True), log=lambda s: None)
    assert len(rep.done) == 4
    assert probe_video(dataset / "taylor" / "a.mp4")["num_frames"] == 12 - 6


def test_two_workers(dataset):
    rep = run_extraction(dataset, "taylor", TaylorConfig(), RunConfig(workers=2), log=lambda s: None)
    assert sorted(rep.done) == ["a", "b", "c", "d"] and not rep.failed
    assert update_column(dataset, "taylor") == (4, [])


def test_cli_taylor_flow_shards_and_exit_codes(dataset, capsys):
    assert _cli("extract", "taylor", str(dataset), "--shard", "1/2") == 0
    assert _column(dataset, "taylor") == {"a": "", "b": "taylor/b.mp4", "c": "", "d": "taylor/d.mp4"}
    assert _cli("extract", "taylor", str(dataset), "--merge") == 1  # clips a and c missing
    assert _cli("extract", "taylor", str(dataset), "--shard", "0/2") == 0
    assert _cli("extract", "taylor", str(dataset), "--merge") == 0
    (dataset / "videos" / "a.mp4").write_bytes(b"\0" * 100)
    capsys.readouterr()
    assert _cli("extract", "flow", str(dataset), "--preset", "ultrafast", "--max-flow", "clip") == 1
    assert "FAILED a" in capsys.readouterr().err
    assert _column(dataset, "flow") == {"a": "", "b": "flow/b.mp4", "c": "flow/c.mp4", "d": "flow/d.mp4"}
    for bad, msg in [(["--shard", "2/2"], "I < N"), (["--terms", "2"], "do not apply to flow"),
                     (["--max-flow", "fast"], "--max-flow"), (["--device", "cuda"], "CPU")]:
        assert _cli("extract", "flow", str(dataset), *bad) == 2
        assert msg in capsys.readouterr().err
    assert _cli("extract", "audio", str(dataset)) == 2


def test_cli_depth_with_local_tiny_model(dataset, tmp_path):
    pytest.importorskip("transformers")
    from test_depth import tiny_depth_model

    model, proc = tiny_depth_model()
    model.save_pretrained(tmp_path / "tiny")
    proc.save_pretrained(tmp_path / "tiny")
    assert _cli("extract", "depth", str(dataset), "--model", str(tmp_path / "tiny"), "--input-size", "28") == 0
    col = _column(dataset, "depth")
    assert col == {c: f"depth/{c}.mp4" for c in "abcd"}
    assert probe_video(dataset / col["d"])["num_frames"] == 8
    meta = json.loads((dataset / "depth" / "extract.json").read_text())
    assert meta["settings"] == {"model": str(tmp_path / "tiny"), "input_size": 28}


def test_helpers():
    assert parse_shard("3/8") == (3, 8)
    for bad in ("8/8", "x", "1/0", "-1/2"):
        with pytest.raises(ExtractError):
            parse_shard(bad)
    assert modality_column("taylor") == "taylor_path" and modality_column("rgb") == "video_path"
    assert branch_modality("depth-swin3d-b") == "depth" and branch_modality("flow-swin3d-s") == "flow"
    with pytest.raises(KeyError):
        branch_modality("posec3d-joint")
    with pytest.raises(ValueError):
        output_relpath("flow", "../escape")
    assert make_config("flow", method="raft_small", weights=None).weights == "DEFAULT"  # None = keep the default
    with pytest.raises(ExtractError, match="unknown modality"):
        make_config("audio")


def test_default_log_goes_to_the_logger_and_json_is_written_atomically(dataset, caplog):
    with caplog.at_level(logging.INFO, logger="microgesture.extract"):
        rep = run_extraction(dataset, "taylor", TaylorConfig(), RunConfig(shard=0, num_shards=4))
    assert rep.done == ["a"]
    assert any("taylor shard 0/4: done 1" in r.getMessage() for r in caplog.records)
    assert json.loads(rep.report_path.read_text())["done"] == ["a"]
    assert not list((dataset / "taylor").glob(".*"))  # atomic.write_json's temporaries are gone
    # The column helpers live in extract.column; the runner re-exports them.
    from microgesture.extract import column, runner

    assert runner.update_column is column.update_column and runner.merge is column.merge
