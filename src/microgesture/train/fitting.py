"""``fit``: train a branch and write its run directory; ``init_from`` weight transfer."""

from __future__ import annotations

import json
import logging
import platform
import sys
from pathlib import Path

import numpy as np
import torch

from microgesture import __version__
from microgesture.atomic import atomic_path, write_text
from microgesture.config import RunConfig
from microgesture.data.format import Dataset
from microgesture.inputs.protocols import WritesRunFiles
from microgesture.losses import sqrt_sampler_weights
from microgesture.models.protocols import LoadsSources
from microgesture.train.data import make_loader
from microgesture.train.inference import checkpoint_path, predict_all, read_checkpoint
from microgesture.train.module import HEAD_PREFIXES, BranchModule, L
from microgesture.train.resolve import TrainingError, with_test_views

__all__ = ["fit", "init_from"]

log = logging.getLogger(__name__)


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
        # the same seed gives the same metrics on one machine, not necessarily on another CPU: most likely the conv
        # kernels (oneDNN's, chosen per CPU) round differently and training amplifies it; not measured
        # (docs/benchmarks.md)
        "cpu": _cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), platform.machine())
    except OSError:  # not Linux
        return platform.processor() or platform.machine()


def _check(ds: Dataset) -> None:
    from microgesture.data.check import check_dataset

    problems = [p for p in check_dataset(ds, videos=False) if p.severity == "error"]
    if problems:  # one line: the first problem names the file and clip; the checker lists them all
        more = f" (+{len(problems) - 1} more errors)" if len(problems) > 1 else ""
        raise TrainingError(f"{problems[0]}{more}; `microgesture data check {ds.root}` lists them; fix the dataset "
                            "first")


def _precision(tc) -> str:
    if tc.precision != "auto":
        return tc.precision
    return "bf16-mixed" if _gpu(tc) else "32-true"


def fit(cfg: RunConfig, *, out: str | Path, resume: bool = False, check: bool = True, progress: bool = True,
        stop_after_epoch: int | None = None, logger: str | None = None, overwrite: bool = False) -> dict:
    """Train ``cfg`` and write the run directory; returns the metrics dict. ``stop_after_epoch`` simulates a kill;
    ``progress=False`` draws no bars (the estimate is still logged); ``logger``: microgesture.loggers.LOGGERS."""
    # long: one training run in order (config, data, trainer, fit, run files); split, it would pass a dozen locals
    from microgesture.loggers import check_logger

    logger = check_logger(logger)  # a missing package fails before any work
    out = Path(out)
    ds = Dataset.open(cfg.dataset)
    if check:
        _check(ds)
    train_clips = [c for c in ds.split("train") if c.label >= 0]
    if not train_clips:
        raise TrainingError(f"dataset {ds.root} has no labelled train clips")
    val_clips = [c for c in ds.split("val") if c.label >= 0]
    from microgesture.ddp import check_accelerator
    from microgesture.train.rundir import keep_log_history, merge_log_history, prepare_run_dir, probe_videos

    check_accelerator(cfg.train.accelerator)
    if cfg.init_from:  # a missing or unreadable source fails here, before the run directory exists
        read_checkpoint(checkpoint_path(cfg.init_from))
    if check:  # every video this branch reads decodes: a corrupt file is named now, not mid-epoch
        probe_videos(ds, cfg, [c for s in ds.splits() for c in ds.split(s)])
    counts = np.bincount([c.label for c in train_clips], minlength=len(ds.classes)).tolist()

    L.seed_everything(cfg.seed, workers=True, verbose=False)
    module = _build_module(cfg, ds, counts, out)
    weights = sqrt_sampler_weights([c.label for c in train_clips], len(ds.classes)) if cfg.loss.sampler == "sqrt" \
        else None
    train_dl = make_loader(ds, train_clips, module.pipeline, train=True, cfg=cfg, weights=weights)
    val_pipe = _val_pipeline(cfg, module, ds)
    val_dl = make_loader(ds, val_clips, val_pipe, train=False, cfg=cfg) if val_clips else None
    # the first write to ``out``, once the model and the loaders are built (a failure before leaves no run behind)
    resumed = prepare_run_dir(out, cfg, ds, resume=resume, overwrite=overwrite)
    cfg.save(out / "config.yaml")
    write_text(out / "env.json", json.dumps(_env(), indent=2) + "\n")
    ckpt_dir = out / "checkpoints"
    passes = [s for s in ds.splits() if s != "train" or cfg.train.predict_train]  # predict_all's, after training
    clock = _clock(cfg, module, bars=progress, val_clips=len(val_clips), passes=[len(ds.split(s)) for s in passes],
                   val_views=getattr(val_pipe, "num_views", 1))
    trainer = _trainer(cfg, out, ckpt_dir=ckpt_dir, has_val=val_dl is not None, steps_per_epoch=len(train_dl),
                       clock=clock, logger=logger, stop_after_epoch=stop_after_epoch)
    last = ckpt_dir / "last.ckpt"
    if resumed:
        keep_log_history(out)  # Lightning's CSV logger deletes logs/metrics.csv when it starts again
    try:
        trainer.fit(module, train_dl, val_dl, ckpt_path=str(last) if resumed else None)
    finally:
        merge_log_history(out)
    tc = cfg.train
    if stop_after_epoch is not None and trainer.current_epoch < tc.epochs:
        return {"interrupted_at_epoch": trainer.current_epoch}
    if not trainer.is_global_zero:
        return {}
    if tc.select == "best" and val_dl is not None and (ckpt_dir / "best.ckpt").exists():
        state = torch.load(ckpt_dir / "best.ckpt", map_location="cpu", weights_only=True)["state_dict"]
        module.load_state_dict(state)
    # Lightning's teardown has moved the module back to the CPU: predict on the device it trained on (predicting on
    # the CPU after a GPU run made the prediction passes 30x slower than the clock's estimate)
    module = module.to(trainer.strategy.root_device if _gpu(tc) else "cpu")
    with atomic_path(out / "model.ckpt") as tmp:
        torch.save({"microgesture": module.inference_meta(), "state_dict": module.state_dict()}, tmp)
    return predict_all(module, ds, out, checkpoint=str(out / "model.ckpt"))


