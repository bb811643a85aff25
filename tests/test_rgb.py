"""RGB pipeline on tiny real datasets with clip videos: skeleton box, crop/flip alignment, frame-size scaling, long
videos, derived columns, the skip policy, training every video branch a step, and transfer to another class count."""

import json

import numpy as np
import pytest
import torch

from microgesture.branches import BRANCHES, get_branch
from microgesture.data.format import Clip, Dataset, DatasetError, DatasetHeader, DatasetWriter
from microgesture.data.video import VideoError, write_video
from microgesture.inputs.geometry import Box, GeometryConfig, View
from microgesture.inputs.rgb import SKIP_REPORT, RGBInputConfig, RGBPipeline, frame_box

FRAME = (64, 48)  # (width, height) of the skeleton's pixel frame
BODY = (20.0, 10.0, 44.0, 34.0)  # where the valid joints lie (x0, y0, x1, y1)


def _skeleton(t: int, rng: np.random.Generator) -> np.ndarray:
    s = np.zeros((t, 137, 3), np.float32)
    x0, y0, x1, y1 = BODY
    s[..., 0] = rng.uniform(x0, x1, (t, 137))
    s[..., 1] = rng.uniform(y0, y1, (t, 137))
    s[..., 2] = rng.uniform(0.3, 1.0, (t, 137))
    s[:, 130] = (1.0, 1.0, 0.01)  # a low-confidence outlier: below the box threshold
    s[:, 131] = (0.0, 0.0, 0.0)  # a missing joint (OpenPose writes zeros)
    return s


def _frames(t: int, label: int, scale: float, size=FRAME) -> np.ndarray:
    """Grey background, the body box coloured by class; brightness steps with the frame index."""
    w, h = round(size[0] * scale), round(size[1] * scale)
    f = np.full((t, h, w, 3), 40, np.uint8)
    x0, y0, x1, y1 = (round(v * scale) for v in BODY)
    f[:, y0:y1, x0:x1] = 90
    f[:, y0:y1, x0:x1, label % 3] = 120 + 100 * np.arange(t)[:, None, None] // max(1, t - 1)
    return f


def make_video_dataset(root, *, num_classes: int = 3, per_split: int = 1, video_scale: float = 1.0,
                       long_video: bool = False, derived: tuple[str, ...] = (), seed: int = 0):
    """Clips of 10-16 frames, ``per_split`` per class in train/val/test (train x2), with clip videos (or, with
    ``long_video``, one video holding every clip at its ``video_start``) and optional derived ``*_path`` videos
    (Taylor with n - 5 frames, the others n)."""
    rng = np.random.default_rng(seed)
    header = DatasetHeader(name="vid", layout="openpose137", classes=tuple(f"c{k}" for k in range(num_classes)),
                           fps=25.0, frame_size=FRAME)
    rows = []
    for k in range(num_classes):
        for split, n in (("train", 2 * per_split), ("val", per_split), ("test", per_split)):
            for _ in range(n):
                rows.append((k, split, int(rng.integers(10, 17))))
    with DatasetWriter(root, header) as w:
        long_frames, start = [], 0
        for i, (k, split, t) in enumerate(rows):
            cid = f"v{i}_0"
            frames = _frames(t, k, video_scale)
            extra = {}
            for col in derived:
                n = t - 5 if col == "taylor_path" else t
                rel = f"{col.removesuffix('_path')}/{cid}.mp4"
                write_video(w.path_for(rel), frames[:n])
                extra[col] = rel
            if long_video:
                long_frames.append(frames)
                rel, vstart = "videos/long.mp4", start
                start += t
            else:
                rel, vstart = f"videos/{cid}.mp4", 0
                write_video(w.path_for(rel), frames)
            w.add(Clip(clip_id=cid, video_id=f"v{i}", subject=f"{split}{i % 2}", split=split, label=k,
                       start_frame=0, end_frame=t - 1, num_frames=t, video_path=rel, video_start=vstart,
                       extra=extra), _skeleton(t, rng))
        if long_video:
            write_video(w.path_for("videos/long.mp4"), np.concatenate(long_frames))
    return Dataset.open(root)


