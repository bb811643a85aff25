"""Cut clips out of a long video in one decoding pass (the iMiGUE importer's video step)."""

from __future__ import annotations

from pathlib import Path

import av

from microgesture.data.format import Clip, DatasetWriter
from microgesture.data.video import VideoWriter

__all__ = ["cut_clips"]


def cut_clips(src: Path, clips: list[Clip], w: DatasetWriter, fps: float) -> dict[str, str]:
    """Decode ``src`` once, up to the last clip's end, streaming every frame into the writers of the clips that hold
    it (overlapping clips share frames); returns {clip_id: message} for the clips the video ended inside, whose
    half-written files are removed. Memory stays at one frame per open clip, whatever the clip length."""
    last = max(c.end_frame for c in clips)
    writers: dict[str, VideoWriter] = {}
    done: set[str] = set()
    i, err = -1, ""
    try:
        with av.open(str(src)) as cont:
            stream = cont.streams.video[0]
            stream.thread_type = "AUTO"
            for i, frame in enumerate(cont.decode(stream)):
                if i > last:
                    break
                active = [c for c in clips if c.start_frame <= i <= c.end_frame]
                if not active:
                    continue
                rgb = frame.to_ndarray(format="rgb24")
                for c in active:
                    if c.clip_id not in writers:
                        writers[c.clip_id] = VideoWriter(w.path_for(c.video_path), fps=fps)
                    writers[c.clip_id].write(rgb)
                    if i == c.end_frame:
                        writers.pop(c.clip_id).close()
                        done.add(c.clip_id)
    except (av.error.FFmpegError, IndexError) as e:
        err = f" ({e})"
    finally:
        for unfinished in writers.values():
            unfinished.abort()
    return {c.clip_id: f"{src}: decoding stopped at frame {i + 1}{err} before frame {c.end_frame} of clip {c.clip_id}"
            for c in clips if c.clip_id not in done}
