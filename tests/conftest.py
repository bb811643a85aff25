"""Shared fixtures. Tests run on tiny synthetic inputs on the CPU; torch uses one thread per worker."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def pytest_configure(config):
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass


def make_tiny_dataset(root, *, n_per_class: int = 6, num_classes: int = 3, seed: int = 0):
    """A tiny labelled openpose137 dataset: class k moves the right wrist along direction k; subjects disjoint
    across train/val/test. Real files through DatasetWriter (no mocks)."""
    from microgesture.data.format import Clip, DatasetHeader, DatasetWriter

    rng = np.random.default_rng(seed)
    header = DatasetHeader(name="tiny", layout="openpose137", classes=tuple(f"class{k}" for k in range(num_classes)),
                           fps=25.0, frame_size=(320, 180))
    base = rng.uniform(100, 200, size=(137, 2)).astype(np.float32)
    base[2], base[5], base[1] = (130, 80), (190, 80), (160, 78)  # shoulders, neck
    splits = ["train"] * 4 + ["val", "test"]
    with DatasetWriter(root, header) as w:
        i = 0
        for k in range(num_classes):
            for j in range(n_per_class):
                split = splits[j % len(splits)]
                t = int(rng.integers(12, 30))
                sk = np.zeros((t, 137, 3), np.float32)
                sk[..., :2] = base + rng.normal(0, 0.5, size=(t, 137, 2))
                sk[..., 2] = 0.9
                ang = 2 * np.pi * k / num_classes
                step = np.linspace(0, 40, t)[:, None, None] * np.array([np.cos(ang), np.sin(ang)])
                sk[:, [3, 4, 116, 120], :2] += step  # elbow, wrist and two hand points move together
                sk[:, 120:130, 2] = 0.0  # some missing hand joints
                subject = f"{split}{j % 2}"
                w.add(Clip(clip_id=f"v{i}_0", video_id=f"v{i}", subject=subject, split=split, label=k,
                           start_frame=0, end_frame=t - 1, num_frames=t), sk)
                i += 1
    return root


@pytest.fixture
def tiny_dataset(tmp_path):
    return make_tiny_dataset(tmp_path / "tiny")
