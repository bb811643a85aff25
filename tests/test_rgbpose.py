"""RGBPoseConv3D: laterals and heads (gradients, fused prediction), the shared-view two-stream pipeline, init from an
RGB SlowOnly run and a PoseC3D run (weights copied, lateral inputs zero, RGB output unchanged), and a training step."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_rgb import make_video_dataset

from microgesture.branches import get_branch
from microgesture.config import merge
from microgesture.inputs.geometry import GeometryConfig
from microgesture.inputs.rgbpose import RGBPoseInputConfig, RGBPosePipeline
from microgesture.models.rgbpose import RGBPoseConfig, RGBPoseConv3D, SourceError, load_pathway
from microgesture.train import BranchModule, fit, load_checkpoint, resolve_config

TINY = RGBPoseConfig(rgb_base_channels=8, rgb_stage_blocks=(1, 1, 1, 1), pose_base_channels=4,
                     pose_stage_blocks=(1, 1, 1))  # fmt: skip
TINY_MODEL = {"rgb_base_channels": 8, "rgb_stage_blocks": [1, 1, 1, 1], "pose_base_channels": 4,
              "pose_stage_blocks": [1, 1, 1]}  # fmt: skip
TINY_INPUT = {"clip_len": 2, "pose_clip_len": 8, "size": 32, "resize": 36, "num_test_clips": 1}
LOOP = {"train": {"epochs": 1, "batch_size": 3, "num_workers": 0}}


def _inputs(b: int = 2, channels: int = 36) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {"rgb": torch.randn(b, 3, 2, 32, 32, generator=g), "pose": torch.rand(b, channels, 8, 8, 8, generator=g)}


def test_full_size_lateral_widths():
    m = RGBPoseConv3D(num_classes=5)
    assert [s[0].conv1.in_channels for s in m.rgb.stages] == [64, 256, 640, 1280]  # 512 + 128, 1024 + 256
    assert [s[0].conv1.in_channels for s in m.pose.stages] == [32, 160, 320]  # 128 + 32, 256 + 64
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride) for c in m.to_rgb] == \
        [(128, 128, (7, 1, 1), (4, 1, 1)), (256, 256, (7, 1, 1), (4, 1, 1))]
    assert [(d.conv.in_channels, d.conv.out_channels) for d in m.to_pose] == [(512, 32), (1024, 64)]
    assert m.feature_dim == 2048 + 512


def test_two_heads_gradients_and_fused_prediction():
    torch.manual_seed(0)
    m = RGBPoseConv3D(config=TINY, pose_channels=36, num_classes=5)
    x = _inputs()
    r, p = m.forward_maps(x)
    assert r.shape == (2, 256, 2, 1, 1) and p.shape == (2, 64, 8, 1, 1)  # T and T x speed ratio kept
    m.train()
    lr, lp = m.classify_each(m.forward_features(x))
    assert lr.shape == lp.shape == (2, 5)
    y = torch.tensor([1, 3])
    (F.cross_entropy(lr, y) + F.cross_entropy(lp, y)).backward()
    for name, prm in m.named_parameters():
        assert prm.grad is not None and torch.isfinite(prm.grad).all(), name
    for name in ("to_rgb.0.weight", "to_rgb.1.weight", "to_pose.0.conv.weight", "to_pose.1.conv.weight",
                 "rgb.stem.0.weight", "pose.stem.0.weight"):
        assert m.get_parameter(name).grad.abs().sum() > 0, name  # the gradient reaches both pathways and laterals
    m.eval()
    with torch.no_grad():
        lr, lp = m.classify_each(m.forward_features(x))
        fused = F.softmax(m(x), -1)
    torch.testing.assert_close(fused, 0.5 * F.softmax(lr, -1) + 0.5 * F.softmax(lp, -1))


# -- pipeline ----------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def video_ds(tmp_path_factory):
    return make_video_dataset(tmp_path_factory.mktemp("rgbpose") / "d")


def test_one_draw_crops_and_flips_both_streams(video_ds):
    clip = video_ds.split("train")[0]
    out = {}
    for flip in (0.0, 1.0):
        icfg = RGBPoseInputConfig(**TINY_INPUT, geometry=GeometryConfig(flip_prob=flip), flip_convention="pixel")
        pipe = RGBPosePipeline(icfg, video_ds.layout)
        out[flip] = pipe.train_sample(video_ds, clip, np.random.default_rng(3))
    a, b = out[0.0], out[1.0]
    assert a["rgb"].shape == (2, 32, 32, 3) and a["rgb"].dtype == np.uint8 and a["keypoints"].shape == (8, 36, 3)
    # the same crop, mirrored in both streams: frames column j -> 31 - j, heatmap keypoints x -> 7 - x, L/R swapped
    np.testing.assert_array_equal(b["rgb"], a["rgb"][:, :, ::-1])
    flip = pipe.layout.joint_flip
    np.testing.assert_allclose(b["keypoints"][..., 0], 7 - a["keypoints"][:, flip, 0], atol=1e-4)
    np.testing.assert_allclose(b["keypoints"][..., 1:], a["keypoints"][:, flip, 1:], atol=1e-5)
    # the crop lies inside the box around every joint, so the heatmap keypoints mostly fall on the 8 x 8 canvas
    inside = ((a["keypoints"][..., :2] >= -0.5) & (a["keypoints"][..., :2] <= 8.5)).all(-1).mean()
    assert inside > 0.5
    # test: the whole box at `resize` (36, as the authors' 256), no crop, heatmaps at a quarter of it (9, their 64)
    t = pipe.test_sample(video_ds, clip)
    assert t["rgb"].shape == (1, 2, 36, 36, 3) and t["keypoints"].shape == (1, 8, 36, 3)
    seen = t["keypoints"][..., 2] > 0.05
    xy = t["keypoints"][..., :2][seen]
    assert len(xy) and (xy >= -0.5).all() and (xy <= 9.5).all()  # the box holds every valid joint
    batch = {k: torch.from_numpy(v) for k, v in t.items()}
    x = pipe.to_model_input(batch, train=False)
    assert x["rgb"].shape == (1, 3, 2, 36, 36) and x["pose"].shape == (1, 36, 8, 9, 9) and x["pose"].max() > 0.3
    # test_size: another test side, the heatmaps following it
    small = RGBPosePipeline(RGBPoseInputConfig(**TINY_INPUT, test_size=32), video_ds.layout)
    t = {k: torch.from_numpy(v) for k, v in small.test_sample(video_ds, clip).items()}
    assert small.to_model_input(t, train=False)["pose"].shape == (1, 36, 8, 8, 8)
    with pytest.raises(ValueError, match="test_size"):
        RGBPoseInputConfig(**TINY_INPUT, test_size=-1)


# -- init from an RGB and a heatmap run, and training --------------------------------------------------------------


@pytest.fixture(scope="module")
def sources(video_ds, tmp_path_factory):
    """Tiny rgb-slowonly-r50 and heatmap-posec3d-joint runs, one epoch each."""
    root = tmp_path_factory.mktemp("sources")
    rgb = resolve_config(branch="rgb-slowonly-r50", dataset=str(video_ds.root), overrides=merge(LOOP, {
        "model": {"base_channels": 8, "stage_blocks": [1, 1, 1, 1]},
        "input": {"clip_len": 2, "size": 32, "num_test_clips": 1}}))  # fmt: skip
    pose = resolve_config(branch="heatmap-posec3d-joint", dataset=str(video_ds.root), overrides=merge(LOOP, {
        "model": {"base_channels": 4, "stage_blocks": [1, 1, 1]},
        "input": {"clip_len": 8, "size": 8, "resize": 8, "num_test_clips": 1, "flip_test": False}}))  # fmt: skip
    fit(rgb, out=root / "rgb", progress=False)
    fit(pose, out=root / "pose", progress=False)
    return root / "rgb", root / "pose"


def _rgbpose_cfg(ds, kind="joint", **model):
    return resolve_config(branch=f"rgbpose-{kind}", dataset=str(ds.root),
                          overrides=merge(LOOP, {"model": {**TINY_MODEL, **model}, "input": TINY_INPUT}))


def test_init_copies_both_sources_and_zero_pads_the_laterals(video_ds, sources):
    rgb_run, pose_run = sources
    cfg = _rgbpose_cfg(video_ds, init_rgb=str(rgb_run), init_pose=str(pose_run / "model.ckpt"))
    module = BranchModule(cfg=cfg, classes=video_ds.classes, source_layout=video_ds.layout, class_counts=[1] * 3)
    said = module.model.load_sources()
    assert len(said) == 2 and "4 zero-padded" in said[0] and "head copied" in said[0]
    for path, run in ((module.model.rgb, rgb_run), (module.model.pose, pose_run)):
        src = load_checkpoint(run).model.state_dict()
        padded = 0
        for k, v in path.state_dict().items():
            s = src[k]
            if v.shape == s.shape:
                torch.testing.assert_close(v, s, rtol=0, atol=0)
                continue
            padded += 1
            c = s.shape[1]  # a receiving conv: the source's filters on the own channels, zeros on the lateral ones
            torch.testing.assert_close(v[:, :c], s, rtol=0, atol=0)
            assert v.shape[1] > c and (v[:, c:] == 0).all(), k
        assert padded == 4  # conv1 and shortcut of the two receiving blocks
    # with the lateral channels at zero, the RGB pathway's logits are the RGB run's, whatever the pose input
    source = load_checkpoint(rgb_run).model.eval()
    model = module.model.eval()
    x = _inputs(channels=36)
    with torch.no_grad():
        got = model.classify_each(model.forward_features(x))[0]
        torch.testing.assert_close(got, source(x["rgb"]), rtol=1e-4, atol=1e-5)


def test_init_refuses_a_source_of_another_shape_or_kind(video_ds, sources, tmp_path):
    rgb_run, pose_run = sources
    m = RGBPoseConv3D(config=TINY, pose_channels=36, num_classes=3, pose_kind="limb")
    with pytest.raises(SourceError, match=r"model\.ckpt: branch 'rgb-slowonly-r50' is not a SlowOnly ResNet3D shaped "
                                          "like the pose pathway"):
        load_pathway(m.pose, rgb_run, role="pose")
    with pytest.raises(SourceError, match="trained on joint heatmaps, this branch draws limb"):
        load_pathway(m.pose, pose_run, role="pose", kind="limb")
    wide = RGBPoseConv3D(config=RGBPoseConfig(**{**TINY_MODEL, "rgb_base_channels": 16}), num_classes=3)
    with pytest.raises(SourceError, match=r"stem\.0\.weight is \(8, 3, 1, 7, 7\) there, \(16, 3, 1, 7, 7\) here"):
        load_pathway(wide.rgb, rgb_run, role="rgb")
    with pytest.raises(SourceError, match="init checkpoint not found"):
        load_pathway(m.rgb, tmp_path / "nowhere", role="rgb")


def test_branch_trains_end_to_end_from_the_sources(video_ds, sources, tmp_path, caplog):
    from microgesture.predictions import load_predictions

    b = get_branch("rgbpose-limb")
    assert b.recipe["optim"]["lr"] == 0.0075 and b.recipe["schedule"]["milestones"] == [12, 16]
    rgb_run, pose_run = sources
    cfg = _rgbpose_cfg(video_ds, init_rgb=str(rgb_run), init_pose=str(pose_run))
    with caplog.at_level("INFO", logger="microgesture"):
        m = fit(cfg, out=tmp_path / "run", progress=False)
    assert "init rgb pathway" in caplog.text
    assert m["test"]["n"] == 3
    p = load_predictions(tmp_path / "run" / "preds_test.npz")
    assert p.logits.shape == (3, 3) and np.isfinite(p.logits).all()
    np.testing.assert_allclose(p.probs().sum(1), 1.0, rtol=1e-5)
    # the checkpoint reloads without the source runs (they are read at the start of training only)
    module = load_checkpoint(tmp_path / "run")
    assert module.model.config.init_rgb == str(rgb_run)
    with pytest.raises(ValueError, match=r"pose_clip_len \(8\) must be input.clip_len \(4\)"):
        get_branch("rgbpose-joint").make_model(RGBPoseConfig(), RGBPoseInputConfig(clip_len=4, pose_clip_len=8), 3)


def test_mm_gesture_chain_runs_through_the_runner(video_ds, tmp_path, caplog):
    """The shape of configs/mm_gesture.yaml at toy size: an RGB SlowOnly and a PoseC3D run (not fused) initialise
    RGBPoseConv3D through ``run:`` references; a Swin pre-trained on an RGB-only dataset of other classes (whole
    frames) initialises another through ``init_from``; the weighted fusion sees only the fused branches."""
    from test_importers import _list_raw

    from microgesture.data.importers import import_list
    from microgesture.runner import ExperimentConfig, run_experiment

    vd, classes = _list_raw(tmp_path / "raw")
    import_list([(tmp_path / "raw/train.txt", "train"), (tmp_path / "raw/val.txt", "val")], vd, tmp_path / "ma52",
                classes_file=classes)
    swin = {"model": {"pretrained": "", "embed_dim": 8, "depths": [1, 1, 1, 1], "num_heads": [1, 1, 1, 1],
                      "window_size": [2, 2, 2]},
            "input": {"clip_len": 2, "size": 32, "num_test_clips": 1}}
    branches = {
        "rgb-only": {"branch": "rgb-slowonly-r50", "fuse": False, "model": {"base_channels": 8,
                     "stage_blocks": [1, 1, 1, 1]}, "input": {"clip_len": 2, "size": 32, "num_test_clips": 1}},
        "joint": {"branch": "heatmap-posec3d-joint", "fuse": False, "model": {"base_channels": 4,
                  "stage_blocks": [1, 1, 1]}, "input": {"clip_len": 8, "size": 8, "resize": 8, "num_test_clips": 1,
                                                        "flip_test": False}},
        "ma52-pretrain": {"branch": "rgb-swin3d-t", "dataset": str(tmp_path / "ma52"),
                          **merge(swin, {"input": {"crop": "none"}})},
        "rgbpose-joint": {"branch": "rgbpose-joint", "input": TINY_INPUT,
                          "model": {**TINY_MODEL, "init_rgb": "run:rgb-only", "init_pose": "run:joint"}},
        "swin-rgb-ma52": {"branch": "rgb-swin3d-t", "init_from": "run:ma52-pretrain", **swin},
    }
    exp = ExperimentConfig(name="mm", dataset={"path": str(video_ds.root)}, branches=branches,
                           branch_defaults=LOOP, fusion={"methods": ["weighted"], "weights": [0.5, 0.5]})
    with caplog.at_level("INFO", logger="microgesture"):
        s = run_experiment(exp, out=tmp_path / "study")
    # 3 MA-52 classes and 3 target classes: same shapes, other classes -> the classifier is not carried over
    assert "re-initialised 2 tensors: the classifier (other classes)" in caplog.text
    assert set(s["metrics"]["models"]) == {"rgbpose-joint", "swin-rgb-ma52"}
    assert "weighted" in s["metrics"]["fusions"]
    study = tmp_path / "study/branches"
    assert load_checkpoint(study / "ma52-pretrain").classes == ("shrug", "nod", "wave")
    cfg = load_checkpoint(study / "rgbpose-joint").cfg
    assert (cfg.model["init_rgb"], cfg.model["init_pose"]) == (str(study / "rgb-only"), str(study / "joint"))
    assert load_checkpoint(study / "swin-rgb-ma52").cfg.init_from == str(study / "ma52-pretrain")


def test_smoke_row_of_a_two_input_branch(video_ds):
    """The smoke run reports RGBPoseConv3D's two model inputs (it stopped on the dict input before)."""
    from microgesture.smoke import smoke_branch

    spec = {"branch": "rgbpose-joint", "model": TINY_MODEL, "input": TINY_INPUT}
    row = smoke_branch(spec, video_ds.root, name="rgbpose-joint", steps=1, batch=2)
    assert row.status == "ok" and len(row.step_s) == 1 and row.test_views == 1
    assert row.input_shape == [[3, 2, 32, 32], [36, 8, 8, 8]]  # rgb (3, T, S, S), pose (joints, rT, S/4, S/4)