def _pipe(**kw) -> RGBPipeline:
    base = {"clip_len": 4, "size": 32, "num_test_clips": 2}
    return RGBPipeline(RGBInputConfig(**{**base, **kw}), "openpose137")


# -- geometry --------------------------------------------------------------------------------------------------------


def test_box_contains_every_valid_joint_and_keeps_the_aspect(tmp_path):
    ds = make_video_dataset(tmp_path / "d")
    for square in (True, False):
        p = _pipe(geometry=GeometryConfig(square=square, scale=1.2, threshold=0.05))
        for c in ds.clips[:4]:
            box = p.clip_box(ds, c)
            s = ds.skeleton(c)
            valid = s[..., 2] > p.cfg.geometry.threshold
            xy = s[valid][:, :2]
            assert (xy[:, 0] >= box.x0).all() and (xy[:, 0] <= box.x1).all()
            assert (xy[:, 1] >= box.y0).all() and (xy[:, 1] <= box.y1).all()
            span = xy.max(0) - xy.min(0)
            if square:
                assert box.width == pytest.approx(box.height)  # resizes to S x S undistorted
                assert box.width == pytest.approx(span.max() * 1.2, rel=1e-5)
            else:
                assert (box.width, box.height) == pytest.approx((span[0] * 1.2, span[1] * 1.2), rel=1e-5)
            assert box.x0 > 2 and box.y0 > 2  # the outlier (conf 0.01) and the missing joint (0, 0) are left out
    whole = _pipe(crop="none").clip_box(ds, ds.clips[0])
    assert whole.width == whole.height == 64 and (whole.x0, whole.y0) == (0, -8)  # letterboxed, centred
    assert frame_box(FRAME, square=False) == Box(0, 0, 64, 48)


def test_crop_and_flip_agree_on_frames_and_keypoints(tmp_path):
    """Dots drawn at keypoints into a video twice the skeleton frame's size: after decoding (downscaled), crop and
    flip, each dot's centroid sits where the same view puts the keypoint."""
    points = np.array([[24.0, 14.0], [40.0, 30.0], [30.0, 25.0]])
    root = tmp_path / "dots"
    header = DatasetHeader(name="dots", layout="openpose137", classes=("a",), frame_size=FRAME)
    with DatasetWriter(root, header) as w:
        for j, (x, y) in enumerate(points):
            f = np.zeros((6, 96, 128, 3), np.uint8)  # 2x the skeleton frame
            xi, yi = round(2 * x), round(2 * y)
            f[:, yi - 2 : yi + 3, xi - 2 : xi + 3] = 255
            write_video(w.path_for(f"videos/{j}.mp4"), f, crf=5)
            s = np.zeros((6, 137, 3), np.float32)
            s[:, :3, :2], s[:, :3, 2] = points, 1.0
            w.add(Clip(clip_id=f"d{j}", video_id=f"d{j}", subject="s", split="train", label=0, start_frame=0,
                       end_frame=5, num_frames=6, video_path=f"videos/{j}.mp4"), s)
    ds = Dataset.open(root)
    p = _pipe(size=32, geometry=GeometryConfig(scale=1.6, threshold=0.05))
    rng = np.random.default_rng(3)
    flips = set()
    for _ in range(6):
        box = p.clip_box(ds, ds.clips[0])
        view = p.train_view(box, rng)
        flips.add(view.flip)
        kp, _ = view.keypoints(points[None].astype(np.float32), np.ones((1, 3), np.float32), joint_flip=[0, 1, 2],
                               convention="pixel")
        for j, c in enumerate(ds.clips):
            out = p.render(ds, c, [np.array([1, 4])], [[view]])[0].astype(np.float64).mean(-1)  # (T, S, S)
            assert out.shape == (2, 32, 32)
            target = kp[0, j]
            if not (1 <= target[0] <= 30 and 1 <= target[1] <= 30):
                continue  # the random crop cut this dot off
            wgt = np.clip(out[0] - 60, 0, None)
            yy, xx = np.mgrid[:32, :32]
            centroid = np.array([(wgt * xx).sum(), (wgt * yy).sum()]) / wgt.sum()
            np.testing.assert_allclose(centroid, target, atol=1.0)
    assert flips == {True, False}


