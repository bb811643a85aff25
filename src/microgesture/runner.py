"""The experiment runner: one YAML describes a whole study, ``microgesture run`` executes it.

Stages: data (a dataset path, or the synthetic benchmark generated into the study) -> train every branch -> fuse ->
pseudo-label the test split and retrain (only when asked: it is transductive) -> fuse again -> report.

Every stage writes a ``stage.json`` holding a key = hash of its config and of its inputs' contents. On a rerun a stage
whose key is unchanged is skipped, so a killed study resumes where it stopped (a branch killed mid-training resumes
from its last Lightning checkpoint), and editing one branch's settings retrains that branch and what depends on it.

Experiment YAML::

    name: demo
    dataset: {synth: {preset: small, seed: 0, video: true}}   # or {path: /data/imigue_microgesture}
    seed: 0
    branches:                       # name -> a branch and its overrides (the sections of `microgesture train --config`)
      joint: {branch: joint-dstcnn, input: {layout: aim68}, train: {epochs: 20}}
      limb:  {branch: heatmap-posec3d-limb}
    branch_defaults: {train: {num_workers: 2}}   # under every branch's own settings
    branch_overrides: {}                         # over them (e.g. {train: {epochs: 1}} for a smoke test)
    fusion: {methods: [temperature, mean, stacking], objective: top1}
    pseudo_label: {enabled: false, threshold: 0.65, retrain: [joint]}

Branch specs take three keys of their own besides ``branch`` and ``seed``: ``dataset: DIR`` trains that branch on
another dataset (pre-training, e.g. MA-52 before iMiGUE); ``fuse: false`` keeps a branch out of the fusion (a
pre-training run, or a model that only initialises another); and any string value ``run:NAME`` becomes the run
directory of the earlier branch NAME, so a branch can start from another (``init_from: run:pretrain``,
``model: {init_rgb: run:rgb-only, init_pose: run:joint}``). A dependent branch retrains whenever its source does.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from microgesture.atomic import write_text
from microgesture.config import merge
from microgesture.fingerprint import dataset_fingerprint
from microgesture.fingerprint import file_digest as _file_digest
from microgesture.progress import begin_stages
from microgesture.progress import stage as stage_name

__all__ = ["ExperimentConfig", "load_experiment", "run_experiment", "summary_rows", "summary_table", "CONFIG_DIR"]

CONFIG_DIR = Path(__file__).parent / "configs"
log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class ExperimentConfig:
    name: str
    dataset: dict
    branches: dict[str, dict]
    seed: int = 0
    branch_defaults: dict = field(default_factory=dict)  # merged under every branch's spec
    branch_overrides: dict = field(default_factory=dict)  # merged over every branch's spec (e.g. epochs for a test)
    fusion: dict = field(default_factory=lambda: {"methods": ["temperature", "mean"], "objective": "top1"})
    pseudo_label: dict = field(default_factory=lambda: {"enabled": False})
    report: bool = True
    description: str = ""


def load_experiment(path_or_name: str | Path, overrides: dict | None = None) -> ExperimentConfig:
    """Read an experiment YAML (a path, or the name of a shipped config: demo, aim, mm_gesture)."""
    p = Path(path_or_name)
    if not p.exists() and (CONFIG_DIR / f"{path_or_name}.yaml").exists():
        p = CONFIG_DIR / f"{path_or_name}.yaml"
    if not p.is_file():
        shipped = ", ".join(sorted(x.stem for x in CONFIG_DIR.glob("*.yaml")))
        raise FileNotFoundError(f"{path_or_name}: no such experiment file (shipped: {shipped})")
    d = yaml.safe_load(p.read_text()) or {}
    d = merge(d, overrides or {})
    known = set(ExperimentConfig.__dataclass_fields__)
    unknown = sorted(set(d) - known)
    if unknown:
        raise ValueError(f"{p}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    for key in ("name", "dataset", "branches"):
        if key not in d:
            raise ValueError(f"{p}: missing {key!r}")
    _check_sections(d, p)
    return ExperimentConfig(**d)


_PSEUDO_KEYS = ("enabled", "threshold", "retrain")
_SYNTH_KEYS = ("preset", "seed", "video", "workers")


def _unknown(section: str, d: Any, known: tuple[str, ...] | set[str], where: Path) -> None:
    if d is None:
        return
    if not isinstance(d, dict):
        raise ValueError(f"{where}: {section} must be a mapping, got {d!r}")
    bad = sorted(set(d) - set(known))
    if bad:
        raise ValueError(f"{where}: unknown key(s) in {section}: {', '.join(bad)}; known: {', '.join(sorted(known))}")


def _check_sections(d: dict, where: Path) -> None:
    """A typo in ``fusion:``, ``pseudo_label:`` or ``dataset:`` fails here, instead of silently meaning a default."""
    from microgesture.fusion import METHODS, FusionConfig

    _unknown("fusion", d.get("fusion"), {"methods", *FusionConfig.__dataclass_fields__}, where)
    methods = (d.get("fusion") or {}).get("methods") or []
    bad = [m for m in ([methods] if isinstance(methods, str) else methods) if m not in METHODS]
    if bad:
        raise ValueError(f"{where}: fusion.methods: unknown method(s) {', '.join(map(str, bad))}; "
                         f"known: {', '.join(METHODS)}")
    _unknown("pseudo_label", d.get("pseudo_label"), _PSEUDO_KEYS, where)
    ds = d["dataset"]
    _unknown("dataset", ds, ("path", "synth"), where)
    if len(set(ds) & {"path", "synth"}) != 1:
        raise ValueError(f"{where}: dataset: give {{path: DIR}} or {{synth: {{preset: ..., seed: ...}}}}")
    _unknown("dataset.synth", ds.get("synth"), _SYNTH_KEYS, where)


# -- caching ------------------------------------------------------------------------------------------------------


def _digest(obj: Any) -> str:
    return hashlib.sha1(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]




def _done(stage_dir: Path, key: str) -> bool:
    f = stage_dir / "stage.json"
    return f.is_file() and json.loads(f.read_text()).get("key") == key


def _mark(stage_dir: Path, key: str, **info: Any) -> None:
    stage_dir.mkdir(parents=True, exist_ok=True)
    write_text(stage_dir / "stage.json", json.dumps({"key": key, "finished": time.time(), **info}, indent=1) + "\n")


# -- stages -------------------------------------------------------------------------------------------------------


def _stage_data(exp: ExperimentConfig, out: Path) -> Path:
    d = exp.dataset
    if "path" in d:
        return Path(d["path"]).expanduser()
    if "synth" not in d:
        raise ValueError("dataset: give {path: DIR} or {synth: {preset: ..., seed: ...}}")
    s = {"preset": "small", "seed": exp.seed, "video": True, **(d["synth"] or {})}
    workers = int(s.pop("workers", 2))  # the files do not depend on the worker count, so it is not in the key
    stage = out / "data"
    key = _digest({"synth": s, "version": 1})
    root = stage / "dataset"
    if _done(stage, key) and root.is_dir():
        log.info("%s: cached synthetic %r dataset at %s", stage_name("data"), s["preset"], root)
        return root
    from microgesture.data.synth import generate

    log.info("%s: generating the synthetic benchmark (preset %s, seed %s)", stage_name("data"), s["preset"], s["seed"])
    t0 = time.time()
    if root.exists():
        shutil.rmtree(root)
    from microgesture.progress import progress_bar

    with progress_bar("data: recordings") as tick:
        generate(root, preset=s["preset"], seed=int(s["seed"]), video=bool(s["video"]), workers=workers,
                 progress=tick)
    _mark(stage, key, seconds=time.time() - t0)
    return root


def _fused(exp: ExperimentConfig, name: str) -> bool:
    """Whether a branch's predictions enter the fusion (default: yes, unless it trains on a dataset of its own)."""
    spec = exp.branches.get(name.removesuffix("+pl"), {})
    return bool(spec.get("fuse", "dataset" not in spec))


