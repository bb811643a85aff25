"""Joining the models' predictions and fusing them with one method (:func:`fuse`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from microgesture.fusion.config import AIM_TAU, METHODS, WEIGHT_PRESETS, FusionConfig, FusionError, FusionResult
from microgesture.fusion.search import EPS, fit_temperature, search_weights
from microgesture.fusion.stacking import stack
from microgesture.predictions import Predictions, PredictionsError, align


def check_inputs(
    val: list[Predictions] | None, test: list[Predictions] | None
) -> tuple[list[Predictions] | None, list[Predictions] | None]:
    """Join each split's files by clip id and check that val file i and test file i are the same model.

    Raises:
        PredictionsError: ids, labels or classes do not line up (names the file and the first offending id).
        FusionError: different numbers of val and test files, or a val/test pair whose ``meta['branch']`` differ.
    """
    if not val and not test:
        raise FusionError("no predictions given (need --val and/or --test files)")
    if val and test:
        if len(val) != len(test):
            raise FusionError(f"{len(val)} val files but {len(test)} test files; give them in the same model order")
        for v, t in zip(val, test, strict=True):
            if v.classes != t.classes:
                raise PredictionsError(f"{t.source or 'test predictions'}: class list differs from {v.source}")
            bv, bt = v.meta.get("branch"), t.meta.get("branch")
            if bv and bt and bv != bt:
                raise FusionError(f"{v.source} (branch {bv!r}) and {t.source} (branch {bt!r}) are not the same model; "
                                  "give val and test files in the same model order")
    return (align(val) if val else None), (align(test) if test else None)


def model_names(preds: list[Predictions], names: list[str] | None = None) -> tuple[str, ...]:
    """``names`` if given, else each file's ``meta['branch']`` or file stem, made unique."""
    if names:
        if len(names) != len(preds):
            raise FusionError(f"{len(names)} names for {len(preds)} models")
        if len(set(names)) != len(names):
            raise FusionError(f"model names must be unique: {', '.join(names)}")
        return tuple(names)
    out: list[str] = []
    for i, p in enumerate(preds):
        base = str(p.meta.get("branch") or (Path(p.source).stem if p.source else f"model{i}"))
        name, k = base, 2
        while name in out:
            name, k = f"{base}#{k}", k + 1
        out.append(name)
    return tuple(out)