def _smooth_dataset(root, video_scale: float) -> Dataset:
    """One clip whose video shows the same smooth grey pattern, defined on the skeleton's pixel frame and sampled at
    the pixel centres of a video ``video_scale`` times its size."""
    w, h = round(FRAME[0] * video_scale), round(FRAME[1] * video_scale)
    x = (np.arange(w) + 0.5) / video_scale - 0.5
    y = (np.arange(h) + 0.5) / video_scale - 0.5
    g = 128 + 50 * np.sin(2 * np.pi * x / 16)[None, :] + 50 * np.cos(2 * np.pi * y / 12)[:, None]
    frames = np.broadcast_to(g.astype(np.uint8)[None, :, :, None], (8, h, w, 3)).copy()
    header = DatasetHeader(name="smooth", layout="openpose137", classes=("a",), frame_size=FRAME)
    with DatasetWriter(root, header) as wr:
        write_video(wr.path_for("a.mp4"), frames, crf=10)
        wr.add(Clip(clip_id="a", video_id="a", subject="s", split="test", label=0, start_frame=0, end_frame=7,
                    num_frames=8, video_path="a.mp4"), _skeleton(8, np.random.default_rng(0)))
    return Dataset.open(root)


def test_video_of_another_size_is_mapped_onto_the_skeleton_frame(tmp_path):
    ref = _smooth_dataset(tmp_path / "ref", 1.0)
    p = _pipe()
    a = p.test_sample(ref, ref.clips[0])["rgb"].astype(np.float64)
    box = p.clip_box(ref, ref.clips[0])
    shifted = p.render(ref, ref.clips[0], [np.arange(4)], [[View(Box(box.x0 + 0.5, box.y0, box.x1 + 0.5, box.y1),
                                                                 (32, 32), False)]])[0]
    half_pixel = np.abs(a[0] - shifted).mean()  # what a misalignment of half a skeleton pixel costs
    assert half_pixel > 4
    for scale in (2.0, 0.75, 3.0):
        ds = _smooth_dataset(tmp_path / f"s{scale}", scale)
        b = p.test_sample(ds, ds.clips[0])["rgb"].astype(np.float64)
        assert a.shape == b.shape == (4, 4, 32, 32, 3)
        assert np.abs(a - b).mean() < half_pixel / 3, scale


def test_large_boxes_are_decoded_downscaled(tmp_path, monkeypatch):
    import microgesture.inputs.rgb as rgb

    ds = _smooth_dataset(tmp_path / "d", 1.0)
    scales, read = [], rgb.read_frames

    def spy(path, idx, *, scale=1.0):
        scales.append(scale)
        return read(path, idx, scale=scale)

    monkeypatch.setattr(rgb, "read_frames", spy)
    a = _pipe(crop="none", size=16).test_sample(ds, ds.clips[0])["rgb"].astype(np.float64)
    b = _pipe(crop="none", size=16, antialias=False).test_sample(ds, ds.clips[0])["rgb"].astype(np.float64)
    assert scales == [4.0, 1.0]  # the 64-pixel letterbox onto 16 pixels: decoded at a quarter of the size
    assert a.shape == b.shape == (4, 4, 16, 16, 3) and abs(a.mean() - b.mean()) < 3


WIDE = (64, 36)  # a 16:9 frame


def _wide_dataset(root) -> Dataset:
    """One clip of a 16:9 frame without skeletons: a smooth ramp, brighter rightwards and downwards, no dark pixel."""
    w, h = WIDE
    g = 40 + 2.5 * np.arange(w)[None, :] + 1.0 * np.arange(h)[:, None]
    frames = np.broadcast_to(g.astype(np.uint8)[None, :, :, None], (8, h, w, 3)).copy()
    header = DatasetHeader(name="wide", layout="openpose137", classes=("a",), frame_size=WIDE,
                           extra={"skeletons": False})
    with DatasetWriter(root, header) as wr:
        write_video(wr.path_for("a.mp4"), frames, crf=10)
        wr.add(Clip(clip_id="a", video_id="a", subject="s", split="test", label=0, start_frame=0, end_frame=7,
                    num_frames=8, video_path="a.mp4"))
    return Dataset.open(root)


