"""microgesture.inputs.geometry: clip box, crop + resize, random resized crop, flips; frames and keypoints stay
aligned."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from microgesture.inputs.geometry import (
    Box,
    GeometryConfig,
    View,
    crop_resize_frames,
    crop_resize_keypoints,
    eval_view,
    flip_keypoints,
    keypoint_box,
    random_resized_crop,
    train_view,
)
from microgesture.layouts import get_layout

MMG36 = get_layout("mmg36")


def _skeleton(rng: np.random.Generator, t: int = 5, v: int = 36) -> tuple[np.ndarray, np.ndarray]:
    kp = rng.uniform([40, 20], [110, 100], size=(t, v, 2)).astype(np.float32)
    sc = rng.uniform(0.1, 1.0, size=(t, v)).astype(np.float32)
    sc[0, :4] = 0.0
    kp[0, :4] = [500.0, -300.0]  # missing joints far away must not stretch the box
    return kp, sc


@pytest.mark.parametrize("scale", [1.0, 1.2, 1.25])
def test_box_contains_valid_joints_and_is_square(rng, scale):
    kp, sc = _skeleton(rng)
    box = keypoint_box(kp, sc, scale=scale)
    valid = kp[sc > 0]
    assert (valid[:, 0] >= box.x0).all() and (valid[:, 0] <= box.x1).all()
    assert (valid[:, 1] >= box.y0).all() and (valid[:, 1] <= box.y1).all()
    assert box.width == pytest.approx(box.height)
    extent = (valid.max(0) - valid.min(0)).max()
    assert box.width == pytest.approx(scale * extent, rel=1e-5)
    torch_box = keypoint_box(torch.from_numpy(kp), torch.from_numpy(sc), scale=scale)
    np.testing.assert_allclose([torch_box.x0, torch_box.y0, torch_box.x1, torch_box.y1],
                               [box.x0, box.y0, box.x1, box.y1])  # fmt: skip


def test_box_options_and_errors():
    kp = np.array([[[10.0, 10.0], [30.0, 14.0]]], dtype=np.float32)
    sc = np.ones((1, 2), dtype=np.float32)
    rect = keypoint_box(kp, sc, scale=1.0, square=False, min_size=0)
    assert (rect.x0, rect.y0, rect.x1, rect.y1) == (10, 10, 30, 14)
    tall = keypoint_box(kp, sc, scale=1.0, square=False, min_size=10)
    assert tall.height == 10 and tall.width == 20  # min_size grows the short side about the centre
    with pytest.raises(ValueError, match="no joint"):
        keypoint_box(kp, np.zeros_like(sc))
    frame = Box(0, 0, 64, 48)
    assert keypoint_box(kp, np.zeros_like(sc), fallback=frame) is frame


def test_crop_resize_maps_box_corners_to_canvas_corners():
    box = Box(10.0, 20.0, 50.0, 100.0)
    kp = np.array([[10.0, 20.0], [50.0, 100.0], [30.0, 60.0]], dtype=np.float32)
    out = crop_resize_keypoints(kp, box, (64, 32))
    np.testing.assert_allclose(out, [[0, 0], [32, 64], [16, 32]])
    assert out.dtype == np.float32
    torch.testing.assert_close(crop_resize_keypoints(torch.from_numpy(kp), box, (64, 32)), torch.from_numpy(out))


def test_random_resized_crop_ranges_and_fallback():
    rng = np.random.default_rng(1)
    boxes = [random_resized_crop(rng, (64, 64)) for _ in range(200)]
    for b in boxes:
        assert 0 <= b.x0 < b.x1 <= 64 and 0 <= b.y0 < b.y1 <= 64
        assert 0.5 <= b.width * b.height / 64**2 <= 1.0  # area 0.56-1, up to rounding to whole pixels
        assert 3 / 4 - 0.05 <= b.width / b.height <= 4 / 3 + 0.05
    assert len({(b.x0, b.y0, b.width, b.height) for b in boxes}) > 100
    again = [random_resized_crop(np.random.default_rng(1), (64, 64)) for _ in range(1)]
    assert again[0] == boxes[0]
    # An area that never fits falls back to the centred square.
    assert random_resized_crop(rng, (40, 60), area=(1.5, 2.0)) == Box(10, 0, 50, 40)


@pytest.mark.parametrize("convention", ["pyskl", "pixel"])
def test_flip_swaps_sides_keeps_missing_and_is_an_involution(rng, convention):
    kp, sc = _skeleton(rng)
    kp = crop_resize_keypoints(kp, keypoint_box(kp, sc), (56, 56))
    fkp, fsc = flip_keypoints(kp, sc, width=56, joint_flip=MMG36.joint_flip, convention=convention)
    right, left = MMG36.index("r_wrist"), MMG36.index("l_wrist")
    edge = 56 if convention == "pyskl" else 55
    assert fkp[1, left, 0] == pytest.approx(edge - kp[1, right, 0]) and fsc[1, left] == sc[1, right]
    missing = MMG36.joint_flip[0]  # joint 0 of frame 0 is missing; after the swap it is still where it was
    np.testing.assert_array_equal(fkp[0, missing], kp[0, 0])
    back, bsc = flip_keypoints(fkp, fsc, width=56, joint_flip=MMG36.joint_flip, convention=convention)
    np.testing.assert_allclose(back, kp, atol=1e-5)
    np.testing.assert_array_equal(bsc, sc)
    tkp, tsc = flip_keypoints(torch.from_numpy(kp), torch.from_numpy(sc), width=56, joint_flip=MMG36.joint_flip,
                              convention=convention)  # fmt: skip
    np.testing.assert_allclose(tkp.numpy(), fkp, atol=1e-5)


def _blob_frames(points: np.ndarray, height: int, width: int) -> np.ndarray:
    """(N, H, W, 3) uint8 frames, frame n holding a smooth dot (sigma 8 px) centred at points[n]."""
    yy, xx = np.mgrid[:height, :width]
    d2 = (xx[None] - points[:, 0, None, None]) ** 2 + (yy[None] - points[:, 1, None, None]) ** 2
    dots = np.exp(-d2 / (2 * 8.0**2)) * 250
    return np.repeat(dots[..., None], 3, axis=-1).round().astype(np.uint8)


def _centroids(frames: np.ndarray, guess: np.ndarray, radius: int = 6) -> np.ndarray:
    """Intensity centroid of each frame's dot in a window around the expected position."""
    out = []
    for f, (gx, gy) in zip(frames[..., 0].astype(np.float64), guess, strict=True):
        x0, y0 = max(int(round(gx)) - radius, 0), max(int(round(gy)) - radius, 0)
        patch = f[y0 : int(round(gy)) + radius + 1, x0 : int(round(gx)) + radius + 1]
        yy, xx = np.mgrid[: patch.shape[0], : patch.shape[1]]
        out.append([x0 + (patch * xx).sum() / patch.sum(), y0 + (patch * yy).sum() / patch.sum()])
    return np.array(out)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_frames_and_keypoints_agree_after_crop_and_flip(backend):
    rng = np.random.default_rng(3)
    points = rng.uniform([60, 50], [260, 190], size=(8, 2))  # one dot per frame, sub-pixel positions
    frames = _blob_frames(points, 240, 320)
    kp, sc = points[:, None, :].astype(np.float32), np.ones((8, 1), np.float32)
    # About 3.4 source pixels per output pixel: a half-pixel convention slip would move dots by ~0.35 px.
    view = train_view(kp, sc, rng, GeometryConfig(), size=64, resize=72)
    for flip in (False, True):
        v = View(view.box, view.size, flip)
        src = frames if backend == "numpy" else torch.from_numpy(frames).permute(3, 0, 1, 2)
        out = v.frames(src)
        out = out if backend == "numpy" else out.permute(1, 2, 3, 0).numpy()
        assert out.shape == (8, 64, 64, 3) and out.dtype == np.uint8
        exact, _ = v.keypoints(kp, sc, joint_flip=[0], convention="pixel")
        inside = ((exact[:, 0] > 7) & (exact[:, 0] < 56)).all(-1)  # dots the crop cut keep no centroid
        assert inside.sum() >= 3
        found = _centroids(out[inside], exact[inside, 0])
        np.testing.assert_allclose(found, exact[inside, 0], atol=0.15)
        if flip:  # PoseC3D's W - x lands exactly one pixel right of the mirrored image
            pyskl, _ = v.keypoints(kp, sc, joint_flip=[0], convention="pyskl")
            np.testing.assert_allclose(pyskl[inside, 0, 0] - found[:, 0], 1.0, atol=0.15)


