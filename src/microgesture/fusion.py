"""Late fusion of branch predictions: plain mean, fixed weights (MM-Gesture), temperature + searched weights (AIM),
and a stacking baseline.

Every method works on :class:`~microgesture.predictions.Predictions` lists joined by clip id (:func:`check_inputs`
refuses
files whose ids, labels or class lists differ, naming the file and the first offending id). A fused result is itself
a ``Predictions`` whose ``logits`` are the log of the fused probabilities, so ``softmax(logits)`` gives them back and
every consumer of the predictions contract (metrics, pseudo-labelling, submissions) reads fusions like branches.

Sources (REFERENCE.md): AIM fuses softmax(logits / 2.5) per model with weights grid-searched on val and reports a
LightGBM stacker overfitting (~56% vs 68%); MM-Gesture's final ensemble is 0.2 x each of five Swin models +
0.5 x (RGB+J) + 0.5 x (RGB+L) over probabilities. microgesture's default (Decisions): per-model temperature fitted by
NLL and
weights searched on val; tau = 2.5 when there is no labelled val split.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from microgesture.atomic import write_text
from microgesture.metrics import classification_report
from microgesture.predictions import Predictions, PredictionsError, align, load_predictions, save_predictions

__all__ = ["METHODS", "AIM_TAU", "MM_GESTURE_WEIGHTS", "WEIGHT_PRESETS", "FusionConfig", "FusionResult", "FusionError",
           "check_inputs", "model_names", "resolve_weights", "parse_weights", "fit_temperature", "search_weights",
           "fuse", "fuse_files", "results_table", "parse_tau"]

METHODS = ("mean", "weighted", "temperature", "stacking")
AIM_TAU = 2.5  # AIM: softmax(logits / 2.5) per model (REFERENCE.md, Decisions: used when there is no val split)
# MM-Gesture final ensemble (REFERENCE.md): 0.2 x each of the five Video Swin models + 0.5 x each RGBPose-Conv3D model
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
_EPS = 1e-12
log = logging.getLogger(__name__)


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
        max_grid_models: full simplex grid up to this many models, coordinate ascent above.
        stacker: ``logreg`` (scikit-learn multinomial logistic regression) or ``lightgbm`` (optional extra).
        cv_folds: folds of the cross-validated val score of the stacker.
        seed: seed of the stacker's folds and model.
    """

    weights: tuple[float, ...] | str | None = None
    tau: float | str | None = None
    objective: str = "top1"
    step: float = 0.05
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


# -- inputs ------------------------------------------------------------------------------------------------------------
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


# -- temperature and weight search -------------------------------------------------------------------------------------
def _nll(logits: np.ndarray, labels: np.ndarray, tau: float) -> float:
    z = logits / tau
    z = z - z.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=1))
    return float((lse - z[np.arange(len(labels)), labels]).mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray, *, bounds: tuple[float, float] = (0.05, 20.0)) -> float:
    """Temperature minimising the NLL of softmax(logits / tau) on the labelled rows (label >= 0).

    NLL is convex in 1/tau, hence unimodal in log tau: a 41-point grid over log tau brackets the minimum and a golden
    section search refines it.
    """
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels)
    keep = labels >= 0
    if not keep.any():
        raise FusionError("cannot fit a temperature: no labelled validation clips")
    z, y = logits[keep], labels[keep]
    grid = np.linspace(np.log(bounds[0]), np.log(bounds[1]), 41)
    vals = [_nll(z, y, float(np.exp(g))) for g in grid]
    i = int(np.argmin(vals))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    r = (np.sqrt(5.0) - 1.0) / 2.0
    c, d = b - r * (b - a), a + r * (b - a)
    fc, fd = _nll(z, y, float(np.exp(c))), _nll(z, y, float(np.exp(d)))
    for _ in range(40):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - r * (b - a)
            fc = _nll(z, y, float(np.exp(c)))
        else:
            a, c, fc = c, d, fd
            d = a + r * (b - a)
            fd = _nll(z, y, float(np.exp(d)))
    best = (a + b) / 2.0
    return float(np.exp(best)) if _nll(z, y, float(np.exp(best))) <= vals[i] else float(np.exp(grid[i]))


