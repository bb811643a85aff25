"""Multi-process training helpers: the epoch reaches our sampler under every Lightning version, and accelerator
requests are checked before Lightning builds a trainer.

Under DDP Lightning wraps the training sampler (:class:`microgesture.train.EpochSampler`) in its
``DistributedSamplerWrapper``, which shards the wrapped sampler's list across ranks. Before Lightning PR #21456
(merged 2025-12-28) the wrapper's ``set_epoch`` did not reach the wrapped sampler, so every epoch replayed epoch 0's
order and augmentation draws. :class:`SetEpoch` sets the epoch on the wrapped sampler itself at the start of every
training epoch, so no Lightning version has that bug (tests/test_ddp.py simulates the old wrapper).

Validation under DDP: the distributed sampler pads the val clips to a multiple of the world size with repeats, and
each rank sees its share. :func:`gather_unique` collects every rank's (clip id, logits, label) and keeps each clip
once, so the val metrics that choose the best checkpoint are those of the whole val split, each clip counted once.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from lightning.pytorch.callbacks import Callback

__all__ = ["SetEpoch", "forward_set_epoch", "check_accelerator", "AcceleratorError", "gather_unique", "unique_by_id"]

log = logging.getLogger(__name__)


class AcceleratorError(ValueError):
    """An accelerator that this machine does not have (e.g. ``--accelerator gpu`` without a GPU)."""


def check_accelerator(accelerator: str) -> None:
    """Refuse ``gpu``/``cuda`` without a CUDA device, in one line, before Lightning starts."""
    if str(accelerator).lower() in ("gpu", "cuda") and not torch.cuda.is_available():
        raise AcceleratorError(f"train.accelerator={accelerator}: no CUDA GPU is visible on this machine "
                               f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'none'}); "
                               "use --accelerator cpu or auto")


def _samplers(loader):
    """The loader's sampler and, for a Lightning distributed wrapper, the sampler it wraps."""
    s = getattr(loader, "sampler", None)
    while s is not None:
        yield s
        s = getattr(getattr(s, "dataset", None), "_sampler", None)  # DistributedSamplerWrapper -> original


def forward_set_epoch(trainer) -> int:
    """Set the current epoch on every sampler of the training loader(s) that has ``set_epoch``; returns how many."""
    loaders = trainer.train_dataloader
    loaders = loaders if isinstance(loaders, list | tuple) else [loaders]
    n = 0
    for dl in loaders:
        for s in _samplers(dl):
            if callable(getattr(s, "set_epoch", None)):
                s.set_epoch(trainer.current_epoch)
                n += 1
    return n


class SetEpoch(Callback):
    """Lightning callback: :func:`forward_set_epoch` at the start of every training epoch."""

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        forward_set_epoch(trainer)


def unique_by_id(parts: list[tuple[list[str], np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """(logits (N, K), labels (N,)) of every rank's ``(clip ids, logits, labels)``, each clip id once (its first
    occurrence: a padded repeat is the same clip through the same weights)."""
    seen: dict[str, tuple[np.ndarray, int]] = {}
    for ids, logits, labels in parts:
        for i, c in enumerate(ids):
            seen.setdefault(c, (logits[i], int(labels[i])))
    if not seen:
        k = next((p[1].shape[-1] for p in parts if p[1].ndim == 2), 0)
        return np.zeros((0, k), np.float32), np.zeros(0, np.int64)
    return np.stack([v[0] for v in seen.values()]), np.array([v[1] for v in seen.values()], np.int64)


def gather_unique(trainer, ids: list[str], logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """This rank's validation outputs joined with every other rank's, each clip once (:func:`unique_by_id`); on one
    process, the outputs as they are. Every rank must call it (a collective)."""
    dist = torch.distributed
    if trainer.world_size <= 1 or not (dist.is_available() and dist.is_initialized()):
        return unique_by_id([(ids, logits, labels)])
    parts: list = [None] * trainer.world_size
    dist.all_gather_object(parts, (list(ids), logits, labels))
    return unique_by_id(parts)