def _resolve_refs(obj: Any, runs: dict[str, Path], name: str, deps: list[str]) -> Any:
    """Replace every ``run:OTHER`` string by OTHER's run directory; the names used are appended to ``deps``."""
    if isinstance(obj, dict):
        return {k: _resolve_refs(v, runs, name, deps) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_resolve_refs(v, runs, name, deps) for v in obj]
    if isinstance(obj, str) and obj.startswith("run:"):
        ref = obj[4:]
        if ref not in runs:
            raise ValueError(f"branches.{name}: {obj!r} names no earlier branch "
                             f"(earlier: {', '.join(runs) or 'none'}; a branch can only use one listed above it)")
        deps.append(ref)
        return str(runs[ref])
    return obj


def _branch_cfg(exp: ExperimentConfig, name: str, spec: dict, dataset: Path, runs: dict[str, Path] | None = None,
                deps: list[str] | None = None):
    from microgesture.train import resolve_config

    spec = merge(merge(exp.branch_defaults, dict(spec)), exp.branch_overrides)
    spec = _resolve_refs(spec, runs or {}, name, deps if deps is not None else [])
    branch = spec.pop("branch", None)
    if not branch:
        raise ValueError(f"branches.{name}: missing 'branch'")
    own = spec.pop("dataset", None)
    spec.pop("fuse", None)
    return resolve_config(branch=branch, dataset=str(Path(own).expanduser() if own else dataset), overrides=spec,
                          seed=int(spec.pop("seed", exp.seed)))


