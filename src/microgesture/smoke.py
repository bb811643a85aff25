"""Smoke runs at the papers' size: every branch of a study, at its configured inputs, widths, frames and test views,
for two optimisation steps and one prediction pass on a generated iMiGUE-shaped dataset.

The dataset (:func:`make_smoke_dataset`) is the synthetic generator at iMiGUE's geometry: 1280 x 720, OpenPose-137,
a few clips per split, with one video per clip. Derived-video branches (Taylor, flow, depth) read the RGB clip videos
as stand-ins for their derived videos: the same file shape (3 x H x W, same frames), so the same cost past decoding.
Weights are randomly initialised (``pretrained``, ``init_from``, ``init_rgb``, ``init_pose`` cleared): a smoke run
times and sizes the recipe, it does not train it.

Each branch runs in its own process (so the peak resident memory is that branch's) through Lightning, with the
precision ``fit`` would use (bf16-mixed on a GPU, fp32 on the CPU unless ``bf16`` is asked for). A row reports the
parameters, the model input of one training sample, seconds per optimisation step (the second step: the first pays
for allocation and kernel selection), the prediction pass per test clip (all its views), peak memory (GPU: peak
allocated by torch; CPU: the process's peak resident set) and whether bf16 autocast was on.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from microgesture.config import merge

__all__ = ["SmokeRow", "smoke_spec", "smoke_specs", "make_smoke_dataset", "smoke_branch", "run_smoke",
           "run_smoke_specs", "smoke_table", "format_markdown"]

log = logging.getLogger(__name__)

_CLEARED = {"init_from": ""}
_MODEL_CLEARED = ("pretrained", "init_rgb", "init_pose")
_DERIVED = ("taylor_path", "flow_path", "depth_path")


@dataclass
class SmokeRow:
    """One branch's smoke figures; ``status`` is ``ok``, ``skipped: why`` or ``error: message``."""

    study: str
    name: str
    branch: str
    status: str = "ok"
    params: int = 0
    input_shape: list[int] = field(default_factory=list)
    batch: int = 0
    step_s: list[float] = field(default_factory=list)
    predict_s_per_clip: float = 0.0
    test_views: int = 0
    peak_mem_mb: float = 0.0
    memory: str = ""
    bf16: bool = False
    device: str = ""
    wall_s: float = 0.0


def smoke_spec(spec: dict) -> dict:
    """A branch spec (``{"branch": ..., sections...}``) made ready for a smoke run: weight sources cleared (random
    initialisation, no download), derived-video columns pointed at the RGB video, study-only keys dropped."""
    s = {k: v for k, v in spec.items() if k not in ("dataset", "fuse", "seed")}
    s.update(_CLEARED)
    model = dict(s.get("model") or {})
    for k in _MODEL_CLEARED:
        if k in model:
            model[k] = ""
    s["model"] = model
    inp = dict(s.get("input") or {})
    if inp.get("video_column") in _DERIVED or s["branch"].startswith(("taylor-", "flow-", "depth-")):
        inp["video_column"] = "video_path"
    s["input"] = inp
    return s


def smoke_specs(study) -> dict[str, dict]:
    """Branch name -> {"branch": ..., sections...} of a study (a name, a YAML path or an ExperimentConfig) at its
    configured size (its ``size`` and ``branch_overrides`` applied), ready for ``resolve_config``: see
    :func:`smoke_spec`."""
    from microgesture.experiment import ExperimentConfig, load_experiment, merged_spec

    exp = study if isinstance(study, ExperimentConfig) else load_experiment(study)
    return {name: smoke_spec(merged_spec(exp, spec)) for name, spec in exp.branches.items()}


def make_smoke_dataset(root: str | os.PathLike, *, clips: tuple[int, int, int] = (4, 1, 2), videos: bool = True,
                       seed: int = 0) -> Path:
    """An iMiGUE-shaped synthetic dataset: 1280 x 720, OpenPose-137, 32 classes, ``clips`` per split, 48-96 frames."""
    from microgesture.data.synth import Preset, generate

    root = Path(root)
    if (root / "dataset.json").exists():
        return root
    p = Preset(name="smoke", clips=clips, subjects=(1, 1, 1), frame_size=(1280, 720), clip_median=64, clip_sigma=0.1,
               clip_range=(48, 96), clips_per_video=4, gap=(5, 10), min_train=0)
    return generate(root, preset=p, seed=seed, video=videos)


def _peak_mb(device: str) -> tuple[float, str]:
    import torch

    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20, "GPU peak allocated"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "CPU peak RSS"


