"""Sliding-window detection: windows, smoothing, events, event-level F1 on hand-made events, files, the CLI, and the
synthetic untrimmed generator."""

from __future__ import annotations

import json

import numpy as np
import pytest

from microgesture.detect import (
    DetectConfig,
    DetectError,
    Event,
    WindowScorer,
    background_labels,
    baseline_contrast,
    detect,
    event_f1,
    event_report,
    events_from_probs,
    plot_timeline,
    read_events,
    smooth_probs,
    temporal_iou,
    window_frames,
    window_starts,
    write_events,
)

NON_MG = "illustrative gestures (non-MG)"


class CodeScorer:
    """A stand-in model: joint 0's x coordinate carries the true class of each frame, and a window's probabilities are
    the fraction of its frames of each class. Lets detection be checked against known segments."""

    def __init__(self, k: int = 4):
        self.classes = tuple(f"c{i}" for i in range(k - 1)) + (NON_MG,)
        self.calls = 0

    def __call__(self, windows):
        self.calls += len(windows)
        k = len(self.classes)
        return np.stack([np.bincount(np.round(w[:, 0, 0]).astype(int), minlength=k)[:k] / len(w) for w in windows])


def coded_skeleton(segments, num_frames: int, background: int = 3) -> np.ndarray:
    """(T, 137, 3) with joint 0 = (class code, 0, 1); frames outside ``segments`` (label, start, end) are background."""
    code = np.full(num_frames, background, np.float32)
    for c, a, b in segments:
        code[a:b + 1] = c
    sk = np.zeros((num_frames, 137, 3), np.float32)
    sk[:, 0, 0], sk[:, 0, 2] = code, 1.0
    return sk


def ev(a: int, b: int, label: int = 0, score: float = 1.0) -> Event:
    return Event(a, b, label, f"c{label}", score, 25.0)


# -- windows and smoothing ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("t", [1, 7, 20, 21, 26, 45, 103])
def test_windows_cover_the_recording(t):
    w, s = 20, 5
    starts = window_starts(t, w, s)
    assert starts[0] == 0 and (np.diff(starts) > 0).all()
    ends = np.minimum(starts + w, t)
    assert ends[-1] == t  # the last window reaches the end
    if t > w:
        assert (starts + w <= t).all() and (np.diff(starts)[:-1] == s).all() and np.diff(starts)[-1] <= s
    b = window_frames(starts, min(w, t), t)
    assert b[0] == 0 and b[-1] == t and (np.diff(b) >= 0).all()
    centres = starts + min(w, t) / 2
    assert ((b[:-1] <= centres + 1) & (centres <= b[1:] + 1)).all()  # each window owns the frames around its centre


def test_smooth_probs():
    p = np.eye(3)[[0, 0, 1, 0, 0]].astype(float)
    assert np.array_equal(smooth_probs(p, 1), p)
    m = smooth_probs(p, 3)
    np.testing.assert_allclose(m[0], [1, 0, 0])  # truncated at the start: windows 0 and 1
    np.testing.assert_allclose(m[2], [2 / 3, 1 / 3, 0])
    assert np.array_equal(smooth_probs(p, 3, "median")[2], [1, 0, 0])  # the median removes a one-window blip


def test_config_validation():
    with pytest.raises(DetectError, match="odd"):
        DetectConfig(smooth=2)
    with pytest.raises(DetectError, match="> 0"):
        DetectConfig(stride=0)
    with pytest.raises(DetectError, match="baseline"):
        DetectConfig(baseline=-1)
    assert DetectConfig(window=2, stride=0.5).frames(25) == (50, 12)


def test_background_labels():
    classes = ("a", "b", NON_MG)
    assert background_labels(classes, None) == {2}
    assert background_labels(classes, ("a", "1")) == {0, 1}
    assert background_labels(classes, ()) == frozenset()
    with pytest.raises(DetectError, match="not one of"):
        background_labels(classes, ("zzz",))