def _stage_train(exp: ExperimentConfig, out: Path, dataset: Path, *, tag: str,
                 upstream: dict[str, Path] | None = None) -> dict[str, Path]:
    """Train every branch of ``exp`` in order into ``out/tag/NAME``. ``run:NAME`` references resolve to this stage's
    earlier branches first, then to ``upstream`` (the first stage's runs, when retraining on pseudo-labels)."""
    from microgesture.train import fit

    fps: dict[str, str] = {}
    runs: dict[str, Path] = {}
    for name, spec in exp.branches.items():
        deps: list[str] = []
        known = {**(upstream or {}), **runs}
        cfg = _branch_cfg(exp, name, spec, dataset, known, deps)
        if cfg.dataset not in fps:
            fps[cfg.dataset] = dataset_fingerprint(Path(cfg.dataset))
        run = out / tag / name
        # a source's own key is part of a dependent's: retraining the source retrains what starts from it
        keyed: dict = {"config": cfg.to_dict(), "data": fps[cfg.dataset]}
        if deps:  # (absent otherwise, so studies without references keep the keys they had)
            keyed["sources"] = {d: json.loads((known[d] / "stage.json").read_text())["key"] for d in deps}
        key = _digest(keyed)
        runs[name] = run
        if _done(run, key):
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
        fit(cfg, out=run, resume=resume)
        pending.unlink()
        _mark(run, key, branch=cfg.branch, seconds=time.time() - t0)
    return runs


def _stage_fuse(exp: ExperimentConfig, out: Path, runs: dict[str, Path], *, tag: str) -> tuple[Path, dict]:
    from microgesture.fusion import FusionConfig, fuse_files

    f = dict(exp.fusion)
    methods = list(f.pop("methods", ["temperature"]))
    names = list(runs)
    val = [runs[n] / "preds_val.npz" for n in names]
    test = [runs[n] / "preds_test.npz" for n in names]
    has_val = all(p.exists() for p in val)
    has_test = all(p.exists() for p in test)
    stage = out / tag
    key = _digest({"fusion": exp.fusion, "val": [_file_digest(p) for p in val] if has_val else None,
                   "test": [_file_digest(p) for p in test] if has_test else None})
    if _done(stage, key):
        log.info("%s: cached", stage_name(tag))
        return stage, json.loads((stage / "metrics.json").read_text())
    if len(names) < 2:
        methods = [m for m in methods if m != "stacking"]
    fc = FusionConfig(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in f.items()})  # keys checked on load
    log.info("%s: fusing %s (%s)", stage_name(tag), ", ".join(names), ", ".join(methods))
    metrics = fuse_files(val if has_val else None, test if has_test else None, methods=methods, out=stage, config=fc,
                         names=names, overwrite=True)  # the stage's own earlier result, whose key changed
    _mark(stage, key, methods=methods)
    return stage, metrics