def test_short_side_mode_three_test_crops_along_the_long_side(tmp_path):
    """mmaction2's Swin test: short side -> S, ThreeCrop (left, right at twice the centre offset, centre), no flip."""
    import cv2

    ds = _wide_dataset(tmp_path / "d")
    p = _pipe(crop="none", resize_short=40, test_crops=3, flip_test=False, num_test_clips=2)
    v = p.test_sample(ds, ds.clips[0])["rgb"].astype(np.float64)
    assert v.shape == (6, 4, 32, 32, 3) and p.num_views == 6  # 2 clips x 3 crops
    resized = cv2.resize(np.broadcast_to((40 + 2.5 * np.arange(64)[None, :] + np.arange(36)[:, None])[..., None],
                                         (36, 64, 3)).astype(np.float32), (57, 32), interpolation=cv2.INTER_LINEAR)
    for k, x0 in enumerate((0, 24, 12)):  # 64 x 36 -> 57 x 32: windows at 0, 2 * 12, 12
        want = resized[:, x0 : x0 + 32]
        for t in range(2):  # every temporal clip has the same three windows
            assert np.abs(v[3 * t + k] - want[None]).mean() < 1.5, (k, t)  # a window 1 px off: > 1.9
    assert v[0].mean() + 20 < v[2].mean() < v[1].mean() - 20  # left, centre, right really differ
    assert v[:, :, 0].min() > 30 and v[:, :, -1].min() > 30  # top and bottom rows are the frame (no letterbox band)
    centre = _pipe(crop="none", resize_short=40, flip_test=True).test_sample(ds, ds.clips[0])["rgb"]
    assert centre.shape == (4, 4, 32, 32, 3)  # test_crops 1: the centre window and its mirror per clip
    np.testing.assert_array_equal(centre[0], v[2].astype(np.uint8))
    np.testing.assert_array_equal(centre[1], centre[0][:, :, ::-1])
    with pytest.raises(ValueError, match="test_crops"):
        RGBInputConfig(crop="none", test_crops=3)  # three crops need the short-side mode
    with pytest.raises(ValueError, match="resize_short needs crop 'none'"):
        RGBInputConfig(resize_short=256)


def test_short_side_mode_trains_on_the_resized_frame_without_letterbox(tmp_path):
    ds = _wide_dataset(tmp_path / "d")
    geo = GeometryConfig(area=(0.08, 1.0))
    short = _pipe(crop="none", resize_short=40, geometry=geo)
    letter = _pipe(crop="none", geometry=geo)
    frame = short.clip_box(ds, ds.clips[0])
    assert frame == Box(0, 0, 64, 36) and letter.clip_box(ds, ds.clips[0]) == Box(0, -14, 64, 50)
    rng = np.random.default_rng(0)
    boxes = [short.train_view(frame, rng).box for _ in range(200)]
    for b in boxes:  # crops of the 71 x 40 canvas, mapped back into the frame
        assert 0 <= b.x0 < b.x1 <= 64 + 1e-9 and 0 <= b.y0 < b.y1 <= 36 + 1e-9
        assert round(b.x0 * 71 / 64, 6) == round(b.x0 * 71 / 64) and round(b.y0 * 40 / 36, 6) == round(b.y0 * 40 / 36)
    areas = [b.width * b.height / (64 * 36) for b in boxes]
    assert min(areas) < 0.2 and max(areas) > 0.6  # area 0.08-1 of the canvas, aspect at most 4/3 of a 16:9 frame
    lb = letter.clip_box(ds, ds.clips[0])
    assert any(letter.train_view(lb, rng).box.y0 < 0 for _ in range(50))  # the letterboxed square reaches the bands
    for seed in range(5):
        x = short.train_sample(ds, ds.clips[0], np.random.default_rng(seed))["rgb"]
        assert x.shape == (4, 32, 32, 3) and x.min() > 30  # no black letterbox pixel ever
    dark = [letter.train_sample(ds, ds.clips[0], np.random.default_rng(s))["rgb"].min() for s in range(10)]
    assert min(dark) < 10  # the letterboxed frame does show its padding