def _gpu(tc) -> bool:
    return torch.cuda.is_available() and tc.accelerator in ("auto", "gpu", "cuda")


def _build_module(cfg: RunConfig, ds: Dataset, counts: list[int], out: Path) -> BranchModule:
    """The module with its starting weights (``init_from``, the model's own sources), told where the run is."""
    module = BranchModule(cfg=cfg, classes=ds.classes, source_layout=ds.layout, class_counts=counts)
    if cfg.init_from:
        init_from(module, cfg.init_from)
    if cfg.optim.backbone_lr_mult < 1 and not (cfg.init_from or cfg.model.get("pretrained")
                                               or cfg.model.get("init_rgb") or cfg.model.get("init_pose")):
        # the transfer recipes' slow backbone, on a random backbone, barely trains (a 5-epoch tiny Swin stayed at
        # the majority class); said, not changed, so a config means what it says
        log.warning("optim.backbone_lr_mult=%s with a randomly initialised backbone (no pretrained weights, no "
                    "init_from): that multiplier is meant for transfer; from scratch, --set optim.backbone_lr_mult=1",
                    cfg.optim.backbone_lr_mult)
    if isinstance(module.model, LoadsSources):  # models that start from other runs (RGBPoseConv3D's two pathways)
        for line in module.model.load_sources():
            log.info(line)
    if isinstance(module.pipeline, WritesRunFiles):  # pipelines that write run files (RGB: skipped_clips.jsonl)
        module.pipeline.set_run_dir(out)
    return module


def _val_pipeline(cfg: RunConfig, module: BranchModule, ds: Dataset):
    """The pipeline of the per-epoch validation: the module's own, or its input with ``train.val_views`` as the test
    views (the predictions written after training keep the run's test views)."""
    if not cfg.train.val_views:
        return module.pipeline
    vcfg = with_test_views(cfg, cfg.train.val_views, "train.val_views")
    return module.branch.make_pipeline(module.branch.input_config(vcfg.input), ds.layout)


