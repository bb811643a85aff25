"""Per-model temperature by NLL, and the weight search over the simplex on labelled val predictions."""

from __future__ import annotations

import itertools
import logging

import numpy as np

from microgesture.fusion.config import FusionError
from microgesture.metrics import macro_f1
from microgesture.progress import track

EPS = 1e-12
log = logging.getLogger(__name__)


def _band(tolerance: float | str, best: float, n: int) -> float:
    """Score margin treated as a tie: ``tolerance`` itself, or one binomial standard error of ``best`` over n rows."""
    if tolerance == "se":
        return float(np.sqrt(best * (1.0 - best) / n))
    return float(tolerance)


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
    return np.array([macro_f1(labels, p, k) for p in pred])


def _evaluate(probs: np.ndarray, labels: np.ndarray, weights: np.ndarray, objective: str) -> np.ndarray:
    """Scores of weight vectors ``weights`` (B, M) fusing ``probs`` (M, N, K); chunked to bound memory."""
    out = []
    chunks = range(0, len(weights), 64)
    if len(weights) > 512:  # the simplex grid: a bar (or one line) for the weight search; small calls stay silent
        chunks = track(chunks, "fusion: weight search", total=len(weights), unit="weightings",
                       weight=lambda s: min(64, len(weights) - s))
    for s in chunks:
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


def _pick(cands: np.ndarray, scores: np.ndarray, py: np.ndarray, band: float = 0.0, tie_break: str = "likelihood"
          ) -> int:
    """Best score; ties (within ``band`` + 1e-12) go to the lowest NLL of the fused probabilities, then toward
    uniform weights -- or, with ``tie_break="equal"`` and a band, toward uniform weights first.

    ``py`` (M, N) holds each model's probability of the true class. Top-1 is flat over wide regions of the simplex;
    the tie-break by likelihood moves weight off a model that adds nothing (a near-uniform branch would otherwise
    get its share just for being harmless to val top-1), and uniform settles exact ties such as identical models.
    With a band (one standard error of the val score, see :func:`search_weights`), weightings that val cannot tell
    apart from the best are tied and the one nearest equal weights wins: shrinkage toward the mean fusion, the
    one-standard-error rule of Breiman et al. (CART, 1984).
    """
    m = cands.shape[1]
    tied = np.flatnonzero(scores >= scores.max() - band - 1e-12)
    nll = np.round(-np.log(np.clip(cands[tied] @ py, EPS, None)).mean(axis=1), 12)
    dist = np.round(np.linalg.norm(cands[tied] - 1.0 / m, axis=1), 12)
    keys = (nll, dist) if band > 0 and tie_break == "equal" else (dist, nll)  # np.lexsort: the last key first
    return int(tied[np.lexsort(keys)[0]])


def _coordinate_ascent(
    p: np.ndarray, y: np.ndarray, py: np.ndarray, objective: str, n: int,
) -> tuple[np.ndarray, float]:
    """Coordinate ascent over the simplex for many models, where a full grid is too large.

    Starts from the best of {uniform, each single model}; a move is taken only if it raises the score, or keeps it
    and lowers the fused NLL, so the search cannot cycle.

    Args:
        p: (M, N, K) probabilities of the labelled rows.
        y: (N,) labels.
        py: (M, N) each model's probability of the true class, for the tie-break.
        objective: the score to maximise.
        n: grid steps per coordinate (1 / step).

    Returns:
        (weights (M,), val score of those weights).
    """
    m = len(p)

    def nll(w: np.ndarray) -> float:
        return float(-np.log(np.clip(w @ py, EPS, None)).mean())

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
    return w, best


def search_weights(
    probs: list[np.ndarray], labels: np.ndarray, *, objective: str = "top1", step: float = 0.05,
    max_grid_models: int = 4, tolerance: float | str = 0.0, tie_break: str = "likelihood",
) -> tuple[np.ndarray, float, str]:
    """Weights over the simplex maximising ``objective`` of the fused argmax on the labelled rows.

    The val split is small (160 clips in the demo): the maximum over hundreds of weightings of a score that moves by
    1/N per clip is mostly noise, and the argmax overfits it (weights that win val by one clip lose on test).
    ``tolerance`` counters that: every weighting within it of the best counts as tied, and the tie goes to the one
    nearest equal weights.

    Args:
        probs: one (N, K) probability array per model.
        labels: (N,) ground truth, -1 rows ignored.
        tolerance: 0 (the plain maximum), a score margin, or ``"se"``: one binomial standard error of the best
            score, sqrt(s (1 - s) / N).

    Returns:
        (weights (M,), val score of those weights, search used). With tolerance 0 the simplex vertices (single
        models) are candidates, so the result is never worse on val than the best single model; with a tolerance it
        is at most that margin worse.
    """
    labels = np.asarray(labels)
    keep = labels >= 0
    if not keep.any():
        raise FusionError("cannot search weights: no labelled validation clips")
    p = np.stack([np.asarray(x, dtype=np.float64)[keep] for x in probs])
    y = labels[keep]
    py = p[:, np.arange(len(y)), y]  # (M, N): each model's probability of the true class, for the tie-break
    m, n = len(probs), round(1.0 / step)
    if tolerance != "se" and (isinstance(tolerance, str) or not tolerance >= 0):
        raise FusionError(f"tolerance must be a number >= 0 or 'se', got {tolerance!r}")
    if m == 1:
        return np.ones(1), float(_evaluate(p, y, np.ones((1, 1)), objective)[0]), "single model"
    if m <= max_grid_models:
        grid = _simplex_grid(m, n)
        s = _evaluate(p, y, grid, objective)
        band = _band(tolerance, float(s.max()), len(y))
        i = _pick(grid, s, py, band, tie_break)
        how = f"simplex grid, step {step} ({len(grid)} points)" + (
            f", ties within {band:.4f} to {tie_break}" if band else "")
        return grid[i], float(s[i]), how
    if tolerance:  # the margin applies to the grid; coordinate ascent (many models) keeps its plain maximum
        log.info("fusion: tolerance %s ignored by coordinate ascent (%d models)", tolerance, m)
    w, best = _coordinate_ascent(p, y, py, objective, n)
    return w, best, f"coordinate ascent, step {step}"
