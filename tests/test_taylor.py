import math

import numpy as np
import pytest
import torch

from microgesture.extract.taylor import TaylorConfig, TaylorExtractor, quantize_per_channel, taylor_float, taylor_video


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
    frames = rng.integers(0, 256, (8, 6, 6, 3), dtype=np.uint8)
    ex = TaylorExtractor(TaylorConfig(terms=1, window=4))
    assert ex(frames).shape == (5, 6, 6, 3)
    with pytest.raises(ValueError, match="uint8"):
        ex(frames.astype(np.float32))
