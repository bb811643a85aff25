"""The LightningModule of a branch: model, losses, optimiser groups, schedule, checkpoint metadata."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from microgesture import __version__
from microgesture.branches import get_branch
from microgesture.config import RunConfig
from microgesture.losses import FocalLoss, SemanticLoss, orthogonal_anchors, sqrt_class_weights, text_anchors
from microgesture.metrics import classification_report
from microgesture.models.protocols import MultiHead
from microgesture.train.resolve import TrainingError

__all__ = ["BranchModule", "HEAD_PREFIXES", "L"]

HEAD_PREFIXES = ("model.fc.", "model.head.")  # the classifier, by model family (ResNet-like: fc, Swin: head)


def _import_lightning():
    import lightning as L  # noqa: N812 - the package's own convention

    return L


L = _import_lightning()


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
        self._val_out: list[tuple[torch.Tensor, torch.Tensor, list[str]]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def _train_input(self, batch: dict) -> torch.Tensor:
        return self.pipeline.to_model_input(batch, train=True)

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        y = batch["label"]
        feat = self.model.forward_features(self._train_input(batch))
        if isinstance(self.model, MultiHead):  # several heads (RGBPoseConv3D): one loss each, summed
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
        self._val_out.append((self.predict_views(batch).cpu(), batch["label"].cpu(), list(batch["clip_id"])))

    def on_validation_epoch_end(self) -> None:
        import numpy as np

        from microgesture.ddp import gather_unique

        out, self._val_out = self._val_out, []
        ids = [c for o in out for c in o[2]]
        logits = torch.cat([o[0] for o in out]).float().numpy() if out else np.zeros((0, len(self.classes)), "f4")
        labels = torch.cat([o[1] for o in out]).numpy() if out else np.zeros(0, np.int64)
        # under DDP: every rank's share, each clip once (the sampler pads with repeats), so the metric that picks the
        # best checkpoint is the whole val split's; every rank computes the same value
        logits, labels = gather_unique(self.trainer, ids, logits, labels)
        rep = classification_report(logits, labels, self.classes) if len(labels) else {}
        if rep.get("n", 0):
            self.log("val/top1", rep["top1"], prog_bar=True, sync_dist=True)  # (equal on every rank: the mean is it)
            self.log("val/macro_f1", rep["macro_f1"], prog_bar=True, sync_dist=True)

    def configure_optimizers(self):
        oc = self.cfg.optim
        # The classifier (``fc`` or ``head``, by model family) and the semantic projection keep the full lr;
        # ``backbone_lr_mult`` scales everything else (MM-Gesture: backbone lr x 0.1).
        head_prefixes = (*HEAD_PREFIXES, "sem_proj.")
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
