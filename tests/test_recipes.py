"""The shipped MM-Gesture study carries the authors' recipe values (docs/deviations.md compares them key by key)."""

from __future__ import annotations

import pytest

from microgesture.branches import get_branch
from microgesture.experiment import branch_cfg
from microgesture.runner import load_experiment


@pytest.fixture
def mm_gesture(tiny_dataset):
    exp = load_experiment("mm_gesture")
    runs = {name: tiny_dataset.parent / name for name in exp.branches}
    cfgs = {name: branch_cfg(exp, name, spec, tiny_dataset, runs) for name, spec in exp.branches.items()}
    return {name: (cfg, get_branch(cfg.branch).input_config(cfg.input)) for name, cfg in cfgs.items()}


def test_mm_gesture_swin_branches_see_whole_frames_as_the_authors(mm_gesture):
    """Video Swin: 32 frames at interval 2, whole frames, short side 256, RandomResizedCrop area 0.08-1; test 4 clips
    x 3 crops along the long side without a flipped copy; batch per GPU RGB-B 4, RGB*-S 5, Taylor/flow/depth-B 3 (the
    authors' mmaction2 configs)."""
    batch = {"swin-rgb": 4, "swin-rgb-ma52": 5, "ma52-pretrain": 5, "swin-taylor": 3, "swin-flow": 3, "swin-depth": 3}
    for name, size in batch.items():
        cfg, inp = mm_gesture[name]
        assert inp.crop == "none", name
        assert inp.clip_len == 32 and inp.frame_interval == 2, name  # SampleFrames(clip_len=32, frame_interval=2)
        assert tuple(inp.geometry.area) == (0.08, 1.0), name
        assert inp.flip_test is False and inp.num_test_clips == 4, name
        assert inp.resize_short == 256 and inp.test_crops == 3 and inp.num_views == 12, name
        assert cfg.train.batch_size == size, name
        assert cfg.train.val_views == {"num_test_clips": 1, "test_crops": 1}, name  # val_pipeline: 1 clip, centre


def test_mm_gesture_rgb_only_runs_the_repeated_epochs(mm_gesture):
    """rgb_only.py: 18 epochs over RepeatDataset(times=10) = 180 passes; rgbpose-limb draws limb heatmaps."""
    assert mm_gesture["rgb-only"][0].train.epochs == 180
    assert mm_gesture["rgbpose-limb"][1].kind == "limb"
    assert mm_gesture["rgbpose-joint"][1].kind == "joint"
