"""Video files through PyAV (FFmpeg): writing, probing and decoding sampled frames.

Frames are uint8 arrays (T, H, W, 3) RGB. Errors name the file (and frame) so a corrupt clip in a 20k-clip dataset
can be found. :func:`read_video` decodes a contiguous range; :func:`read_frames` decodes only the sampled frames of a
clip, seeking over long gaps, so a clip inside a 26-minute video costs a seek, not the whole video.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

__all__ = ["VideoError", "VideoWriter", "write_video", "probe_video", "verify_video", "iter_frames", "read_video",
           "read_frames"]


def _one_thread() -> dict:
    # PyAV >= 17 scales frames with several threads by default; one per data-loader worker is what we want. Older
    # releases scale on one thread and have no such argument.
    try:
        av.VideoFrame(2, 2, "rgb24").reformat(width=2, height=2, threads=1)
        return {"threads": 1}
    except TypeError:
        return {}


_REFORMAT_THREADS = _one_thread()


def _x264_params() -> dict:
    # libx264's AVX-512 code reads uninitialised heap memory beside the picture rows, so the same frames encode to
    # different bytes from run to run on CPUs that have AVX-512 (MALLOC_PERTURB_ shows it anywhere such a CPU is).
    # Capping x264 at its AVX2 kernels makes the output a function of the frames alone; on other CPUs nothing changes.
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as cpu
    except ImportError:  # numpy < 2
        from numpy.core._multiarray_umath import __cpu_features__ as cpu
    return {"x264-params": "asm=AVX2"} if cpu.get("AVX512F") and cpu.get("AVX2") else {}


_X264_PARAMS = _x264_params()


class VideoError(RuntimeError):
    """A video that cannot be opened or decoded; the message names the file and, where known, the frame."""


class VideoWriter:
    """Encode uint8 (H, W, 3) RGB frames one at a time to H.264 MP4, atomically (a temporary name, renamed on close).

    Streaming: a long video is never held in memory. H.264 with yuv420p needs even sizes, so odd sizes are padded by
    one pixel (edge replicated). Used by ``write_video``, pose/detection overlays and the synthetic generator.
    """

    def __init__(self, path: str | os.PathLike, *, fps: float = 25.0, crf: int = 23, codec: str = "libx264"):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(f".{self.path.stem}.tmp-{os.getpid()}{self.path.suffix}")
        self._out = av.open(str(self._tmp), mode="w")
        self._rate = Fraction(fps).limit_denominator(1001)
        self._crf, self._codec = crf, codec
        self._stream = None
        self.frames = 0

    def write(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        if self._stream is None:
            self._stream = self._out.add_stream(self._codec, rate=self._rate)
            self._stream.width, self._stream.height = w + w % 2, h + h % 2
            self._stream.pix_fmt = "yuv420p"
            if self._codec == "libx264":
                self._stream.options = {"crf": str(self._crf), "preset": "veryfast", **_X264_PARAMS}
        if h % 2 or w % 2:
            frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        for packet in self._stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
            self._out.mux(packet)
        self.frames += 1

    def close(self) -> Path:
        if self._stream is not None:
            for packet in self._stream.encode():
                self._out.mux(packet)
        self._out.close()
        if self.frames == 0:
            self._tmp.unlink(missing_ok=True)
            raise VideoError(f"{self.path}: no frames to write")
        os.replace(self._tmp, self.path)
        return self.path

    def __enter__(self) -> VideoWriter:
        return self

    def abort(self) -> None:
        """Stop without a file: the temporary is removed and ``path`` is left as it was."""
        self._out.close()
        self._tmp.unlink(missing_ok=True)

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_video(path: str | os.PathLike, frames: np.ndarray, *, fps: float = 25.0, crf: int = 23,
                codec: str = "libx264") -> Path:
    """Encode (T, H, W, 3) uint8 RGB frames to ``path`` (H.264 in MP4 by default), atomically."""
    path = Path(path)
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(f"{path}: frames must be uint8 (T, H, W, 3), got {frames.dtype} {frames.shape}")
    if len(frames) == 0:
        raise ValueError(f"{path}: no frames to write")
    with VideoWriter(path, fps=fps, crf=crf, codec=codec) as w:
        for f in frames:
            w.write(f)
    return path


def probe_video(path: str | os.PathLike, *, count: bool = True) -> dict:
    """Number of frames, fps, width and height of a video. When the header has no frame count, ``count`` decodes the
    video to count them; ``count=False`` returns 0 instead (instant, for a long video about to be decoded anyway)."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"{path}: video not found")
    try:
        with av.open(str(path)) as c:
            if not c.streams.video:
                raise VideoError(f"{path}: no video stream")
            s = c.streams.video[0]
            n = s.frames
            fps = float(s.average_rate) if s.average_rate else 0.0
            if not n and count:
                n = sum(1 for _ in c.decode(video=0))
            return {"num_frames": int(n or 0), "fps": fps, "width": s.codec_context.width,
                    "height": s.codec_context.height}
    except av.error.FFmpegError as e:
        raise VideoError(f"{path}: cannot read video ({e})") from None