def _scores(pred: np.ndarray, labels: np.ndarray, k: int, objective: str) -> np.ndarray:
    """Objective for each row of ``pred`` (B, N) of class indices against ``labels`` (N,)."""
    if objective == "top1":
        return (pred == labels[None]).mean(axis=1)
    out = np.empty(len(pred))
    for b, p in enumerate(pred):  # macro-F1 over classes present in labels or predictions, as microgesture.metrics
        cm = np.bincount(labels * k + p, minlength=k * k).reshape(k, k)
        tp, sup, prd = np.diag(cm), cm.sum(axis=1), cm.sum(axis=0)
        denom = sup + prd
        f1 = np.divide(2.0 * tp, denom, out=np.zeros(k), where=denom > 0)
        out[b] = f1[denom > 0].mean()
    return out


def _evaluate(probs: np.ndarray, labels: np.ndarray, weights: np.ndarray, objective: str) -> np.ndarray:
    """Scores of weight vectors ``weights`` (B, M) fusing ``probs`` (M, N, K); chunked to bound memory."""
    out = []
    for s in range(0, len(weights), 64):
        fused = np.einsum("bm,mnk->bnk", weights[s : s + 64], probs)
        out.append(_scores(fused.argmax(axis=2), labels, probs.shape[2], objective))
    return np.concatenate(out)


def _simplex_grid(m: int, n: int) -> np.ndarray:
    """All weight vectors of m non-negative multiples of 1/n summing to 1 (stars and bars), (C(n+m-1, m-1), m)."""
    rows = []
    for bars in itertools.combinations(range(n + m - 1), m - 1):
        edges = (-1, *bars, n + m - 1)
        rows.append([edges[i + 1] - edges[i] - 1 for i in range(m)])
    return np.asarray(rows, dtype=np.float64) / n


def _pick(cands: np.ndarray, scores: np.ndarray, py: np.ndarray) -> int:
    """Best score; ties (within 1e-12) go to the lowest NLL of the fused probabilities, then toward uniform weights.

    ``py`` (M, N) holds each model's probability of the true class. Top-1 is flat over wide regions of the simplex;
    the tie-break by likelihood moves weight off a model that adds nothing (a near-uniform branch would otherwise
    get its share just for being harmless to val top-1), and uniform settles exact ties such as identical models.
    """
    m = cands.shape[1]
    tied = np.flatnonzero(scores >= scores.max() - 1e-12)
    nll = -np.log(np.clip(cands[tied] @ py, _EPS, None)).mean(axis=1)
    dist = np.linalg.norm(cands[tied] - 1.0 / m, axis=1)
    return int(tied[np.lexsort((dist, np.round(nll, 12)))[0]])


def search_weights(
    probs: list[np.ndarray], labels: np.ndarray, *, objective: str = "top1", step: float = 0.05,
    max_grid_models: int = 4,
) -> tuple[np.ndarray, float, str]:
    """Weights over the simplex maximising ``objective`` of the fused argmax on the labelled rows.

    Args:
        probs: one (N, K) probability array per model.
        labels: (N,) ground truth, -1 rows ignored.

    Returns:
        (weights (M,), best score, search used). The simplex vertices (single models) are always candidates, so the
        result is never worse on val than the best single model.
    """
    labels = np.asarray(labels)
    keep = labels >= 0
    if not keep.any():
        raise FusionError("cannot search weights: no labelled validation clips")
    p = np.stack([np.asarray(x, dtype=np.float64)[keep] for x in probs])
    y = labels[keep]
    py = p[:, np.arange(len(y)), y]  # (M, N): each model's probability of the true class, for the tie-break
    m, n = len(probs), round(1.0 / step)
    if m == 1:
        return np.ones(1), float(_evaluate(p, y, np.ones((1, 1)), objective)[0]), "single model"
    if m <= max_grid_models:
        grid = _simplex_grid(m, n)
        s = _evaluate(p, y, grid, objective)
        i = _pick(grid, s, py)
        return grid[i], float(s[i]), f"simplex grid, step {step} ({len(grid)} points)"
    # coordinate ascent from the best of {uniform, each single model}; a move is taken only if it raises the score,
    # or keeps it and lowers the fused NLL, so the search cannot cycle.
    def nll(w: np.ndarray) -> float:
        return float(-np.log(np.clip(w @ py, _EPS, None)).mean())

    start = np.vstack([np.full(m, 1.0 / m), np.eye(m)])
    s = _evaluate(p, y, start, objective)
    i = _pick(start, s, py)
    w, best = start[i], float(s[i])
    values = np.arange(n + 1) / n
    for _ in range(50):
        moved = False
        for j in range(m):
            rest = np.delete(w, j)
            rest = rest / rest.sum() if rest.sum() > 0 else np.full(m - 1, 1.0 / (m - 1))
            cands = np.array([np.insert(rest * (1.0 - v), j, v) for v in values])
            cs = _evaluate(p, y, cands, objective)
            k = _pick(cands, cs, py)
            better = cs[k] > best + 1e-12 or (cs[k] >= best - 1e-12 and nll(cands[k]) < nll(w) - 1e-9)
            if better:
                w, best, moved = cands[k], max(best, float(cs[k])), True
        if not moved:
            break
    return w, best, f"coordinate ascent, step {step}"


