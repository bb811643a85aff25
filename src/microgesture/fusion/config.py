"""Fusion settings, presets and errors."""

from __future__ import annotations

from dataclasses import dataclass, field

from microgesture.predictions import Predictions

METHODS = ("mean", "weighted", "temperature", "stacking")
AIM_TAU = 2.5  # AIM: softmax(logits / 2.5) per model (docs/recipes.md: used when there is no val split)
# MM-Gesture final ensemble (docs/recipes.md) 0.2 x each of the five Video Swin models + 0.5 x each RGBPose-Conv3D model
# (each RGBPose term is that branch's own rgb/pose probability average).
MM_GESTURE_WEIGHTS: dict[str, float] = {
    "swin-rgb": 0.2,
    "swin-taylor": 0.2,
    "swin-depth": 0.2,
    "swin-flow": 0.2,
    "swin-rgb-ma52": 0.2,  # RGB* : Swin-S pre-trained on MA-52
    "rgbpose-joint": 0.5,
    "rgbpose-limb": 0.5,
}
WEIGHT_PRESETS: dict[str, dict[str, float]] = {"mm-gesture": MM_GESTURE_WEIGHTS}


class FusionError(ValueError):
    """Fusion inputs or settings that cannot work together; the message says which file or option."""


@dataclass(frozen=True)
class FusionConfig:
    """Settings of one fusion run.

    Attributes:
        weights: explicit per-model weights, a preset name (``mm-gesture``), or None (searched on val for
            ``temperature``; required for ``weighted``). Weights are normalised to sum 1 (argmax unchanged).
        tau: ``"fit"`` (per-model temperature by NLL on val), a shared float, or None = ``"fit"`` when val has labels
            and 2.5 (AIM) otherwise.
        objective: what the weight search maximises on val: ``top1`` or ``macro_f1``.
        step: simplex grid step for the weight search (must divide 1).
        tolerance: val-score margin within which weightings tie: ``"se"`` (one binomial standard error of the best
            val score, the default: the search overfits a small val split otherwise) or a number (0 = the plain
            maximum, ties by likelihood).
        tie_break: which tied weighting wins: ``likelihood`` (the lowest NLL of the fused val probabilities, then
            the nearest equal weights; default) or ``equal`` (the nearest equal weights, then NLL: shrinkage toward
            the mean fusion). docs/benchmarks.md compares them.
        max_grid_models: full simplex grid up to this many models, coordinate ascent above.
        stacker: ``logreg`` (scikit-learn multinomial logistic regression) or ``lightgbm`` (optional extra).
        cv_folds: folds of the cross-validated val score of the stacker.
        seed: seed of the stacker's folds and model.
    """

    weights: tuple[float, ...] | str | None = None
    tau: float | str | None = None
    objective: str = "top1"
    step: float = 0.05
    tolerance: float | str = "se"
    tie_break: str = "likelihood"
    max_grid_models: int = 4
    stacker: str = "logreg"
    cv_folds: int = 5
    seed: int = 0

    def __post_init__(self) -> None:
        if self.objective not in ("top1", "macro_f1"):
            raise FusionError(f"objective must be top1 or macro_f1, got {self.objective!r}")
        if isinstance(self.tau, str) and self.tau != "fit":
            raise FusionError(f"tau must be a number or 'fit', got {self.tau!r}")
        if isinstance(self.tau, (int, float)) and not self.tau > 0:
            raise FusionError(f"tau must be > 0, got {self.tau}")
        n = round(1.0 / self.step) if self.step > 0 else 0
        if n < 1 or abs(n * self.step - 1.0) > 1e-9:
            raise FusionError(f"step must divide 1 (e.g. 0.05, 0.1), got {self.step}")
        if self.tolerance != "se" and (isinstance(self.tolerance, str) or not self.tolerance >= 0):
            raise FusionError(f"tolerance must be a number >= 0 or 'se', got {self.tolerance!r}")
        if self.tie_break not in ("likelihood", "equal"):
            raise FusionError(f"tie_break must be likelihood or equal, got {self.tie_break!r}")
        if self.stacker not in ("logreg", "lightgbm"):
            raise FusionError(f"stacker must be logreg or lightgbm, got {self.stacker!r}")


@dataclass
class FusionResult:
    """One fusion: fused val/test predictions (None where that split was not given) and JSON-able parameters."""

    method: str
    names: tuple[str, ...]
    val: Predictions | None
    test: Predictions | None
    params: dict = field(default_factory=dict)
