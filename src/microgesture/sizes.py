"""CPU-sized variants of the branches (``microgesture train --size cpu``) and the advice given when a recipe sized for
GPUs trains on a CPU.

The CPU sizes are the demo's (``configs/demo.yaml``, sized for 2 CPU cores): for a branch that the demo trains, its
``input``, ``model``, ``optim`` and ``train`` sections (over the demo's ``branch_defaults``) become a layer between the
branch's recipe and the user's config file. docs/cost.md lists their cost and accuracy on the synthetic benchmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from microgesture.config import merge

__all__ = ["SIZES", "SizeError", "cpu_sizes", "size_layer", "is_cpu_sized", "cpu_advice"]

SIZES = ("recipe", "cpu")
CPU_SOURCE = Path(__file__).parent / "configs" / "demo.yaml"
# a branch the demo does not train, sized like its sibling (same model and input, other channels)
_SAME_AS = {"heatmap-posec3d-limb": "heatmap-posec3d-joint"}
_SECTIONS = ("input", "model", "optim", "train")
LONG_RUN_S = 600  # a branch without a CPU variant gets advice only when the estimate is longer than this


class SizeError(ValueError):
    """An unknown size, or a branch that has no CPU-sized variant."""


def cpu_sizes(source: Path = CPU_SOURCE) -> dict[str, dict]:
    """Branch name -> the config sections of its CPU-sized variant."""
    d = yaml.safe_load(source.read_text()) or {}
    defaults = d.get("branch_defaults") or {}
    out: dict[str, dict] = {}
    for entry in (d.get("branches") or {}).values():
        sections = {k: v for k, v in merge(defaults, entry).items() if k in _SECTIONS}
        out.setdefault(entry["branch"], sections)
    for name, like in _SAME_AS.items():
        if like in out:
            out.setdefault(name, out[like])
    return out


def size_layer(branch: str, size: str) -> dict:
    """The config layer of ``size`` for ``branch``: empty for ``recipe``, the CPU-sized sections for ``cpu``."""
    if size == "recipe":
        return {}
    if size != "cpu":
        raise SizeError(f"--size {size!r}: expected one of {', '.join(SIZES)}")
    sizes = cpu_sizes()
    if branch not in sizes:
        raise SizeError(f"--size cpu: branch {branch!r} has no CPU-sized variant (branches with one: "
                        f"{', '.join(sorted(sizes))}); cut its work with --set train.epochs=N instead")
    return sizes[branch]


def _matches(have: dict, want: dict) -> bool:
    return all(_matches(have.get(k) or {}, v) if isinstance(v, dict) else have.get(k) == v for k, v in want.items())


def is_cpu_sized(cfg: Any) -> bool:
    """True when ``cfg`` (a RunConfig) uses the input and model sizes of its branch's CPU variant."""
    sizes = cpu_sizes().get(cfg.branch)
    if sizes is None:
        return False
    d = cfg.to_dict()
    return all(_matches(d.get(k) or {}, sizes.get(k) or {}) for k in ("input", "model"))


@dataclass(frozen=True)
class _CpuAdvice:
    # A module-level callable, not a closure: the clock holding it travels to DDP's spawned processes by pickle.
    branch: str
    has_variant: bool

    def __call__(self, total_s: float) -> str | None:
        if self.has_variant:
            return (f"{self.branch}'s recipe is sized for GPUs; on a CPU, `--size cpu` trains its CPU-sized variant "
                    f"(the demo's sizes in configs/demo.yaml; cost and accuracy in docs/cost.md)")
        if total_s > LONG_RUN_S:
            return (f"{self.branch} has no CPU-sized variant; on a CPU, cut the run with --set train.epochs=N or "
                    f"train a branch that has one (--size cpu: {', '.join(sorted(cpu_sizes()))})")
        return None


def cpu_advice(cfg: Any, *, on_gpu: bool) -> _CpuAdvice | None:
    """``advice(estimated_seconds)`` for :class:`microgesture.clock.RunClock`: a line saying that the recipe is sized
    for GPUs and how to make the run smaller, or None (on a GPU, or already CPU-sized)."""
    if on_gpu or is_cpu_sized(cfg):
        return None
    return _CpuAdvice(branch=cfg.branch, has_variant=cfg.branch in cpu_sizes())
