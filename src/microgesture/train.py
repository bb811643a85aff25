"""Training and evaluation of one branch with Lightning.

``fit`` trains a branch on a dataset and writes, into the run directory: config.yaml (resolved), env.json,
checkpoints/ (Lightning, resumable), model.ckpt (weights + everything inference needs, loadable with
``torch.load(weights_only=True)``), metrics.json and preds_<split>.npz for val, test and (unless
``train.predict_train`` is off) train.
``evaluate`` reruns exactly the checkpoint's test pipeline on any dataset split.

Determinism: augmentation draws come from ``np.random.default_rng([seed, epoch, index])`` and the shuffle from
``(seed, epoch)``, never from worker or global state; the torch RNG state travels in the checkpoint, so a resumed run
matches an uninterrupted one.
"""

from __future__ import annotations

import json
import logging
import math
import platform
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Sampler

from microgesture import __version__
from microgesture.branches import get_branch
from microgesture.config import RunConfig, from_dict, merge, to_plain
from microgesture.data.format import Clip, Dataset
from microgesture.losses import (
    FocalLoss,
    SemanticLoss,
    orthogonal_anchors,
    sqrt_class_weights,
    sqrt_sampler_weights,
    text_anchors,
)
from microgesture.metrics import classification_report
from microgesture.predictions import Predictions, save_predictions

__all__ = ["resolve_config", "fit", "evaluate", "predict", "load_checkpoint", "BranchModule"]


log = logging.getLogger(__name__)
_HEAD_PREFIXES = ("model.fc.", "model.head.")  # the classifier, by model family (ResNet-like: fc, Swin: head)


class TrainingError(ValueError):
    """A run that cannot start (dataset fails its check, bad config); printed as one line by the CLI."""


def resolve_config(*, branch: str, dataset: str = "", file_cfg: dict | None = None, overrides: dict | None = None,
                   seed: int | None = None) -> RunConfig:
    """Defaults -> branch recipe -> YAML file -> overrides; validates the branch's input and model sections."""
    file_cfg = dict(file_cfg or {})
    name = (overrides or {}).get("branch") or file_cfg.get("branch") or branch
    b = get_branch(name)
    d = merge({"branch": name}, b.recipe)
    d = merge(d, file_cfg)
    d = merge(d, overrides or {})
    d["branch"] = name
    if dataset:
        d["dataset"] = dataset
    if seed is not None:
        d["seed"] = seed
    cfg = from_dict(d)
    # validated now, so a typo fails before any work; stored resolved, so config.yaml shows every value the run used
    return replace(cfg, input=to_plain(b.input_config(cfg.input)), model=to_plain(b.model_config(cfg.model)))


# -- data ----------


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


# -- module ----------


def _lr_lambda(sched, *, steps_per_epoch: int, total_steps: int):
    warm = int(round(sched.warmup_epochs * steps_per_epoch))

    def f(step: int) -> float:
        if step < warm:
            return sched.warmup_factor + (1 - sched.warmup_factor) * step / max(1, warm)
        if sched.name == "cosine":
            p = (step - warm) / max(1, total_steps - warm)
            return sched.min_lr_factor + (1 - sched.min_lr_factor) * 0.5 * (1 + math.cos(math.pi * min(p, 1.0)))
        if sched.name == "step":
            epoch = step // max(1, steps_per_epoch)
            return sched.gamma ** sum(epoch >= m for m in sched.milestones)
        return 1.0

    return f


def _import_lightning():
    import lightning as L  # noqa: N812 - the package's own convention

    return L


L = _import_lightning()


