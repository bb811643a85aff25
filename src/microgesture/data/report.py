"""What an import did: ``import_report.json`` in the dataset directory, and the summary the CLI prints."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from microgesture.data.raw_common import MAX_LISTED, Skipped

__all__ = ["ImportReport", "REPORT_FILE"]

REPORT_FILE = "import_report.json"


@dataclass
class ImportReport:
    """What an import did; written to ``import_report.json`` in the dataset directory."""

    dataset: str
    layout: str = ""
    clips_per_split: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    multi_person_frames: dict[str, int] = field(default_factory=dict)  # video -> frames with > 1 person
    empty_frames: dict[str, int] = field(default_factory=dict)  # video -> frames with nobody or no file
    videos_without_data: list[str] = field(default_factory=list)  # labelled, but no skeleton and no video
    sanitise: dict = field(default_factory=dict)  # policy and total counts (also in the dataset header)
    sanitise_per_video: dict[str, dict] = field(default_factory=dict)
    split: dict = field(default_factory=dict)  # how train/val/test were made

    def to_json(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        n = sum(self.clips_per_split.values())
        per = ", ".join(f"{k} {v}" for k, v in self.clips_per_split.items())
        lines = [f"imported {n} clips ({per}) into {self.dataset}" + (f" from the {self.layout}" if self.layout
                                                                         else "")]
        if self.videos_without_data:
            lines.append(f"{len(self.videos_without_data)} labelled videos have no skeleton and no video, skipped: "
                         + ", ".join(self.videos_without_data[:MAX_LISTED])
                         + (" ..." if len(self.videos_without_data) > MAX_LISTED else ""))
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)}:")
            lines += [f"  {s}" for s in self.skipped[:MAX_LISTED]]
            if len(self.skipped) > MAX_LISTED:
                lines.append(f"  ... and {len(self.skipped) - MAX_LISTED} more, see {REPORT_FILE}")
        c = self.sanitise.get("counts")
        if c:
            lines.append(f"sanitised {c['frames']} frames: {c['confidence_clamped']} confidences clamped to [0, 1], "
                         f"{c['low_confidence']} low-confidence and {c['outside_frame']} out-of-frame points set "
                         f"missing; {c['multi_person_frames']} frames with several people (subject tracked), "
                         f"{c['nobody_frames']} with nobody, {c['missing_frames']} missing")
        elif sum(self.multi_person_frames.values()):
            lines.append(f"{sum(self.multi_person_frames.values())} frames had several people")
        if self.split.get("method") == "subject":
            lines.append(f"subject split {self.split['fractions']} seed {self.split['seed']}: clips "
                         f"{self.split['clips']}, largest per-class share difference "
                         f"{self.split['max_class_share_diff']:.3f}")
        lines += [f"warning: {w}" for w in self.warnings[:MAX_LISTED]]
        return "\n".join(lines)