def resolve_weights(weights: tuple[float, ...] | str, names: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """Per-model weights (normalised to sum 1) from explicit values or a preset name, and notes for the record."""
    notes: list[str] = []
    if isinstance(weights, str):
        if weights not in WEIGHT_PRESETS:
            raise FusionError(f"unknown weights preset {weights!r} (presets: {', '.join(WEIGHT_PRESETS)})")
        preset = WEIGHT_PRESETS[weights]
        unknown = [n for n in names if n not in preset]
        if unknown:
            raise FusionError(f"weights preset {weights!r} has no weight for model {unknown[0]!r}; expected model "
                              f"names (--names): {', '.join(preset)}")
        absent = [n for n in preset if n not in names]
        if absent:
            notes.append(f"preset {weights!r}: models absent from the inputs: {', '.join(absent)}")
        w = np.array([preset[n] for n in names], dtype=np.float64)
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (len(names),):
            raise FusionError(f"{len(w)} weights for {len(names)} models")
    if (w < 0).any() or w.sum() <= 0:
        raise FusionError(f"weights must be >= 0 with a positive sum, got {w.tolist()}")
    return w / w.sum(), notes


def _as_predictions(probs: np.ndarray, ref: Predictions, meta: dict) -> Predictions:
    logits = np.log(np.clip(probs, EPS, None)).astype(np.float32)
    return Predictions(ref.clip_ids, logits, ref.labels, ref.classes, meta)


def _weighted(preds: list[Predictions] | None, weights: np.ndarray, taus: np.ndarray) -> np.ndarray | None:
    if not preds:
        return None
    return sum(w * p.probs(t) for w, p, t in zip(weights, preds, taus, strict=True))


def _has_labels(preds: list[Predictions] | None) -> bool:
    return bool(preds) and bool((preds[0].labels >= 0).any())


def _weights_and_taus(method: str, cfg: FusionConfig, val: list[Predictions] | None, nm: tuple[str, ...],
                      labelled: bool, params: dict) -> tuple[np.ndarray, np.ndarray]:
    """Per-model weights and temperatures of a ``mean``, ``weighted`` or ``temperature`` fusion; records what was
    chosen (and notes) in ``params``."""
    m = len(nm)
    taus = np.ones(m)
    if method == "mean":
        weights = np.full(m, 1.0 / m)
    elif method == "weighted":
        if cfg.weights is None:
            raise FusionError("weighted fusion needs --weights (values or a preset such as mm-gesture)")
        weights, notes = resolve_weights(cfg.weights, nm)
        params["notes"] += notes
    else:  # temperature
        tau = cfg.tau if cfg.tau is not None else ("fit" if labelled else AIM_TAU)
        if tau == "fit":
            if not labelled:
                raise FusionError("--tau fit needs a labelled val split; give a number (AIM uses 2.5)")
            taus = np.array([fit_temperature(p.logits, p.labels) for p in val])
        else:
            taus = np.full(m, float(tau))
        if not labelled:
            params["notes"].append(f"no labelled val split: tau {float(tau)} and no weight search")
        if cfg.weights is not None:
            weights, notes = resolve_weights(cfg.weights, nm)
            params["notes"] += notes
            params["search"] = "fixed weights"
        elif labelled:
            weights, best, how = search_weights([p.probs(t) for p, t in zip(val, taus, strict=True)],
                                                val[0].labels, objective=cfg.objective, step=cfg.step,
                                                max_grid_models=cfg.max_grid_models, tolerance=cfg.tolerance,
                                                tie_break=cfg.tie_break)
            params.update(search=how, objective=cfg.objective, val_objective=best)
        else:
            weights = np.full(m, 1.0 / m)
            params["search"] = "uniform weights (no labelled val)"
        params["taus"] = dict(zip(nm, taus.tolist(), strict=True))
    params["weights"] = dict(zip(nm, weights.tolist(), strict=True))
    return weights, taus


def fuse(
    val: list[Predictions] | None,
    test: list[Predictions] | None,
    *,
    method: str = "temperature",
    config: FusionConfig | None = None,
    names: list[str] | None = None,
) -> FusionResult:
    """Fuse the models' val and test predictions with ``method`` (one of :data:`METHODS`).

    Val and test lists hold the same models in the same order (either may be None). Parameters (weights, temperatures,
    stacker) are chosen on the labelled val split and applied unchanged to test.
    """
    cfg = config or FusionConfig()
    if method not in METHODS:
        raise FusionError(f"unknown fusion method {method!r} (methods: {', '.join(METHODS)})")
    val, test = check_inputs(val, test)
    ref = val or test
    assert ref is not None
    nm = model_names(ref, names)
    labelled = _has_labels(val)
    params: dict = {"method": method, "names": list(nm), "notes": []}
    if method == "stacking":
        if not labelled:
            raise FusionError("stacking needs a labelled val split (--val files with labels)")
        pv, pt, info = stack(val, test, stacker=cfg.stacker, folds=cfg.cv_folds, seed=cfg.seed)
        params.update(info)
    else:
        weights, taus = _weights_and_taus(method, cfg, val, nm, labelled, params)
        pv, pt = _weighted(val, weights, taus), _weighted(test, weights, taus)

    def meta(split: str, preds: list[Predictions]) -> dict:
        datasets = {p.meta.get("dataset") for p in preds} - {None}
        return {"branch": f"fusion:{method}", "split": split, "dataset": datasets.pop() if len(datasets) == 1 else None,
                "inputs": [p.source for p in preds], **{k: v for k, v in params.items() if k != "notes"}}

    return FusionResult(
        method=method,
        names=nm,
        val=_as_predictions(pv, val[0], meta("val", val)) if val else None,
        test=_as_predictions(pt, test[0], meta("test", test)) if test else None,
        params=params,
    )
