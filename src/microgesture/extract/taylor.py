"""Taylor video: a 3-channel motion summary of a short temporal window (MM-Gesture's Taylor stream).

Definition used here (REFERENCE.md "Taylor video"), with frames t = 0..N-1:

* ``G_t`` = grayscale of frame t / 255 (ITU-R 601 luma, 0.299 R + 0.587 G + 0.114 B, as OpenCV's RGB2GRAY).
* ``D^m_t`` = the m-th *forward* temporal difference at frame t: ``D^0_t = G_t`` and
  ``D^m_t = D^{m-1}_{t+1} - D^{m-1}_t``, i.e. ``D^m_t = sum_r (-1)^(m-r) C(m, r) G_{t+r}`` for r = 0..m; it reads
  frames t..t+m.
* For output frame i (0 <= i <= N - L), window ``L`` (default 6) and ``K`` terms (default 3):
  ``S_k(i) = sum_{j=0}^{L-1} (G_{i+j} - G_i)^k / k!`` for k = 0..K-1 (with 0^0 = 1, so ``S_0 = L``).
* Channel c = 1, 2, 3: ``T_c(i) = (1/L) * sum_{k=0}^{K-1} S_k(i) * D^{k+c}_i``. The highest order used is K + 2, which
  reads frames i..i+K+2, so the window must satisfy ``L >= K + 3`` (6 for K = 3): every term stays inside the window.
* Negative values are clamped to 0; then each channel of each output frame is scaled so its maximum is 255 (an
  all-zero channel stays 0) and truncated to uint8 (per channel, as in the public implementation noted below).

The output has ``N - L + 1`` frames (N - 5 by default); output frame i summarises clip frames [i, i + L). A clip
shorter than L frames is padded by repeating its last frame up to L frames, giving one output frame.

Note: one public implementation of this stream (a taylor.py we read; its repository is not identified, so the
authors' copy may differ) computes the displacement ``G_{i+j} - G_i`` as a tensor minus itself, which is always 0, so
only the k = 0 term survives and its channels are plain ``D^1, D^2, D^3``: ``terms=1`` reproduces that output. It
also uses a window of max(K + 3, ceil(fps / 2)) frames (13 at 25 fps), settable here with ``window``. The defaults
follow the formula as written in REFERENCE.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["TaylorConfig", "TaylorExtractor", "rgb_to_gray", "taylor_float", "taylor_video", "quantize_per_channel"]

# ITU-R BT.601 luma weights, the ones cv2.COLOR_RGB2GRAY uses.
_LUMA = (0.299, 0.587, 0.114)


@dataclass(frozen=True, kw_only=True)
class TaylorConfig:
    """Settings of the Taylor stream.

    Attributes:
        terms: K, number of Taylor terms (3 as in MM-Gesture).
        window: L, frames per block (6 as in REFERENCE.md); must be >= terms + 3.
        device: torch device for the computation ("cpu" or "cuda").
        chunk_pixels: output frames are computed in chunks of about this many pixels x frames, to bound memory.
    """

    terms: int = 3
    window: int = 6
    device: str = "cpu"
    chunk_pixels: int = 1 << 21

    def __post_init__(self) -> None:
        if self.terms < 1:
            raise ValueError(f"Taylor terms must be >= 1, got {self.terms}")
        if self.window < self.terms + 3:
            raise ValueError(f"Taylor window {self.window} is shorter than terms + 3 = {self.terms + 3}")

    def output_settings(self) -> dict:
        """The settings that change the output (recorded next to the videos)."""
        return {"terms": self.terms, "window": self.window}


def rgb_to_gray(frames: torch.Tensor) -> torch.Tensor:
    """(T, H, W, 3) uint8 RGB -> (T, H, W) float32 grayscale in [0, 1]."""
    f = frames.to(torch.float32)
    return (f[..., 0] * _LUMA[0] + f[..., 1] * _LUMA[1] + f[..., 2] * _LUMA[2]) / 255.0


def _pad_to_window(gray: torch.Tensor, window: int) -> torch.Tensor:
    if gray.shape[0] >= window:
        return gray
    # Short clip: repeat the last frame up to one full window (documented in the module docstring).
    pad = gray[-1:].expand(window - gray.shape[0], *gray.shape[1:])
    return torch.cat([gray, pad], dim=0)


def taylor_float(gray: torch.Tensor, *, terms: int = 3, window: int = 6, chunk_pixels: int = 1 << 21) -> torch.Tensor:
    """Unclamped, unscaled Taylor channels.

    Args:
        gray: (N, H, W) float grayscale in [0, 1].
        terms: K.
        window: L (>= K + 3).
        chunk_pixels: bound on (output frames x H x W) computed at once.

    Returns:
        (max(N, L) - L + 1, H, W, 3) float tensor: channel c-1 holds ``T_c`` of the module docstring.
    """
    if window < terms + 3:
        raise ValueError(f"Taylor window {window} is shorter than terms + 3 = {terms + 3}")
    if gray.ndim != 3 or gray.shape[0] == 0:
        raise ValueError(f"expected (N, H, W) grayscale frames with N > 0, got {tuple(gray.shape)}")
    g = _pad_to_window(gray, window)
    n_out = g.shape[0] - window + 1
    h, w = g.shape[1:]
    chunk = max(1, chunk_pixels // (h * w))
    factorials = [math.factorial(k) for k in range(terms)]
    out = torch.empty((n_out, h, w, 3), dtype=g.dtype, device=g.device)
    for a in range(0, n_out, chunk):
        b = min(n_out, a + chunk)
        m = b - a
        seg = g[a : b + window - 1]  # frames needed by outputs a..b-1
        # diffs[d][t] = D^d at frame a + t, for t < m (D^d of the segment is long enough because d <= window - 1).
        diffs = [seg]
        for _ in range(terms + 2):
            diffs.append(diffs[-1][1:] - diffs[-1][:-1])
        base = seg[:m]
        s = [torch.full_like(base, float(window))]  # S_0 = L (0^0 = 1)
        for _k in range(1, terms):
            s.append(torch.zeros_like(base))
        for j in range(1, window):  # j = 0 contributes only to S_0
            x = seg[j : j + m] - base
            p = x.clone()
            for k in range(1, terms):
                s[k] += p / factorials[k]
                p = p * x
        for c in range(1, 4):
            acc = torch.zeros_like(base)
            for k in range(terms):
                acc += s[k] * diffs[k + c][:m]
            out[a:b, ..., c - 1] = acc / window
    return out


def quantize_per_channel(x: torch.Tensor) -> torch.Tensor:
    """(T, H, W, C) float -> uint8: clamp < 0 to 0, scale each frame's channel so its max is 255, truncate."""
    x = x.clamp(min=0)
    peak = x.amax(dim=(1, 2), keepdim=True)
    scale = torch.where(peak > 0, 255.0 / peak.clamp(min=1e-30), torch.zeros_like(peak))
    # Values can exceed 255 by a rounding hair; clamp before the truncating cast.
    return (x * scale).clamp(max=255).to(torch.uint8)