class BranchModule(L.LightningModule):
    """Thin Lightning wrapper: the model returns logits; losses are small modules; the pipeline prepares inputs."""

    def __init__(self, *, cfg: RunConfig, classes: tuple[str, ...], source_layout: str,
                 class_counts: list[int] | None = None):
        super().__init__()
        self.cfg = cfg
        self.classes = tuple(classes)
        self.source_layout = source_layout
        self.branch = get_branch(cfg.branch)
        self.input_cfg = self.branch.input_config(cfg.input)
        self.model_cfg = self.branch.model_config(cfg.model)
        self.pipeline = self.branch.make_pipeline(self.input_cfg, source_layout)
        k = len(classes)
        self.model = self.branch.make_model(self.model_cfg, self.input_cfg, k)
        lc = cfg.loss
        weight = None
        if lc.class_weights == "sqrt":
            if class_counts is None:
                raise TrainingError("sqrt class weights need the training split's class counts")
            weight = sqrt_class_weights(class_counts)
        elif lc.class_weights != "none":
            raise TrainingError(f"loss.class_weights must be none or sqrt, not {lc.class_weights!r}")
        if lc.name == "focal":
            self.criterion: nn.Module = FocalLoss(gamma=lc.gamma, weight=weight, label_smoothing=lc.label_smoothing)
        elif lc.name == "ce":
            self.criterion = FocalLoss(gamma=0.0, weight=weight, label_smoothing=lc.label_smoothing)
        else:
            raise TrainingError(f"loss.name must be ce or focal, not {lc.name!r}")
        self.semantic: SemanticLoss | None = None
        if lc.semantic_weight > 0:
            dim = lc.semantic_dim or max(self.model.feature_dim, k)
            if lc.semantic_anchors == "text":
                anchors = text_anchors(self.classes, dim, seed=cfg.seed)
            else:
                anchors = orthogonal_anchors(k, dim, seed=cfg.seed)
            # HFUT'23 adds Linear(512 -> 300) before the semantic target; a learned projection lets ReLU features
            # reach anchors with negative entries.
            self.sem_proj = nn.Linear(self.model.feature_dim, dim)
            self.semantic = SemanticLoss(anchors)
        self._val_out: list[tuple[torch.Tensor, torch.Tensor]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def _train_input(self, batch: dict) -> torch.Tensor:
        return self.pipeline.to_model_input(batch, train=True)

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        y = batch["label"]
        feat = self.model.forward_features(self._train_input(batch))
        if hasattr(self.model, "classify_each"):  # several heads (RGBPoseConv3D): one loss each, summed
            heads = self.model.classify_each(feat)
            loss, logits = sum(self.criterion(h, y) for h in heads), self.model.fuse(heads)
        else:
            logits = self.model.classify(feat)
            loss = self.criterion(logits, y)
        self.log("train/cls_loss", loss, prog_bar=False, batch_size=len(y))
        if self.semantic is not None:
            sem = self.semantic(self.sem_proj(feat), y)
            self.log("train/sem_loss", sem, batch_size=len(y))
            loss = loss + self.cfg.loss.semantic_weight * sem
        self.log("train/loss", loss, prog_bar=True, batch_size=len(y))
        self.log("train/acc", (logits.argmax(1) == y).float().mean(), prog_bar=True, batch_size=len(y))
        return loss

    @torch.no_grad()
    def predict_views(self, batch: dict) -> torch.Tensor:
        """Logits (B, K) of a test batch whose arrays have a views axis: the views' probabilities (or logits) are
        averaged; the result is returned as log-probabilities (softmax of it gives the averaged probabilities)."""
        keys = [k for k, v in batch.items() if isinstance(v, torch.Tensor) and v.ndim >= 2 and k != "label"]
        b, nv = batch[keys[0]].shape[:2]
        flat = {k: (v.flatten(0, 1) if k in keys else v) for k, v in batch.items()}
        logits = self.model(self.pipeline.to_model_input(flat, train=False)).float().view(b, nv, -1)
        if self.cfg.train.test_average == "logit":  # AIM averages TTA logits; pyskl averages probabilities
            return logits.mean(1)
        return torch.log(F.softmax(logits, dim=-1).mean(1).clamp_min(1e-12))

    def validation_step(self, batch: dict, batch_idx: int) -> None:
        self._val_out.append((self.predict_views(batch).cpu(), batch["label"].cpu()))

    def on_validation_epoch_end(self) -> None:
        if not self._val_out:
            return
        logits = torch.cat([o[0] for o in self._val_out]).numpy()
        labels = torch.cat([o[1] for o in self._val_out]).numpy()
        self._val_out.clear()
        rep = classification_report(logits, labels, self.classes)
        if rep.get("n", 0):
            self.log("val/top1", rep["top1"], prog_bar=True, sync_dist=True)
            self.log("val/macro_f1", rep["macro_f1"], prog_bar=True, sync_dist=True)

    def configure_optimizers(self):
        oc = self.cfg.optim
        # The classifier (``fc`` or ``head``, by model family) and the semantic projection keep the full lr;
        # ``backbone_lr_mult`` scales everything else (MM-Gesture: backbone lr x 0.1).
        head_prefixes = (*_HEAD_PREFIXES, "sem_proj.")
        groups: dict[tuple[float, float], list] = {}
        for name, p in self.named_parameters():
            if not p.requires_grad:
                continue
            lr = oc.lr * (1.0 if name.startswith(head_prefixes) else oc.backbone_lr_mult)
            no_decay = oc.no_decay_norm and (p.ndim <= 1 or "position" in name or "relative_position" in name)
            wd = 0.0 if no_decay else oc.weight_decay
            groups.setdefault((lr, wd), []).append(p)
        params = [{"params": ps, "lr": lr, "weight_decay": wd} for (lr, wd), ps in groups.items()]
        if oc.name == "sgd":
            opt = torch.optim.SGD(params, lr=oc.lr, momentum=oc.momentum, nesterov=oc.nesterov)
        elif oc.name == "adamw":
            opt = torch.optim.AdamW(params, lr=oc.lr)
        else:
            raise TrainingError(f"optim.name must be sgd or adamw, not {oc.name!r}")
        total = max(1, int(self.trainer.estimated_stepping_batches))
        spe = max(1, total // max(1, self.trainer.max_epochs))
        sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(self.cfg.schedule, steps_per_epoch=spe,
                                                                  total_steps=total))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}

    # -- checkpoints carry what inference needs, and the RNG state for exact resume --------------------------------
    def inference_meta(self) -> dict:
        return {
            "microgesture_version": __version__,
            "config": self.cfg.to_dict(),
            "classes": list(self.classes),
            "source_layout": self.source_layout,
        }

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["microgesture"] = self.inference_meta()
        checkpoint["microgesture_rng"] = {"torch": torch.get_rng_state()}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        if "microgesture_rng" in checkpoint:
            torch.set_rng_state(checkpoint["microgesture_rng"]["torch"])


