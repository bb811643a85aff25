"""One typed config per training run: a branch, its input and model settings, and the recipe.

Resolution order (later wins): dataclass defaults -> the branch's recipe defaults -> a YAML file -> ``--set key=value``
overrides (dotted keys, values parsed as YAML scalars/lists). The resolved config is written next to the run, so a run
is reproducible from its directory alone. Unknown keys are errors, never silently ignored.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "OptimConfig",
    "ScheduleConfig",
    "LossConfig",
    "TrainConfig",
    "RunConfig",
    "parse_overrides",
    "merge",
    "from_dict",
    "build_dataclass",
    "to_plain",
]


@dataclass(frozen=True, kw_only=True)
class OptimConfig:
    """name: "sgd" or "adamw"; backbone_lr_mult scales the lr of everything but the classifier (transfer recipes)."""

    name: str = "adamw"
    lr: float = 1e-3
    weight_decay: float = 1e-4
    momentum: float = 0.9
    nesterov: bool = False
    backbone_lr_mult: float = 1.0
    no_decay_norm: bool = True  # no weight decay on norms, biases and position tables (Swin recipe)


@dataclass(frozen=True, kw_only=True)
class ScheduleConfig:
    """Per-iteration schedule: linear warm-up from warmup_factor * lr over warmup_epochs, then cosine down to
    min_lr_factor * lr."""

    name: str = "cosine"  # cosine | step | constant
    warmup_epochs: float = 0.0
    warmup_factor: float = 0.1
    min_lr_factor: float = 0.0
    milestones: tuple[int, ...] = ()  # epochs, for "step"
    gamma: float = 0.1


@dataclass(frozen=True, kw_only=True)
class LossConfig:
    """name: "ce" or "focal". class_weights: "none" or "sqrt" (w_c = 1/sqrt(N_c + 1), AIM).
    sampler: "none" or "sqrt" (square-root-smoothed class sampling). semantic_weight > 0 adds the orthogonal
    semantic embedding loss with anchors "orthogonal" (QR of a seeded matrix) or "text" (class-name embeddings)."""

    name: str = "ce"
    gamma: float = 2.0
    class_weights: str = "none"
    label_smoothing: float = 0.0
    sampler: str = "none"
    semantic_weight: float = 0.0
    semantic_anchors: str = "orthogonal"
    semantic_dim: int = 0  # 0 = the model's pre-classifier feature size


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """Loop settings. accelerator/devices/strategy go to Lightning (``--devices 8 --strategy ddp`` for many GPUs)."""

    epochs: int = 30
    batch_size: int = 32
    num_workers: int = 0
    grad_clip: float = 0.0
    precision: str = "auto"  # auto = bf16-mixed on GPU, 32 on CPU
    accelerator: str = "auto"
    devices: str = "auto"
    strategy: str = "auto"
    val_every: int = 1
    select: str = "last"  # which weights predict: "last" epoch or "best" val top-1
    test_average: str = "prob"  # how test views (clips x flip) are averaged: "prob" or "logit"
    # test views of the per-epoch validation only (e.g. {num_test_clips: 1, test_crops: 1}: mmaction2 validates Video
    # Swin on one clip while testing on 12 views); the predictions written after training use the run's own
    val_views: dict = field(default_factory=dict)
    limit_train_batches: float = 1.0  # fraction or count, for smoke tests
    # preds_train.npz and the train row of metrics.json; off saves a full decode of the train split (video branches)
    predict_train: bool = True
    deterministic: bool = True

    def __post_init__(self) -> None:
        if self.epochs < 1:  # 0 epochs would write an untrained model as a finished run
            raise ValueError(f"train.epochs must be at least 1, got {self.epochs}")


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """A whole training run. ``input`` and ``model`` are the branch's own config dataclasses, kept as dicts here
    and validated by the branch."""

    branch: str
    dataset: str = ""
    seed: int = 0
    input: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)
    optim: OptimConfig = field(default_factory=OptimConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    init_from: str = ""

    def to_dict(self) -> dict:
        return _plain(dataclasses.asdict(self))

    def save(self, path: str | Path) -> None:
        from microgesture.atomic import write_text

        write_text(path, yaml.safe_dump(self.to_dict(), sort_keys=False))


def _plain(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    return x


def parse_overrides(items: list[str] | None) -> dict:
    """``["train.epochs=3", "input.layout=mmg36"]`` -> nested dict; values parsed as YAML (numbers, lists, bools)."""
    out: dict = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--set expects key=value, got {item!r}")
        key, raw = item.split("=", 1)
        value = yaml.safe_load(raw) if raw != "" else ""
        node = out
        parts = key.strip().split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = value
    return out


def merge(base: dict, over: dict) -> dict:
    """Deep merge of plain dicts (``over`` wins); lists are replaced, not appended."""
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def build_dataclass(cls: type, values: dict, *, where: str, base: Any = None) -> Any:
    """Instantiate a (frozen) config dataclass from a dict, converting lists to tuples and rejecting unknown keys.

    A field whose default is itself a config dataclass (e.g. an input's ``geometry``) takes a dict of the keys to
    change: they override that default, and unknown keys fail the same way. ``base``: an instance whose values
    replace the class defaults (used for those nested fields).
    """
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ValueError(f"unknown key(s) in {where}: {', '.join(unknown)}; known: {', '.join(sorted(names))}")
    kw = {}
    for k, v in values.items():
        default = getattr(base, k) if base is not None else _default(names[k])
        if isinstance(v, dict) and dataclasses.is_dataclass(default):
            v = build_dataclass(type(default), v, where=f"{where}.{k}", base=default)
        _check_type(cls, k, v, where)
        kw[k] = tuple(v) if isinstance(v, list) else v
    return dataclasses.replace(base, **kw) if base is not None else cls(**kw)


_SCALARS = {int: (int,), float: (int, float), bool: (bool,)}


def _check_type(cls: type, key: str, value: Any, where: str) -> None:
    """A number or flag field given something else (``train.epochs=abc``) fails here, naming the key, not deep in
    the training loop."""
    try:
        want = typing.get_type_hints(cls).get(key)
    except (NameError, TypeError):  # an annotation that does not resolve: nothing to check against
        return
    ok = _SCALARS.get(want)
    if ok and (not isinstance(value, ok) or (want is not bool and isinstance(value, bool))):
        kind = {int: "an integer", float: "a number", bool: "true or false"}[want]
        raise ValueError(f"{where}.{key}: expected {kind}, got {value!r}")


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def to_plain(obj: Any) -> Any:
    """A config dataclass (nested ones included) as plain YAML-able dicts and lists."""
    return _plain(dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) else obj)


def from_dict(d: dict) -> RunConfig:
    """A RunConfig from a plain (YAML) dict."""
    d = dict(d)
    if "branch" not in d:
        raise ValueError("config has no 'branch'")
    sub = {
        "optim": OptimConfig,
        "schedule": ScheduleConfig,
        "loss": LossConfig,
        "train": TrainConfig,
    }
    kw: dict = {}
    for k, v in d.items():
        if k in sub:
            kw[k] = build_dataclass(sub[k], v or {}, where=k)
        elif k in ("branch", "dataset", "seed", "input", "model", "init_from"):
            kw[k] = v if v is not None else ({} if k in ("input", "model") else v)
        else:
            raise ValueError(f"unknown config section {k!r}")
    return RunConfig(**kw)


def load_yaml(path: str | Path) -> dict:
    p = Path(path)
    try:
        d = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as e:
        raise ValueError(f"{p}: invalid YAML ({e})") from None
    if not isinstance(d, dict):
        raise ValueError(f"{p}: expected a mapping at the top level")
    return d