# -- detection ----------------------------------------------------------------------------------------------------
def test_detect_recovers_known_segments():
    gt = [(0, 40, 99), (2, 150, 200), (1, 260, 290)]
    sk = coded_skeleton(gt, 340)
    cfg = DetectConfig(window=1.0, stride=0.25, smooth=3, min_score=0.5, baseline=0)
    det = detect(CodeScorer(), sk, fps=20.0, config=cfg)
    assert [e.label for e in det.events] == [0, 2, 1]
    for e, (c, a, b) in zip(det.events, gt, strict=True):
        assert temporal_iou(e, Event(a, b, c, "", 1.0, 20.0)) > 0.75
        assert e.start_s == pytest.approx(e.start / 20) and e.end_s == pytest.approx((e.end + 1) / 20)
    gts = [Event(a, b, c, "", 1.0, 20.0) for c, a, b in gt]
    assert event_report(det.events, gts)["0.5"]["f1"] == 1.0
    assert det.top_k(170)[0][0] == "c2" and len(det.top_k(170)) == 3
    other = DetectConfig(window=1.0, stride=0.25, smooth=5, smooth_method="median", min_score=0.9, min_windows=2,
                         baseline=0)
    assert det.resegment(other) == detect(CodeScorer(), sk, fps=20.0, config=other).events


def test_min_score_and_background_make_gaps():
    sk = coded_skeleton([(0, 40, 99)], 140)
    cfg = DetectConfig(window=1.0, stride=0.25, smooth=1, min_score=0.8, baseline=0)
    strict = detect(CodeScorer(), sk, fps=20.0, config=cfg)
    loose = detect(CodeScorer(), sk, fps=20.0, config=DetectConfig(window=1.0, stride=0.25, smooth=1, min_score=0.0,
                                                                  background=(), baseline=0))
    assert [e.label for e in strict.events] == [0]
    assert [e.label for e in loose.events] == [3, 0, 3]  # the non-MG class becomes events without a background set
    assert loose.events[1].num_frames > strict.events[0].num_frames  # mixed windows (top < 0.8) were cut


def test_windows_without_a_person_are_background():
    sk = coded_skeleton([(0, 0, 199)], 200)
    sk[60:140] = 0  # the person leaves the frame
    scorer = CodeScorer()
    det = detect(scorer, sk, fps=20.0, config=DetectConfig(window=1.0, stride=0.25, min_score=0.0, background=()))
    assert len(det.events) == 2 and det.events[0].end < 70 and det.events[1].start > 130
    assert scorer.calls < len(det.starts)  # empty windows are not even scored
    assert detect(CodeScorer(), np.zeros((50, 137, 3), np.float32), fps=20.0).events == []


class IdleBiasScorer(CodeScorer):
    """Like CodeScorer, but idle frames (code 3) give a flat profile with class 1 on top, as a classifier trained on
    trimmed clips answers idle stretches."""

    profile = np.array([0.1, 0.6, 0.1, 0.2])

    def __call__(self, windows):
        hist = super().__call__(windows)
        hist[:, 3] = 0
        return (self.profile + 2 * hist) / (1 + 2 * hist.sum(1, keepdims=True))


def test_baseline_contrast_is_causal_and_flat_for_constant_input():
    p = np.tile([0.1, 0.6, 0.3], (10, 1))
    p[6] = [0.8, 0.1, 0.1]
    c = baseline_contrast(p, 4)
    assert np.allclose(c[:6], 0) and np.allclose(c[7:], 0) and c[6, 0] == pytest.approx(0.7)
    assert np.array_equal(baseline_contrast(p[:7], 4), c[:7])  # the future does not change the past
    assert np.array_equal(baseline_contrast(p, 0), p)


def test_baseline_removes_a_flat_idle_profile():
    sk = coded_skeleton([(0, 300, 339), (2, 500, 540)], 700)
    plain = detect(IdleBiasScorer(), sk, fps=20.0, config=DetectConfig(window=1.0, stride=0.5, min_score=0.3,
                                                                       baseline=0))
    assert [e.label for e in plain.events] == [1, 0, 1, 2, 1]  # idle reads as class 1
    cfg = DetectConfig(window=1.0, stride=0.5, min_score=0.3, baseline=10.0)
    assert cfg.baseline_windows(20.0) == 20
    contrast = detect(IdleBiasScorer(), sk, fps=20.0, config=cfg)
    assert [e.label for e in contrast.events] == [0, 2]
    assert temporal_iou(contrast.events[0], Event(300, 339, 0, "", 1, 20.0)) > 0.6
    assert contrast.resegment(cfg) == contrast.events and plain.resegment(cfg) == contrast.events


