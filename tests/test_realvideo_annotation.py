"""The hand annotation of the real clips (bench/realvideo_people.json) fits the files it describes: frame counts,
ranges inside the clip, sorted and disjoint. Skipped where ../shared/realvideo is absent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from microgesture.data.video import probe_video

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "realvideo"
pytestmark = pytest.mark.skipif(not REAL.is_dir(), reason="no ../shared/realvideo")


def test_annotation_matches_the_clips():
    clips = json.loads((ROOT / "bench" / "realvideo_people.json").read_text())["clips"]
    assert set(clips) == {p.name for p in REAL.glob("*.mp4")}
    for name, ann in clips.items():
        n = probe_video(REAL / name)["num_frames"]
        assert ann["frames"] == n, name
        ranges = sorted(ann["several"] + ann.get("unreadable", []))
        assert all(0 <= a <= b < n for a, b in ranges), name
        assert all(b1 < a2 for (_, b1), (a2, _) in zip(ranges, ranges[1:], strict=False)), name  # disjoint


def test_frozen_stretches_are_the_unreadable_frames_only():
    """The frozen-video check as `microgesture pose` runs it (every 4th pixel, half a second of repeats) finds the
    arm-wrestling clip's corrupt stretch (annotated unreadable 230-267: frame 230 is the picture 231-267 repeat) and
    nothing in the other clips -- in particular not in the still interview shots, where only the speaker moves."""
    import numpy as np

    from microgesture.data.video import iter_frames
    from microgesture.pose.people import frozen_stretches, repeats_frame

    clips = json.loads((ROOT / "bench" / "realvideo_people.json").read_text())["clips"]
    for name, ann in clips.items():
        prev, repeats = None, []
        for frame in iter_frames(REAL / name):
            small = frame[::4, ::4]
            repeats.append(repeats_frame(prev, small))
            prev = small
        fps = probe_video(REAL / name, count=False)["fps"] or 25
        got = frozen_stretches(repeats, fps=fps)
        want = [[a + 1, b] for a, b in ann.get("unreadable", [])]
        assert got == want, name
        if name.startswith("interview_"):
            # a mean-difference rule counted every frame of them as a repeat; single repeats remain (duplicated
            # frames of a frame-rate conversion)
            assert np.mean(repeats) < 0.25, name
