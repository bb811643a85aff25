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