def taylor_video(frames: np.ndarray | torch.Tensor, *, terms: int = 3, window: int = 6, device: str = "cpu",
                 chunk_pixels: int = 1 << 21) -> np.ndarray:
    """Taylor video of a clip.

    Args:
        frames: (N, H, W, 3) uint8 RGB.

    Returns:
        (max(N, L) - L + 1, H, W, 3) uint8 RGB video (channels = T_1, T_2, T_3).
    """
    t = torch.as_tensor(np.asarray(frames) if not isinstance(frames, torch.Tensor) else frames)
    if t.ndim != 4 or t.shape[-1] != 3 or t.dtype != torch.uint8:
        raise ValueError(f"expected uint8 (N, H, W, 3) frames, got {t.dtype} {tuple(t.shape)}")
    gray = rgb_to_gray(t.to(device))
    with torch.inference_mode():
        out = quantize_per_channel(taylor_float(gray, terms=terms, window=window, chunk_pixels=chunk_pixels))
    return out.cpu().numpy()


class TaylorExtractor:
    """Callable clip -> Taylor video, (N, H, W, 3) uint8 -> (N - L + 1, H, W, 3) uint8."""

    modality = "taylor"

    def __init__(self, config: TaylorConfig | None = None):
        self.config = config or TaylorConfig()

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        c = self.config
        return taylor_video(frames, terms=c.terms, window=c.window, device=c.device, chunk_pixels=c.chunk_pixels)
