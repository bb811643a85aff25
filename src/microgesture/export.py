"""Export a trained skeleton or heatmap branch to TorchScript or ONNX, and run the exported file.

The exported graph maps one batch of test views to logits:

- skeleton branches (``joint-*``): ``joint`` (N, C, T, V) float32, the pipeline's features -> (N, K);
- heatmap branches (``heatmap-posec3d-*``): ``keypoints`` (N, T, V, 3) = x, y on the test canvas, score -> (N, K).
  The volumes are drawn inside the graph by :class:`DenseHeatmaps`, a dense formulation of PoseC3D's renderer
  (:func:`microgesture.inputs.heatmaps.render_heatmaps`: the same windows, amplitudes and limb distances, computed on
  the whole canvas instead of scattered windows) made of exportable operations only.

What stays outside the graph, in numpy, is the checkpoint's test pipeline: selecting the joints, normalising, the
temporal views and flips (``pipeline.test_sample``), and the view averaging (``train.test_average``). The file
carries the checkpoint's metadata (config, classes, stored layout) -- TorchScript as the extra file
``microgesture.json``, ONNX as the metadata property ``microgesture`` -- so :func:`load_exported` rebuilds that
pipeline from the file alone. :class:`ExportedModel` is also a detection scorer (``classes`` + ``__call__(windows)``)
that :func:`microgesture.detect.detect` and :class:`microgesture.online.OnlineDetector` accept as they are.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from microgesture.atomic import atomic_path

__all__ = ["DenseHeatmaps", "export", "load_exported", "ExportedModel", "ExportError", "FORMATS"]

log = logging.getLogger(__name__)

FORMATS = ("torchscript", "onnx")
META_KEY = "microgesture"
OPSET = 18


class ExportError(ValueError):
    """A branch or format that cannot be exported, or a file that is not an export; the message says which."""


class DenseHeatmaps(nn.Module):
    """PoseC3D joint or limb volumes from canvas keypoints, with exportable dense operations.

    Reads (N, T, V, 3) = x, y in canvas pixels and a score; writes (N, C, T, H, W), C = V (joints) or E (limbs).
    Equal to :func:`microgesture.inputs.heatmaps.render_heatmaps` up to float rounding (tests/test_export.py): a point
    is ``amp * exp(-d^2 / 2 sigma^2)`` inside the window ``[trunc(lo - 3 sigma), trunc(hi + 3 sigma)]`` on each
    axis, amplitudes below EPS are not drawn, a limb shorter than 1 px is the point a with a's score.
    """

    def __init__(self, *, size: int, sigma: float, edges: Sequence[tuple[int, int]] | None = None):
        super().__init__()
        from microgesture.inputs.heatmaps import EPS

        self.size, self.sigma, self.eps = int(size), float(sigma), float(EPS)
        self.limbs = edges is not None
        e = torch.as_tensor(list(edges) if edges is not None else [(0, 0)], dtype=torch.long).reshape(-1, 2)
        self.register_buffer("ia", e[:, 0].clone(), persistent=False)
        self.register_buffer("ib", e[:, 1].clone(), persistent=False)
        self.register_buffer("grid", torch.arange(self.size, dtype=torch.float32), persistent=False)

    def _mask(self, lo: Tensor, hi: Tensor) -> Tensor:
        # PoseC3D's bounds: int(lo - 3 sigma) .. int(hi + 3 sigma), truncated toward zero in float64
        # (trunc(x) = sign(x) floor(|x|): ONNX has no Trunc)
        a, b = lo.double() - 3 * self.sigma, hi.double() + 3 * self.sigma
        start = (torch.sign(a) * torch.floor(torch.abs(a))).float()
        stop = (torch.sign(b) * torch.floor(torch.abs(b))).float()
        g = self.grid
        return ((g >= start.unsqueeze(-1)) & (g <= stop.unsqueeze(-1))).float()

    def forward(self, keypoints: Tensor) -> Tensor:
        kp, sc = keypoints[..., :2].float(), keypoints[..., 2].float()
        finite = torch.isfinite(kp).all(-1) & torch.isfinite(sc)
        sc = torch.where(finite, sc, torch.zeros_like(sc))
        kp = torch.where(finite.unsqueeze(-1), kp, torch.zeros_like(kp))
        inv = -0.5 / self.sigma**2
        g = self.grid
        if not self.limbs:
            x, y = kp[..., 0], kp[..., 1]  # (N, T, V)
            amp = sc * (sc >= self.eps).float()
            gx = torch.exp((g - x.unsqueeze(-1)) ** 2 * inv) * self._mask(x, x)  # (N, T, V, W)
            gy = torch.exp((g - y.unsqueeze(-1)) ** 2 * inv) * self._mask(y, y) * amp.unsqueeze(-1)  # (N, T, V, H)
            vol = gy.unsqueeze(-1) * gx.unsqueeze(-2)  # (N, T, V, H, W)
            return vol.permute(0, 2, 1, 3, 4)
        a, b = kp.index_select(2, self.ia), kp.index_select(2, self.ib)  # (N, T, E, 2)
        sa, sb = sc.index_select(2, self.ia), sc.index_select(2, self.ib)
        d = b - a
        length = torch.sqrt((d * d).sum(-1))
        short = length < 1
        amp = torch.where(short, sa, torch.minimum(sa, sb)) * (torch.minimum(sa, sb) >= self.eps).float()
        lo = torch.where(short.unsqueeze(-1), a, torch.minimum(a, b))
        hi = torch.where(short.unsqueeze(-1), a, torch.maximum(a, b))
        mx, my = self._mask(lo[..., 0], hi[..., 0]), self._mask(lo[..., 1], hi[..., 1])
        unit = d / length.clamp(min=1).unsqueeze(-1)
        ux = torch.where(short, torch.ones_like(length), unit[..., 0])
        uy = torch.where(short, torch.zeros_like(length), unit[..., 1])
        scale = 1.0 / (self.sigma * 2.0**0.5)
        half = torch.where(short, torch.zeros_like(length), length * (0.5 * scale))
        mid = a + torch.where(short.unsqueeze(-1), torch.zeros_like(d), d * 0.5)
        px = (g - mid[..., 0:1]) * scale  # (N, T, E, W)
        py = (g - mid[..., 1:2]) * scale  # (N, T, E, H)
        s = py.unsqueeze(-1) * uy[..., None, None] + px.unsqueeze(-2) * ux[..., None, None]  # (N, T, E, H, W)
        q = px.unsqueeze(-2) * uy[..., None, None] - py.unsqueeze(-1) * ux[..., None, None]
        s = torch.clamp(torch.abs(s) - half[..., None, None], min=0)
        vol = amp[..., None, None] * torch.exp(-(s * s + q * q)) * my.unsqueeze(-1) * mx.unsqueeze(-2)
        return vol.permute(0, 2, 1, 3, 4)


class _Graph(nn.Module):
    """What is exported: [renderer ->] model -> logits."""

    def __init__(self, model: nn.Module, renderer: nn.Module | None):
        super().__init__()
        self.model, self.renderer = model, renderer

    def forward(self, x: Tensor) -> Tensor:
        if self.renderer is not None:
            x = self.renderer(x)
        return self.model(x)


def _graph(module) -> tuple[_Graph, str]:
    """The exportable graph of a BranchModule and the name of its input."""
    from microgesture.inputs.heatmaps import HeatmapPipeline
    from microgesture.inputs.skeleton import SkeletonPipeline

    pipe = module.pipeline
    if isinstance(pipe, HeatmapPipeline):
        c = pipe.cfg
        return _Graph(module.model, DenseHeatmaps(size=c.resize, sigma=c.sigma, edges=pipe.edges)), pipe.key
    if isinstance(pipe, SkeletonPipeline):
        return _Graph(module.model, None), pipe.key
    raise ExportError(f"branch {module.cfg.branch} reads {module.branch.modality}: export covers the skeleton "
                      "(joint-*) and heatmap (heatmap-posec3d-*) branches")


def example_views(module, *, num_frames: int = 40, seed: int = 0) -> np.ndarray:
    """Test views of a synthetic skeleton in the checkpoint's stored layout: the pipeline's own output shape."""
    from microgesture.api import OneClip
    from microgesture.layouts import get_layout

    rng = np.random.default_rng(seed)
    v = get_layout(module.source_layout).num_joints
    skel = np.concatenate([rng.uniform(200, 900, (num_frames, v, 2)), rng.uniform(0.3, 1, (num_frames, v, 1))], -1)
    clip = OneClip(name="example", layout=module.source_layout, classes=module.classes, skeleton=skel)
    return module.pipeline.test_sample(clip, clip.clip)[module.pipeline.key]


def export(run: str | os.PathLike, *, fmt: str, out: str | os.PathLike) -> Path:
    """Export the branch of ``run`` (a run directory or checkpoint) to ``out``; returns the path.

    The graph takes a batch of test views (see the module docstring) with a dynamic batch axis.
    """
    from microgesture.train import load_checkpoint

    if fmt not in FORMATS:
        raise ExportError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    module = load_checkpoint(run)
    graph, key = _graph(module)
    graph.eval()
    x = torch.from_numpy(example_views(module))
    meta = {**module.inference_meta(), "export": {"format": fmt, "input": key, "input_shape": list(x.shape[1:]),
                                                  "checkpoint": str(run)}}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp, torch.no_grad():
        if fmt == "torchscript":
            traced = torch.jit.trace(graph, (x,), check_trace=False)
            torch.jit.save(traced, str(tmp), _extra_files={f"{META_KEY}.json": json.dumps(meta)})
        else:
            _export_onnx(graph, x, key, tmp, meta)
    log.info("exported %s (%s) to %s", module.cfg.branch, fmt, out)
    return out


def _export_onnx(graph: nn.Module, x: Tensor, key: str, path: Path, meta: dict) -> None:
    try:
        import onnx
    except ImportError:
        raise ExportError("ONNX export needs the onnx package: pip install 'microgesture[onnx]'") from None
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript-based exporter's deprecation notice
        torch.onnx.export(graph, (x,), str(path), input_names=[key], output_names=["logits"], opset_version=OPSET,
                          dynamic_axes={key: {0: "batch"}, "logits": {0: "batch"}}, dynamo=False)
    m = onnx.load(str(path))
    m.metadata_props.add(key=META_KEY, value=json.dumps(meta))
    onnx.save(m, str(path))


class ExportedModel:
    """An exported branch with its test pipeline, run by TorchScript or onnxruntime (see :func:`load_exported`).

    Attributes:
        classes: class names; meta: the checkpoint metadata stored in the file; key: the graph's input name.
    """

    def __init__(self, path: str | os.PathLike, *, threads: int | None = None):
        self.path = Path(path)
        if not self.path.is_file():
            raise ExportError(f"{self.path}: exported model not found")
        with open(self.path, "rb") as f:
            zipped = f.read(2) == b"PK"  # TorchScript files are zip archives; ONNX files are protobuf
        if not zipped and self.path.suffix != ".pt":
            self._run, meta = _onnx_runner(self.path, threads)
        else:
            files = {f"{META_KEY}.json": ""}
            try:
                ts = torch.jit.load(str(self.path), map_location="cpu", _extra_files=files)
            except RuntimeError as e:
                raise ExportError(f"{self.path}: not a TorchScript file ({str(e).splitlines()[0]})") from None
            if not files[f"{META_KEY}.json"]:
                raise ExportError(f"{self.path}: no microgesture metadata (not exported by microgesture export)")
            meta = json.loads(files[f"{META_KEY}.json"])
            ts.eval()

            def run(x: np.ndarray) -> np.ndarray:
                with torch.no_grad():
                    return ts(torch.from_numpy(np.ascontiguousarray(x, np.float32))).float().numpy()

            self._run = run
        self.meta = meta
        self.classes: tuple[str, ...] = tuple(meta["classes"])
        self.key = meta["export"]["input"]
        self._pipelines: dict[str, object] = {}

    def pipeline(self, layout: str | None = None):
        """The checkpoint's test pipeline for skeletons stored in ``layout`` (default: the run's)."""
        from microgesture.branches import get_branch
        from microgesture.config import from_dict

        layout = layout or self.meta["source_layout"]
        if layout not in self._pipelines:
            cfg = from_dict(self.meta["config"])
            b = get_branch(cfg.branch)
            self._pipelines[layout] = b.make_pipeline(b.input_config(cfg.input), layout)
        return self._pipelines[layout]

    def logits(self, views: np.ndarray) -> np.ndarray:
        """Raw logits (N, K) of a batch of views (the graph's input)."""
        return self._run(np.asarray(views, np.float32))

    def predict_views(self, views: np.ndarray) -> np.ndarray:
        """(B, K) log-probabilities of (B, num_views, ...) test views, averaged as the run's ``test_average``."""
        b, nv = views.shape[:2]
        z = self.logits(views.reshape(b * nv, *views.shape[2:])).reshape(b, nv, -1).astype(np.float64)
        if self.meta["config"].get("train", {}).get("test_average", "prob") == "logit":
            return z.mean(1)
        p = np.exp(z - z.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        return np.log(np.clip(p.mean(1), 1e-12, None))

    def __call__(self, windows: Sequence[np.ndarray]) -> np.ndarray:
        """Detection scorer: (N, K) probabilities of N OpenPose-137 windows (T_i, 137, 3)."""
        from microgesture.api import OneClip

        if not len(windows):
            return np.zeros((0, len(self.classes)))
        pipe = self.pipeline("openpose137")
        views = []
        for w in windows:
            c = OneClip(name="window", layout="openpose137", classes=self.classes, skeleton=w)
            views.append(pipe.test_sample(c, c.clip)[self.key])
        p = np.exp(self.predict_views(np.stack(views)))
        return p / p.sum(-1, keepdims=True)


def _onnx_runner(path: Path, threads: int | None):
    try:
        import onnx
        import onnxruntime as ort
    except ImportError:
        raise ExportError(f"{path}: running ONNX needs onnxruntime: pip install 'microgesture[onnx]'") from None
    meta = {p.key: p.value for p in onnx.load(str(path), load_external_data=False).metadata_props}
    if META_KEY not in meta:
        raise ExportError(f"{path}: no microgesture metadata (not exported by microgesture export)")
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name

    def run(x: np.ndarray) -> np.ndarray:
        return sess.run(None, {name: np.ascontiguousarray(x, np.float32)})[0]

    return run, json.loads(meta[META_KEY])


def load_exported(path: str | os.PathLike, *, threads: int | None = None) -> ExportedModel:
    """An :class:`ExportedModel` from a ``.pt`` (TorchScript) or ``.onnx`` file written by :func:`export`."""
    return ExportedModel(path, threads=threads)