def smoke_branch(spec: dict, dataset: str | os.PathLike, *, study: str = "", name: str = "", steps: int = 2,
                 batch: int = 2, bf16: bool | None = None, accelerator: str = "auto") -> SmokeRow:
    """Two optimisation steps and one prediction pass of one branch spec (in this process)."""
    # long: one run (build, two steps, predict) whose Lightning imports stay local to the function
    import lightning as L  # noqa: N812
    import numpy as np
    import torch
    from lightning.pytorch.callbacks import Callback
    from torch.utils.data import DataLoader

    from microgesture.data.format import Dataset
    from microgesture.progress import silence_third_party
    from microgesture.train import BranchModule, ClipDataset, EpochSampler, predict, resolve_config

    silence_third_party()  # as train does: Lightning's tips ("litlogger") and device lines; --verbose keeps them
    t_start = time.perf_counter()
    spec = dict(spec)
    branch = spec.pop("branch")
    spec = merge(spec, {"train": {"batch_size": batch, "num_workers": 0, "epochs": 1, "devices": "1",
                                  "strategy": "auto", "accelerator": accelerator}})
    cfg = resolve_config(branch=branch, dataset=str(dataset), overrides=spec)
    ds = Dataset.open(dataset)
    train = [c for c in ds.split("train") if c.label >= 0][: steps * batch]
    test = ds.split("test")[:1]
    gpu = torch.cuda.is_available() and accelerator in ("auto", "gpu", "cuda")
    use_bf16 = gpu if bf16 is None else bf16
    L.seed_everything(0, verbose=False)
    module = BranchModule(cfg=cfg, classes=ds.classes, source_layout=ds.layout, class_counts=[1] * len(ds.classes))
    params = sum(p.numel() for p in module.parameters())
    sample = module.pipeline.train_sample(ds, train[0], np.random.default_rng(0))
    x = module.pipeline.to_model_input({k: torch.from_numpy(v)[None] for k, v in sample.items()}, train=True)
    # one tensor, or several (RGBPoseConv3D: {"rgb": ..., "pose": ...}): one shape per model input
    parts = list(x.values()) if isinstance(x, dict) else list(x) if isinstance(x, (list, tuple)) else [x]
    shape = [list(t.shape[1:]) for t in parts] if len(parts) > 1 else list(parts[0].shape[1:])
    times: list[float] = []

    class _Timer(Callback):
        def on_train_batch_start(self, trainer, pl_module, b, i):
            if gpu:
                torch.cuda.synchronize()
            self.t0 = time.perf_counter()

        def on_train_batch_end(self, trainer, pl_module, out, b, i):
            if gpu:
                torch.cuda.synchronize()
            times.append(time.perf_counter() - self.t0)

    dl = DataLoader(ClipDataset(ds, train, module.pipeline, train=True, seed=0), batch_size=batch,
                    sampler=EpochSampler(len(train), seed=0), num_workers=0)
    trainer = L.Trainer(max_epochs=1, limit_train_batches=steps, accelerator="gpu" if gpu else "cpu", devices=1,
                        precision="bf16-mixed" if use_bf16 else "32-true", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
                        gradient_clip_val=cfg.train.grad_clip or None, callbacks=[_Timer()])
    if gpu:
        torch.cuda.reset_peak_memory_stats()
    trainer.fit(module, dl)
    dev = "cuda" if gpu else "cpu"
    module = module.to(dev)
    t0 = time.perf_counter()
    with torch.autocast(dev, dtype=torch.bfloat16, enabled=use_bf16):
        logits = predict(module, ds, test, batch_size=1)
    if gpu:
        torch.cuda.synchronize()
    pred_s = (time.perf_counter() - t0) / max(1, len(test))
    if not torch.isfinite(torch.as_tensor(logits)).all():
        raise RuntimeError(f"{name or branch}: non-finite predictions")
    mem, what = _peak_mb(dev)
    device = torch.cuda.get_device_name(0) if gpu else f"cpu x{torch.get_num_threads()} threads"
    return SmokeRow(study=study, name=name or branch, branch=branch, params=params, input_shape=shape, batch=batch,
                    step_s=[round(t, 3) for t in times], predict_s_per_clip=round(pred_s, 3),
                    test_views=module.pipeline.num_views, peak_mem_mb=round(mem, 1), memory=what, bf16=use_bf16,
                    device=device, wall_s=round(time.perf_counter() - t_start, 1))


def run_smoke(study, out: str | os.PathLike, *, names: list[str] | None = None, **kw) -> list[SmokeRow]:
    """Smoke every branch of ``study`` (a name, a YAML path or an ExperimentConfig), or only ``names``: see
    :func:`run_smoke_specs`."""
    specs = smoke_specs(study)
    label = getattr(study, "name", study)
    unknown = sorted(set(names or []) - set(specs))
    if unknown:
        raise KeyError(f"{label}: no branch {', '.join(unknown)} (branches: {', '.join(specs)})")
    return run_smoke_specs({k: v for k, v in specs.items() if not names or k in names}, out, study=str(label), **kw)


