"""microgesture.extract.taylor: MM-Gesture's Taylor video (golden from the authors' code), formula, quantisation."""

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from microgesture.extract.taylor import (
    TaylorConfig,
    TaylorExtractor,
    quantize,
    quantize_per_channel,
    quantize_per_frame,
    rgb_to_gray,
    taylor_float,
    taylor_video,
)

ROOT = Path(__file__).resolve().parents[1]
# CI clones the repo with shared/ beside it; a checkout may also carry shared/ inside.
GOLDEN = next((p for p in (ROOT.parent / "shared" / "golden", ROOT / "shared" / "golden")
               if (p / "mmgesture_taylor.npz").is_file()), None)  # fmt: skip


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    if GOLDEN is None:
        pytest.skip("shared/golden/mmgesture_taylor.npz (the authors' Taylor output) is not beside the repo")
    with np.load(GOLDEN / "mmgesture_taylor.npz") as z:
        return {k: z[k] for k in z.files}


def test_matches_mm_gesture_golden(golden):
    # The golden feeds the authors' core loop (float32 path) with `gray`; K = 3, L = 6, 16 -> 11 frames.
    assert int(golden["terms"]) == 3 and int(golden["window"]) == 6
    cfg = TaylorConfig()
    assert (cfg.terms, cfg.window, cfg.scale) == (3, 6, "frame")
    got = taylor_float(torch.from_numpy(golden["gray"]), terms=cfg.terms, window=cfg.window)
    assert got.shape == golden["taylor_float"].shape
    np.testing.assert_allclose(got.numpy(), golden["taylor_float"], rtol=0, atol=1e-5)
    q = quantize(got, cfg.scale).numpy().astype(int)
    diff = np.abs(q - golden["taylor_uint8"])
    assert diff.max() <= 1, f"{(diff > 1).sum()} pixels more than 1 level from the authors' output"
    # Per-channel scaling is far from it (the defect this pins).
    assert np.abs(quantize_per_channel(got).numpy().astype(int) - golden["taylor_uint8"]).max() > 20


def test_gray_is_opencv_8bit_conversion(golden):
    frames = golden["frames_rgb"]
    want = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]).astype(np.float32) / 255
    np.testing.assert_array_equal(rgb_to_gray(torch.from_numpy(frames)).numpy(), want)
    # The golden's own `gray` is the unrounded luma: our "float" mode.
    np.testing.assert_allclose(rgb_to_gray(torch.from_numpy(frames), gray="float").numpy(), golden["gray"], atol=1e-6)


def test_gray_uint8_matches_opencv_on_all_levels():
    # Every (r, g) with b on a few levels, ties included: OpenCV's fixed-point rounding, bit for bit.
    v, b = np.arange(256, dtype=np.uint8), np.array([0, 1, 2, 127, 128, 254, 255], dtype=np.uint8)
    rgb = np.stack(np.meshgrid(v, v, b, indexing="ij"), axis=-1).reshape(1, -1, 1, 3)
    want = cv2.cvtColor(rgb[0], cv2.COLOR_RGB2GRAY).reshape(1, -1, 1).astype(np.float32) / 255
    np.testing.assert_array_equal(rgb_to_gray(torch.from_numpy(rgb)).numpy(), want)


def _taylor_loop(g: np.ndarray, terms: int, window: int) -> np.ndarray:
    """Direct per-pixel transcription of the formula in microgesture.extract.taylor's docstring."""
    n, h, w = g.shape
    out = np.zeros((n - window + 1, h, w, 3))
    for i in range(n - window + 1):
        for y in range(h):
            for x in range(w):
                vals = [float(g[i + r, y, x]) for r in range(window)]
                diffs = [vals]  # diffs[m][0] = D^m at frame i
                for _ in range(terms + 2):
                    prev = diffs[-1]
                    diffs.append([prev[r + 1] - prev[r] for r in range(len(prev) - 1)])
                s = [sum((vals[j] - vals[0]) ** k / math.factorial(k) for j in range(window)) for k in range(terms)]
                for c in (1, 2, 3):
                    out[i, y, x, c - 1] = sum(s[k] * diffs[k + c][0] for k in range(terms)) / window
    return out


@pytest.mark.parametrize(("terms", "window"), [(3, 6), (2, 7), (1, 4)])
def test_vectorised_matches_per_pixel_loop(rng, terms, window):
    g = rng.random((10, 4, 5))
    got = taylor_float(torch.from_numpy(g), terms=terms, window=window, chunk_pixels=2 * 4 * 5)  # several chunks
    want = _taylor_loop(g, terms, window)
    assert got.shape == (10 - window + 1, 4, 5, 3)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)


def test_linear_ramp_gives_first_difference_only():
    # G_t = a * t: D^1 = a and higher differences vanish, so T_1 = S_0 * a / L = a and T_2 = T_3 = 0.
    a = torch.tensor([[0.01, 0.05], [-0.02, 0.0]], dtype=torch.float64)
    g = 0.2 + torch.arange(9, dtype=torch.float64)[:, None, None] * a
    out = taylor_float(g)
    assert out.shape == (4, 2, 2, 3)
    torch.testing.assert_close(out[..., 0], a.expand(4, 2, 2))
    assert out[..., 1:].abs().max() < 1e-12


