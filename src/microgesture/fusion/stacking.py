"""The stacking baseline: a classifier on the models' concatenated val log-probabilities (AIM reports a
LightGBM stacker overfitting, ~56% vs 68%)."""

from __future__ import annotations

import numpy as np

from microgesture.fusion.config import FusionError
from microgesture.predictions import Predictions


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


def stack(
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
