"""The synthetic micro-gesture benchmark: seated subjects at a press-conference table, 32 iMiGUE classes.

``generate`` writes a dataset (microgesture format or the MiGA'25 raw layout); ``synth_clip`` returns one clip's
skeleton;
``synth_recording`` a long recording with ground-truth segments. Difficulty knobs live in :class:`Difficulty`.
"""

from microgesture.data.synth.body import Difficulty, Subject, sample_subject
from microgesture.data.synth.generate import PRESETS, Preset, generate, make_plan, synth_clip, synth_recording

__all__ = ["Difficulty", "Subject", "sample_subject", "PRESETS", "Preset", "generate", "make_plan", "synth_clip",
           "synth_recording"]
