"""A study's experiment YAML: loading, checking, and each branch's config (``microgesture run`` executes it:
:mod:`microgesture.runner`).

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
    pseudo_label: {enabled: false, threshold: 0.65, retrain: [joint]}   # or {rgb: {init_from: "run:rgb"}}
    size: cpu                                    # optional: cpu or recipe (microgesture run --size; sized_spec)

Branch specs take three keys of their own besides ``branch`` and ``seed``: ``dataset: DIR`` trains that branch on
another dataset (pre-training, e.g. MA-52 before iMiGUE); ``fuse: false`` keeps a branch out of the fusion (a
pre-training run, or a model that only initialises another); and any string value ``run:NAME`` becomes the run
directory of the earlier branch NAME, so a branch can start from another (``init_from: run:pretrain``,
``model: {init_rgb: run:rgb-only, init_pose: run:joint}``). A dependent branch retrains whenever its source does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from microgesture.config import merge
from microgesture.sizes import SizeError, cpu_sizes, size_layer

__all__ = ["ExperimentConfig", "load_experiment", "merged_spec", "sized_spec", "branch_cfg", "is_fused",
           "retrain_names", "retrain_specs", "preflight", "CONFIG_DIR", "STUDY_SIZES"]

CONFIG_DIR = Path(__file__).parent / "configs"
STUDY_SIZES = ("", "cpu", "recipe")


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
    size: str = ""  # "" as written; cpu: the branches' CPU-sized variants; recipe: the branches' recipes (sizes.py)

    def __post_init__(self) -> None:
        if self.size not in STUDY_SIZES:
            raise SizeError(f"size {self.size!r}: expected one of cpu, recipe (or empty: the study as written)")


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


_PSEUDO_KEYS = ("enabled", "threshold", "per_class", "retrain")
_SYNTH_KEYS = ("preset", "seed", "video", "workers", "frame_size")


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
    synth = ds.get("synth") or {}
    if "frame_size" in synth:
        from microgesture.data.synth import rendered_at

        try:
            rendered_at(synth.get("preset", "small"), synth["frame_size"])
        except ValueError as e:
            raise ValueError(f"{where}: dataset.synth: {e}") from None


def _drop(spec: dict, layer: dict) -> dict:
    """``spec`` without the keys that ``layer`` sets (recursively): those fall back to the branch's recipe."""
    out = {}
    for k, v in spec.items():
        if k not in layer:
            out[k] = v
        elif isinstance(v, dict) and isinstance(layer[k], dict):
            rest = _drop(v, layer[k])
            if rest:
                out[k] = rest
    return out


def sized_spec(spec: dict, size: str) -> dict:
    """A branch spec (defaults merged) at a study's ``size``: as written (""), with its CPU-sized variant's input,
    model, optim and train settings over it (``cpu``), or without them, back at the branch's recipe (``recipe``).

    The input layout is the study's in every case: a size changes cost, not which joints a branch reads."""
    branch = spec.get("branch", "")
    if not size or not branch:  # (a spec without a branch fails in branch_cfg, naming it)
        return spec
    if size == "recipe" and branch not in cpu_sizes():
        return spec  # no CPU-sized variant: the study's settings are the only sizes there are
    layer = merge({}, size_layer(branch, "cpu"))
    layer.get("input", {}).pop("layout", None)
    return merge(spec, layer) if size == "cpu" else _drop(spec, layer)


def merged_spec(exp: ExperimentConfig, spec: dict) -> dict:
    """A branch's spec as trained: the study's ``branch_defaults`` under it, its size, ``branch_overrides`` over it."""
    return merge(sized_spec(merge(exp.branch_defaults, dict(spec)), exp.size), exp.branch_overrides)


def is_fused(exp: ExperimentConfig, name: str) -> bool:
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


def branch_cfg(exp: ExperimentConfig, name: str, spec: dict, dataset: Path, runs: dict[str, Path] | None = None,
               deps: list[str] | None = None):
    """Branch ``name``'s RunConfig: :func:`merged_spec`, ``run:NAME`` references resolved against ``runs`` (the names
    used appended to ``deps``), on its own ``dataset:`` or the study's."""
    from microgesture.train import resolve_config

    spec = merged_spec(exp, spec)
    spec = _resolve_refs(spec, runs or {}, name, deps if deps is not None else [])
    branch = spec.pop("branch", None)
    if not branch:
        raise ValueError(f"branches.{name}: missing 'branch'")
    own = spec.pop("dataset", None)
    spec.pop("fuse", None)
    return resolve_config(branch=branch, dataset=str(Path(own).expanduser() if own else dataset), overrides=spec,
                          seed=int(spec.pop("seed", exp.seed)))


def retrain_names(exp: ExperimentConfig) -> list[str]:
    """The branches retrained on pseudo-labels: as listed, or every branch of the study's own dataset (a pre-training
    run on another dataset stays as it is)."""
    return list(retrain_specs(exp))


def retrain_specs(exp: ExperimentConfig) -> dict[str, dict]:
    """Name -> the spec each branch is retrained with on the pseudo-labelled dataset.

    ``pseudo_label.retrain`` is a list of branch names (retrained from scratch with their own settings, as AIM does)
    or a mapping of names to overrides merged over the branch's spec for the retraining only, e.g. ``{rgb: {init_from:
    "run:rgb", train: {epochs: 3}}}``: there ``run:rgb`` is the branch's first run, so it continues from its own
    weights (cheaper than from scratch; docs/benchmarks.md measures both)."""
    retrain = (exp.pseudo_label or {}).get("retrain") or [k for k, v in exp.branches.items() if "dataset" not in v]
    if isinstance(retrain, str):
        retrain = [retrain]
    if not isinstance(retrain, dict):
        retrain = {k: {} for k in retrain}
    missing = [k for k in retrain if k not in exp.branches]
    if missing:
        raise ValueError(f"pseudo_label.retrain: no branch named {', '.join(map(str, missing))} "
                         f"(branches: {', '.join(exp.branches)})")
    bad = [k for k, v in retrain.items() if not isinstance(v or {}, dict) or "branch" in (v or {})]
    if bad:
        raise ValueError(f"pseudo_label.retrain.{bad[0]}: expected a mapping of settings to change for the retraining "
                         f"(input, model, optim, train, init_from, ...; not 'branch'), got {retrain[bad[0]]!r}")
    return {k: merge(dict(exp.branches[k]), v or {}) for k, v in retrain.items()}


def _check_dataset_dir(root: Path, what: str) -> None:
    if not (root / "dataset.json").is_file():
        raise FileNotFoundError(f"{root / 'dataset.json'}: not found ({what}); import or generate the dataset there "
                                f"first (microgesture data import-imigue RAW {root}), or point the study elsewhere "
                                f"(--set dataset.path=DIR)")


def preflight(exp: ExperimentConfig, out: Path) -> None:
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
        own = merged_spec(exp, spec).get("dataset")
        if own:
            _check_dataset_dir(Path(own).expanduser(), f"dataset of branch {name!r}")
        branch_cfg(exp, name, spec, dataset, runs)
        runs[name] = out / "branches" / name
    if (exp.pseudo_label or {}).get("enabled"):
        # the retraining's own settings resolve too (run:NAME: the first stage's runs), on the pseudo-labelled data
        for name, spec in retrain_specs(exp).items():
            branch_cfg(exp, name, spec, out / "pseudo" / "dataset", runs)
