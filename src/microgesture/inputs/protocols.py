"""The input pipeline contract (:class:`Pipeline`) and its optional hook (:class:`WritesRunFiles`), as
runtime-checkable protocols.

A pipeline turns one clip into numpy arrays in the data loader (``train_sample``: one random view; ``test_sample``: a
leading axis of deterministic views) and the collated batch into the model input on the device (``to_model_input``:
heatmap rendering or RGB normalisation happen there, after the batch has moved).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from microgesture.data.format import Clip, Dataset

if TYPE_CHECKING:
    import torch

__all__ = ["Pipeline", "WritesRunFiles"]


@runtime_checkable
class Pipeline(Protocol):
    key: str
    num_views: int

    def train_sample(self, ds: Dataset, clip: Clip, rng: np.random.Generator) -> dict[str, np.ndarray]: ...

    def test_sample(self, ds: Dataset, clip: Clip) -> dict[str, np.ndarray]: ...

    def to_model_input(self, batch: dict[str, torch.Tensor], *, train: bool) -> Any: ...


@runtime_checkable
class WritesRunFiles(Protocol):
    """A pipeline that records things in the run directory (RGB: ``skipped_clips.jsonl``); ``fit`` tells it where."""

    def set_run_dir(self, path: str | os.PathLike) -> None: ...