# -- running ----------


def _env() -> dict:
    import lightning

    return {
        "microgesture": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "torch": torch.__version__,
        "lightning": lightning.__version__,
        "numpy": np.__version__,
        "cuda": torch.cuda.is_available(),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else platform.processor() or "cpu",
        "threads": torch.get_num_threads(),
    }


def _check(ds: Dataset) -> None:
    from microgesture.data.check import check_dataset

    problems = [p for p in check_dataset(ds, videos=False) if p.severity == "error"]
    if problems:
        lines = "\n".join(f"  {p}" for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise TrainingError(f"dataset {ds.root} fails its check ({len(problems)} errors); fix it first:\n{lines}{more}")


def _loader(ds, clips, pipeline, *, train: bool, cfg: RunConfig, weights=None) -> DataLoader:
    tc = cfg.train
    d = ClipDataset(ds, clips, pipeline, train=train, seed=cfg.seed)
    sampler = EpochSampler(len(clips), seed=cfg.seed, weights=weights) if train else None
    return DataLoader(d, batch_size=tc.batch_size if train else max(1, tc.batch_size // 2), sampler=sampler,
                      shuffle=False, num_workers=tc.num_workers, drop_last=train and len(clips) > tc.batch_size,
                      # workers stay up across epochs (no re-fork per epoch); EpochSampler hands them the epoch
                      persistent_workers=tc.num_workers > 0)


def _precision(tc) -> str:
    if tc.precision != "auto":
        return tc.precision
    gpu = torch.cuda.is_available() and tc.accelerator in ("auto", "gpu", "cuda")
    return "bf16-mixed" if gpu else "32-true"


def fit(cfg: RunConfig, *, out: str | Path, resume: bool = False, check: bool = True, progress: bool = True,
        stop_after_epoch: int | None = None) -> dict:
    """Train ``cfg`` and write the run directory; returns the metrics dict. ``stop_after_epoch`` simulates a kill."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ds = Dataset.open(cfg.dataset)
    if check:
        _check(ds)
    train_clips = [c for c in ds.split("train") if c.label >= 0]
    if not train_clips:
        raise TrainingError(f"dataset {ds.root} has no labelled train clips")
    val_clips = [c for c in ds.split("val") if c.label >= 0]
    counts = np.bincount([c.label for c in train_clips], minlength=len(ds.classes)).tolist()
    cfg.save(out / "config.yaml")
    (out / "env.json").write_text(json.dumps(_env(), indent=2) + "\n")

    L.seed_everything(cfg.seed, workers=True, verbose=False)
    module = BranchModule(cfg=cfg, classes=ds.classes, source_layout=ds.layout, class_counts=counts)
    if cfg.init_from:
        _init_from(module, cfg.init_from)
    if cfg.optim.backbone_lr_mult < 1 and not (cfg.init_from or cfg.model.get("pretrained")
                                               or cfg.model.get("init_rgb") or cfg.model.get("init_pose")):
        # the transfer recipes' slow backbone, on a random backbone, barely trains (a 5-epoch tiny Swin stayed at
        # the majority class); said, not changed, so a config means what it says
        log.warning("optim.backbone_lr_mult=%s with a randomly initialised backbone (no pretrained weights, no "
                    "init_from): that multiplier is meant for transfer; from scratch, --set optim.backbone_lr_mult=1",
                    cfg.optim.backbone_lr_mult)
    for line in module.model.load_sources() if hasattr(module.model, "load_sources") else []:
        log.info(line)  # models that start from other runs named in their config (RGBPoseConv3D's two pathways)
    if hasattr(module.pipeline, "set_run_dir"):  # pipelines that write run files (RGB: skipped_clips.jsonl)
        module.pipeline.set_run_dir(out)
    weights = sqrt_sampler_weights([c.label for c in train_clips], len(ds.classes)) if cfg.loss.sampler == "sqrt" \
        else None
    train_dl = _loader(ds, train_clips, module.pipeline, train=True, cfg=cfg, weights=weights)
    val_dl = _loader(ds, val_clips, module.pipeline, train=False, cfg=cfg) if val_clips else None

    from lightning.pytorch.callbacks import Callback, ModelCheckpoint, RichProgressBar, TQDMProgressBar
    from lightning.pytorch.loggers import CSVLogger

    ckpt_dir = out / "checkpoints"
    callbacks: list = [ModelCheckpoint(dirpath=ckpt_dir, filename="best", monitor="val/top1" if val_dl else None,
                                       mode="max", save_last=True, save_top_k=1)]
    if progress:
        callbacks.append(RichProgressBar() if sys.stderr.isatty() else TQDMProgressBar(refresh_rate=50))
    if stop_after_epoch is not None:

        class _Stop(Callback):
            def on_train_epoch_end(self, trainer, pl_module):
                if trainer.current_epoch + 1 >= stop_after_epoch:
                    trainer.should_stop = True

        callbacks.append(_Stop())
    loggers: list = [CSVLogger(save_dir=str(out), name="logs", version="")]
    try:
        import tensorboard  # noqa: F401
        from lightning.pytorch.loggers import TensorBoardLogger

        loggers.append(TensorBoardLogger(save_dir=str(out), name="tb", version=""))
    except ImportError:
        pass
    tc = cfg.train
    gpu = torch.cuda.is_available() and tc.accelerator in ("auto", "gpu", "cuda")
    trainer = L.Trainer(
        max_epochs=tc.epochs,
        accelerator=tc.accelerator,
        devices=tc.devices if tc.devices == "auto" else int(tc.devices) if str(tc.devices).isdigit() else tc.devices,
        strategy=tc.strategy,
        precision=_precision(tc),
        gradient_clip_val=tc.grad_clip or None,
        deterministic=("warn" if gpu else True) if tc.deterministic else False,
        callbacks=callbacks,
        logger=loggers,
        default_root_dir=str(out),
        enable_model_summary=False,
        enable_progress_bar=progress,
        log_every_n_steps=max(1, min(50, len(train_dl))),
        check_val_every_n_epoch=tc.val_every,
        limit_train_batches=tc.limit_train_batches,
        num_sanity_val_steps=0,
    )
    last = ckpt_dir / "last.ckpt"
    trainer.fit(module, train_dl, val_dl, ckpt_path=str(last) if resume and last.exists() else None)
    if stop_after_epoch is not None and trainer.current_epoch < tc.epochs:
        return {"interrupted_at_epoch": trainer.current_epoch}
    if not trainer.is_global_zero:
        return {}
    if tc.select == "best" and val_dl is not None and (ckpt_dir / "best.ckpt").exists():
        state = torch.load(ckpt_dir / "best.ckpt", map_location="cpu", weights_only=True)["state_dict"]
        module.load_state_dict(state)
    module = module.to("cpu" if not gpu else module.device)
    torch.save({"microgesture": module.inference_meta(), "state_dict": module.state_dict()}, out / "model.ckpt")
    return _predict_all(module, ds, out, checkpoint=str(out / "model.ckpt"))


def _init_from(module: BranchModule, path: str) -> None:
    """Transfer: load matching weights from another run's checkpoint; a classifier of another size is re-initialised."""
    ck = torch.load(_ckpt_path(path), map_location="cpu", weights_only=True)
    src = ck["state_dict"]
    own = module.state_dict()
    src_classes = tuple(ck.get("microgesture", {}).get("classes", ()))
    # a classifier trained on other classes means nothing here, even when the counts happen to match
    other_task = bool(src_classes) and src_classes != tuple(module.classes)
    keep = {k: v for k, v in src.items() if k in own and own[k].shape == v.shape
            and not (other_task and k.startswith(_HEAD_PREFIXES))}
    skipped = sorted(k for k in src if k not in keep)
    module.load_state_dict(keep, strict=False)
    if skipped:
        why = "the classifier (other classes) and tensors whose shape or name differ" if other_task else \
            "tensors whose shape or name differ"
        log.info("init-from %s: re-initialised %d tensors: %s (e.g. %s); source classes: %d, target classes: %d",
                 path, len(skipped), why, ", ".join(skipped[:3]), len(src_classes), len(module.classes))


def predict(module: BranchModule, ds: Dataset, clips: list[Clip], *, batch_size: int = 16,
            num_workers: int = 0) -> np.ndarray:
    """Test-pipeline logits (N, K) for ``clips`` (views averaged)."""
    module.eval()
    dl = DataLoader(ClipDataset(ds, clips, module.pipeline, train=False, seed=0), batch_size=batch_size,
                    num_workers=num_workers)
    out = []
    dev = next(module.parameters()).device
    with torch.no_grad():
        for batch in dl:
            batch = {k: (v.to(dev) if isinstance(v, torch.Tensor) else v) for k, v in batch.items()}
            out.append(module.predict_views(batch).float().cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, len(module.classes)), np.float32)


def _predict_all(module: BranchModule, ds: Dataset, out: Path, *, checkpoint: str) -> dict:
    metrics: dict = {"branch": module.cfg.branch, "dataset": str(ds.root), "seed": module.cfg.seed}
    tc = module.cfg.train
    for split in ds.splits():
        if split == "train" and not tc.predict_train:
            continue
        clips = ds.split(split)
        logits = predict(module, ds, clips, batch_size=max(1, tc.batch_size // 2), num_workers=tc.num_workers)
        p = Predictions([c.clip_id for c in clips], logits, [c.label for c in clips], ds.classes,
                        {"branch": module.cfg.branch, "checkpoint": checkpoint, "dataset": str(ds.root),
                         "split": split, "seed": module.cfg.seed})
        save_predictions(out / f"preds_{split}.npz", p)
        rep = classification_report(p.logits, p.labels, ds.classes)
        metrics[split] = rep
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def _ckpt_path(path: str | Path) -> Path:
    p = Path(path)
    if p.is_dir():
        p = p / "model.ckpt"
    if not p.is_file():
        raise FileNotFoundError(f"{p}: checkpoint not found")
    return p


def load_checkpoint(path: str | Path, *, map_location: str = "cpu") -> BranchModule:
    """Rebuild a trained branch from ``model.ckpt`` (or a Lightning checkpoint, or a run directory)."""
    p = _ckpt_path(path)
    ck = torch.load(p, map_location=map_location, weights_only=True)
    if "microgesture" not in ck:
        raise TrainingError(f"{p}: not a microgesture checkpoint (no 'microgesture' metadata)")
    meta = ck["microgesture"]
    cfg = from_dict(meta["config"])
    if cfg.model.get("pretrained"):  # the checkpoint holds the weights: no download or weights file needed
        cfg = replace(cfg, model={**cfg.model, "pretrained": ""})
    module = BranchModule(cfg=cfg, classes=tuple(meta["classes"]), source_layout=meta["source_layout"],
                          class_counts=[1] * len(meta["classes"]))
    module.load_state_dict(ck["state_dict"], strict=False)
    module.eval()
    return module


def evaluate(checkpoint: str | Path, *, dataset: str | Path, split: str, out: str | Path | None = None) -> dict:
    """Predict ``split`` of ``dataset`` with the checkpoint's own test pipeline; optionally save the predictions."""
    module = load_checkpoint(checkpoint)
    ds = Dataset.open(dataset)
    if tuple(ds.classes) != module.classes:
        raise TrainingError(f"{dataset}: class list differs from the checkpoint's ({len(module.classes)} classes)")
    clips = ds.split(split)
    if not clips:
        raise TrainingError(f"{dataset}: no clips in split {split!r} (splits: {', '.join(ds.splits())})")
    logits = predict(module, ds, clips)
    p = Predictions([c.clip_id for c in clips], logits, [c.label for c in clips], ds.classes,
                    {"branch": module.cfg.branch, "checkpoint": str(checkpoint), "dataset": str(ds.root),
                     "split": split})
    if out:
        save_predictions(out, p)
    return classification_report(p.logits, p.labels, ds.classes)


def with_overrides(cfg: RunConfig, **sections: Any) -> RunConfig:
    """A copy of ``cfg`` with whole sections replaced (tests and the runner use it)."""
    return replace(cfg, **sections)
