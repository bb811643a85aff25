"""Optical-flow videos: DIS (OpenCV, CPU) or RAFT (torchvision), stored as colour-wheel RGB.

A clip of N frames gives N - 1 flows (frame t -> t + 1); the last flow is duplicated so the video has N frames, frame
t showing the motion from t to t + 1 (as MM-Gesture stores its flow stream). A one-frame clip gives one white frame
(zero flow; MM-Gesture's tool writes no video for it). Flow is in pixels of the clip's resolution, ``flow[..., 0]`` =
x (right), ``flow[..., 1]`` = y (down), with ``frame_t(p) ~ frame_{t+1}(p + flow_t(p))``.

Colour coding: the colour wheel of Baker et al. (Middlebury flow benchmark, 2007) as the ``flow_viz`` module of the
RAFT family codes it (MM-Gesture's flow videos go through that module): 55 colours in six ramps whose entries are
floored to integers, hue encodes the direction and saturation the magnitude (white = no motion; right = red,
down = yellow, left = cyan, up = blue-violet), each channel floored to uint8. Magnitudes are divided by ``max_flow``:

* ``"frame"`` (default, MM-Gesture): the largest magnitude of each flow field plus 1e-5, as ``flow_viz`` does, so
  every frame uses the full saturation range;
* ``"clip"``: the largest magnitude in the clip (each clip uses its full range);
* a number of pixels (e.g. 20): one fixed scale, so codes are comparable across clips and frames and still frames
  stay white instead of amplifying noise. Magnitudes above it are clipped to full saturation, keeping their hue
  (``flow_viz`` darkens such pixels by 0.75 instead, a case its per-frame scale never reaches).

Directions come from OpenCV's ``cartToPolar`` (about 0.3 degrees of error, at most one level of a channel) rather
than an exact arctangent, which is ~10x slower here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "DIS_PRESETS",
    "FLOW_METHODS",
    "FlowConfig",
    "FlowExtractor",
    "RaftFlow",
    "colour_wheel",
    "dis_flow",
    "flow_to_color",
    "flow_video",
    "load_raft",
]

DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}
FLOW_METHODS = ("dis", "raft_small", "raft_large")
# RAFT's correlation pyramid needs feature maps of at least 16 px at 1/8 resolution (torchvision's check).
_RAFT_MIN_SIDE, _RAFT_MULTIPLE = 128, 8


@dataclass(frozen=True, kw_only=True)
class FlowConfig:
    """Settings of the flow stream.

    Attributes:
        method: "dis" (OpenCV DIS, CPU), "raft_small" or "raft_large" (torchvision RAFT, CPU or CUDA).
        preset: DIS preset, "ultrafast", "fast" or "medium".
        weights: RAFT weights: "DEFAULT" (torchvision's, downloaded once), a local state-dict file (.pth, loaded with
            ``torch.load(weights_only=True)``), or None for random initialisation (tests only).
        flow_updates: RAFT refinement iterations (12, torchvision's default).
        batch_size: RAFT frame pairs per forward pass.
        max_flow: magnitude scale of the colour coding: "frame" (MM-Gesture), "clip" or pixels (module docstring).
        device: "cpu" or "cuda" (RAFT only; DIS always runs on the CPU).
    """

    method: str = "dis"
    preset: str = "medium"
    weights: str | None = "DEFAULT"
    flow_updates: int = 12
    batch_size: int = 4
    max_flow: float | str = "frame"
    device: str = "cpu"

    def __post_init__(self) -> None:
        if self.method not in FLOW_METHODS:
            raise ValueError(f"flow method {self.method!r} is not one of {', '.join(FLOW_METHODS)}")
        if self.preset not in DIS_PRESETS:
            raise ValueError(f"DIS preset {self.preset!r} is not one of {', '.join(DIS_PRESETS)}")
        if self.method == "dis" and self.device != "cpu":
            raise ValueError(f"DIS flow runs on the CPU (device {self.device!r}); use raft_small or raft_large")
        if isinstance(self.max_flow, str):
            if self.max_flow not in ("clip", "frame"):
                raise ValueError(f"max_flow must be a number of pixels, 'clip' or 'frame', got {self.max_flow!r}")
        elif not self.max_flow > 0:
            raise ValueError(f"max_flow must be > 0 pixels, got {self.max_flow}")

    def output_settings(self) -> dict:
        """The settings that change the output (recorded next to the videos)."""
        d: dict = {"method": self.method, "max_flow": self.max_flow}
        if self.method == "dis":
            d["preset"] = self.preset
        else:
            d["weights"] = self.weights
            d["flow_updates"] = self.flow_updates
        return d


# -- colour coding ---------------------------------------------------------------------------------------------------
def colour_wheel() -> np.ndarray:
    """The Middlebury colour wheel, (55, 3) float RGB in [0, 1].

    Six ramps with 15, 6, 4, 11, 13, 6 steps: red->yellow, yellow->green, green->cyan, cyan->blue, blue->magenta,
    magenta->red (Baker et al. 2007; the step counts give perceptually similar spacing). Each colour has one channel at
    1, so mixing with white changes saturation only. The moving channel is floor(255 t) / 255 on rising ramps and
    (255 - floor(255 t)) / 255 on falling ones, as ``flow_viz`` builds it.
    """
    ramps = [(15, 0, 1, +1), (6, 1, 0, -1), (4, 1, 2, +1), (11, 2, 1, -1), (13, 2, 0, +1), (6, 0, 2, -1)]
    rows = []
    for n, full, moving, sign in ramps:
        t = np.floor(255 * np.arange(n) / n) / 255
        block = np.zeros((n, 3))
        block[:, full] = 1.0
        block[:, moving] = t if sign > 0 else 1.0 - t
        rows.append(block)
    return np.concatenate(rows)


_WHEEL = colour_wheel()
_WHEEL32 = np.round(_WHEEL * 255.0).astype(np.float32)  # integers, as flow_viz's table
# flow_viz divides each flow field by its largest magnitude plus this, so a still frame stays white.
_FRAME_EPS = 1e-5


def _scales(flows: np.ndarray, max_flow: float | str) -> np.ndarray:
    """Per-frame magnitude scale, (T,), for (T, H, W, 2) flows."""
    if not isinstance(max_flow, str):
        return np.full(len(flows), float(max_flow))
    mag2 = np.einsum("thwc,thwc->thw", flows, flows, dtype=np.float64)  # squared magnitudes, no (T,H,W,2) copy
    if max_flow == "frame":
        return np.sqrt(mag2.max(axis=(1, 2))) + _FRAME_EPS
    peak = np.full(len(flows), np.sqrt(mag2.max()))
    return np.where(peak > 0, peak, 1.0)


def flow_to_color(flow: np.ndarray, max_flow: float) -> np.ndarray:
    """Colour-wheel coding of flow fields.

    Args:
        flow: (..., H, W, 2) float, (x, y) in pixels.
        max_flow: magnitude (pixels) mapped to full saturation; larger magnitudes are clipped to it.

    Returns:
        (..., H, W, 3) uint8 RGB; white = no motion, hue = direction, saturation = magnitude.
    """
    flow = np.asarray(flow, dtype=np.float32)
    shape = flow.shape[:-1]
    xy = flow.reshape(-1, 2) * np.float32(1.0 / max_flow)
    # OpenCV's SIMD polar conversion (angle error ~0.3 degrees) is ~10x faster than np.arctan2 here.
    rad, phi = cv2.cartToPolar(np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1]))
    rad, phi = np.minimum(rad.ravel(), np.float32(1.0)), phi.ravel()
    ncols = len(_WHEEL)
    # Position on the wheel: phi / 2pi of the way round (rightward flow at 0 = red, as the Middlebury code's
    # atan2(-v, -u) convention gives).
    fk = phi * np.float32((ncols - 1) / (2 * math.pi))
    k0 = fk.astype(np.int32)
    f = (fk - k0)[:, None]
    k0 %= ncols
    k1 = k0 + 1
    k1[k1 == ncols] = 0
    col = np.take(_WHEEL32, k0, axis=0) * (1 - f) + np.take(_WHEEL32, k1, axis=0) * f
    col = np.float32(255.0) - rad[:, None] * (np.float32(255.0) - col)
    return np.clip(col, 0, 255).astype(np.uint8).reshape(*shape, 3)  # truncation = flow_viz's floor


def flow_video(flows: np.ndarray, *, max_flow: float | str = "frame", num_frames: int | None = None) -> np.ndarray:
    """Colour-coded flow video with the last flow duplicated.

    Args:
        flows: (N - 1, H, W, 2) flows of an N-frame clip (N - 1 may be 0 if ``num_frames`` is 1).
        max_flow: "frame" (MM-Gesture), "clip" or pixels (module docstring).
        num_frames: N; defaults to len(flows) + 1.

    Returns:
        (N, H, W, 3) uint8 RGB.
    """
    n = len(flows) + 1 if num_frames is None else num_frames
    if len(flows) == 0:
        return np.full((n, *flows.shape[1:3], 3), 255, dtype=np.uint8)
    scales = _scales(flows, max_flow)
    out = np.stack([flow_to_color(f, s) for f, s in zip(flows, scales, strict=True)])
    if n > len(out):
        out = np.concatenate([out, np.repeat(out[-1:], n - len(out), axis=0)])
    return out


# -- DIS -------------------------------------------------------------------------------------------------------------
def dis_flow(frames: np.ndarray, *, preset: str = "medium") -> np.ndarray:
    """DIS optical flow between consecutive frames.

    Args:
        frames: (N, H, W, 3) uint8 RGB.
        preset: "ultrafast", "fast" or "medium".

    Returns:
        (N - 1, H, W, 2) float32 flows.
    """
    gray = [np.ascontiguousarray(cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY)) for f in frames]
    dis = cv2.DISOpticalFlow_create(DIS_PRESETS[preset])
    h, w = frames.shape[1:3]
    out = np.empty((max(0, len(gray) - 1), h, w, 2), dtype=np.float32)
    for t in range(len(gray) - 1):
        out[t] = dis.calc(gray[t], gray[t + 1], None)
    return out


# -- RAFT ------------------------------------------------------------------------------------------------------------
def load_raft(method: str = "raft_small", *, weights: str | None = "DEFAULT") -> torch.nn.Module:
    """A torchvision RAFT model in eval mode.

    Args:
        method: "raft_small" or "raft_large".
        weights: "DEFAULT" (torchvision's pretrained weights; needs internet once), a local state-dict file, or None
            (random initialisation).
    """
    from torchvision.models import optical_flow as of

    builders = {"raft_small": (of.raft_small, of.Raft_Small_Weights),
                "raft_large": (of.raft_large, of.Raft_Large_Weights)}
    if method not in builders:
        raise ValueError(f"RAFT method {method!r} is not one of {', '.join(builders)}")
    build, enum = builders[method]
    if weights is None:
        return build(weights=None).eval()
    if weights == "DEFAULT":
        try:
            return build(weights=enum.DEFAULT).eval()
        except Exception as e:  # download failures come as URLError, OSError, RuntimeError...
            raise RuntimeError(
                f"cannot get torchvision's {method} weights ({e}); without internet pass a local file (--weights FILE)"
            ) from None
    path = Path(weights).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: RAFT weights file not found")
    model = build(weights=None)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except Exception as e:
        raise RuntimeError(f"{path}: not a {method} state dict ({e})") from None
    return model.eval()


class RaftFlow:
    """RAFT flow between consecutive frames, (N, H, W, 3) uint8 -> (N - 1, H, W, 2) float32.

    Frames are scaled to [-1, 1] (torchvision's RAFT transform) and edge-padded to a multiple of 8 and at least 128
    pixels per side (RAFT's minimum); the flow is cropped back to the clip's size.
    """

    def __init__(self, model: torch.nn.Module, *, device: str = "cpu", flow_updates: int = 12, batch_size: int = 4):
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.flow_updates = flow_updates
        self.batch_size = batch_size

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        n, h, w = frames.shape[:3]
        ph = max(_RAFT_MIN_SIDE, -(-h // _RAFT_MULTIPLE) * _RAFT_MULTIPLE) - h
        pw = max(_RAFT_MIN_SIDE, -(-w // _RAFT_MULTIPLE) * _RAFT_MULTIPLE) - w
        out = np.empty((max(0, n - 1), h, w, 2), dtype=np.float32)
        with torch.inference_mode():
            for a in range(0, n - 1, self.batch_size):
                b = min(n - 1, a + self.batch_size)
                x = torch.from_numpy(np.ascontiguousarray(frames[a : b + 1])).to(self.device)
                x = x.permute(0, 3, 1, 2).float().div_(127.5).sub_(1.0)  # (B+1, 3, H, W) in [-1, 1]
                if ph or pw:
                    x = F.pad(x, (0, pw, 0, ph), mode="replicate")
                flows = self.model(x[:-1], x[1:], num_flow_updates=self.flow_updates)[-1]
                out[a:b] = flows[:, :, :h, :w].permute(0, 2, 3, 1).float().cpu().numpy()
        return out


class FlowExtractor:
    """Callable clip -> colour-coded flow video, (N, H, W, 3) uint8 -> (N, H, W, 3) uint8."""

    modality = "flow"

    def __init__(self, config: FlowConfig | None = None, *, model: torch.nn.Module | None = None):
        self.config = c = config or FlowConfig()
        self._raft = None
        if c.method != "dis":
            raft = model if model is not None else load_raft(c.method, weights=c.weights)
            self._raft = RaftFlow(raft, device=c.device, flow_updates=c.flow_updates, batch_size=c.batch_size)

    def flows(self, frames: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) uint8 -> (N - 1, H, W, 2) float32 flows."""
        if self._raft is not None:
            return self._raft(frames)
        return dis_flow(frames, preset=self.config.preset)

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"expected uint8 (N, H, W, 3) frames, got {frames.dtype} {frames.shape}")
        return flow_video(self.flows(frames), max_flow=self.config.max_flow, num_frames=len(frames))