# -- fusion ---------------------------------------------------------------------------------------------------------
def _as_predictions(probs: np.ndarray, ref: Predictions, meta: dict) -> Predictions:
    logits = np.log(np.clip(probs, _EPS, None)).astype(np.float32)
    return Predictions(ref.clip_ids, logits, ref.labels, ref.classes, meta)


def _weighted(preds: list[Predictions] | None, weights: np.ndarray, taus: np.ndarray) -> np.ndarray | None:
    if not preds:
        return None
    return sum(w * p.probs(t) for w, p, t in zip(weights, preds, taus, strict=True))


def _has_labels(preds: list[Predictions] | None) -> bool:
    return bool(preds) and bool((preds[0].labels >= 0).any())


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
    m = len(nm)
    labelled = _has_labels(val)
    params: dict = {"method": method, "names": list(nm), "notes": []}
    if method == "stacking":
        if not labelled:
            raise FusionError("stacking needs a labelled val split (--val files with labels)")
        pv, pt, info = _stack(val, test, stacker=cfg.stacker, folds=cfg.cv_folds, seed=cfg.seed)
        params.update(info)
    else:
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
                                                    max_grid_models=cfg.max_grid_models)
                params.update(search=how, objective=cfg.objective, val_objective=best)
            else:
                weights = np.full(m, 1.0 / m)
                params["search"] = "uniform weights (no labelled val)"
            params["taus"] = dict(zip(nm, taus.tolist(), strict=True))
        params["weights"] = dict(zip(nm, weights.tolist(), strict=True))
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


# -- stacking -------------------------------------------------------------------------------------------------------
def _stack_features(preds: list[Predictions]) -> np.ndarray:
    """(N, M*K) concatenated log-probabilities, floored at log(1e-6) so one over-confident model cannot dominate."""
    return np.concatenate([np.log(np.clip(p.probs(), 1e-6, None)) for p in preds], axis=1)


def _stacker(kind: str, seed: int):
    if kind == "logreg":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    try:
        import lightgbm
    except ImportError:
        raise FusionError("the lightgbm stacker needs LightGBM: pip install 'microgesture[lightgbm]'") from None
    return lightgbm.LGBMClassifier(n_estimators=200, learning_rate=0.05, num_leaves=15, min_child_samples=5,
                                   random_state=seed, verbose=-1)


def _fit_predict(kind: str, seed: int, x: np.ndarray, y: np.ndarray, xs: list[np.ndarray], k: int) -> list[np.ndarray]:
    """Fit on (x, y), return (len(xx), K) probabilities for each xx (classes absent from y get probability 0)."""
    present = np.unique(y)
    outs = [np.zeros((len(xx), k)) for xx in xs]
    if len(present) == 1:  # nothing to learn: a constant prediction
        for o in outs:
            o[:, present[0]] = 1.0
        return outs
    model = _stacker(kind, seed).fit(x, y)
    for o, xx in zip(outs, xs, strict=True):
        if len(xx):
            o[:, np.asarray(model.classes_, dtype=np.int64)] = model.predict_proba(xx)
    return outs