def run_smoke_specs(specs: dict[str, dict], out: str | os.PathLike, *, study: str = "", steps: int = 2,
                    batch: int = 2, bf16: bool | None = None, timeout_s: float = 600.0,
                    dataset: str | os.PathLike | None = None, accelerator: str = "auto") -> list[SmokeRow]:
    """Smoke each branch spec (name -> :func:`smoke_spec` output), each in a child process with a time limit, on
    ``dataset`` or an iMiGUE-shaped one generated under ``out``; writes ``OUT/smoke.json`` and ``OUT/smoke.md`` and
    returns the rows (a branch over ``timeout_s`` is ``skipped``)."""
    from microgesture.atomic import write_json, write_text

    out = Path(out)
    videos = any(not s["branch"].startswith(("joint-", "heatmap-")) for s in specs.values())
    data = Path(dataset) if dataset else make_smoke_dataset(out / ("data" if videos else "data-skeleton"),
                                                            videos=videos)
    rows = []
    for name, spec in specs.items():
        job = {"spec": spec, "dataset": str(data), "study": str(study), "name": name, "steps": steps, "batch": batch,
               "bf16": bf16, "accelerator": accelerator}
        log.info("smoke %s/%s (%s)", study, name, spec["branch"])
        t0 = time.perf_counter()
        try:
            res = subprocess.run([sys.executable, "-m", "microgesture.smoke", json.dumps(job)], capture_output=True,
                                 text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            rows.append(SmokeRow(study=str(study), name=name, branch=spec["branch"],
                                 status=f"skipped: over {timeout_s:.0f} s", wall_s=round(time.perf_counter() - t0, 1)))
            continue
        lines = [x for x in res.stdout.splitlines() if x.startswith("{")]
        if res.returncode or not lines:
            msg = (res.stderr.strip().splitlines() or ["no output"])[-1][:200]
            rows.append(SmokeRow(study=str(study), name=name, branch=spec["branch"], status=f"error: {msg}"))
        else:
            rows.append(SmokeRow(**json.loads(lines[-1])))
        write_json(out / "smoke.json", [asdict(r) for r in rows])  # after every branch: a killed run keeps its rows
    write_text(out / "smoke.md", format_markdown(rows))
    return rows


def _fmt_shape(s) -> str:
    if s and isinstance(s[0], list):
        return " + ".join("x".join(map(str, x)) for x in s)
    return "x".join(map(str, s))


def table_rows(rows: list[SmokeRow]) -> list[list[str]]:
    """Rows of strings: branch, model, params (M), input, batch, s/step, predict s/clip (views), peak MB, bf16."""
    out = []
    for r in rows:
        if r.status != "ok":
            out.append([f"{r.study}/{r.name}", r.branch, "-", "-", "-", "-", "-", "-", r.status])
            continue
        out.append([f"{r.study}/{r.name}", r.branch, f"{r.params / 1e6:.2f}", _fmt_shape(r.input_shape), str(r.batch),
                    f"{r.step_s[-1]:.2f}" if r.step_s else "-", f"{r.predict_s_per_clip:.2f} ({r.test_views})",
                    f"{r.peak_mem_mb:.0f}", "yes" if r.bf16 else "no"])
    return out


HEADER = ["branch", "model", "params (M)", "input (per sample)", "batch", "s/step", "predict s/clip (views)",
          "peak MB", "bf16"]


def format_markdown(rows: list[SmokeRow]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r) + " |" for r in table_rows(rows)]
    mem = {r.memory for r in rows if r.memory}
    dev = {r.device for r in rows if r.device}
    return "\n".join(lines) + f"\n\nDevice: {', '.join(sorted(dev))}; memory: {', '.join(sorted(mem))}.\n"


def smoke_table(rows: list[SmokeRow], *, title: str = ""):
    """A rich Table of the rows (the CLI prints it)."""
    from rich.table import Table

    t = Table(*HEADER, title=title)
    for r in table_rows(rows):
        t.add_row(*r)
    return t


def _child(job: dict) -> None:
    row = smoke_branch(job["spec"], job["dataset"], study=job["study"], name=job["name"], steps=job["steps"],
                       batch=job["batch"], bf16=job["bf16"], accelerator=job["accelerator"])
    sys.stdout.write(json.dumps(asdict(row)) + "\n")


if __name__ == "__main__":
    _child(json.loads(sys.argv[1]))
