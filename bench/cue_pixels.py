"""How many input pixels the lip cue of "bite/press lips" spans in each model's view of the synthetic benchmark.

"bite/press lips" is the demo's largest error (the joint branch sends most of its 54 test clips to "shake shoulders"),
and its cue is the upper lip's thickness (face 51 to face 62). This measures, on clips generated the way the benchmark
makes them (noise-free geometry, `synth_clip(..., clean=True)`), how much the press changes that thickness against the
same clip without the gesture, in shoulder widths, in the preset's frame pixels, and in the pixels of each RGB view: the
face and mouth panels of ``input.crop: parts`` (``size`` S gives S/2-pixel panels of ``FACE_SIDE`` and ``MOUTH_SIDE``
shoulder widths) and the papers' single skeleton crop (the clip's box + 20 %, square, at 224 px as AIM feeds Video
Swin). Below one pixel the press is only a change of shade along the anti-aliased edge of the lip.

    .venv/bin/python bench/cue_pixels.py [--preset small] [--clips 40] [--sizes 48 64 96]
"""

from __future__ import annotations

import argparse

import numpy as np

from microgesture.data.classes import IMIGUE_CLASSES
from microgesture.data.synth import PRESETS, synth_clip
from microgesture.inputs.geometry import GeometryConfig, clip_box
from microgesture.inputs.parts import FACE_SIDE, MOUTH_SIDE
from microgesture.layouts import FACE0

UPPER_OUT, UPPER_IN = FACE0 + 51, FACE0 + 62  # middle of the outer upper lip, and of the inner upper lip line


def measure(preset: str, clips: int) -> dict:
    """Per clip: the largest thickness change (shoulder widths), the shoulder width and the AIM crop's side (px)."""
    lips = IMIGUE_CLASSES.index("bite/press lips")
    change, shoulders, box_side = [], [], []
    for seed in range(clips):
        with_cue = synth_clip(lips, seed=seed, preset=preset, clean=True)
        idle = synth_clip(None, seed=seed, preset=preset, clean=True, num_frames=len(with_cue))
        sw = float(np.median(np.hypot(*(with_cue[:, 2, :2] - with_cue[:, 5, :2]).T)))
        thick = [np.abs(s[:, UPPER_IN, 1] - s[:, UPPER_OUT, 1]) for s in (with_cue, idle)]
        change.append(float(np.max(np.abs(thick[0] - thick[1]))) / sw)
        shoulders.append(sw)
        box = clip_box(with_cue[..., :2], with_cue[..., 2], GeometryConfig(scale=1.2, square=True, threshold=0.05))
        box_side.append(box.width / sw)
    return {"change_sw": np.array(change), "sw_px": np.array(shoulders), "box_sw": np.array(box_side)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="small", choices=sorted(PRESETS))
    ap.add_argument("--clips", type=int, default=40)
    ap.add_argument("--sizes", type=int, nargs="+", default=[48, 64, 96], help="rgb input.size of a parts mosaic")
    args = ap.parse_args()
    m = measure(args.preset, args.clips)
    c = m["change_sw"]

    def q(x: np.ndarray) -> str:
        p = np.percentile(x, [10, 50, 90])
        return f"{p[0]:.2f} / {p[1]:.2f} / {p[2]:.2f}"

    print(f"bite/press lips, {args.clips} clips of preset {args.preset!r}: largest change of the upper lip's thickness"
          " against the same clip without the gesture, p10 / p50 / p90")
    print(f"- shoulder widths: {q(c * 100)} (x 0.01)")
    print(f"- frame pixels ({PRESETS[args.preset].frame_size[0]} wide, shoulders {np.median(m['sw_px']):.0f} px): "
          f"{q(c * m['sw_px'])}")
    for s in args.sizes:
        for name, side in (("face", FACE_SIDE), ("mouth", MOUTH_SIDE)):
            print(f"- {name} panel of a {s}-px parts mosaic ({s // 2} px for {side} shoulder widths): "
                  f"{q(c * (s / 2) / side)}")
    print(f"- one skeleton crop at 224 px (box + 20 %, {np.median(m['box_sw']):.1f} shoulder widths): "
          f"{q(c * 224 / m['box_sw'])}")


if __name__ == "__main__":
    main()