def _stack(
    val: list[Predictions], test: list[Predictions] | None, *, stacker: str, folds: int, seed: int
) -> tuple[np.ndarray, np.ndarray | None, dict]:
    """Stacking baseline: a classifier on the val features, applied to test.

    The val predictions returned are out-of-fold (K-fold cross-validation on the labelled val clips), because the
    stacker is fitted on val and its in-sample val score is optimistic; both scores are recorded.
    """
    from sklearn.model_selection import KFold

    k = val[0].num_classes
    xv, y = _stack_features(val), val[0].labels
    lab = np.flatnonzero(y >= 0)
    xt = _stack_features(test) if test else np.zeros((0, xv.shape[1]))
    pv_in, pt = _fit_predict(stacker, seed, xv[lab], y[lab], [xv, xt], k)
    pv = pv_in.copy()
    nf = min(folds, len(lab))
    if nf >= 2:
        for tr, te in KFold(n_splits=nf, shuffle=True, random_state=seed).split(lab):
            pv[lab[te]] = _fit_predict(stacker, seed, xv[lab[tr]], y[lab[tr]], [xv[lab[te]]], k)[0]
    in_sample = float((pv_in[lab].argmax(1) == y[lab]).mean())
    cv = float((pv[lab].argmax(1) == y[lab]).mean())
    info = {
        "stacker": stacker,
        "features": "concatenated log-probabilities of the models (M*K)",
        "cv_folds": nf,
        "val_top1_in_sample": in_sample,
        "val_top1_cv": cv,
        "val_note": f"stacking is fitted on val: the fused val predictions are {nf}-fold out-of-fold; the in-sample "
                    f"val top-1 ({100 * in_sample:.2f}%) is optimistic",
    }
    return pv, (pt if test else None), info


def _report(p: Predictions | None) -> dict | None:
    if p is None or not (p.labels >= 0).any():
        return None
    return classification_report(p.logits, p.labels, p.classes)


def fuse_files(
    val_paths: list[str | os.PathLike] | None,
    test_paths: list[str | os.PathLike] | None,
    *,
    methods: list[str],
    out: str | os.PathLike,
    config: FusionConfig | None = None,
    names: list[str] | None = None,
    overwrite: bool = False,
    tune_on_test: bool = False,
) -> dict:
    """Load, fuse with each of ``methods``, and write to ``out``.

    Refuses an ``out`` that holds a result (``metrics.json``, ``fusion.json``, ``fused_*.npz``: a fusion's or a run's)
    unless ``overwrite``, and "val" predictions of the test split (tuning weights and temperatures on test labels)
    unless ``tune_on_test``, which is then recorded in fusion.json and logged as a warning.

    Writes ``fused_<method>_<split>.npz`` (the predictions contract), ``metrics.json`` (classification_report of every
    single model and every fusion, per split where labels exist) and ``fusion.json`` (the chosen weights, temperatures
    and notes of each method; ``primary`` = the first method). Returns the metrics dict.
    """
    if not methods:
        raise FusionError("no fusion method given")
    cfg = config or FusionConfig()
    val = [load_predictions(p) for p in val_paths] if val_paths else None
    test = [load_predictions(p) for p in test_paths] if test_paths else None
    val, test = check_inputs(val, test)
    _refuse_test_as_val(val, test, tune_on_test)
    out = Path(out)
    old = [p for p in (out / "metrics.json", out / "fusion.json") if p.exists()] + sorted(out.glob("fused_*.npz"))
    if old and not overwrite:
        raise FusionError(f"{old[0]}: exists (a finished result in {out}); pass --overwrite to replace it, or "
                          f"choose another --out")
    ref = val or test
    assert ref is not None
    nm = model_names(ref, names)
    metrics: dict = {"names": list(nm), "models": {}, "fusions": {}}
    for i, name in enumerate(nm):
        metrics["models"][name] = {s: r for s, ps in (("val", val), ("test", test))
                                   if ps and (r := _report(ps[i])) is not None}
    record: dict = {"primary": methods[0], "names": list(nm), "config": asdict(cfg),
                    "inputs": {"val": [p.source for p in val or []], "test": [p.source for p in test or []]},
                    "tuned_on_test": bool(tune_on_test and val), "methods": {}}
    results = [fuse(val, test, method=method, config=cfg, names=list(nm)) for method in methods]  # all, then write
    for method, res in zip(methods, results, strict=True):
        files = {}
        for split, p in (("val", res.val), ("test", res.test)):
            if p is not None:
                files[split] = str(save_predictions(out / f"fused_{method}_{split}.npz", p))
        record["methods"][method] = {**res.params, "files": files}
        metrics["fusions"][method] = {s: r for s, p in (("val", res.val), ("test", res.test))
                                      if (r := _report(p)) is not None}
    written = {Path(f) for r in record["methods"].values() for f in r["files"].values()}
    for p in old:  # an earlier result's files that this one does not replace
        if p.suffix == ".npz" and p not in written:
            p.unlink()
    write_text(out / "metrics.json", json.dumps(metrics, indent=1) + "\n")
    write_text(out / "fusion.json", json.dumps(record, indent=2, default=float) + "\n")
    for method, r in record["methods"].items():
        for note in r.get("notes", []) + ([r["val_note"]] if "val_note" in r else []):
            log.warning("%s: %s", method, note)
    log.info("wrote %s: fused_<method>_<split>.npz, metrics.json, fusion.json", out)
    return metrics


