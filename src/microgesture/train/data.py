"""What the data loader sees: clips as dicts of arrays, and a sampler whose order is a function of (seed, epoch).

Determinism: augmentation draws come from ``np.random.default_rng([seed, epoch, index])`` and the shuffle from
``(seed, epoch)``, never from worker or global state.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler

from microgesture.config import RunConfig
from microgesture.data.format import Clip, Dataset

__all__ = ["ClipDataset", "EpochSampler", "make_loader"]


class ClipDataset(torch.utils.data.Dataset):
    """Items are dicts: the pipeline's arrays + ``label`` + ``clip_id``. Train indices arrive as (index, epoch)."""

    def __init__(self, ds: Dataset, clips: list[Clip], pipeline, *, train: bool, seed: int):
        self.ds, self.clips, self.pipeline, self.train, self.seed = ds, clips, pipeline, train, seed

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, item) -> dict:
        if self.train:
            i, epoch = item
            c = self.clips[i]
            x = self.pipeline.train_sample(self.ds, c, np.random.default_rng([self.seed, epoch, i]))
        else:
            c = self.clips[item]
            x = self.pipeline.test_sample(self.ds, c)
        out: dict[str, Any] = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in x.items()}
        out["label"] = c.label
        out["clip_id"] = c.clip_id
        return out


class EpochSampler(Sampler):
    """Shuffles (or draws with ``weights``, with replacement) from ``(seed, epoch)``; yields (index, epoch).

    Lightning calls ``set_epoch`` before every epoch, also after a resume.
    """

    def __init__(self, n: int, *, seed: int, weights: torch.Tensor | None = None):
        self.n, self.seed, self.weights, self.epoch = n, seed, weights, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        if self.weights is not None:
            idx = torch.multinomial(self.weights, self.n, replacement=True, generator=g)
        else:
            idx = torch.randperm(self.n, generator=g)
        return iter([(int(i), self.epoch) for i in idx])


def make_loader(ds, clips, pipeline, *, train: bool, cfg: RunConfig, weights=None) -> DataLoader:
    """Train: batches of ``train.batch_size`` from an :class:`EpochSampler`; test: half that, in order."""
    tc = cfg.train
    d = ClipDataset(ds, clips, pipeline, train=train, seed=cfg.seed)
    sampler = EpochSampler(len(clips), seed=cfg.seed, weights=weights) if train else None
    return DataLoader(d, batch_size=tc.batch_size if train else max(1, tc.batch_size // 2), sampler=sampler,
                      shuffle=False, num_workers=tc.num_workers, drop_last=train and len(clips) > tc.batch_size,
                      # workers stay up across epochs (no re-fork per epoch); EpochSampler hands them the epoch
                      persistent_workers=tc.num_workers > 0)
