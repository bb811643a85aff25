"""PoseC3D pseudo-heatmap volumes drawn as batched tensor operations (on the GPU inside a training step, or the CPU).

The maths is PoseC3D's ``GeneratePoseTarget`` (docs/recipes.md, "PoseC3D joint and limb"), checked against
pyskl's own output (tests/test_heatmaps.py, when the reference file is available):

- a joint is a Gaussian of ``sigma`` with amplitude = its confidence, drawn only inside the window
  ``[int(mu - 3 sigma), int(mu + 3 sigma)]`` on each axis. Python's ``int`` truncates toward zero, so a point at
  x = -2.3 (sigma 0.6) still reaches pixel 0; the window is clipped to the canvas;
- a limb a-b is ``exp(-d^2 / 2 sigma^2)`` of the distance d to the segment, amplitude ``min(conf_a, conf_b)``, inside
  the window of the segment's bounding box +- 3 sigma; a limb shorter than 1 px is drawn as the point a with
  amplitude ``conf_a`` (what pyskl does; the golden data pins it);
- points (limbs) with confidence < 1e-3 are skipped; several persons are max-merged.

Pixel (x, y) of the canvas sits at coordinate (x, y): keypoints are in the heatmap's pixel coordinates.

How it is fast: a channel's map is zero outside the drawn windows, so only the windows are computed and scattered into
a zeroed volume. Joint windows are at most ``ceil(6 sigma) + 2`` pixels wide, so every joint gets a fixed K x K patch:
the Gaussian is separable on the rectangular window (outer product of two masked 1-D profiles). For limbs, a pixel's
coordinates along and across the segment are each a column term plus a row term, so every window row is a gathered
1-D column profile plus a per-row constant; rows are ragged (windows differ in height), widths padded to a few sizes.
Pixels are scattered with an ``amax`` reduction: exact for overlapping persons, order-independent, deterministic.
bench/bench_heatmaps.py times it against a per-keypoint loop (bench/heatmap_loop_baseline.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from microgesture.data.format import Clip, Dataset
from microgesture.inputs.geometry import Box, GeometryConfig, View, eval_view, train_view
from microgesture.layouts import get_layout

__all__ = ["render_heatmaps", "EPS", "HeatmapInputConfig", "HeatmapPipeline"]

EPS = 1e-3  # confidence below which a point or limb is not drawn (PoseC3D's EPS)
# Work items are split so that no chunk enumerates more window pixels than this; bounds the temporary memory to about
# 40 bytes per pixel (a 4M-pixel chunk is ~160 MB), whatever the batch size.
CHUNK_PIXELS = 1 << 22


@torch.no_grad()
def render_heatmaps(
    keypoints: Tensor,
    scores: Tensor,
    size: int | tuple[int, int] = (56, 56),
    sigma: float = 0.6,
    edges: Tensor | Sequence[tuple[int, int]] | None = None,
    *,
    persons: bool = False,
    out: Tensor | None = None,
) -> Tensor:
    """Render PoseC3D joint or limb heatmap volumes.

    Args:
        keypoints: (..., T, V, 2) x, y in the heatmap's pixel coordinates; with ``persons=True``, (..., M, T, V, 2).
            Non-finite coordinates are treated as missing joints.
        scores: (..., T, V) confidences (or (..., M, T, V)); they are the Gaussians' amplitudes.
        size: (H, W) of the canvas, or one int for a square one.
        sigma: Gaussian sigma in pixels (0.6 as in PoseC3D; 0.7 in RGBPoseConv3D).
        edges: None for joint volumes (one channel per joint) or (E, 2) joint-index pairs for limb volumes (one channel
            per edge), e.g. ``get_layout("mmg36").edges``.
        persons: the axis before T is a person axis M; persons are max-merged into one volume.
        out: optional preallocated (..., C, T, H, W) tensor to draw into (it is zeroed first); saves the allocation.

    Returns:
        (..., C, T, H, W) volume, C = V or E, on the input's device and in its dtype; never part of an autograd graph.
    """
    # long: one function (docstring included, 81 lines): the shape checks, the window batching and the max-merge are one
    # pass over the same tensors; splitting them would pass a dozen of them between helpers (bench_heatmaps.py)
    h, w = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    if keypoints.ndim < 3 + persons or keypoints.shape[-1] != 2:
        want = "(..., M, T, V, 2)" if persons else "(..., T, V, 2)"
        raise ValueError(f"render_heatmaps: keypoints must be {want}, got {tuple(keypoints.shape)}")
    if scores.shape != keypoints.shape[:-1]:
        shapes = f"scores {tuple(scores.shape)}, keypoints {tuple(keypoints.shape)}"
        raise ValueError(f"render_heatmaps: scores must be keypoints' shape without the last axis, got {shapes}")
    if not (sigma > 0 and h > 0 and w > 0):
        raise ValueError(f"render_heatmaps: need sigma > 0 and a non-empty canvas, got sigma={sigma}, size={(h, w)}")
    out_dtype = keypoints.dtype if keypoints.is_floating_point() else torch.float32
    work = torch.float64 if out_dtype == torch.float64 else torch.float32
    device = keypoints.device

    # Canonical (B, M, T, V, ...) view of the inputs.
    t_len, v = keypoints.shape[-3], keypoints.shape[-2]
    lead = keypoints.shape[: -4 if persons else -3]
    m = keypoints.shape[-4] if persons else 1
    kp = keypoints.detach().to(work).reshape(-1, m, t_len, v, 2)
    sc = scores.detach().to(work).reshape(-1, m, t_len, v)
    finite = torch.isfinite(kp).all(-1) & torch.isfinite(sc)
    sc = torch.where(finite, sc, 0.0)
    kp = torch.where(finite[..., None], kp, 0.0)
    b = kp.shape[0]

    if edges is None:
        c = v
    else:
        e = torch.as_tensor(edges, dtype=torch.long, device=device).reshape(-1, 2)
        if e.numel() and (int(e.min()) < 0 or int(e.max()) >= v):
            raise ValueError(f"render_heatmaps: edges index joints outside 0..{v - 1}")
        c = e.shape[0]

    shape = (*lead, c, t_len, h, w)
    if out is None:
        out = torch.zeros(shape, dtype=out_dtype, device=device)
    else:
        if tuple(out.shape) != shape or out.device != device or not out.is_contiguous():
            raise ValueError(f"render_heatmaps: out must be a contiguous {shape} tensor on {device}")
        out.zero_()
    flat = out.view(-1)
    if flat.numel() == 0:
        return out

    # Offset of each (b, c, t) map in the flat volume; the same for every person m.
    bi = torch.arange(b, device=device).view(b, 1, 1, 1)
    ti = torch.arange(t_len, device=device).view(1, 1, t_len, 1)
    ci = torch.arange(c, device=device).view(1, 1, 1, c)
    base = (((bi * c + ci) * t_len + ti) * (h * w)).expand(b, m, t_len, c).reshape(-1)

    if edges is None:
        _draw_points(flat, kp.reshape(-1, 2), sc.reshape(-1), base, h, w, sigma)
    else:
        i, j = e[:, 0], e[:, 1]
        _draw_limbs(flat, kp[..., i, :], kp[..., j, :], sc[..., i], sc[..., j], base, h, w, sigma)
    return out


def _window(lo: Tensor, hi: Tensor, sigma: float, size: int) -> tuple[Tensor, Tensor]:
    """Pixel range [start, stop) covering [lo - 3 sigma, hi + 3 sigma] the way PoseC3D truncates it."""
    # Bounds in float64 and truncated toward zero, as Python's int(float32_scalar - 3 * sigma) does in pyskl.
    start = torch.trunc(lo.double() - 3 * sigma).clamp_(min=0, max=size).long()
    stop = (torch.trunc(hi.double() + 3 * sigma) + 1).clamp_(min=0, max=size).long()
    return start, torch.maximum(stop, start)


def _draw_points(flat: Tensor, mu: Tensor, amp: Tensor, base: Tensor, h: int, w: int, sigma: float) -> None:
    """Scatter N point Gaussians: mu (N, 2), amp (N,), base (N,) = offset of each point's map in ``flat``."""
    k = math.ceil(6 * sigma) + 2  # widest window: trunc(mu + 3s) - trunc(mu - 3s) + 1 <= ceil(6s) + 1, plus slack
    ar = torch.arange(k, device=flat.device)
    inv = -0.5 / sigma**2
    step = max(1, CHUNK_PIXELS // (k * k))
    for s in range(0, mu.shape[0], step):
        m_, a_, b_ = mu[s : s + step], amp[s : s + step], base[s : s + step]
        x0, x1 = _window(m_[:, 0], m_[:, 0], sigma, w)
        y0, y1 = _window(m_[:, 1], m_[:, 1], sigma, h)
        xs, ys = x0[:, None] + ar, y0[:, None] + ar  # (n, K) pixel columns / rows of each patch
        gx = torch.exp((xs - m_[:, :1]) ** 2 * inv) * (xs < x1[:, None])
        gy = torch.exp((ys - m_[:, 1:]) ** 2 * inv) * (ys < y1[:, None]) * (a_ * (a_ >= EPS))[:, None]
        # Masked pixels carry 0 and are clamped onto the canvas; the amax scatter makes them harmless.
        idx = (b_[:, None] + ys.clamp_(max=h - 1) * w)[:, :, None] + xs.clamp_(max=w - 1)[:, None, :]
        val = gy[:, :, None] * gx[:, None, :]
        flat.scatter_reduce_(0, idx.view(-1), val.view(-1).to(flat.dtype), "amax")


def _draw_limbs(
    flat: Tensor, a: Tensor, b: Tensor, sa: Tensor, sb: Tensor, base: Tensor, h: int, w: int, sigma: float
) -> None:
    """Scatter N limbs: end points a, b (..., 2), confidences sa, sb (...), base (N,) as in :func:`_draw_points`.

    In units of sigma * sqrt(2), a pixel has coordinates s along the limb (0 at its middle) and q across it; then
    d^2 / (2 sigma^2) = q^2 + max(|s| - L / 2, 0)^2 with L the limb's length. s and q are sums of a function of the
    column and a function of the row, so a window row is a 1-D column profile plus a per-row constant: one gather of
    the profile per row, no per-pixel index arithmetic. A point (a limb shorter than 1 px) is the case L = 0.
    Rows are ragged (each window has its own height); widths are padded to a few sizes, one batch per size.
    """
    # long: one kernel (81 lines with the docstring): the ragged-window gather needs its intermediate tensors together
    a, b, sa, sb = a.reshape(-1, 2), b.reshape(-1, 2), sa.reshape(-1), sb.reshape(-1)
    dev = flat.device
    d = b - a
    length = torch.linalg.vector_norm(d, dim=-1)
    short = length < 1  # |b - a|^2 < 1: drawn as the point a with a's confidence, as in PoseC3D
    drawn = torch.minimum(sa, sb) >= EPS  # PoseC3D tests min(sa, sb) before it looks at the length
    lo = torch.where(short[:, None], a, torch.minimum(a, b))
    hi = torch.where(short[:, None], a, torch.maximum(a, b))
    x0, x1 = _window(lo[:, 0], hi[:, 0], sigma, w)
    y0, y1 = _window(lo[:, 1], hi[:, 1], sigma, h)
    nx, ny = x1 - x0, y1 - y0
    keep = torch.nonzero(drawn & (nx > 0) & (ny > 0)).squeeze(1)
    if keep.numel() == 0:
        return
    # Sort the drawn limbs by padded width so that their rows come out grouped by width.
    widths = torch.tensor([x for x in _ROW_WIDTHS if x < w] + [w], device=dev)
    bucket = torch.bucketize(nx[keep], widths)
    bucket, order = torch.sort(bucket, stable=True)
    keep = keep[order]
    a, nx, ny, x0, y0 = a[keep], nx[keep], ny[keep], x0[keep], y0[keep]
    short, length = short[keep], length[keep]
    amp = torch.where(short, sa[keep], torch.minimum(sa[keep], sb[keep]))
    one0 = torch.tensor([1.0, 0.0], dtype=a.dtype, device=dev)
    unit = torch.where(short[:, None], one0, d[keep] / length.clamp(min=1)[:, None])
    ux, uy = unit[:, 0:1], unit[:, 1:2]
    scale = 1.0 / (sigma * math.sqrt(2.0))
    half = torch.where(short, 0.0, length * (0.5 * scale))
    mid = a + torch.where(short[:, None], 0.0, d[keep] * 0.5)  # s is measured from the limb's middle

    # Column profiles of every limb, (N, K): s_x + s_y = s and q_x + q_y = q.
    k = int(nx.max())
    cols = torch.arange(k, device=dev)
    px = ((x0 - mid[:, 0])[:, None] + cols) * scale
    col_s = px * ux
    col_q = torch.where(cols < nx[:, None], px * uy, _FAR)  # padded columns: exp(-q^2) == 0 exactly

    # One entry per window row.
    counts = ny.cpu()
    row_item = torch.repeat_interleave(torch.arange(len(keep), device=dev), ny, output_size=int(counts.sum()))
    first = torch.cumsum(ny, 0) - ny
    ly = torch.arange(len(row_item), device=dev) - first[row_item]
    y = y0[row_item] + ly
    py = (y - mid[row_item, 1]) * scale
    row_s = py * uy[row_item, 0]
    row_q = -py * ux[row_item, 0]
    row_half, row_amp = half[row_item], torch.log(amp)[row_item]
    row_base = base[keep][row_item] + y * w + x0[row_item]
    row_last = nx[row_item] - 1

    # Rows of each width bucket are contiguous; evaluate them in chunks of at most CHUNK_PIXELS pixels.
    item_bucket = bucket.cpu()
    rows_per_item = torch.cumsum(counts, 0)
    start = 0
    buckets, sizes = torch.unique_consecutive(item_bucket, return_counts=True)
    for bk, n_items in zip(buckets.tolist(), sizes.tolist(), strict=True):
        kx = min(int(widths[bk]), k)
        stop = int(rows_per_item[start + n_items - 1])
        r0 = int(rows_per_item[start - 1]) if start else 0
        step = max(1, CHUNK_PIXELS // kx)
        for r in range(r0, stop, step):
            sl = slice(r, min(r + step, stop))
            ri = row_item[sl]
            s = col_s[:, :kx].index_select(0, ri).add_(row_s[sl, None])
            q = col_q[:, :kx].index_select(0, ri).add_(row_q[sl, None])
            s = s.abs_().sub_(row_half[sl, None]).clamp_(min=0)  # distance beyond the segment's ends, along it
            z = s.mul_(s).addcmul_(q, q)
            val = torch.add(row_amp[sl, None], z, alpha=-1, out=z).exp_()  # amp * exp(-d^2 / 2 sigma^2)
            idx = row_base[sl, None] + torch.minimum(cols[:kx], row_last[sl, None])  # padded: onto the row, value 0
            flat.scatter_reduce_(0, idx.view(-1), val.view(-1).to(flat.dtype), "amax")
        start += n_items


_ROW_WIDTHS = [4, 6, 8, 11, 16, 23, 32, 45]  # padded window widths for the limb batches (about 1.4x apart)
_FAR = 1e4  # across-coordinate of padded columns; exp(-1e8) == 0 in float32 and float64


# ---------------------------------------------------------------------------------------------------------------------
# PoseC3D heatmap input: the data loader yields keypoints on the heatmap canvas (small), the volumes are drawn on the
# device inside the step (large). Used by the heatmap-posec3d-* branches (microgesture.branches).


def check_pose_input(where: str, layout: str, kind: str, flip_convention: str) -> None:
    """The settings every heatmap input shares: a known layout, ``joint`` or ``limb`` volumes, a flip convention."""
    get_layout(layout)
    if kind not in ("joint", "limb"):
        raise ValueError(f"{where}: kind must be 'joint' or 'limb', not {kind!r}")
    if flip_convention not in ("pyskl", "pixel"):
        raise ValueError(f"{where}: flip_convention must be 'pyskl' or 'pixel', not {flip_convention!r}")


def heatmap_channels(layout: str, kind: str) -> int:
    """Channels of a volume: one per joint of ``layout`` (``joint``) or one per edge (``limb``)."""
    lay = get_layout(layout)
    return lay.num_joints if kind == "joint" else lay.num_edges


@dataclass(frozen=True, kw_only=True)
class HeatmapInputConfig:
    """Settings of the PoseC3D heatmap input; defaults as PoseC3D (docs/recipes.md).

    Attributes:
        layout: joints to draw (a subset of the stored layout); limbs are its edges.
        kind: "joint" (one channel per joint) or "limb" (one per edge).
        clip_len: frames, sampled uniformly (48).
        sigma: Gaussian sigma in heatmap pixels (0.6).
        size: training canvas after the random resized crop (56); resize: the box's canvas before the crop and the
            test canvas (64).
        geometry: clip box, crop ranges and flip probability (:class:`GeometryConfig`, PoseC3D's defaults).
        num_test_clips: deterministic temporal views at test time (10); flip_test adds each one's flipped copy.
        flip_convention: "pyskl" (x -> W - x, PoseC3D) or "pixel" (x -> W - 1 - x).
    """

    layout: str = "mmg36"
    kind: str = "joint"
    clip_len: int = 48
    sigma: float = 0.6
    size: int = 56
    resize: int = 64
    geometry: GeometryConfig = field(default_factory=GeometryConfig)
    num_test_clips: int = 10
    flip_test: bool = True
    flip_convention: str = "pyskl"

    def __post_init__(self) -> None:
        check_pose_input("heatmap input", self.layout, self.kind, self.flip_convention)
        if not (0 < self.size and 0 < self.resize and self.clip_len > 0 and self.num_test_clips > 0):
            raise ValueError("heatmap input: size, resize, clip_len and num_test_clips must be positive")

    @property
    def channels(self) -> int:
        return heatmap_channels(self.layout, self.kind)

    @property
    def num_views(self) -> int:
        return self.num_test_clips * (2 if self.flip_test else 1)


class HeatmapPipeline:
    """Stored skeleton -> canvas keypoints (T, V, 3) = x, y, score under key ``keypoints``; volumes on the device.

    Train: uniform sampling of ``clip_len`` frames, box over the sampled frames' valid joints, resize, random resized
    crop, random flip, all drawn from the sample's generator. Test: ``num_test_clips`` fixed samplings, box -> resize
    x resize, each followed by its flipped copy: (num_views, T, V, 3). ``to_model_input`` renders (B, C, T, H, W).
    """

    key = "keypoints"

    def __init__(self, cfg: HeatmapInputConfig, source_layout: str) -> None:
        from microgesture.layouts import selection

        self.cfg = cfg
        self.layout = get_layout(cfg.layout)
        self.select = selection(source_layout, cfg.layout)
        self.geometry = cfg.geometry
        self.num_views = cfg.num_views
        self.edges = self.layout.edges if cfg.kind == "limb" else None

    def _skeleton(self, ds: Dataset, clip: Clip) -> tuple[np.ndarray, np.ndarray, Box]:
        s = ds.skeleton(clip)[:, self.select]
        w, h = ds.header.frame_size
        return s[..., :2], s[..., 2], Box(0.0, 0.0, float(w), float(h))

    def _pack(self, view: View, kp: np.ndarray, sc: np.ndarray) -> np.ndarray:
        kp, sc = view.keypoints(kp, sc, self.layout.joint_flip, self.cfg.flip_convention)
        return np.concatenate([kp, sc[..., None]], -1).astype(np.float32)

    def train_sample(self, ds: Dataset, clip: Clip, rng: np.random.Generator) -> dict[str, np.ndarray]:
        from microgesture.inputs.skeleton import uniform_indices

        kp, sc, frame = self._skeleton(ds, clip)
        idx = uniform_indices(len(kp), self.cfg.clip_len, rng)
        kp, sc = kp[idx], sc[idx]
        view = train_view(kp, sc, rng, self.geometry, size=self.cfg.size, resize=self.cfg.resize, frame=frame)
        return {self.key: self._pack(view, kp, sc)}

    def test_sample(self, ds: Dataset, clip: Clip) -> dict[str, np.ndarray]:
        from microgesture.inputs.skeleton import view_indices

        kp, sc, frame = self._skeleton(ds, clip)
        views = []
        for idx in view_indices(len(kp), self.cfg.clip_len, self.cfg.num_test_clips):
            for flip in (False, True) if self.cfg.flip_test else (False,):
                view = eval_view(kp[idx], sc[idx], self.geometry, resize=self.cfg.resize, flip=flip, frame=frame)
                views.append(self._pack(view, kp[idx], sc[idx]))
        return {self.key: np.stack(views)}

    def to_model_input(self, batch: dict[str, Tensor], *, train: bool) -> Tensor:
        """Batch keypoints (B, T, V, 3) on the device -> heatmap volumes (B, C, T, H, W)."""
        kp = batch[self.key]
        size = self.cfg.size if train else self.cfg.resize
        return render_heatmaps(kp[..., :2], kp[..., 2], size, self.cfg.sigma, self.edges)