def _refuse_test_as_val(val: list[Predictions] | None, test: list[Predictions] | None, allowed: bool) -> None:
    """Weights and temperatures searched on test labels make the test score meaningless: refuse, unless asked."""
    for p in val or []:
        split = p.meta.get("split")
        same = bool(test) and set(p.clip_ids.tolist()) == set(test[0].clip_ids.tolist())
        if split == "test" or same:
            why = "holds predictions of the test split" if split == "test" else "holds the same clips as --test"
            if not allowed:
                raise FusionError(f"{p.source or 'predictions'}: given as --val but {why}: weights and temperatures "
                                  "would be tuned on test labels; pass the val predictions, or --tune-on-test to do "
                                  "it knowingly (recorded in fusion.json)")
            log.warning("%s: --tune-on-test: weights and temperatures are tuned on test labels; the test scores "
                        "are optimistic", p.source or "predictions")
            return


def results_table(metrics: dict, *, title: str = "fusion"):
    """A rich Table of top-1 and macro-F1 (%) per model and fusion, per split with labels."""
    from rich.table import Table

    splits = [s for s in ("val", "test")
              if any(s in r for group in ("models", "fusions") for r in metrics[group].values())]
    t = Table(title=title)
    t.add_column("model / fusion")
    for s in splits:
        t.add_column(f"{s} top-1", justify="right")
        t.add_column(f"{s} macro-F1", justify="right")
    for group in ("models", "fusions"):
        for name, r in metrics[group].items():
            cells = []
            for s in splits:
                cells += [f"{100 * r[s]['top1']:.2f}", f"{100 * r[s]['macro_f1']:.2f}"] if s in r else ["-", "-"]
            t.add_row(name if group == "models" else f"[bold]{name}[/]", *cells)
    return t


def parse_tau(text: str | None) -> float | str | None:
    """``--tau``: None, ``"fit"`` or a number."""
    if text is None or text == "fit":
        return text
    try:
        return float(text)
    except ValueError:
        raise FusionError(f"--tau: expected a number or 'fit', got {text!r}") from None


def parse_weights(text: str) -> tuple[float, ...] | str:
    """``"0.2,0.2,0.5"`` -> floats; a preset name is returned as is."""
    if text in WEIGHT_PRESETS:
        return text
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise FusionError(f"--weights: expected comma-separated numbers or a preset "
                          f"({', '.join(WEIGHT_PRESETS)}), got {text!r}") from None
