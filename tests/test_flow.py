import colorsys

import cv2
import numpy as np
import pytest
import torch

from microgesture.extract.flow import FlowConfig, FlowExtractor, colour_wheel, flow_to_color, flow_video, load_raft


def _textured(rng, h, w):
    noise = (rng.random((h, w)) * 255).astype(np.uint8)
    return cv2.GaussianBlur(noise, (0, 0), 1.5)


def _hsv(rgb: np.ndarray) -> np.ndarray:
    return np.array([colorsys.rgb_to_hsv(*(rgb[i] / 255.0)) for i in range(len(rgb))])


def test_dis_recovers_a_translation(rng):
    big = _textured(rng, 90, 110)
    a = big[10:74, 10:90]
    b = big[12:76, 7:87]  # content moves by (+3, -2) pixels from a to b
    frames = np.stack([np.repeat(x[..., None], 3, axis=-1) for x in (a, b)])
    for preset in ("ultrafast", "medium"):
        flows = FlowExtractor(FlowConfig(preset=preset)).flows(frames)
        assert flows.shape == (1, 64, 80, 2) and flows.dtype == np.float32
        inner = flows[0, 8:-8, 8:-8]
        assert abs(np.median(inner[..., 0]) - 3.0) < 0.5
        assert abs(np.median(inner[..., 1]) + 2.0) < 0.5


def test_colour_wheel_hue_follows_direction_and_saturation_magnitude():
    wheel = colour_wheel()
    assert wheel.shape == (55, 3) and (wheel.max(axis=1) == 1.0).all()
    # Direction: hue moves monotonically (one way round the circle) as the flow angle turns.
    angles = np.linspace(0, 2 * np.pi, 72, endpoint=False)
    flows = np.stack([np.cos(angles), np.sin(angles)], axis=-1)[None] * 10.0  # (1, 72, 2)
    hsv = _hsv(flow_to_color(flows, max_flow=10.0)[0])
    steps = (np.diff(np.r_[hsv[:, 0], hsv[0, 0]]) + 0.5) % 1.0 - 0.5  # circular hue steps
    assert (np.sign(steps) == np.sign(steps[0])).all() and abs(abs(steps.sum()) - 1.0) < 1e-6
    assert np.allclose(hsv[:, 2], 1.0) and np.allclose(hsv[:, 1], 1.0, atol=0.01)
    # Magnitude: saturation grows with it, same hue, clipped at max_flow; zero flow is white.
    mags = np.array([0.0, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0])
    for angle in (0.3, 2.0, 4.0):
        f = (mags[:, None] * np.array([np.cos(angle), np.sin(angle)]))[None]
        rgb = flow_to_color(f, max_flow=10.0)[0]
        s = _hsv(rgb)[:, 1]
        assert (np.diff(s[:6]) > 0).all() and s[5] == s[6] and s[0] == 0
        assert (rgb[0] == 255).all()


def _middlebury_reference(flow: np.ndarray) -> np.ndarray:
    """The flow_viz coding MM-Gesture's flow videos use, written out from its definition, in float64 with an exact
    arctangent: per-frame scale max|flow| + 1e-5, floored wheel entries, floored output."""
    ramps = [(15, 0, 1, +1), (6, 1, 0, -1), (4, 1, 2, +1), (11, 2, 1, -1), (13, 2, 0, +1), (6, 0, 2, -1)]
    wheel = []
    for n, full, moving, sign in ramps:
        for k in range(n):
            c = [0.0, 0.0, 0.0]
            c[full] = 255.0
            c[moving] = np.floor(255 * k / n) if sign > 0 else 255 - np.floor(255 * k / n)
            wheel.append(c)
    wheel = np.array(wheel) / 255
    u, v = flow[..., 0].astype(np.float64), flow[..., 1].astype(np.float64)
    peak = np.sqrt(u**2 + v**2).max() + 1e-5
    u, v = u / peak, v / peak
    rad = np.sqrt(u**2 + v**2)
    fk = (np.arctan2(-v, -u) / np.pi + 1) / 2 * (len(wheel) - 1)
    k0 = np.floor(fk).astype(int)
    k1 = (k0 + 1) % len(wheel)
    f = (fk - k0)[..., None]
    col = (1 - f) * wheel[k0] + f * wheel[k1]
    col = 1 - rad[..., None] * (1 - col)
    return np.floor(255 * col).astype(np.uint8)


