"""Depth videos with Depth Anything through Hugging Face transformers (optional extra ``microgesture[depth]``).

Each frame goes through the model's image processor (Depth Anything: resized keeping the aspect ratio so that, for
frames larger than ``input_size``, the short side becomes ``input_size``; sides multiples of the 14-pixel patch;
bicubic; ImageNet mean/std) and ``AutoModelForDepthEstimation``. The model predicts relative inverse depth
(larger = nearer). Each prediction is resized bilinearly (corners aligned) to the clip's size, then the clip is
normalised as a whole: its min/max over all frames map to 0/255 and values are truncated to uint8, so brightness is
comparable within a clip. Stored as grey RGB (three equal channels); N frames in, N frames out.

What MM-Gesture's depth videos are, and where this differs: they ran Video-Depth-Anything ViT-S (``--encoder vits
--grayscale``, input size 518, frames larger than 1280 pixels downscaled first, which 1280x720 iMiGUE frames are
not), in float16 autocast, and saved each clip normalised by its own min/max, truncated, as grey H.264 (CRF 18). The
resizing (short side 518, multiple of 14, bicubic), the aligned-corner upsampling and the per-clip truncating
quantisation are the same here. Video-Depth-Anything's temporal head (32-frame windows, scale-and-shift alignment of
overlapping windows) is not in transformers, so per-frame Depth Anything V2 Small is the stand-in; consistency
across frames comes only from the per-clip normalisation. Inference is float32 (float16 is a speed measure).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["DEFAULT_DEPTH_MODEL", "DepthConfig", "DepthExtractor", "load_depth_model"]

DEFAULT_DEPTH_MODEL = "depth-anything/Depth-Anything-V2-Small-hf"


@dataclass(frozen=True, kw_only=True)
class DepthConfig:
    """Settings of the depth stream.

    Attributes:
        model: Hugging Face model id, or a local directory with ``config.json``, the weights and
            ``preprocessor_config.json``.
        input_size: processor target size, the short side for frames larger than it (518 as MM-Gesture; None = the
            processor's own setting).
        batch_size: frames per forward pass.
        device: "cpu" or "cuda".
        local_files_only: never touch the network (the model must be cached or a local directory).
    """

    model: str = DEFAULT_DEPTH_MODEL
    input_size: int | None = 518
    batch_size: int = 8
    device: str = "cpu"
    local_files_only: bool = False

    def output_settings(self) -> dict:
        """The settings that change the output (recorded next to the videos)."""
        return {"model": self.model, "input_size": self.input_size}


def load_depth_model(model: str, *, local_files_only: bool = False) -> tuple[Any, Any]:
    """(model, image processor) from a Hugging Face id or local directory; model in eval mode."""
    try:
        from transformers import AutoImageProcessor, AutoModelForDepthEstimation
    except ImportError:
        raise ImportError("depth extraction needs transformers: pip install 'microgesture[depth]'") from None
    try:
        net = AutoModelForDepthEstimation.from_pretrained(model, local_files_only=local_files_only)
        processor = AutoImageProcessor.from_pretrained(model, local_files_only=local_files_only)
    except OSError as e:
        raise RuntimeError(f"cannot load depth model {model!r} ({e}); offline, give a local directory") from None
    return net.eval(), processor


class DepthExtractor:
    """Callable clip -> depth video, (N, H, W, 3) uint8 RGB -> (N, H, W, 3) uint8 grey.

    Pass ``model`` and ``processor`` to use objects built in memory (tests); otherwise they are loaded from
    ``config.model``.
    """

    modality = "depth"

    def __init__(self, config: DepthConfig | None = None, *, model: Any = None, processor: Any = None):
        self.config = c = config or DepthConfig()
        if (model is None) != (processor is None):
            raise ValueError("pass both model and processor, or neither")
        if model is None:
            model, processor = load_depth_model(c.model, local_files_only=c.local_files_only)
        self.device = torch.device(c.device)
        self.model = model.to(self.device).eval()
        self.processor = processor

    def predict(self, frames: np.ndarray) -> torch.Tensor:
        """Raw relative depth at the model's resolution, (N, h, w) float32 on the CPU."""
        kw: dict = {}
        if self.config.input_size is not None:
            s = int(self.config.input_size)
            # Depth Anything's processor keeps the aspect ratio and scales by whichever of s/H, s/W is nearer 1: for
            # frames larger than s the short side becomes s (518 -> 518 x 924 for 720p), rounded to multiples of 14.
            kw["size"] = {"height": s, "width": s}
        preds = []
        with torch.inference_mode():
            for a in range(0, len(frames), self.config.batch_size):
                batch = [np.ascontiguousarray(f) for f in frames[a : a + self.config.batch_size]]
                # channels_last stated: the processor guesses the layout wrongly for small frames with a 3-pixel side.
                pix = self.processor(images=batch, return_tensors="pt", input_data_format="channels_last", **kw)
                pix = pix["pixel_values"].to(self.device)
                preds.append(self.model(pixel_values=pix).predicted_depth.float().cpu())
        return torch.cat(preds)

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"expected uint8 (N, H, W, 3) frames, got {frames.dtype} {frames.shape}")
        n, h, w = frames.shape[:3]
        raw = self.predict(frames)
        step = 16

        def resized(a: int) -> torch.Tensor:
            # Corners aligned, as Video-Depth-Anything upsamples its predictions.
            return F.interpolate(raw[a : a + step, None], size=(h, w), mode="bilinear", align_corners=True)[:, 0]

        # Two passes over the resized frames (min/max, then quantise) instead of holding (N, H, W) floats.
        lo = min(float(resized(a).min()) for a in range(0, n, step))
        hi = max(float(resized(a).max()) for a in range(0, n, step))
        if not (np.isfinite(lo) and np.isfinite(hi)):
            raise ValueError("depth model produced non-finite values")
        out = np.empty((n, h, w, 3), dtype=np.uint8)
        for a in range(0, n, step):
            d = (resized(a) - lo) / (hi - lo) if hi > lo else torch.zeros((min(step, n - a), h, w))
            # Truncated, as Video-Depth-Anything's writer casts (depth - min) / (max - min) * 255 to uint8.
            out[a : a + step] = (d.clamp(0, 1) * 255.0).to(torch.uint8).numpy()[..., None]
        return out
