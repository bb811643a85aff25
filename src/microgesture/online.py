"""Streaming micro-gesture detection: push OpenPose-137 frames as they arrive, get events as soon as they end.

:class:`OnlineDetector` keeps a rolling buffer of the last window of frames, scores a window every ``stride`` frames,
optionally subtracts the median of the last ``baseline`` seconds of windows (causal), smooths over the ``smooth``
windows centred on each one (so a window's label is final ``smooth // 2`` windows after it was scored) and closes an
event when the label changes. It computes exactly the windows, baseline, smoothing and events of the offline
:func:`microgesture.detect.detect` (the tests check it): ``flush()`` at the end of the stream adds the last, end-aligned
window and closes the open event.

Latency: an event is emitted once its last window plus ``smooth // 2`` further windows have been seen, i.e. about
``window + stride * (smooth // 2 + 1)`` seconds after the gesture ends.

Example::

    det = OnlineDetector("runs/joint", window=2.0, stride=0.5, fps=25)
    for kp in frames:              # (137, 3) each
        for e in det.push(kp):
            show(e.start_s, e.end_s, e.name)
    for e in det.flush():
        ...
"""

from __future__ import annotations

from collections import deque

import numpy as np

from microgesture.detect import DetectConfig, DetectError, Event, as_scorer, background_labels, window_valid

__all__ = ["OnlineDetector"]


class OnlineDetector:
    """Causal sliding-window detector.

    Args:
        model: a checkpoint path, a :class:`~microgesture.train.BranchModule` or a
            scorer (:func:`microgesture.detect.as_scorer`).
        fps: frames per second of the stream.
        window, stride: seconds; override ``config``'s.
        config: the other settings (smoothing, background, min_score), as for offline detection.
    """

    def __init__(self, model, *, fps: float, window: float | None = None, stride: float | None = None,
                 config: DetectConfig | None = None):
        cfg = config or DetectConfig()
        if window is not None or stride is not None:
            cfg = DetectConfig(**{**cfg.__dict__, "window": window or cfg.window, "stride": stride or cfg.stride})
        self.cfg = cfg
        self.fps = float(fps)
        self.scorer = as_scorer(model)
        self.classes = tuple(self.scorer.classes)
        self.background = background_labels(self.classes, cfg.background)
        self.window, self.stride = cfg.frames(fps)
        self._half = cfg.smooth // 2
        self._base = cfg.baseline_windows(fps)
        self.reset()

    def reset(self) -> None:
        """Forget the stream (start a new one)."""
        self._buf: deque[np.ndarray] = deque(maxlen=self.window)
        self.frames = 0
        self.windows = 0  # windows scored so far
        self._starts: list[int] = []  # starts of the windows still needed (smoothing neighbourhood, boundaries)
        self._probs: list[np.ndarray] = []  # scores: probabilities, or their contrast to the baseline
        self._raw: deque[np.ndarray] = deque(maxlen=self._base + 1)  # probabilities of the baseline's windows
        self._valid: list[bool] = []
        self._first = 0  # index of _starts[0] among all windows
        self._done = 0  # windows whose smoothed label has been consumed
        self._run: tuple[int, int, float, int] | None = None  # (label, start frame, score sum, windows)
        self._prev_label = -1
        self._flushed = False

    # -- feeding ---------------------------------------------------------------------------------------------------
    def push(self, keypoints: np.ndarray) -> list[Event]:
        """Add one frame (137, 3); returns the events that ended and are now final (usually none)."""
        if self._flushed:
            raise DetectError("flush() ended this stream; call reset() to start another")
        kp = np.asarray(keypoints, np.float32)
        if kp.shape != (137, 3):
            raise DetectError(f"a frame must be (137, 3) OpenPose-137 keypoints, got {kp.shape}")
        self._buf.append(kp)
        self.frames += 1
        start = self.frames - self.window
        if start >= 0 and start % self.stride == 0:
            self._score(start)
            return self._advance(final=False)
        return []

    def flush(self) -> list[Event]:
        """End of stream: score the end-aligned last window if the regular ones stopped short, close all events."""
        if self._flushed:
            return []
        self._flushed = True
        t = self.frames
        if t == 0:
            return []
        last = self._first + len(self._starts) - 1
        if t <= self.window:
            if last < 0:
                self._score(0)
        elif self._starts[-1] + self.window < t:
            self._score(t - self.window)
        return self._advance(final=True)

    # -- internals -------------------------------------------------------------------------------------------------
    def _score(self, start: int) -> None:
        window = np.stack(self._buf)[start - (self.frames - len(self._buf)):]
        valid = window_valid(window)
        self.windows += 1
        self._starts.append(start)
        self._valid.append(valid)
        # a window without a person is background and an all-zero row in the baseline and smoothing, as offline
        p = self.scorer([window])[0].astype(np.float64) if valid else np.zeros(len(self.classes))
        self._raw.append(p)
        if self._base > 0:
            p = np.clip(p - np.median(np.stack(self._raw), axis=0), 0.0, None)
        self._probs.append(p)

    def _smoothed(self, i: int) -> np.ndarray:
        """Smoothed probabilities of window i (global index) from the windows kept (its neighbourhood)."""
        lo = max(0, i - self._half) - self._first
        hi = i + self._half + 1 - self._first
        block = np.stack(self._probs[lo:hi])
        if self.cfg.smooth <= 1:
            return block[0]
        return block.mean(0) if self.cfg.smooth_method == "mean" else np.median(block, axis=0)

    def _boundary(self, i: int) -> int:
        """First frame owned by window i (global index); i = number of windows -> end of stream."""
        if i == 0:
            return 0
        k = i - self._first
        if k >= len(self._starts):
            return self.frames
        return (self._starts[k - 1] + self._starts[k] + self.window) // 2

    def _advance(self, *, final: bool) -> list[Event]:
        out: list[Event] = []
        n = self._first + len(self._starts)  # windows scored so far
        ready = n if final else n - self._half
        while self._done < ready:
            i = self._done
            p = self._smoothed(i)
            top = int(p.argmax())
            ok = p[top] >= self.cfg.min_score and top not in self.background and self._valid[i - self._first]
            label = top if ok else -1
            if label != self._prev_label:
                out += self._close(self._boundary(i))
                if label >= 0:
                    self._run = (label, self._boundary(i), 0.0, 0)
            if label >= 0:
                lab, a, total, count = self._run
                self._run = (lab, a, total + float(p[label]), count + 1)
            self._prev_label = label
            self._done += 1
        if final:
            out += self._close(self.frames)
        self._trim()
        return out

    def _close(self, end: int) -> list[Event]:
        if self._run is None:
            return []
        label, a, total, count = self._run
        self._run = None
        if count < self.cfg.min_windows:
            return []
        return [Event(a, end - 1, label, self.classes[label], total / count, self.fps)]

    def _trim(self) -> None:
        """Drop windows no longer needed: smoothing looks back ``half`` windows, boundaries one."""
        keep_from = max(0, self._done - max(self._half, 1))
        drop = keep_from - self._first
        if drop > 0:
            del self._starts[:drop], self._probs[:drop], self._valid[:drop]
            self._first = keep_from