def _clock(cfg: RunConfig, module: BranchModule, *, bars: bool, val_clips: int, passes: list[int], val_views: int):
    """Progress bars, ETA and the whole-run estimate (with the GPU-recipe advice on a CPU): microgesture.clock."""
    from microgesture.clock import RunClock
    from microgesture.sizes import cpu_advice

    tc = cfg.train
    return RunClock(batch_size=tc.batch_size, views=module.pipeline.num_views, val_clips=val_clips, val_views=val_views,
                    val_every=tc.val_every, predict_clips=sum(passes), predict_passes=len(passes), bars=bars,
                    advice=cpu_advice(cfg, on_gpu=_gpu(tc)))


def _trainer(cfg: RunConfig, out: Path, *, ckpt_dir: Path, has_val: bool, steps_per_epoch: int, clock, logger: str,
             stop_after_epoch: int | None):
    """The Lightning Trainer of a run: checkpoints (best by val top-1, and last), the run clock, CSV (+ the chosen
    logger) logs."""
    from lightning.pytorch.callbacks import Callback, ModelCheckpoint

    from microgesture.ddp import SetEpoch, check_accelerator
    from microgesture.loggers import make_loggers
    from microgesture.train.rundir import DiscardUnstarted

    check_accelerator(cfg.train.accelerator)
    # SetEpoch: under DDP the epoch must reach EpochSampler through Lightning's wrapper (microgesture.ddp)
    # last.ckpt after every epoch (ModelCheckpoint's save_last rewrites it only when "best" improves); best.ckpt by
    # val top-1; no version counter, so a file is replaced, never joined by a best-v1.ckpt
    callbacks: list = [ModelCheckpoint(dirpath=ckpt_dir, filename="last", monitor=None, save_top_k=1,
                                       save_on_train_epoch_end=True, enable_version_counter=False), SetEpoch(), clock]
    callbacks.append(DiscardUnstarted(out))  # a failure before the first checkpoint leaves no half run
    if has_val:
        callbacks.insert(0, ModelCheckpoint(dirpath=ckpt_dir, filename="best", monitor="val/top1", mode="max",
                                            save_top_k=1, enable_version_counter=False))
    if stop_after_epoch is not None:

        class _Stop(Callback):
            def on_train_epoch_end(self, trainer, pl_module):
                if trainer.current_epoch + 1 >= stop_after_epoch:
                    trainer.should_stop = True

        callbacks.append(_Stop())
    loggers = make_loggers(logger, out, params=cfg.to_dict())
    tc = cfg.train
    return L.Trainer(
        max_epochs=tc.epochs,
        accelerator=tc.accelerator,
        devices=tc.devices if tc.devices == "auto" else int(tc.devices) if str(tc.devices).isdigit() else tc.devices,
        strategy=tc.strategy,
        precision=_precision(tc),
        gradient_clip_val=tc.grad_clip or None,
        deterministic=("warn" if _gpu(tc) else True) if tc.deterministic else False,
        callbacks=callbacks,
        logger=loggers,
        default_root_dir=str(out),
        enable_model_summary=False,
        enable_progress_bar=False,  # the clock draws the bars
        log_every_n_steps=max(1, min(50, steps_per_epoch)),
        check_val_every_n_epoch=tc.val_every,
        limit_train_batches=tc.limit_train_batches,
        num_sanity_val_steps=0,
    )


def init_from(module: BranchModule, path: str) -> None:
    """Transfer: load matching weights from another run's checkpoint; a classifier of another size is re-initialised."""
    ck = read_checkpoint(checkpoint_path(path))
    src = ck["state_dict"]
    own = module.state_dict()
    src_classes = tuple(ck.get("microgesture", {}).get("classes", ()))
    # a classifier trained on other classes means nothing here, even when the counts happen to match
    other_task = bool(src_classes) and src_classes != tuple(module.classes)
    keep = {k: v for k, v in src.items() if k in own and own[k].shape == v.shape
            and not (other_task and k.startswith(HEAD_PREFIXES))}
    skipped = sorted(k for k in src if k not in keep)
    module.load_state_dict(keep, strict=False)
    if skipped:
        why = "the classifier (other classes) and tensors whose shape or name differ" if other_task else \
            "tensors whose shape or name differ"
        log.info("init-from %s: re-initialised %d tensors: %s (e.g. %s); source classes: %d, target classes: %d",
                 path, len(skipped), why, ", ".join(skipped[:3]), len(src_classes), len(module.classes))
