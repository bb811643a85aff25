"""Taylor video: a 3-channel motion summary of a short temporal window (MM-Gesture's Taylor stream).

What the authors' public code computes (MM-Gesture repository, ``dataset/tools/taylor.py``), with clip frames
t = 0..N-1, K terms (3) and a window of L = K + 3 frames (6):

* ``G_t`` = grayscale of frame t / 255. Their frames are 8-bit and OpenCV's gray conversion of an 8-bit image rounds
  the BT.601 luma (0.299 R + 0.587 G + 0.114 B, in 15-bit fixed point) to an integer level, so ``G_t`` takes the
  values k / 255.
* ``D^m_t`` = the m-th forward temporal difference: ``D^0_t = G_t``, ``D^m_t = D^{m-1}_{t+1} - D^{m-1}_t``; it reads
  frames t..t+m. Their code keeps these in a sliding difference table of L x L entries.
* Output frame i (0 <= i <= N - L): ``S_k(i) = sum_{j=0}^{L-1} (G_{i+j} - G_i)^k / k!`` for k = 0..K-1 (0^0 = 1, so
  ``S_0 = L``), and channel c = 1, 2, 3 (stored as R, G, B) is ``T_c(i) = (1/L) * sum_k S_k(i) * D^{k+c}_i``. The
  highest order, K + 2, reads frames i..i+K+2, the whole window. The divisor is their ``tprime`` (default and
  minimum K + 3, i.e. L).
* Quantisation: negative values become 0, then the whole output frame is multiplied by ONE factor, 255 over its
  maximum across all three channels (a frame with no positive value stays 0), and cast (truncated) to uint8. One
  factor keeps the channels' relative magnitudes: T_1, T_2, T_3 weigh higher orders of motion, and their ratio is
  part of what the network sees.

N frames give N - L + 1 output frames (N - 5); output frame i summarises clip frames [i, i + L).

Where this implementation differs, and why:

* ``scale="channel"`` (not the default) scales each channel by its own maximum instead; it discards the channels'
  relative magnitudes and moves pixel values by up to 200 of 255 levels (``bench/bench_extract.py
  --taylor-variants``). Kept, by name, for comparison with earlier outputs of this package.
* ``gray="float"`` (not the default) keeps the luma unrounded (up to 0.5 / 255 apart from the authors' ``G_t``).
* Arithmetic is float32 (their ``--fp32`` path). Their default, and the commands in their README, use float16 on the
  GPU, whose rounding moves outputs by a few levels; that rounding is a speed measure of their tool, not part of the
  method, so it is not reproduced.
* ``window`` may be set above K + 3: ours then sums ``S_k`` over all L frames of the larger window and divides by L.
  Theirs (``tprime`` > K + 3) keeps the 6-frame sums and only changes the divisor and drops the last frames. Only the
  default (L = K + 3, where both agree) is used by the MM-Gesture recipe.
* A clip shorter than L frames: their tool stops with an error; here the last frame is repeated up to L frames,
  giving one output frame, so short clips still get a video.
* Their tool computes frame by frame while decoding; this one holds the clip and computes output frames in chunks
  (``chunk_pixels``). The values are the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch

__all__ = [
    "GRAY_MODES",
    "SCALE_MODES",
    "TaylorConfig",
    "TaylorExtractor",
    "quantize",
    "quantize_per_channel",
    "quantize_per_frame",
    "rgb_to_gray",
    "taylor_float",
    "taylor_video",
]

SCALE_MODES = ("frame", "channel")
GRAY_MODES = ("uint8", "float")
# ITU-R BT.601 luma weights, and OpenCV's 15-bit fixed-point form of them (its 8-bit RGB2GRAY, 4.x and 5.x: the
# three sum to 32768, so B gets 3735 rather than round(0.114 * 32768) = 3736).
_LUMA = (0.299, 0.587, 0.114)
_LUMA_Q15 = (9798, 19235, 3735)


@dataclass(frozen=True, kw_only=True)
class TaylorConfig:
    """Settings of the Taylor stream (defaults: the authors' computation, module docstring).

    Attributes:
        terms: K, number of Taylor terms (3 as in MM-Gesture).
        window: L, frames per block and divisor (K + 3 = 6 as in MM-Gesture); must be >= terms + 3.
        scale: "frame" (one factor per output frame, as MM-Gesture) or "channel" (one per channel).
        gray: "uint8" (luma rounded to 8 bits, as OpenCV gives MM-Gesture's code) or "float" (unrounded).
        device: torch device for the computation ("cpu" or "cuda").
        chunk_pixels: output frames are computed in chunks of about this many pixels x frames, to bound memory.
    """

    terms: int = 3
    window: int = 6
    scale: Literal["frame", "channel"] = "frame"
    gray: Literal["uint8", "float"] = "uint8"
    device: str = "cpu"
    chunk_pixels: int = 1 << 21

    def __post_init__(self) -> None:
        if self.terms < 1:
            raise ValueError(f"Taylor terms must be >= 1, got {self.terms}")
        if self.window < self.terms + 3:
            raise ValueError(f"Taylor window {self.window} is shorter than terms + 3 = {self.terms + 3}")
        if self.scale not in SCALE_MODES:
            raise ValueError(f"Taylor scale {self.scale!r} is not one of {', '.join(SCALE_MODES)}")
        if self.gray not in GRAY_MODES:
            raise ValueError(f"Taylor gray {self.gray!r} is not one of {', '.join(GRAY_MODES)}")

    def output_settings(self) -> dict:
        """The settings that change the output (recorded next to the videos)."""
        return {"terms": self.terms, "window": self.window, "scale": self.scale, "gray": self.gray}


def rgb_to_gray(frames: torch.Tensor, *, gray: str = "uint8") -> torch.Tensor:
    """(T, H, W, 3) uint8 RGB -> (T, H, W) float32 grayscale in [0, 1].

    ``gray="uint8"`` gives exactly OpenCV's 8-bit RGB2GRAY (fixed point, rounded) / 255; "float" the unrounded luma.
    """
    if gray == "uint8":
        f = frames.to(torch.int32)
        q = (f[..., 0] * _LUMA_Q15[0] + f[..., 1] * _LUMA_Q15[1] + f[..., 2] * _LUMA_Q15[2] + (1 << 14)) >> 15
        return q.to(torch.float32) / 255.0
    if gray != "float":
        raise ValueError(f"Taylor gray {gray!r} is not one of {', '.join(GRAY_MODES)}")
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


def quantize_per_frame(x: torch.Tensor) -> torch.Tensor:
    """(T, H, W, C) float -> uint8 as MM-Gesture: clamp < 0 to 0, ONE factor 255 / max per frame, truncate."""
    return _quantize(x.clamp(min=0), dims=(1, 2, 3))


def quantize_per_channel(x: torch.Tensor) -> torch.Tensor:
    """(T, H, W, C) float -> uint8: clamp < 0 to 0, scale each frame's channel so its max is 255, truncate."""
    return _quantize(x.clamp(min=0), dims=(1, 2))


def quantize(x: torch.Tensor, scale: str = "frame") -> torch.Tensor:
    """Quantise Taylor channels with ``scale`` "frame" (MM-Gesture) or "channel" (module docstring)."""
    if scale == "frame":
        return quantize_per_frame(x)
    if scale == "channel":
        return quantize_per_channel(x)
    raise ValueError(f"Taylor scale {scale!r} is not one of {', '.join(SCALE_MODES)}")


def _quantize(x: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    peak = x.amax(dim=dims, keepdim=True)
    scale = torch.where(peak > 0, 255.0 / peak.clamp(min=1e-30), torch.zeros_like(peak))
    # The product can exceed 255 by a rounding hair; clamp before the truncating cast.
    return (x * scale).clamp(max=255).to(torch.uint8)


def taylor_video(frames: np.ndarray | torch.Tensor, *, terms: int = 3, window: int = 6, scale: str = "frame",
                 gray: str = "uint8", device: str = "cpu", chunk_pixels: int = 1 << 21) -> np.ndarray:
    """Taylor video of a clip (defaults: MM-Gesture's computation).

    Args:
        frames: (N, H, W, 3) uint8 RGB.

    Returns:
        (max(N, L) - L + 1, H, W, 3) uint8 RGB video (channels = T_1, T_2, T_3).
    """
    t = torch.as_tensor(np.asarray(frames) if not isinstance(frames, torch.Tensor) else frames)
    if t.ndim != 4 or t.shape[-1] != 3 or t.dtype != torch.uint8:
        raise ValueError(f"expected uint8 (N, H, W, 3) frames, got {t.dtype} {tuple(t.shape)}")
    if scale not in SCALE_MODES:
        raise ValueError(f"Taylor scale {scale!r} is not one of {', '.join(SCALE_MODES)}")
    g = rgb_to_gray(t.to(device), gray=gray)
    with torch.inference_mode():
        out = quantize(taylor_float(g, terms=terms, window=window, chunk_pixels=chunk_pixels), scale)
    return out.cpu().numpy()


class TaylorExtractor:
    """Callable clip -> Taylor video, (N, H, W, 3) uint8 -> (N - L + 1, H, W, 3) uint8."""

    modality = "taylor"

    def __init__(self, config: TaylorConfig | None = None):
        self.config = config or TaylorConfig()

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        c = self.config
        return taylor_video(frames, terms=c.terms, window=c.window, scale=c.scale, gray=c.gray, device=c.device,
                            chunk_pixels=c.chunk_pixels)
