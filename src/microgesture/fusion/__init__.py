"""Late fusion of branch predictions: plain mean, fixed weights (MM-Gesture), temperature + searched weights (AIM),
and a stacking baseline.

Every method works on :class:`~microgesture.predictions.Predictions` lists joined by clip id (:func:`check_inputs`
refuses files whose ids, labels or class lists differ, naming the file and the first offending id). A fused result is
itself a ``Predictions`` whose ``logits`` are the log of the fused probabilities, so ``softmax(logits)`` gives them
back and every consumer of the predictions contract (metrics, pseudo-labels, submissions) reads fusions as branches.

Sources (docs/recipes.md): AIM fuses softmax(logits / 2.5) per model with weights grid-searched on val and reports a
LightGBM stacker overfitting (~56% vs 68%); MM-Gesture's final ensemble is 0.2 x each of five Swin models +
0.5 x (RGB+J) + 0.5 x (RGB+L) over probabilities. microgesture's default (Decisions): per-model temperature fitted by
NLL and weights searched on val; tau = 2.5 when there is no labelled val split.

Modules: :mod:`.config` (settings, presets, errors), :mod:`.search` (temperature fit, weight search), :mod:`.stacking`,
:mod:`.core` (input checks and :func:`fuse`), :mod:`.files` (:func:`fuse_files`: load, fuse, write; CLI helpers).
"""

from microgesture.fusion.config import (
    AIM_TAU,
    METHODS,
    MM_GESTURE_WEIGHTS,
    WEIGHT_PRESETS,
    FusionConfig,
    FusionError,
    FusionResult,
)
from microgesture.fusion.core import check_inputs, fuse, model_names, resolve_weights
from microgesture.fusion.files import fuse_files, parse_tau, parse_weights, results_table
from microgesture.fusion.search import fit_temperature, search_weights

__all__ = ["METHODS", "AIM_TAU", "MM_GESTURE_WEIGHTS", "WEIGHT_PRESETS", "FusionConfig", "FusionResult", "FusionError",
           "check_inputs", "model_names", "resolve_weights", "parse_weights", "fit_temperature", "search_weights",
           "fuse", "fuse_files", "results_table", "parse_tau"]
