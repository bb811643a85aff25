"""Run configs of a branch, and the error of a run that cannot start."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from microgesture.branches import get_branch
from microgesture.config import RunConfig, from_dict, merge, to_plain

__all__ = ["TrainingError", "resolve_config", "with_overrides"]


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


def with_overrides(cfg: RunConfig, **sections: Any) -> RunConfig:
    """A copy of ``cfg`` with whole sections replaced (tests and the runner use it)."""
    return replace(cfg, **sections)
