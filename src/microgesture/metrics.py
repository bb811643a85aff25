"""Classification metrics. Top-1 equals micro-F1 for single-label data; macro-F1 is always reported next to it
because the tail classes are the point of micro-gesture recognition."""

from __future__ import annotations

import numpy as np

__all__ = ["classification_report", "confusion_matrix", "expected_calibration_error", "softmax", "macro_f1"]


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def confusion_matrix(labels: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """(K, K) counts, rows = true class, columns = predicted class."""
    flat = np.asarray(labels, dtype=np.int64) * num_classes + np.asarray(pred, dtype=np.int64)
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """ECE of the top-1 confidence with equal-width bins."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)


def reliability_bins(probs: np.ndarray, labels: np.ndarray, bins: int = 15) -> dict[str, np.ndarray]:
    """Per-bin mean confidence, accuracy and count, for reliability diagrams."""
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == labels
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    count = np.bincount(idx, minlength=bins)
    acc = np.bincount(idx, weights=correct, minlength=bins) / np.maximum(count, 1)
    mconf = np.bincount(idx, weights=conf, minlength=bins) / np.maximum(count, 1)
    return {"edges": edges, "accuracy": acc, "confidence": mconf, "count": count}


def _per_class(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall, F1, support per class of a (K, K) confusion matrix, and which classes are present (in the
    labels or the predictions)."""
    k = len(cm)
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    precision = np.divide(tp, predicted, out=np.zeros(k), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros(k), where=support > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(k), where=(precision + recall) > 0)
    return precision, recall, f1, support, (support > 0) | (predicted > 0)


def macro_f1(labels: np.ndarray, pred: np.ndarray, num_classes: int) -> float:
    """Mean F1 over the classes present in ``labels`` or ``pred`` (both (N,) class indices); 0 with no class."""
    _, _, f1, _, present = _per_class(confusion_matrix(labels, pred, num_classes))
    return float(f1[present].mean()) if present.any() else 0.0


def classification_report(logits: np.ndarray, labels: np.ndarray, classes: tuple[str, ...] | list[str]) -> dict:
    """Every metric microgesture reports for one set of predictions (rows with label -1 are ignored).

    Returns a JSON-able dict: n, top1 (= micro-F1), top5, macro_f1 (over classes present in labels or predictions),
    nll, ece, per_class {name: precision, recall, f1, support}, confusion (K x K list).
    """
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    keep = labels >= 0
    logits, labels = logits[keep], labels[keep]
    k = len(classes)
    if len(labels) == 0:
        return {"n": 0}
    probs = softmax(logits)
    pred = probs.argmax(axis=1)
    cm = confusion_matrix(labels, pred, k)
    precision, recall, f1, support, present = _per_class(cm)
    top5 = np.argsort(-probs, axis=1)[:, : min(5, k)]
    nll = -np.log(np.clip(probs[np.arange(len(labels)), labels], 1e-12, None)).mean()
    return {
        "n": int(len(labels)),
        "top1": float((pred == labels).mean()),
        "top5": float((top5 == labels[:, None]).any(axis=1).mean()),
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "macro_recall": float(recall[support > 0].mean()),
        "nll": float(nll),
        "ece": expected_calibration_error(probs, labels),
        "per_class": {
            str(classes[i]): {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i in range(k)
        },
        "confusion": cm.tolist(),
    }
