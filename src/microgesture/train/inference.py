"""Predictions through a checkpoint's own test pipeline, and rebuilding a trained branch from its checkpoint."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from microgesture.atomic import write_text
from microgesture.config import from_dict
from microgesture.data.format import Clip, Dataset
from microgesture.metrics import classification_report
from microgesture.predictions import Predictions, save_predictions
from microgesture.train.data import ClipDataset
from microgesture.train.module import BranchModule
from microgesture.train.resolve import TEST_VIEW_KEYS, TrainingError, with_test_views

__all__ = ["predict", "predict_all", "load_checkpoint", "checkpoint_path", "evaluate", "TEST_VIEW_KEYS"]


def predict(module: BranchModule, ds: Dataset, clips: list[Clip], *, batch_size: int = 16,
            num_workers: int = 0, description: str = "predict") -> np.ndarray:
    """Test-pipeline logits (N, K) for ``clips`` (views averaged), with a progress bar named ``description``."""
    from microgesture.progress import track

    module.eval()
    dl = DataLoader(ClipDataset(ds, clips, module.pipeline, train=False, seed=0), batch_size=batch_size,
                    num_workers=num_workers)
    out = []
    dev = next(module.parameters()).device
    with torch.no_grad():
        views = getattr(module.pipeline, "num_views", 1)
        for batch in track(dl, f"{description} ({views} view{'s' if views > 1 else ''})", total=len(clips),
                           unit="clips", weight=lambda b: len(b["clip_id"])):
            batch = {k: (v.to(dev) if isinstance(v, torch.Tensor) else v) for k, v in batch.items()}
            out.append(module.predict_views(batch).float().cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, len(module.classes)), np.float32)


def predict_all(module: BranchModule, ds: Dataset, out: Path, *, checkpoint: str) -> dict:
    """Write ``preds_<split>.npz`` for every split (train unless ``train.predict_train`` is off) and metrics.json."""
    metrics: dict = {"branch": module.cfg.branch, "dataset": str(ds.root), "seed": module.cfg.seed}
    tc = module.cfg.train
    for split in ds.splits():
        if split == "train" and not tc.predict_train:
            continue
        clips = ds.split(split)
        logits = predict(module, ds, clips, batch_size=max(1, tc.batch_size // 2), num_workers=tc.num_workers,
                         description=f"predict {split}")
        p = Predictions([c.clip_id for c in clips], logits, [c.label for c in clips], ds.classes,
                        {"branch": module.cfg.branch, "checkpoint": checkpoint, "dataset": str(ds.root),
                         "split": split, "seed": module.cfg.seed})
        save_predictions(out / f"preds_{split}.npz", p)
        rep = classification_report(p.logits, p.labels, ds.classes)
        metrics[split] = rep
    write_text(out / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    return metrics


def checkpoint_path(path: str | Path) -> Path:
    """``model.ckpt`` of a run directory, or the checkpoint file itself."""
    p = Path(path)
    if p.is_dir():
        p = p / "model.ckpt"
    if not p.is_file():
        raise FileNotFoundError(f"{p}: checkpoint not found")
    return p


def read_checkpoint(p: Path, *, map_location: str = "cpu") -> dict:
    """``torch.load(weights_only=True)`` of a checkpoint file; a file that is not one fails naming it, in one line."""
    import pickle
    import zipfile

    try:
        ck = torch.load(p, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, ValueError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise TrainingError(f"{p}: not a readable checkpoint ({first[:200]})") from None
    if not isinstance(ck, dict) or "state_dict" not in ck:
        raise TrainingError(f"{p}: not a checkpoint (no state_dict)")
    return ck


def load_checkpoint(path: str | Path, *, map_location: str = "cpu", test_views: dict | None = None) -> BranchModule:
    """Rebuild a trained branch from ``model.ckpt`` (or a Lightning checkpoint, or a run directory).

    ``test_views``: replaces the test views the run was configured with (:data:`TEST_VIEW_KEYS`, e.g.
    ``{"flip_test": True}`` for flip TTA); the weights and everything else are the checkpoint's.
    """
    p = checkpoint_path(path)
    ck = read_checkpoint(p, map_location=map_location)
    if "microgesture" not in ck:
        raise TrainingError(f"{p}: not a microgesture checkpoint (no 'microgesture' metadata)")
    meta = ck["microgesture"]
    cfg = from_dict(meta["config"])
    if test_views:
        cfg = with_test_views(cfg, test_views, p)
    if cfg.model.get("pretrained"):  # the checkpoint holds the weights: no download or weights file needed
        cfg = replace(cfg, model={**cfg.model, "pretrained": ""})
    module = BranchModule(cfg=cfg, classes=tuple(meta["classes"]), source_layout=meta["source_layout"],
                          class_counts=[1] * len(meta["classes"]))
    module.load_state_dict(ck["state_dict"], strict=False)
    module.eval()
    return module


def evaluate(checkpoint: str | Path, *, dataset: str | Path, split: str, out: str | Path | None = None,
             test_views: dict | None = None) -> dict:
    """Predict ``split`` of ``dataset`` with the checkpoint's own test pipeline; optionally save the predictions.

    ``test_views``: other test views than the run's (see :func:`load_checkpoint`); the predictions' meta records them.
    """
    module = load_checkpoint(checkpoint, test_views=test_views)
    ds = Dataset.open(dataset)
    if tuple(ds.classes) != module.classes:
        raise TrainingError(f"{dataset}: class list differs from the checkpoint's ({len(module.classes)} classes)")
    clips = ds.split(split)
    if not clips:
        raise TrainingError(f"{dataset}: no clips in split {split!r} (splits: {', '.join(ds.splits())})")
    logits = predict(module, ds, clips)
    p = Predictions([c.clip_id for c in clips], logits, [c.label for c in clips], ds.classes,
                    {"branch": module.cfg.branch, "checkpoint": str(checkpoint), "dataset": str(ds.root),
                     "split": split, **({"test_views": dict(test_views)} if test_views else {})})
    if out:
        save_predictions(out, p)
    return classification_report(p.logits, p.labels, ds.classes)