def test_clips_inside_a_long_video_match_clip_files(tmp_path):
    files = make_video_dataset(tmp_path / "files")
    long = make_video_dataset(tmp_path / "long", long_video=True)
    assert long.clips[-1].video_start > 50
    p = _pipe()
    for c in (files.clips[0], files.clips[-1]):
        a = p.test_sample(files, c)["rgb"].astype(np.float64)
        b = p.test_sample(long, long.clip(c.clip_id))["rgb"].astype(np.float64)
        assert np.abs(a - b).mean() < 3


def test_samples_shapes_flip_views_and_normalisation(tmp_path):
    ds = make_video_dataset(tmp_path / "d")
    p = _pipe(num_test_clips=2, flip_test=True)
    x = p.train_sample(ds, ds.clips[0], np.random.default_rng(0))["rgb"]
    assert x.shape == (4, 32, 32, 3) and x.dtype == np.uint8
    v = p.test_sample(ds, ds.clips[0])["rgb"]
    assert v.shape == (4, 4, 32, 32, 3) and p.num_views == 4
    np.testing.assert_array_equal(v[1], v[0][:, :, ::-1])  # each temporal view is followed by its mirror
    assert not np.array_equal(v[0], v[2])  # two temporal positions (brightness steps with the frame index)
    batch = {"rgb": torch.from_numpy(np.stack([x, x]))}
    y = p.to_model_input(batch, train=True)
    assert y.shape == (2, 3, 4, 32, 32) and y.dtype == torch.float32
    mean, std = torch.tensor(p.cfg.mean), torch.tensor(p.cfg.std)
    expect = (torch.from_numpy(x[2, 5, 7]).float() / 255 - mean) / std
    torch.testing.assert_close(y[0, :, 2, 5, 7], expect)


def test_frame_interval_samples_a_dense_window(tmp_path, monkeypatch):
    """frame_interval > 0: the decoded frames are one window of clip_len frames that far apart (Video Swin's
    sampling), at a random start in training and spread from the first to the last window at test; 0 stays uniform."""
    ds = make_video_dataset(tmp_path / "d")
    c = max(ds.clips, key=lambda c: c.num_frames)  # 10-16 frames: a window of 4 x 2 fits
    seen = []
    real = RGBPipeline.video_frames

    def spy(self, ds, clip, indices):
        seen.append(np.asarray(indices).copy())
        return real(self, ds, clip, indices)

    monkeypatch.setattr(RGBPipeline, "video_frames", spy)
    p = _pipe(frame_interval=2, flip_test=False)
    starts = set()
    for seed in range(30):
        assert p.train_sample(ds, c, np.random.default_rng(seed))["rgb"].shape == (4, 32, 32, 3)
        assert (np.diff(seen[-1]) == 2).all() and seen[-1].max() < c.num_frames
        starts.add(int(seen[-1][0]))
    assert min(starts) == 0 and max(starts) == c.num_frames - 8
    assert p.test_sample(ds, c)["rgb"].shape == (2, 4, 32, 32, 3)
    first, last = seen[-1][:4], seen[-1][4:]
    np.testing.assert_array_equal(first, 2 * np.arange(4))
    np.testing.assert_array_equal(last, c.num_frames - 8 + 2 * np.arange(4))
    _pipe(flip_test=False).test_sample(ds, c)  # uniform: one frame per quarter of the clip, not a dense window
    assert (np.diff(seen[-1][:4]) > 2).any()
    with pytest.raises(ValueError, match="frame_interval"):
        RGBInputConfig(frame_interval=-1)


