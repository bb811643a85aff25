"""Sampled decoding with seeking (microgesture.data.video.read_frames) on real mp4s written in the test."""

import av
import numpy as np
import pytest

from microgesture.data.video import VideoError, probe_video, read_frames, read_video, write_video


def _level(i: int) -> int:
    """Frame i's grey level: distinct for neighbouring frames, far from 0/255 so H.264 keeps it within a few levels."""
    return 20 + (i * 37) % 210


def _counting_video(path, n: int, size=(48, 32)) -> np.ndarray:
    w, h = size
    levels = np.array([_level(i) for i in range(n)], np.uint8)
    write_video(path, np.broadcast_to(levels[:, None, None, None], (n, h, w, 3)).copy())
    return levels


def _mean_levels(frames: np.ndarray) -> np.ndarray:
    return frames.reshape(len(frames), -1).mean(1)


def test_read_frames_returns_sampled_frames_in_the_asked_order(tmp_path):
    levels = _counting_video(tmp_path / "a.mp4", 40)
    idx = [3, 0, 17, 17, 39, 8]  # unsorted, repeated, first and last
    out = read_frames(tmp_path / "a.mp4", idx)
    assert out.shape == (6, 32, 48, 3) and out.dtype == np.uint8
    np.testing.assert_allclose(_mean_levels(out), levels[idx], atol=3)


def test_read_frames_from_a_range_of_a_long_video_matches_sequential_decoding(tmp_path):
    """A clip at frames 250.. of a 400-frame video: seeking (small seek_gap forces several seeks) gives the same
    frames as decoding the whole range sequentially."""
    p = tmp_path / "long.mp4"
    levels = _counting_video(p, 400)
    start, n = 250, 60
    idx = start + np.array([0, 1, 10, 29, 30, 45, 59])
    seq = read_video(p, start=start, num_frames=n)[idx - start]
    for gap in (96, 4):
        out = read_frames(p, idx, seek_gap=gap)
        np.testing.assert_array_equal(out, seq)
        np.testing.assert_allclose(_mean_levels(out), levels[idx], atol=3)
    # jumping back and forth across the whole video
    idx = np.array([399, 5, 200, 390, 121, 120])
    np.testing.assert_allclose(_mean_levels(read_frames(p, idx, seek_gap=8)), levels[idx], atol=3)


def test_read_frames_scale_downsizes_with_the_same_content(tmp_path):
    p = tmp_path / "a.mp4"
    frames = np.zeros((4, 64, 96, 3), np.uint8)
    frames[:, 16:48, 24:72] = 200  # a box in the middle
    write_video(p, frames)
    full, half = read_frames(p, [1, 2]), read_frames(p, [1, 2], scale=2.0)
    assert full.shape == (2, 64, 96, 3) and half.shape == (2, 32, 48, 3)
    assert abs(float(half[:, 12:20, 16:32].mean()) - 200) < 8 and float(half[:, :4].mean()) < 8


def test_read_frames_past_the_end_and_missing_file_are_named_errors(tmp_path):
    p = tmp_path / "a.mp4"
    _counting_video(p, 10)
    with pytest.raises(VideoError, match=r"a\.mp4: frame 12 requested, but the video ends after frame 9"):
        read_frames(p, [2, 12])
    with pytest.raises(VideoError, match="nope.mp4: video not found"):
        read_frames(tmp_path / "nope.mp4", [0])
    with pytest.raises(ValueError, match="negative"):
        read_frames(p, [-1])


def test_truncated_mp4_raises_naming_file_and_frame(tmp_path):
    # An mp4 whose index (moov) is at the end cannot be opened once truncated; one written with faststart (index
    # first) opens and fails at the first frame whose data is missing.
    p = tmp_path / "clip.mp4"
    _counting_video(p, 30)
    data = p.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoError, match=r"cut\.mp4: cannot open video"):
        read_frames(cut, [0])

    fast = tmp_path / "fast.mp4"
    rng = np.random.default_rng(0)
    with av.open(str(fast), "w", options={"movflags": "faststart"}) as out:
        s = out.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 48, 32, "yuv420p"
        for _ in range(60):  # noise: every frame carries data, so half the file holds about half the frames
            f = av.VideoFrame.from_ndarray(rng.integers(0, 255, (32, 48, 3), dtype=np.uint8), format="rgb24")
            for packet in s.encode(f):
                out.mux(packet)
        for packet in s.encode():
            out.mux(packet)
    data = fast.read_bytes()
    cut2 = tmp_path / "cut2.mp4"
    cut2.write_bytes(data[: int(len(data) * 0.6)])
    assert read_frames(cut2, [2]).shape == (1, 32, 48, 3)  # the start is intact
    with pytest.raises(VideoError, match=r"cut2\.mp4: .*frame \d+"):
        read_frames(cut2, [2, 58])


def test_existing_api_unchanged(tmp_path):
    p = tmp_path / "a.mp4"
    _counting_video(p, 12, size=(33, 21))  # odd sizes are padded by one pixel
    assert probe_video(p) == {"num_frames": 12, "fps": 25.0, "width": 34, "height": 22}
    assert read_video(p, start=2, num_frames=3).shape == (3, 22, 34, 3)


def test_iter_frames_streams_from_start_and_probe_can_skip_counting(tmp_path):
    from microgesture.data.video import iter_frames

    levels = _counting_video(tmp_path / "a.mp4", 20)
    it = iter_frames(tmp_path / "a.mp4", start=5)
    first = next(it)
    assert first.shape == (32, 48, 3) and abs(first.mean() - levels[5]) < 3
    rest = np.stack(list(it))
    assert len(rest) == 14
    np.testing.assert_allclose(_mean_levels(rest), levels[6:], atol=3)
    np.testing.assert_array_equal(read_video(tmp_path / "a.mp4", start=5, num_frames=3)[0], first)
    info = probe_video(tmp_path / "a.mp4", count=False)
    assert info["num_frames"] in (0, 20) and (info["width"], info["height"]) == (48, 32)
    with pytest.raises(VideoError, match="nope.mp4: video not found"):
        next(iter_frames(tmp_path / "nope.mp4"))