def test_default_coding_is_mm_gestures_flow_viz(rng):
    assert FlowConfig().max_flow == "frame"
    flows = rng.normal(0, 3, (3, 16, 20, 2)).astype(np.float32)
    flows[1] *= 0.01  # a nearly still frame still uses the full range (per-frame scale)
    flows[2, :4] = 0.0  # zero flow is white
    got = flow_video(flows)
    want = np.stack([_middlebury_reference(f) for f in flows])
    diff = np.abs(got[:3].astype(int) - want)
    assert diff.max() <= 1 and (diff == 0).mean() > 0.95  # cartToPolar's ~0.3 degrees move a few pixels one level
    assert (got[2, :4] == 255).all()
    np.testing.assert_array_equal(got[3], got[2])


def test_flow_video_duplicates_last_and_normalisation_modes(rng):
    flows = np.zeros((3, 4, 5, 2), np.float32)
    flows[0, ..., 0] = 1.0
    flows[1, ..., 0] = 4.0
    flows[2, ..., 1] = -2.0
    fixed = flow_video(flows, max_flow=8.0)
    assert fixed.shape == (4, 4, 5, 3) and fixed.dtype == np.uint8
    np.testing.assert_array_equal(fixed[-1], fixed[-2])
    sat = [_hsv(v.reshape(-1, 3)[:1])[0, 1] for v in fixed[:3]]
    assert sat[0] < sat[1]  # fixed scale keeps magnitudes comparable
    per_frame = flow_video(flows, max_flow="frame")
    assert all(abs(_hsv(v.reshape(-1, 3)[:1])[0, 1] - 1.0) < 0.01 for v in per_frame[:3])
    per_clip = flow_video(flows, max_flow="clip")
    np.testing.assert_array_equal(per_clip, flow_video(flows, max_flow=4.0))
    one = flow_video(np.zeros((0, 4, 5, 2), np.float32), num_frames=1)
    assert one.shape == (1, 4, 5, 3) and (one == 255).all()


def test_config_validation():
    with pytest.raises(ValueError, match="CPU"):
        FlowConfig(method="dis", device="cuda")
    with pytest.raises(ValueError, match="max_flow"):
        FlowConfig(max_flow="huge")
    with pytest.raises(ValueError, match="method"):
        FlowConfig(method="farneback")
    assert "preset" in FlowConfig().output_settings()
    assert "weights" in FlowConfig(method="raft_small").output_settings()


def test_random_raft_small_runs_on_tiny_clip(rng):
    torch.manual_seed(0)
    cfg = FlowConfig(method="raft_small", weights=None, flow_updates=2, batch_size=2)
    ex = FlowExtractor(cfg)
    frames = rng.integers(0, 256, (4, 24, 30, 3), dtype=np.uint8)  # padded to 128 x 128 inside
    flows = ex.flows(frames)
    assert flows.shape == (3, 24, 30, 2) and np.isfinite(flows).all()
    video = ex(frames)
    assert video.shape == (4, 24, 30, 3) and video.dtype == np.uint8


def test_raft_weights_from_local_file(tmp_path):
    torch.manual_seed(1)
    model = load_raft("raft_small", weights=None)
    path = tmp_path / "raft_small.pth"
    torch.save(model.state_dict(), path)
    loaded = load_raft("raft_small", weights=str(path))
    for (k, a), b in zip(model.state_dict().items(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a, b), k
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        load_raft("raft_small", weights=str(tmp_path / "missing.pth"))
    torch.save({"bogus": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(RuntimeError, match="bad.pth"):
        load_raft("raft_small", weights=str(tmp_path / "bad.pth"))
