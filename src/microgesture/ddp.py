"""Multi-process training helpers: the epoch reaches our sampler under every Lightning version, and accelerator
requests are checked before Lightning builds a trainer.

Under DDP Lightning wraps the training sampler (:class:`microgesture.train.EpochSampler`) in its
``DistributedSamplerWrapper``, which shards the wrapped sampler's list across ranks. Before Lightning PR #21456
(merged 2025-12-28) the wrapper's ``set_epoch`` did not reach the wrapped sampler, so every epoch replayed epoch 0's
order and augmentation draws. :class:`SetEpoch` sets the epoch on the wrapped sampler itself at the start of every
training epoch, so no Lightning version has that bug (tests/test_ddp.py simulates the old wrapper).
"""

from __future__ import annotations

import logging

import torch
from lightning.pytorch.callbacks import Callback

__all__ = ["SetEpoch", "forward_set_epoch", "check_accelerator", "AcceleratorError"]

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