def test_default_scales_the_whole_frame_by_one_factor():
    # Channel maxima 2, 1, 0.5 in frame 0: one factor 255 / 2 keeps their ratio (255, 127, 63); per-channel would
    # give 255 in every channel.
    x = torch.zeros((2, 3, 4, 3))
    x[0, 0, 0, 0], x[0, 1, 1, 1], x[0, 2, 2, 2] = 2.0, 1.0, 0.5
    x[0, 2, 3, 0] = -1.0  # negative: clamped to 0
    x[1, 0, 0, 1] = 0.004  # frame 1 has its own factor
    q = quantize_per_frame(x)
    assert q.dtype == torch.uint8
    assert (q[0, 0, 0, 0], q[0, 1, 1, 1], q[0, 2, 2, 2], q[0, 2, 3, 0]) == (255, 127, 63, 0)
    assert q[1, 0, 0, 1] == 255 and q[1].sum() == 255
    torch.testing.assert_close(quantize(x), q)
    assert quantize(x, "channel")[0, 2, 2, 2] == 255
    assert quantize_per_frame(torch.zeros((1, 2, 2, 3))).max() == 0  # no positive value: stays 0


def test_taylor_video_default_keeps_channel_ratios(rng):
    # A tiny clip with motion of every order: the default output is the float channels times one factor per frame,
    # so channel maxima differ; per-channel scaling would put 255 in each channel.
    frames = rng.integers(0, 256, (8, 3, 4, 3), dtype=np.uint8)
    out = taylor_video(frames)
    f = taylor_float(rgb_to_gray(torch.from_numpy(frames))).clamp(min=0)
    factor = 255.0 / f.amax(dim=(1, 2, 3), keepdim=True)
    want = (f * factor).clamp(max=255).to(torch.uint8).numpy()
    assert np.abs(out.astype(int) - want).max() <= 1
    peaks = out.reshape(len(out), -1, 3).max(axis=1)  # (T, 3) channel maxima
    # The largest value lands on 255 or, by float rounding before the truncating cast, 254 (so does the authors').
    assert (peaks.max(axis=1) >= 254).all() and (peaks.min(axis=1) < 200).any()
    per_channel = taylor_video(frames, scale="channel")
    assert (per_channel.reshape(len(out), -1, 3).max(axis=1) >= 254).all()
    assert not np.array_equal(out, per_channel)


def test_quantize_per_channel_and_frame():
    x = torch.zeros((2, 3, 4, 3))
    x[0, 0, 0, 0], x[0, 1, 1, 0] = 2.0, 1.0  # channel 0 of frame 0: max 2 -> 255, half -> 127
    x[0, 2, 2, 1] = -5.0  # negative only: clamps to an all-zero channel
    x[1, ..., 2] = 0.001  # tiny but positive: scaled to 255 on its own
    q = quantize_per_channel(x)
    assert q.dtype == torch.uint8
    assert q[0, 0, 0, 0] == 255 and q[0, 1, 1, 0] == 127
    assert q[0, ..., 1].max() == 0 and q[0, ..., 2].max() == 0
    assert (q[1, ..., 2] == 255).all() and q[1, ..., :2].max() == 0


def test_video_frame_count_static_and_short_clip(rng):
    frames = rng.integers(0, 256, (12, 8, 10, 3), dtype=np.uint8)
    out = taylor_video(frames)
    assert out.shape == (7, 8, 10, 3) and out.dtype == np.uint8  # N - 5
    assert out.max() == 255
    still = np.repeat(frames[:1], 9, axis=0)
    assert taylor_video(still).max() == 0  # no motion, no signal
    # Shorter than the window: the last frame is repeated up to L frames, one output frame.
    short = frames[:3]
    padded = np.concatenate([short, np.repeat(short[-1:], 3, axis=0)])
    np.testing.assert_array_equal(taylor_video(short), taylor_video(padded))
    assert taylor_video(short).shape == (1, 8, 10, 3)


def test_config_and_extractor(rng):
    with pytest.raises(ValueError, match="terms \\+ 3"):
        TaylorConfig(terms=3, window=5)
    with pytest.raises(ValueError, match="scale"):
        TaylorConfig(scale="pixel")
    with pytest.raises(ValueError, match="gray"):
        TaylorConfig(gray="rgb")
    assert TaylorConfig().output_settings() == {"terms": 3, "window": 6, "scale": "frame", "gray": "uint8"}
    frames = rng.integers(0, 256, (8, 6, 6, 3), dtype=np.uint8)
    ex = TaylorExtractor(TaylorConfig(terms=1, window=4))
    assert ex(frames).shape == (5, 6, 6, 3)
    np.testing.assert_array_equal(TaylorExtractor(TaylorConfig(scale="channel", gray="float"))(frames),
                                  taylor_video(frames, scale="channel", gray="float"))
    with pytest.raises(ValueError, match="uint8"):
        ex(frames.astype(np.float32))