def test_derived_columns_clamp_to_their_length(tmp_path):
    ds = make_video_dataset(tmp_path / "d", derived=("taylor_path", "flow_path"))
    c = max(ds.clips, key=lambda c: c.num_frames)
    tp = _pipe(video_column="taylor_path", clip_len=8)
    assert tp.key == "taylor"
    path, idx = tp.video_frames(ds, c, np.arange(c.num_frames))
    assert path.name == f"{c.clip_id}.mp4" and idx.max() == c.num_frames - 6  # Taylor: n - 5 frames
    assert tp.test_sample(ds, c)["taylor"].shape == (4, 8, 32, 32, 3)
    assert _pipe(video_column="flow_path").train_sample(ds, c, np.random.default_rng(0))["flow"].shape[0] == 4
    with pytest.raises(DatasetError, match="has no depth_path.*microgesture extract depth"):
        _pipe(video_column="depth_path").test_sample(ds, c)
    with pytest.raises(ValueError, match="video_column"):
        RGBInputConfig(video_column="taylor")


def test_rgb_only_dataset_needs_crop_none(tmp_path):
    ds = make_video_dataset(tmp_path / "d")
    header = DatasetHeader(name="rgbonly", layout="openpose137", classes=ds.classes, frame_size=FRAME,
                           extra={"skeletons": False})
    with DatasetWriter(tmp_path / "r", header) as w:
        write_video(w.path_for("a.mp4"), _frames(12, 0, 1.0))
        w.add(Clip(clip_id="a", video_id="a", subject="s", split="test", label=0, start_frame=0, end_frame=11,
                   num_frames=12, video_path="a.mp4"))
    r = Dataset.open(tmp_path / "r")
    with pytest.raises(DatasetError, match="no skeletons.*crop=none"):
        _pipe().test_sample(r, r.clips[0])
    assert _pipe(crop="none").test_sample(r, r.clips[0])["rgb"].shape == (4, 4, 32, 32, 3)


# -- unreadable videos -----------------------------------------------------------------------------------------------


def _truncate(ds: Dataset, clip: Clip) -> None:
    p = ds.video_file(clip)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])


def test_on_error_policies(tmp_path):
    ds = make_video_dataset(tmp_path / "d", per_split=2)
    bad = ds.split("train")[0]
    _truncate(ds, bad)
    rng = np.random.default_rng(0)
    with pytest.raises(VideoError, match=rf"{bad.clip_id}\.mp4"):
        _pipe().train_sample(ds, bad, rng)
    skip = _pipe(on_error="skip")
    run = tmp_path / "run"
    run.mkdir()
    skip.set_run_dir(run)
    x = skip.train_sample(ds, bad, rng)["rgb"]
    assert x.shape == (4, 32, 32, 3)
    rec = [json.loads(line) for line in (run / SKIP_REPORT).read_text().splitlines()]
    assert len(rec) == 1 and rec[0]["clip_id"] == bad.clip_id and bad.clip_id in rec[0]["error"]
    other = ds.clip(rec[0]["replaced_by"])
    assert other.label == bad.label and other.split == "train" and other.clip_id != bad.clip_id
    val = ds.split("val")[0]
    _truncate(ds, val)
    with pytest.raises(VideoError):  # evaluation never skips
        skip.test_sample(ds, val)
    for c in ds.split("train"):  # no readable clip of the class left: the error surfaces
        if c.label == bad.label:
            _truncate(ds, c)
    with pytest.raises(VideoError, match="no other clip of class"):
        _pipe(on_error="skip").train_sample(ds, bad, rng)


# -- training --------------------------------------------------------------------------------------------------------

VIDEO_BRANCHES = sorted(n for n, b in BRANCHES.items() if b.modality in ("rgb", "taylor", "flow", "depth"))
TINY_SWIN = {"pretrained": "", "embed_dim": 8, "depths": [1, 1], "num_heads": [1, 2], "patch_size": [2, 4, 4],
             "window_size": [2, 4, 4]}
TINY_R2PLUS1D = {"pretrained": "", "layers": [1, 1, 1, 1]}