def _stage_pseudo(exp: ExperimentConfig, out: Path, dataset: Path, fusion_dir: Path) -> Path:
    from microgesture.pseudo import pseudo_label

    p = exp.pseudo_label
    primary = json.loads((fusion_dir / "fusion.json").read_text())["primary"]
    fused_test = fusion_dir / f"fused_{primary}_test.npz"
    stage = out / "pseudo"
    key = _digest({"pseudo": p, "preds": _file_digest(fused_test), "data": dataset_fingerprint(dataset)})
    root = stage / "dataset"
    if _done(stage, key) and root.is_dir():
        log.info("%s: cached", stage_name("pseudo"))
        return root
    log.warning("%s: TRANSDUCTIVE -- adding confident test clips (max fused probability > %s) to training, as AIM's "
                "CMPL does", stage_name("pseudo-label"), p.get("threshold", 0.65))
    import warnings

    from microgesture.pseudo import TransductiveWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TransductiveWarning)  # said above, in words
        pseudo_label(dataset, fused_test, threshold=float(p.get("threshold", 0.65)), out=root, overwrite=True)
    _mark(stage, key)
    return root


def _retrain_names(exp: ExperimentConfig) -> list[str]:
    """The branches retrained on pseudo-labels: as listed, or every branch of the study's own dataset (a pre-training
    run on another dataset stays as it is)."""
    retrain = list((exp.pseudo_label or {}).get("retrain") or
                   [k for k, v in exp.branches.items() if "dataset" not in v])
    missing = [k for k in retrain if k not in exp.branches]
    if missing:
        raise ValueError(f"pseudo_label.retrain: no branch named {', '.join(missing)} "
                         f"(branches: {', '.join(exp.branches)})")
    return retrain


def _check_dataset_dir(root: Path, what: str) -> None:
    if not (root / "dataset.json").is_file():
        raise FileNotFoundError(f"{root / 'dataset.json'}: not found ({what}); import or generate the dataset there "
                                f"first (microgesture data import-imigue RAW {root}), or point the study elsewhere "
                                f"(--set dataset.path=DIR)")


def _preflight(exp: ExperimentConfig, out: Path) -> None:
    """Every dataset a stage reads exists and every branch's config resolves, before the study writes anything."""
    if "path" in exp.dataset:
        dataset = Path(exp.dataset["path"]).expanduser()
        _check_dataset_dir(dataset, f"dataset.path of study {exp.name!r}")
    else:
        dataset = out / "data" / "dataset"  # generated by the data stage
    runs: dict[str, Path] = {}
    for name, spec in exp.branches.items():
        if not isinstance(spec, dict):
            raise ValueError(f"branches.{name}: expected a mapping with at least 'branch', got {spec!r}")
        own = merge(merge(exp.branch_defaults, spec), exp.branch_overrides).get("dataset")
        if own:
            _check_dataset_dir(Path(own).expanduser(), f"dataset of branch {name!r}")
        _branch_cfg(exp, name, spec, dataset, runs)
        runs[name] = out / "branches" / name
    if (exp.pseudo_label or {}).get("enabled"):
        _retrain_names(exp)


def run_experiment(exp: ExperimentConfig, *, out: str | Path) -> dict:
    """Run (or resume) a study; returns a summary dict (also written to ``out/summary.json``)."""
    out = Path(out)
    _preflight(exp, out)  # a missing dataset or a typo fails before anything is written, not hours later
    out.mkdir(parents=True, exist_ok=True)
    pl = (exp.pseudo_label or {}).get("enabled")  # stages: data (synth), branches, fusion, [pseudo, retrain, fusion]
    begin_stages(("synth" in exp.dataset) + len(exp.branches) + 1 + (2 + len(_retrain_names(exp)) if pl else 0))
    try:
        return _run_stages(exp, out)
    finally:
        begin_stages(0)  # the stage numbers belong to this study: a later one, or a lone command, starts afresh