@contextmanager
def _video_stream(path: Path) -> Iterator[tuple[av.container.InputContainer, av.video.stream.VideoStream]]:
    """The opened container and its first video stream (threaded decoding); VideoError when there is none. The
    caller turns av's FFmpegError into a VideoError that says how far decoding got."""
    if not path.is_file():
        raise VideoError(f"{path}: video not found")
    with av.open(str(path)) as c:
        if not c.streams.video:
            raise VideoError(f"{path}: no video stream")
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        yield c, s


def verify_video(path: str | os.PathLike) -> int:
    """Decode every packet of a video without converting a frame (a corruption in the middle of the file shows only
    when its packets are decoded; the header alone looks fine) and return the number of frames.

    Raises VideoError naming the file and the first frame that does not decode, or the shortfall when the stream
    holds fewer frames than its header says. No colour conversion, so cheaper than reading the frames; it is what
    ``microgesture data check --decode`` and ``train`` run on the videos a branch reads.
    """
    path = Path(path)
    n = 0
    try:
        with _video_stream(path) as (c, s):
            declared = s.frames
            for packet in c.demux(s):
                n += len(packet.decode())
    except av.error.FFmpegError as e:
        raise VideoError(f"{path}: corrupt video, decoding failed at frame {n} ({e})") from None
    if n == 0:
        raise VideoError(f"{path}: no frame decodes")
    if declared and n < declared:
        raise VideoError(f"{path}: corrupt video, {n} of its {declared} frames decode")
    return n


def iter_frames(path: str | os.PathLike, *, start: int = 0) -> Iterator[np.ndarray]:
    """Decode a video sequentially from frame ``start``, one uint8 (H, W, 3) RGB frame at a time, so a long video is
    never held in memory (a 10-minute 720p interview is 40 GB of frames). Errors name the file and the frame."""
    path = Path(path)
    i = 0
    try:
        with _video_stream(path) as (c, s):
            for frame in c.decode(s):
                if i >= start:  # frames before start are decoded (they must be) but not converted
                    yield frame.to_ndarray(format="rgb24")
                i += 1
    except av.error.FFmpegError as e:
        raise VideoError(f"{path}: decoding failed at frame {i} ({e})") from None


def read_video(path: str | os.PathLike, *, start: int = 0, num_frames: int | None = None) -> np.ndarray:
    """Decode frames ``[start, start + num_frames)`` sequentially as uint8 (T, H, W, 3) RGB.

    Sequential decoding, for whole clips and extraction jobs; sampled decoding of a few frames of a long video uses
    seeking instead. Raises VideoError naming the file and the first frame that could not be decoded.
    """
    frames: list[np.ndarray] = []
    for frame in iter_frames(path, start=start):
        if num_frames is not None and len(frames) >= num_frames:
            break
        frames.append(frame)
    if num_frames is not None and len(frames) < num_frames:
        last = start + num_frames - 1
        raise VideoError(f"{path}: needed frames {start}..{last}, video ends after {start + len(frames)}")
    if not frames:
        raise VideoError(f"{path}: no frames decoded from frame {start}")
    return np.stack(frames)