def _fit_cfg(name: str, ds, **extra):
    from microgesture.config import merge
    from microgesture.train import resolve_config

    over = {"model": TINY_R2PLUS1D if "r2plus1d" in name else TINY_SWIN,
            "input": {"clip_len": 4, "size": 32, "num_test_clips": 1},
            "train": {"epochs": 1, "batch_size": 2, "num_workers": 0}}
    return resolve_config(branch=name, dataset=str(ds.root), overrides=merge(over, extra))


@pytest.fixture(scope="module")
def all_modalities(tmp_path_factory):
    return make_video_dataset(tmp_path_factory.mktemp("vid") / "d", derived=("taylor_path", "flow_path",
                                                                                  "depth_path"))


def test_video_branches_are_registered():
    expect = {f"{m}-swin3d-{s}" for m in ("rgb", "taylor", "flow", "depth") for s in "tsb"} | {"rgb-r2plus1d"}
    assert expect <= set(VIDEO_BRANCHES)
    b = get_branch("rgb-swin3d-b")
    assert b.recipe["optim"]["backbone_lr_mult"] == 0.1 and b.recipe["model"]["drop_path"] == 0.3
    assert get_branch("taylor-swin3d-t").recipe["input"]["video_column"] == "taylor_path"


@pytest.mark.parametrize("name", VIDEO_BRANCHES)
def test_each_video_branch_trains_a_step(name, all_modalities, tmp_path):
    from microgesture.predictions import load_predictions
    from microgesture.train import fit

    m = fit(_fit_cfg(name, all_modalities), out=tmp_path / "run", progress=False)
    assert m["test"]["n"] == 3
    p = load_predictions(tmp_path / "run" / "preds_test.npz")
    assert p.logits.shape == (3, 3) and np.isfinite(p.logits).all()


def test_swin_trains_with_the_mm_gesture_sampling_and_views(all_modalities, tmp_path):
    """The MM-Gesture Video Swin input end to end at toy size: dense frames 2 apart, whole frames at short side 36,
    2 clips x 3 crops at test, validation on 1 clip and the centre crop."""
    from microgesture.predictions import load_predictions
    from microgesture.train import fit, load_checkpoint

    cfg = _fit_cfg("rgb-swin3d-t", all_modalities, input={
        "frame_interval": 2, "crop": "none", "resize_short": 36, "num_test_clips": 2, "test_crops": 3,
        "flip_test": False}, train={"val_views": {"num_test_clips": 1, "test_crops": 1}})
    m = fit(cfg, out=tmp_path / "run", progress=False)
    assert m["test"]["n"] == 3 and np.isfinite(load_predictions(tmp_path / "run" / "preds_test.npz").logits).all()
    module = load_checkpoint(tmp_path / "run")
    assert module.pipeline.num_views == 6 and module.cfg.input["frame_interval"] == 2


def test_init_from_another_class_count(tmp_path, caplog):
    from microgesture.train import BranchModule, fit, init_from, load_checkpoint

    src = make_video_dataset(tmp_path / "three", num_classes=3)
    dst = make_video_dataset(tmp_path / "four", num_classes=4, seed=1)
    fit(_fit_cfg("rgb-r2plus1d", src), out=tmp_path / "a", progress=False)
    caplog.clear()
    cfg = _fit_cfg("rgb-r2plus1d", dst, init_from=str(tmp_path / "a"))
    with caplog.at_level("INFO", logger="microgesture"):
        fit(cfg, out=tmp_path / "b", progress=False)
    said = caplog.text
    assert "re-initialised 2 tensors" in said and "model.fc.weight" in said and "target classes: 4" in said
    # right after the transfer (before any step): the backbone is the source's, the head is new
    source = load_checkpoint(tmp_path / "a").state_dict()
    module = BranchModule(cfg=cfg, classes=dst.classes, source_layout=dst.layout, class_counts=[1] * 4)
    init_from(module, str(tmp_path / "a"))
    own = module.state_dict()
    backbone = [k for k in own if k.startswith("model.backbone.")]
    assert len(backbone) > 20
    for k in backbone:
        torch.testing.assert_close(own[k], source[k], rtol=0, atol=0)
    assert own["model.fc.weight"].shape == (4, 512) and source["model.fc.weight"].shape == (3, 512)