def _run_stages(exp: ExperimentConfig, out: Path) -> dict:
    """data -> branches -> fusion [-> pseudo-labels -> retrain -> fusion] -> report; the summary dict."""
    write_text(out / "experiment.yaml", yaml.safe_dump(exp.__dict__, sort_keys=False))
    t0 = time.time()
    dataset = _stage_data(exp, out)
    runs = _stage_train(exp, out, dataset, tag="branches")
    fusion_dir, fusion_metrics = _stage_fuse(exp, out, {k: v for k, v in runs.items() if _fused(exp, k)},
                                             tag="fusion")
    summary: dict = {"name": exp.name, "dataset": str(dataset), "runs": {k: str(v) for k, v in runs.items()},
                     "fusion": str(fusion_dir), "metrics": fusion_metrics, "transductive": False}
    p = exp.pseudo_label or {}
    if p.get("enabled"):
        from microgesture.pseudo import load_report

        d2 = _stage_pseudo(exp, out, dataset, fusion_dir)
        summary["pseudo_selected"] = int(load_report(d2)["selected"])
    if p.get("enabled") and not summary["pseudo_selected"]:
        # retraining on the unchanged dataset would report "+pl" rows that used no pseudo-label at all
        log.warning("pseudo-label: no test clip has a fused probability above %s: nothing to retrain on; the "
                    "results are the inductive ones (no +pl rows)", p.get("threshold", 0.65))
    elif p.get("enabled"):
        retrain = _retrain_names(exp)
        sub = ExperimentConfig(**{**exp.__dict__, "branches": {k: exp.branches[k] for k in retrain}})
        runs2 = _stage_train(sub, out, d2, tag="retrain", upstream=runs)
        final_runs = {**{k: v for k, v in runs.items() if k not in runs2}, **{f"{k}+pl": v for k, v in runs2.items()}}
        fdir2, fm2 = _stage_fuse(exp, out, {k: v for k, v in final_runs.items() if _fused(exp, k)},
                                 tag="fusion_final")
        summary.update(pseudo_dataset=str(d2), retrain={k: str(v) for k, v in runs2.items()}, fusion_final=str(fdir2),
                       metrics_final=fm2, transductive=True)
    summary["seconds"] = time.time() - t0
    if exp.report:
        from microgesture.study_report import write_study_report

        summary["report"] = [str(x) for x in write_study_report(exp, out, summary)]
    write_text(out / "summary.json", json.dumps(summary, indent=1, default=str) + "\n")
    return summary


def summary_rows(summary: dict) -> list[tuple[str, str, float | None, float | None, float | None, float | None]]:
    """(group, name, val top-1, val macro-F1, test top-1, test macro-F1) rows of a summary, in %."""
    rows = []
    for tag in ("metrics", "metrics_final"):
        m = summary.get(tag)
        if not m:
            continue
        for group in ("models", "fusions"):
            for name, r in m[group].items():
                if tag == "metrics_final" and group == "models" and not name.endswith("+pl"):
                    continue
                label = name if group == "models" else f"fusion:{name}" + (" (+pl)" if tag == "metrics_final" else "")

                def g(split: str, key: str, r=r) -> float | None:
                    return 100 * r[split][key] if split in r else None

                rows.append((group, label, g("val", "top1"), g("val", "macro_f1"), g("test", "top1"),
                             g("test", "macro_f1")))
    return rows


def _fmt(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.2f}"


def summary_table(summary: dict):
    """A rich Table of :func:`summary_rows` (the CLI prints it)."""
    from rich.table import Table

    t = Table(title=f"{summary['name']}: top-1 / macro-F1 (%)")
    for c in ("model / fusion", "val top-1", "val macro-F1", "test top-1", "test macro-F1"):
        t.add_column(c, justify="left" if c.startswith("model") else "right", no_wrap=c.startswith("model"))
    for _, name, *vals in summary_rows(summary):
        t.add_row(name, *(_fmt(v) for v in vals))
    return t
