"""What a branch model is (:class:`BranchModel`), and the optional hooks the training loop looks for, as
runtime-checkable protocols: ``isinstance(model, MultiHead)`` instead of ``hasattr(model, "classify_each")``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from torch import Tensor

__all__ = ["BranchModel", "MultiHead", "LoadsSources"]


@runtime_checkable
class BranchModel(Protocol):
    """Every model: ``forward(x) = classify(forward_features(x))`` returns logits (B, K); ``feature_dim`` is the size
    of the pooled features (the semantic loss projects them)."""

    feature_dim: int

    def forward_features(self, x: Any) -> Tensor: ...

    def classify(self, feat: Tensor) -> Tensor: ...


@runtime_checkable
class MultiHead(Protocol):
    """A model with several heads (RGBPoseConv3D: RGB and pose): training sums one loss per head, and ``fuse`` turns
    the heads' logits into the model's output."""

    def classify_each(self, feat: Tensor) -> Sequence[Tensor]: ...

    def fuse(self, logits: Sequence[Tensor]) -> Tensor: ...


@runtime_checkable
class LoadsSources(Protocol):
    """A model whose config names other runs to start from (RGBPoseConv3D's ``init_rgb`` / ``init_pose``); ``fit``
    calls ``load_sources`` once before training and logs the lines it returns."""

    def load_sources(self) -> list[str]: ...