def test_events_from_probs_min_windows():
    probs = np.eye(2)[[1, 0, 1, 1, 0, 0, 1]]
    starts = np.arange(7) * 10
    kw = {"window": 20, "num_frames": 80, "fps": 10.0, "classes": ("x", "y"), "background": frozenset(),
          "min_score": 0.5}
    evs = events_from_probs(probs, starts, **kw)
    assert [(e.label, e.start, e.end) for e in evs] == [(1, 0, 14), (0, 15, 24), (1, 25, 44), (0, 45, 64),
                                                         (1, 65, 79)]
    assert [e.label for e in events_from_probs(probs, starts, min_windows=2, **kw)] == [1, 0]


# -- event F1 on hand-made events ---------------------------------------------------------------------------------
def test_temporal_iou():
    assert temporal_iou(ev(0, 9), ev(0, 9)) == 1.0
    assert temporal_iou(ev(0, 9), ev(10, 19)) == 0.0
    assert temporal_iou(ev(0, 9), ev(5, 14)) == pytest.approx(5 / 15)


def test_event_f1_thresholds():
    gt = [ev(0, 9, 0), ev(100, 119, 1)]
    pred = [ev(0, 9, 0), ev(104, 123, 1)]  # IoU 16 / 24 = 0.667
    assert event_f1(pred, gt, 0.5)["f1"] == 1.0
    r = event_f1(pred, gt, 0.7)
    assert (r["tp"], r["fp"], r["fn"]) == (1, 1, 1) and r["f1"] == pytest.approx(0.5)


def test_event_f1_needs_the_same_class_and_is_one_to_one():
    gt = [ev(0, 19, 0)]
    r = event_f1([ev(0, 19, 1)], gt, 0.1)
    assert (r["tp"], r["fp"], r["fn"]) == (0, 1, 1) and r["f1"] == 0.0
    r = event_f1([ev(0, 19, 0, 0.9), ev(2, 19, 0, 0.8)], gt, 0.1)  # two predictions, one ground truth
    assert (r["tp"], r["fp"], r["fn"]) == (1, 1, 0) and r["precision"] == 0.5 and r["recall"] == 1.0


def test_event_f1_is_greedy_by_score():
    gt = [ev(0, 9), ev(20, 29)]
    wide = ev(5, 24, score=0.9)  # IoU 0.2 with both ground-truth events
    r = event_f1([ev(0, 9, score=0.5), wide], gt, 0.2)
    assert (r["tp"], r["fp"], r["fn"]) == (1, 1, 1)  # the higher-scored wide event takes gt 0 first
    r = event_f1([ev(0, 9, score=0.95), wide], gt, 0.2)
    assert (r["tp"], r["fp"], r["fn"]) == (2, 0, 0)  # the exact one goes first, the wide one gets gt 1


def test_event_report_drops_background_ground_truth():
    gt = [ev(0, 9, 0), ev(20, 29, 3)]
    rep = event_report([ev(0, 9, 0)], gt, background=frozenset({3}))
    assert set(rep) == {"0.1", "0.3", "0.5"} and rep["0.5"]["f1"] == 1.0
    assert event_report([ev(0, 9, 0)], gt)["0.5"]["recall"] == 0.5


# -- files --------------------------------------------------------------------------------------------------------
def test_events_csv_roundtrip_and_timeline(tmp_path):
    evs = [ev(0, 24, 0, 0.8), ev(50, 74, 2, 0.6)]
    p = write_events(tmp_path / "e.csv", evs)
    assert p.read_text().splitlines()[0] == "start_s,end_s,start_frame,end_frame,label,class,score"
    back = read_events(p)
    assert [(e.start, e.end, e.label, e.name) for e in back] == [(e.start, e.end, e.label, e.name) for e in evs]
    assert back[1].score == pytest.approx(0.6) and back[0].fps == pytest.approx(25.0)
    (tmp_path / "bad.csv").write_text("start_frame,end_frame\n1,x\n")
    with pytest.raises(DetectError, match="bad.csv:line 2"):
        read_events(tmp_path / "bad.csv", fps=25)
    det = detect(CodeScorer(), coded_skeleton([(1, 30, 80)], 120), fps=20.0, config=DetectConfig(window=1.0))
    png = plot_timeline(det, tmp_path / "t.png", gt=back)
    assert png.read_bytes()[:4] == b"\x89PNG"


# -- a real skeleton branch and the command line ------------------------------------------------------------------
def tiny_model(classes=("a", "b", NON_MG)):
    from microgesture.train import BranchModule, resolve_config

    cfg = resolve_config(branch="joint-dstcnn", overrides={
        "model": {"channels": [8, 8], "temporal_strides": [1, 2]},
        "input": {"clip_len": 8, "num_test_clips": 1, "flip_test": True, "layout": "mmg36"},
        "loss": {"semantic_weight": 0.0}})
    return BranchModule(cfg=cfg, classes=classes, source_layout="openpose137", class_counts=[1] * len(classes))


