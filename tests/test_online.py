"""Streaming detection: frames pushed one by one give exactly the offline events, causally and with bounded delay."""

from __future__ import annotations

import numpy as np
import pytest
from test_detect import CodeScorer, IdleBiasScorer, coded_skeleton, random_skeleton, tiny_model

from microgesture.detect import DetectConfig, DetectError, detect
from microgesture.online import OnlineDetector

SEGMENTS = [(0, 30, 70), (1, 75, 90), (2, 130, 190), (0, 230, 236), (1, 260, 330)]


def stream(det: OnlineDetector, skel: np.ndarray) -> list[tuple[int, object]]:
    """Push every frame; returns (frame index at emission, event), flush events at index len(skel)."""
    out = []
    for t, kp in enumerate(skel):
        out += [(t, e) for e in det.push(kp)]
    out += [(len(skel), e) for e in det.flush()]
    return out


def same_events(online, offline, tol: float = 1e-9) -> None:
    assert [(e.start, e.end, e.label) for e in online] == [(e.start, e.end, e.label) for e in offline]
    np.testing.assert_allclose([e.score for e in online], [e.score for e in offline], rtol=tol, atol=tol)


@pytest.mark.parametrize("t", [5, 20, 21, 100, 337, 345])
@pytest.mark.parametrize(("smooth", "method", "min_windows", "baseline"),
                         [(1, "mean", 1, 0.0), (3, "mean", 1, 0.0), (5, "median", 2, 0.0), (3, "mean", 1, 3.0)])
def test_online_equals_offline(t, smooth, method, min_windows, baseline):
    skel = coded_skeleton(SEGMENTS, 400)[:t]
    skel[150:165] = 0  # a stretch without a person
    cfg = DetectConfig(window=1.0, stride=0.25, smooth=smooth, smooth_method=method, min_score=0.55 - 0.35 * bool(
        baseline), min_windows=min_windows, baseline=baseline)
    scorer = IdleBiasScorer if baseline else CodeScorer
    det = detect(scorer(), skel, fps=20.0, config=cfg)
    live = OnlineDetector(scorer(), fps=20.0, config=cfg)
    online = [e for _, e in stream(live, skel)]
    offline = det.events
    same_events(online, offline)
    assert live.windows == len(det.starts)  # the same windows, the end-aligned last one included
    if t >= 300:
        assert len(offline) >= 3  # the comparison is not vacuous


def test_online_equals_offline_with_a_real_branch():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = tiny_model()
    skel = random_skeleton(93, seed=2)
    cfg = DetectConfig(window=1.0, stride=0.3, smooth=3, min_score=0.0, background=())
    offline = detect(model, skel, fps=10.0, config=cfg)
    online = [e for _, e in stream(OnlineDetector(model, fps=10.0, config=cfg), skel)]
    same_events(online, offline.events, tol=1e-5)  # one window per forward pass online, batches offline
    assert offline.events and offline.events[-1].end == 92


def test_events_are_emitted_causally_and_promptly():
    skel = coded_skeleton(SEGMENTS, 400)
    fps, cfg = 20.0, DetectConfig(window=1.0, stride=0.25, smooth=3, min_score=0.55)
    w, s = cfg.frames(fps)
    emitted = stream(OnlineDetector(CodeScorer(), fps=fps, config=cfg), skel)
    before_flush = [(t, e) for t, e in emitted if t < len(skel)]
    assert len(before_flush) >= 3
    for t, e in before_flush:
        assert t > e.end  # never before the event has ended
        assert t <= e.end + w + s * (cfg.smooth // 2 + 1)  # the documented latency bound


def test_window_and_stride_override_and_errors():
    det = OnlineDetector(CodeScorer(), fps=20.0, window=0.5, stride=0.1)
    assert (det.window, det.stride) == (10, 2)
    with pytest.raises(DetectError, match=r"\(137, 3\)"):
        det.push(np.zeros((25, 3)))
    det.flush()
    with pytest.raises(DetectError, match="reset"):
        det.push(np.zeros((137, 3)))
    det.reset()
    assert det.push(np.zeros((137, 3))) == [] and det.frames == 1


def test_long_streams_keep_bounded_state():
    skel = coded_skeleton([(c % 3, 40 * c + 10, 40 * c + 30) for c in range(60)], 2500)
    det = OnlineDetector(CodeScorer(), fps=20.0, config=DetectConfig(window=1.0, stride=0.25, smooth=5, baseline=2))
    for kp in skel:
        det.push(kp)
        assert len(det._probs) <= 5 + 2 and len(det._buf) <= det.window and len(det._raw) <= 8 + 1
