"""Micro-gesture detection on untrimmed skeletons (:mod:`.core`: windows, smoothing, events; :mod:`.events`:
event F1, files and the whole file-to-files run). See :mod:`microgesture.detect.core` for the method."""

from microgesture.detect.core import (
    EVENT_COLUMNS,
    DetectConfig,
    DetectError,
    Detection,
    Event,
    WindowScorer,
    as_scorer,
    background_labels,
    baseline_contrast,
    detect,
    events_from_probs,
    smooth_probs,
    window_frames,
    window_labels,
    window_starts,
    window_valid,
)
from microgesture.detect.events import (
    DetectRun,
    config_dict,
    detect_file,
    event_f1,
    event_report,
    parse_background,
    plot_timeline,
    read_events,
    temporal_iou,
    write_events,
)

__all__ = ["DetectConfig", "DetectError", "Event", "WindowScorer", "Detection", "detect", "as_scorer", "window_starts",
           "window_frames", "window_valid", "window_labels", "baseline_contrast", "smooth_probs", "events_from_probs",
           "event_f1", "event_report", "temporal_iou", "write_events", "read_events", "plot_timeline",
           "background_labels", "config_dict", "detect_file", "parse_background", "DetectRun", "EVENT_COLUMNS"]