def random_skeleton(t: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    sk = np.zeros((t, 137, 3), np.float32)
    sk[..., :2] = rng.uniform(20, 100, size=(137, 2)) + np.cumsum(rng.normal(0, 1, size=(t, 137, 2)), 0)
    sk[..., 2] = 0.9
    return sk


def test_window_scorer_runs_the_checkpoint_pipeline():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    scorer = WindowScorer(tiny_model())
    p = scorer([random_skeleton(30), random_skeleton(12, 1)])
    assert p.shape == (2, 3) and np.allclose(p.sum(1), 1.0) and (p > 0).all()


def test_cli_detect_writes_events_timeline_and_overlay(tmp_path):
    torch = pytest.importorskip("torch")
    from microgesture.cli import main
    from microgesture.data.video import probe_video, write_video
    from microgesture.pose import PoseResult

    torch.manual_seed(0)
    m = tiny_model()
    torch.save({"microgesture": m.inference_meta(), "state_dict": m.state_dict()}, tmp_path / "model.ckpt")
    sk = random_skeleton(40)
    PoseResult(keypoints=sk, fps=10.0, frame_size=(128, 96), backend="synth").save(tmp_path / "s.npz")
    write_video(tmp_path / "v.mp4", np.full((40, 96, 128, 3), 60, np.uint8), fps=10)
    write_events(tmp_path / "gt.csv", [Event(5, 20, 0, "a", 1.0, 10.0)])
    with pytest.raises(SystemExit) as done:
        main(["detect", str(tmp_path / "s.npz"), "--model", str(tmp_path), "-o", str(tmp_path / "out" / "ev.csv"),
              "--window", "1.0", "--stride", "0.5", "--min-score", "0", "--background", "none", "--gt",
              str(tmp_path / "gt.csv"), "--overlay", str(tmp_path / "o.mp4"), "--video", str(tmp_path / "v.mp4")])
    assert done.value.code == 0
    events = read_events(tmp_path / "out" / "ev.csv")
    assert events and events[0].start == 0 and events[-1].end == 39  # min_score 0, no background: all covered
    rec = json.loads((tmp_path / "out" / "ev.json").read_text())
    assert rec["windows"] == 7 and set(rec["event_f1"]) == {"0.1", "0.3", "0.5"}
    assert (tmp_path / "out" / "ev_timeline.png").is_file() and (tmp_path / "out" / "ev_windows.npz").is_file()
    assert probe_video(tmp_path / "o.mp4")["num_frames"] == 40


def test_cli_detect_errors_are_one_line(tmp_path, capsys):
    from microgesture.cli import main

    with pytest.raises(SystemExit) as e:
        main(["detect", str(tmp_path / "missing.npz"), "--model", str(tmp_path), "-o", str(tmp_path / "e.csv")])
    assert e.value.code == 2 and "missing.npz" in capsys.readouterr().err


# -- synthetic untrimmed recordings -------------------------------------------------------------------------------
def test_synth_untrimmed_chains_gestures_and_idle(tmp_path):
    synth = pytest.importorskip("microgesture.data.synth.untrimmed")
    from microgesture.pose import load_pose

    out = synth.generate_untrimmed(tmp_path / "u", seed=3, minutes=0.25, count=2, preset="tiny")
    meta = json.loads((out / "untrimmed.json").read_text())
    assert [r["name"] for r in meta["recordings"]] == ["u3_00", "u3_01"]
    pose = load_pose(out / "u3_00.npz")
    gt = read_events(out / "u3_00_gt.csv")
    assert pose.keypoints.shape[1:] == (137, 3) and pose.num_frames >= 0.25 * 60 * pose.fps
    assert len(gt) >= 3 and all(0 <= e.label < 32 for e in gt)
    gaps = [b.start - a.end - 1 for a, b in zip(gt[:-1], gt[1:], strict=True)]
    assert min(gaps) >= 25 * 1.0 - 1  # idle stretches of at least 1 s between gestures
    again = synth.synth_untrimmed(seed=3, seconds=15, preset="tiny")
    assert np.array_equal(again.skeleton, pose.keypoints)  # reproducible from the seed