def test_pretrained_from_a_local_state_dict(tmp_path):
    from torchvision.models.video.swin_transformer import SwinTransformer3d

    from microgesture.models.video import SwinConfig, build_video_model

    tiny = {"embed_dim": 8, "depths": (1, 1), "num_heads": (1, 2), "patch_size": (2, 4, 4), "window_size": (2, 4, 4)}
    torch.manual_seed(1)
    src = SwinTransformer3d(stochastic_depth_prob=0.0, num_classes=400,
                            **{k: list(v) if isinstance(v, tuple) else v for k, v in tiny.items()})
    state = src.state_dict()
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}}, tmp_path / "w.pth")  # DDP-style file
    m = build_video_model("swin3d_t", SwinConfig(pretrained=str(tmp_path / "w.pth"), **tiny), 5)
    own = m.backbone.state_dict()
    assert set(own) == set(state) - {"head.weight", "head.bias"}  # the Kinetics classifier is dropped
    for k, v in own.items():
        torch.testing.assert_close(v, state[k], rtol=0, atol=0)
    assert m.fc.out_features == 5
    torch.save({k: v for k, v in state.items() if not k.startswith("norm.")}, tmp_path / "bad.pth")
    with pytest.raises(ValueError, match=r"bad\.pth: not a swin3d_t state dict.*2 missing"):
        build_video_model("swin3d_t", SwinConfig(pretrained=str(tmp_path / "bad.pth"), **tiny), 5)
    with pytest.raises(ValueError, match="neither a file nor a torchvision weights name.*KINETICS400_V1"):
        build_video_model("swin3d_t", SwinConfig(pretrained="nope.pth"), 5)
    with pytest.raises(ValueError, match="need the full swin3d_t architecture"):
        build_video_model("swin3d_t", SwinConfig(pretrained="KINETICS400_V1", **tiny), 5)


def test_fit_with_skip_writes_the_report_into_the_run_dir(tmp_path):
    from microgesture.train import fit

    ds = make_video_dataset(tmp_path / "d", per_split=2)
    bad = ds.split("train")[0]
    _truncate(ds, bad)
    with pytest.raises(VideoError, match=bad.clip_id):
        fit(_fit_cfg("rgb-swin3d-t", ds), out=tmp_path / "strict", progress=False)
    m = fit(_fit_cfg("rgb-swin3d-t", ds, input={"on_error": "skip"}), out=tmp_path / "run", progress=False)
    assert m["test"]["n"] == 6
    rec = [json.loads(line) for line in (tmp_path / "run" / SKIP_REPORT).read_text().splitlines()]
    assert {r["clip_id"] for r in rec} == {bad.clip_id}
    assert rec[-1]["replaced_by"] is None and "black frames" in rec[-1]["action"]  # the train-split predictions
    assert any(r["replaced_by"] for r in rec)  # the training epoch


def test_checkpoint_loads_without_the_pretrained_file(tmp_path):
    """``model.pretrained`` is needed to start training, not to evaluate: the checkpoint has the weights."""
    from torchvision.models.video.resnet import BasicBlock, Conv2Plus1D, R2Plus1dStem, VideoResNet

    from microgesture.train import evaluate, fit

    ds = make_video_dataset(tmp_path / "d")
    net = VideoResNet(BasicBlock, [Conv2Plus1D] * 4, [1, 1, 1, 1], R2Plus1dStem, num_classes=400)
    torch.save(net.state_dict(), tmp_path / "k400.pth")
    cfg = _fit_cfg("rgb-r2plus1d", ds, model={"pretrained": str(tmp_path / "k400.pth")})
    fit(cfg, out=tmp_path / "run", progress=False)
    (tmp_path / "k400.pth").unlink()
    rep = evaluate(tmp_path / "run", dataset=ds.root, split="test")
    assert rep["n"] == 3