def test_numpy_and_torch_frames_agree():
    rng = np.random.default_rng(4)
    frames = rng.integers(0, 256, size=(3, 30, 40, 3), dtype=np.uint8)
    box = Box(-3.5, 2.25, 31.0, 27.5)  # partly outside the frame: reads zeros there
    a = crop_resize_frames(frames, box, (20, 24)).astype(np.int16)
    b = crop_resize_frames(torch.from_numpy(frames).permute(3, 0, 1, 2), box, (20, 24)).permute(1, 2, 3, 0).numpy()
    assert np.abs(a - b).max() <= 2  # cv2 interpolates uint8 in fixed point
    assert (a[:, :, 0] == 0).all()  # the first column reads x = -3.5: outside
    floats = crop_resize_frames(torch.from_numpy(frames).permute(3, 0, 1, 2).float(), box, (20, 24))
    assert floats.dtype == torch.float32


def test_train_and_test_views(rng):
    kp, sc = _skeleton(rng)
    cfg = GeometryConfig()
    views = [train_view(kp, sc, np.random.default_rng(7), cfg) for _ in range(2)]
    assert views[0] == views[1]  # the generator decides everything
    flips = [train_view(kp, sc, rng, cfg).flip for _ in range(200)]
    assert 60 < sum(flips) < 140
    v = views[0]
    assert v.size == (56, 56)
    box = keypoint_box(kp, sc)
    assert box.x0 <= v.box.x0 < v.box.x1 <= box.x1 + 1e-6 and box.y0 <= v.box.y0 < v.box.y1 <= box.y1 + 1e-6
    t = eval_view(kp, sc, cfg)
    assert t.size == (64, 64) and not t.flip and t.box == box
    out, osc = t.keypoints(kp, sc, MMG36.joint_flip)
    assert (out[sc > 0] >= 64 * 0.1 - 1e-4).all() and (out[sc > 0] <= 64 * 0.9 + 1e-4).all()  # x1.25 margin
    fo, fsc = eval_view(kp, sc, cfg, flip=True).keypoints(kp, sc, MMG36.joint_flip)
    np.testing.assert_allclose(fo[..., 0][fsc > 0], 64 - out[..., MMG36.joint_flip, 0][fsc > 0], atol=1e-4)
    with pytest.raises(ValueError):
        train_view(kp, np.zeros_like(sc), rng, cfg)
    assert train_view(kp, np.zeros_like(sc), rng, cfg, frame=Box(0, 0, 160, 120)).box.x1 <= 160
