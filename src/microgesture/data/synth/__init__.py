"""The synthetic micro-gesture benchmark: seated subjects at a press-conference table, 32 iMiGUE classes.

``generate`` writes a dataset (microgesture format or the MiGA'25 raw layout); ``synth_clip`` returns one clip's
skeleton; ``synth_recording`` a long recording with ground-truth segments. Difficulty knobs live in
:class:`Difficulty`, the simulated pose estimator's in :class:`Detector` (calibrated on real iMiGUE: the timing in
``timing.py``, framing and detector in ``subject.py``; docs/synthetic.md lists each with its real statistic).
"""

from microgesture.data.synth.body import Difficulty, Subject, sample_subject
from microgesture.data.synth.generate import PRESETS, Preset, generate, make_plan, synth_clip, synth_recording
from microgesture.data.synth.plan import rendered_at
from microgesture.data.synth.subject import Detector

__all__ = ["Detector", "Difficulty", "Subject", "sample_subject", "PRESETS", "Preset", "generate", "make_plan",
           "rendered_at", "synth_clip", "synth_recording"]