def read_frames(path: str | os.PathLike, indices, *, scale: float = 1.0, seek_gap: int = 96) -> np.ndarray:
    """Decode the frames at ``indices`` (0-based, any order, repeats allowed) as uint8 (N, H, W, 3) RGB.

    Frames are visited in increasing order; a gap of more than ``seek_gap`` frames to the next wanted frame is
    crossed with a seek to the keyframe before it (then decoding up to it), smaller gaps by decoding. Only wanted
    frames are converted to RGB. A frame's index comes from its timestamp (constant frame rate assumed, as in clips
    cut at the source fps), or from counting when the stream has no timestamps (then no seeking).

    Args:
        indices: (N,) frame indices; the result follows their order.
        scale: decode at the native size divided by ``scale`` (rounded), with swscale's area filter: an antialiased
            downscale that also makes the RGB conversion cheaper. 1 = native size.
        seek_gap: frames; see above. Keyframes of typical H.264 files are 12-250 frames apart.

    Raises:
        VideoError: naming the file and the frame, if the file cannot be opened, a packet cannot be decoded, or the
            video ends before a wanted frame (a truncated file).
    """
    # long: one decode loop whose seek state (frames, cur, pos, fresh, timed) is shared; split, it would pass it around
    path = Path(path)
    idx = np.asarray(indices, dtype=np.int64).reshape(-1)
    if idx.size == 0:
        raise ValueError(f"{path}: no frame indices to read")
    if idx.min() < 0:
        raise ValueError(f"{path}: negative frame index {int(idx.min())}")
    if not path.is_file():
        raise VideoError(f"{path}: video not found")
    wanted = np.unique(idx).tolist()
    got: dict[int, np.ndarray] = {}
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as e:
        raise VideoError(f"{path}: cannot open video ({e})") from None
    with container as c:
        if not c.streams.video:
            raise VideoError(f"{path}: no video stream")
        s = c.streams.video[0]
        s.thread_type = "SLICE"  # frame threads delay output and fight data-loader workers for the cores
        s.thread_count = 1
        w, h = s.codec_context.width, s.codec_context.height
        size = (max(1, round(w / scale)), max(1, round(h / scale))) if scale != 1.0 else (w, h)
        rate, tb, start = s.average_rate or s.guessed_rate, s.time_base, s.start_time or 0
        timed = bool(rate) and tb is not None

        def rgb(frame) -> np.ndarray:
            return frame.to_ndarray(width=size[0], height=size[1], format="rgb24", interpolation="AREA",
                                    **_REFORMAT_THREADS)

        frames, cur, pos, target = None, None, -1, wanted[0]  # cur = the decoded frame at index pos
        try:
            for target in wanted:
                if frames is None or (timed and target - pos > seek_gap):
                    if timed and target > seek_gap:  # land on the keyframe before target, decode from there
                        c.seek(int(start + round(target / float(rate) / float(tb))), stream=s, backward=True)
                    elif frames is not None:
                        c.seek(start, stream=s, backward=True)
                    frames, cur, pos, fresh = c.decode(s), None, -1, True
                while cur is None or pos < target:
                    cur = next(frames, None)
                    if cur is None:
                        raise VideoError(f"{path}: frame {target} requested, but the video ends after frame {pos} "
                                         f"({pos + 1} frames; truncated, or shorter than its clip)")
                    pos = pos + 1 if cur.pts is None or not timed else round(float((cur.pts - start) * tb * rate))
                    if fresh and pos > target:  # the seek overshot: fall back to decoding from the start
                        c.seek(start, stream=s, backward=True)
                        frames, cur, pos, timed = c.decode(s), None, -1, False
                        continue
                    fresh = False
                # pos > target only where timestamps skip a frame (variable rate): the next frame stands in
                got[target] = rgb(cur)
        except av.error.FFmpegError as e:
            raise VideoError(f"{path}: decoding failed at frame {pos + 1} (reading frame {target}): {e}") from None
    return np.stack([got[int(i)] for i in idx])
