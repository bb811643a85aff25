"""Run configs of a branch, and the error of a run that cannot start."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from microgesture.branches import get_branch
from microgesture.config import RunConfig, from_dict, merge, to_plain

__all__ = ["TrainingError", "resolve_config", "with_overrides", "with_test_views", "TEST_VIEW_KEYS"]

# Input fields that only choose the test views (temporal clips, the flipped copy, spatial crops): changing them at
# evaluation time reads a trained model differently without touching what it was trained on.
TEST_VIEW_KEYS = ("num_test_clips", "flip_test", "test_crops")


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
    cfg = replace(cfg, input=to_plain(b.input_config(cfg.input)), model=to_plain(b.model_config(cfg.model)))
    if cfg.train.val_views:
        with_test_views(cfg, cfg.train.val_views, "train.val_views")
    return cfg


def with_overrides(cfg: RunConfig, **sections: Any) -> RunConfig:
    """A copy of ``cfg`` with whole sections replaced (tests and the runner use it)."""
    return replace(cfg, **sections)


def with_test_views(cfg: RunConfig, test_views: dict, where: str | Path) -> RunConfig:
    """``cfg`` with its input's test views replaced; a key that is not a test view, or that this branch's input does
    not have (``test_crops`` of a skeleton branch), or a value it cannot take, is refused naming ``where`` (the
    checkpoint, or ``train.val_views``)."""
    branch = get_branch(cfg.branch)
    known = set(branch.input_cls.__dataclass_fields__)
    bad = sorted(k for k in test_views if k not in TEST_VIEW_KEYS or k not in known)
    if bad:
        usable = ", ".join(k for k in TEST_VIEW_KEYS if k in known)
        raise TrainingError(f"{where}: {', '.join(bad)} is not a test view of branch {cfg.branch} "
                            f"(test views: {usable})")
    values = {**cfg.input, **test_views}
    try:  # a value the run's input cannot take (3 RGB crops without resize_short), before anything is built
        branch.input_config(values)
    except ValueError as e:
        raise TrainingError(f"{where}: {e}") from None
    return replace(cfg, input=values)
