"""The stages of a study after its data: train every branch, fuse, pseudo-label (the runner chains them:
:mod:`microgesture.runner`). Each is cached by :mod:`microgesture.stage_cache`: a stage whose key (its config and its
inputs' contents) is unchanged is skipped, a branch killed mid-training resumes from its last Lightning checkpoint.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

from microgesture.atomic import write_text
from microgesture.experiment import ExperimentConfig, branch_cfg
from microgesture.fingerprint import dataset_fingerprint, file_digest
from microgesture.progress import stage as stage_name
from microgesture.stage_cache import digest, is_done, mark_done

__all__ = ["stage_train", "stage_fuse", "stage_pseudo"]

log = logging.getLogger(__name__)


# Run-config fields added after studies were cached, at the values under which a run trains as before they existed:
# left out of a stage's key, so that upgrading does not retrain what would train the same (a new field that changes
# what its default does, such as rgbpose's test_size, stays in the key and reruns the stage).
_NEUTRAL = {("train", "val_views"): {}, ("input", "frame_interval"): 0}


def _keyed_config(cfg) -> dict:
    d = cfg.to_dict()
    for (section, key), neutral in _NEUTRAL.items():
        if key in d.get(section, {}) and d[section][key] == neutral:
            del d[section][key]
    return d


def stage_train(exp: ExperimentConfig, out: Path, dataset: Path, *, tag: str,
                upstream: dict[str, Path] | None = None, logger: str | None = None) -> dict[str, Path]:
    """Train every branch of ``exp`` in order into ``out/tag/NAME``. ``run:NAME`` references resolve to this stage's
    earlier branches first, then to ``upstream`` (the first stage's runs, when retraining on pseudo-labels).
    ``logger``: where the curves go besides ``logs/metrics.csv`` (:mod:`microgesture.loggers`; not in the key)."""
    from microgesture.train import fit

    fps: dict[str, str] = {}
    runs: dict[str, Path] = {}
    for name, spec in exp.branches.items():
        deps: list[str] = []
        known = {**(upstream or {}), **runs}
        cfg = branch_cfg(exp, name, spec, dataset, known, deps)
        if cfg.dataset not in fps:
            fps[cfg.dataset] = dataset_fingerprint(Path(cfg.dataset))
        run = out / tag / name
        # a source's own key is part of a dependent's: retraining the source retrains what starts from it
        keyed: dict = {"config": _keyed_config(cfg), "data": fps[cfg.dataset]}
        if deps:  # (absent otherwise, so studies without references keep the keys they had)
            keyed["sources"] = {d: json.loads((known[d] / "stage.json").read_text())["key"] for d in deps}
        key = digest(keyed)
        runs[name] = run
        if is_done(run, key):
            log.info("%s: cached (%s)", stage_name(f"{tag}/{name}"), cfg.branch)
            continue
        pending = run / "stage.pending.json"
        resume = pending.is_file() and json.loads(pending.read_text()).get("key") == key
        if run.exists() and not resume:
            shutil.rmtree(run)
        run.mkdir(parents=True, exist_ok=True)
        write_text(pending, json.dumps({"key": key}) + "\n")
        log.info("%s: training %s%s", stage_name(f"{tag}/{name}"), cfg.branch, " (resuming)" if resume else "")
        t0 = time.time()
        fit(cfg, out=run, resume=resume, logger=logger)
        pending.unlink()
        mark_done(run, key, branch=cfg.branch, seconds=time.time() - t0)
    return runs


def stage_fuse(exp: ExperimentConfig, out: Path, runs: dict[str, Path], *, tag: str) -> tuple[Path, dict]:
    from microgesture.fusion import FusionConfig, fuse_files

    f = dict(exp.fusion)
    methods = list(f.pop("methods", ["temperature"]))
    names = list(runs)
    val = [runs[n] / "preds_val.npz" for n in names]
    test = [runs[n] / "preds_test.npz" for n in names]
    has_val = all(p.exists() for p in val)
    has_test = all(p.exists() for p in test)
    stage = out / tag
    key = digest({"fusion": exp.fusion, "val": [file_digest(p) for p in val] if has_val else None,
                   "test": [file_digest(p) for p in test] if has_test else None})
    if is_done(stage, key):
        log.info("%s: cached", stage_name(tag))
        return stage, json.loads((stage / "metrics.json").read_text())
    if len(names) < 2:
        methods = [m for m in methods if m != "stacking"]
    fc = FusionConfig(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in f.items()})  # keys checked on load
    log.info("%s: fusing %s (%s)", stage_name(tag), ", ".join(names), ", ".join(methods))
    metrics = fuse_files(val if has_val else None, test if has_test else None, methods=methods, out=stage, config=fc,
                         names=names, overwrite=True)  # the stage's own earlier result, whose key changed
    mark_done(stage, key, methods=methods)
    return stage, metrics


def stage_pseudo(exp: ExperimentConfig, out: Path, dataset: Path, fusion_dir: Path) -> Path:
    from microgesture.pseudo import pseudo_label

    p = exp.pseudo_label
    primary = json.loads((fusion_dir / "fusion.json").read_text())["primary"]
    fused_test = fusion_dir / f"fused_{primary}_test.npz"
    stage = out / "pseudo"
    # which branches retrain, and how, does not change the labels: editing it keeps this stage cached
    key = digest({"pseudo": {k: v for k, v in p.items() if k != "retrain"}, "preds": file_digest(fused_test),
                  "data": dataset_fingerprint(dataset)})
    root = stage / "dataset"
    if is_done(stage, key) and root.is_dir():
        log.info("%s: cached", stage_name("pseudo"))
        return root
    share = float(p.get("per_class", 0.0))
    log.warning("%s: TRANSDUCTIVE -- adding confident test clips (max fused probability > %s%s) to training, as "
                "AIM's CMPL does", stage_name("pseudo-label"), p.get("threshold", 0.65),
                f", or among the top {share:.0%} of their predicted class" if share else "")
    import warnings

    from microgesture.pseudo import TransductiveWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TransductiveWarning)  # said above, in words
        pseudo_label(dataset, fused_test, threshold=float(p.get("threshold", 0.65)), per_class=share, out=root,
                     overwrite=True)
    mark_done(stage, key)
    return root
