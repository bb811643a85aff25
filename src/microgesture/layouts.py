"""Keypoint layouts: joint names, centre, edges, flip permutations and the map from OpenPose-137.

Every consumer (graph convolutions, limb heatmaps, flips, normalisation) derives from a :class:`Layout`, so switching
layout needs no other edit. Skeletons are stored in a *source* layout (``openpose137`` for iMiGUE and the synthetic
benchmark, ``coco17`` for COCO-style detectors); any layout whose joints are a subset of the source can be selected
from it with :func:`convert`.

Sources: OpenPose BODY_25 / face-70 / hand-21 orders; ``mmg36`` indices, limbs and flip pairs from MM-Gesture's
``processing_Skeleton.ipynb`` and ``limb.py``; ``aim68`` and ``miga22`` are microgesture reconstructions
(docs/formats.md), as AIM did not publish its 68 indices.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Layout", "register_layout", "get_layout", "list_layouts", "without_joints", "convert", "LAYOUTS"]


@dataclass(frozen=True)
class Layout:
    """A keypoint layout.

    Attributes:
        name: registry name.
        joints: joint names, in order.
        source: index of each joint in OpenPose-137 order (``None`` for a layout that is not a subset of it).
        center: joints whose mean is the skeleton's centre (one index for a neck, two for a shoulder midpoint).
        shoulders: (right, left) joint indices; their distance is the scale used for normalisation.
        edges: (a, b) joint-index pairs; the graph of ST-GCN and the limbs of limb heatmaps.
        joint_flip: permutation mapping each joint to its mirror under a horizontal flip.
        edge_flip: permutation mapping each edge to its mirror (derived from ``joint_flip``).
        parts: named groups of joints (body, face, left_hand, right_hand), used for dropout and reports.
    """

    name: str
    joints: tuple[str, ...]
    source: tuple[int, ...] | None
    center: tuple[int, ...]
    shoulders: tuple[int, int]
    edges: tuple[tuple[int, int], ...]
    joint_flip: tuple[int, ...]
    edge_flip: tuple[int, ...] = field(default=())
    parts: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    @property
    def num_edges(self) -> int:
        return len(self.edges)

    def adjacency(self) -> np.ndarray:
        """Symmetric (V, V) 0/1 adjacency of the edges, without self loops."""
        a = np.zeros((self.num_joints, self.num_joints), dtype=np.float32)
        for i, j in self.edges:
            a[i, j] = a[j, i] = 1.0
        return a

    def index(self, name: str) -> int:
        return self.joints.index(name)


def _derive_edge_flip(edges: tuple[tuple[int, int], ...], joint_flip: tuple[int, ...], name: str) -> tuple[int, ...]:
    lookup = {frozenset(e): k for k, e in enumerate(edges)}
    out = []
    for a, b in edges:
        mirror = frozenset((joint_flip[a], joint_flip[b]))
        if mirror not in lookup:
            raise ValueError(f"layout {name}: edge ({a}, {b}) has no mirror edge ({joint_flip[a]}, {joint_flip[b]})")
        out.append(lookup[mirror])
    return tuple(out)


def _flip_from_pairs(n: int, pairs: list[tuple[int, int]]) -> tuple[int, ...]:
    perm = list(range(n))
    for a, b in pairs:
        perm[a], perm[b] = b, a
    return tuple(perm)


def _make(
    *,
    name: str,
    joints: list[str],
    source: list[int] | None,
    center: tuple[int, ...],
    shoulders: tuple[int, int],
    edges: list[tuple[int, int]],
    flip_pairs: list[tuple[int, int]],
    parts: dict[str, tuple[int, ...]] | None = None,
) -> Layout:
    n = len(joints)
    if source is not None and len(source) != n:
        raise ValueError(f"layout {name}: {len(source)} source indices for {n} joints")
    for a, b in edges:
        if not (0 <= a < n and 0 <= b < n) or a == b:
            raise ValueError(f"layout {name}: bad edge ({a}, {b})")
    jf = _flip_from_pairs(n, flip_pairs)
    e = tuple((int(a), int(b)) for a, b in edges)
    return Layout(
        name=name,
        joints=tuple(joints),
        source=tuple(source) if source is not None else None,
        center=center,
        shoulders=shoulders,
        edges=e,
        joint_flip=jf,
        edge_flip=_derive_edge_flip(e, jf, name),
        parts=dict(parts or {}),
    )


# ---------------------------------------------------------------------------------------------------------------------
# OpenPose 137 = BODY_25 (0-24) + face-70 (25-94) + left hand (95-115) + right hand (116-136).
BODY25_NAMES = [
    "nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist", "mid_hip",
    "r_hip", "r_knee", "r_ankle", "l_hip", "l_knee", "l_ankle", "r_eye", "l_eye", "r_ear", "l_ear",
    "l_big_toe", "l_small_toe", "l_heel", "r_big_toe", "r_small_toe", "r_heel",
]  # fmt: skip
FACE0, LHAND0, RHAND0 = 25, 95, 116
BODY25_EDGES = [
    (1, 0), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (10, 11), (8, 12), (12, 13),
    (13, 14), (0, 15), (15, 17), (0, 16), (16, 18), (14, 19), (19, 20), (14, 21), (11, 22), (22, 23), (11, 24),
]  # fmt: skip
BODY25_FLIP = [(2, 5), (3, 6), (4, 7), (9, 12), (10, 13), (11, 14), (15, 16), (17, 18), (19, 22), (20, 23), (21, 24)]
# iBUG-68 + 2 pupils mirror pairs (face-70 indices).
FACE70_FLIP = (
    [(i, 16 - i) for i in range(8)]
    + [(17 + i, 26 - i) for i in range(5)]
    + [(31, 35), (32, 34)]
    + [(36, 45), (37, 44), (38, 43), (39, 42), (40, 47), (41, 46)]
    + [(48, 54), (49, 53), (50, 52), (55, 59), (56, 58), (60, 64), (61, 63), (65, 67), (68, 69)]
)
FACE70_EDGES = (
    [(i, i + 1) for i in range(16)]  # jaw
    + [(i, i + 1) for i in range(17, 21)]
    + [(i, i + 1) for i in range(22, 26)]  # brows
    + [(i, i + 1) for i in range(27, 30)]
    + [(30, 33)]
    + [(i, i + 1) for i in range(31, 35)]  # nose
    + [(36, 37), (37, 38), (38, 39), (39, 40), (40, 41), (41, 36)]
    + [(42, 43), (43, 44), (44, 45), (45, 46), (46, 47), (47, 42)]  # eyes
    + [(i, i + 1) for i in range(48, 59)]
    + [(59, 48)]
    + [(i, i + 1) for i in range(60, 67)]
    + [(67, 60)]  # lips
    + [(36, 68), (45, 69)]  # pupils hang off the outer eye corners (mirror of each other)
    # joins between the contours so the face is one connected graph (each join has its mirror)
    + [(0, 17), (16, 26), (21, 27), (22, 27), (39, 27), (42, 27), (33, 51), (48, 60), (54, 64)]
)
# Hand-21: wrist 0, then 4 joints per finger (thumb 1-4, index 5-8, middle 9-12, ring 13-16, little 17-20).
HAND21_EDGES = [(0, 1), (1, 2), (2, 3), (3, 4)]
for _base in (5, 9, 13, 17):
    HAND21_EDGES += [(0, _base), (_base, _base + 1), (_base + 1, _base + 2), (_base + 2, _base + 3)]
HAND_TIPS = (4, 8, 12, 16, 20)


def _openpose137() -> Layout:
    names = BODY25_NAMES + [f"face_{i}" for i in range(70)]
    names += [f"l_hand_{i}" for i in range(21)] + [f"r_hand_{i}" for i in range(21)]
    edges = list(BODY25_EDGES)
    edges += [(FACE0 + a, FACE0 + b) for a, b in FACE70_EDGES]
    edges += [(LHAND0 + a, LHAND0 + b) for a, b in HAND21_EDGES]
    edges += [(RHAND0 + a, RHAND0 + b) for a, b in HAND21_EDGES]
    edges += [(0, FACE0 + 30), (7, LHAND0), (4, RHAND0)]  # nose-to-nose-tip, wrists to hand roots
    flips = list(BODY25_FLIP) + [(FACE0 + a, FACE0 + b) for a, b in FACE70_FLIP]
    flips += [(LHAND0 + i, RHAND0 + i) for i in range(21)]
    return _make(
        name="openpose137",
        joints=names,
        source=list(range(137)),
        center=(1,),
        shoulders=(2, 5),
        edges=edges,
        flip_pairs=flips,
        parts={
            "body": tuple(range(25)),
            "face": tuple(range(25, 95)),
            "left_hand": tuple(range(95, 116)),
            "right_hand": tuple(range(116, 137)),
        },
    )


def _mmg36() -> Layout:
    # Raw indices, new joint order, limbs and flip pairs: MM-Gesture processing_Skeleton.ipynb and limb.py.
    source = [0, 1, 2, 3, 4, 5, 6, 7, 15, 16, 17, 18, 27, 29, 33, 37, 39, 44, 49, 52, 73, 76, 79, 82,
              95, 99, 103, 107, 111, 115, 116, 120, 124, 128, 132, 136]  # fmt: skip
    names = ["nose", "neck", "r_shoulder", "r_elbow", "r_wrist", "l_shoulder", "l_elbow", "l_wrist",
             "r_eye", "l_eye", "r_ear", "l_ear", "jaw_2", "jaw_4", "jaw_8", "jaw_12", "jaw_14",
             "r_brow_mid", "l_brow_mid", "nose_bridge", "mouth_48", "mouth_51", "mouth_54", "mouth_57"]  # fmt: skip
    names += [f"l_hand_{i}" for i in (0, 4, 8, 12, 16, 20)] + [f"r_hand_{i}" for i in (0, 4, 8, 12, 16, 20)]
    edges = [(0, 1), (0, 8), (8, 10), (0, 9), (9, 11), (19, 17), (19, 18), (17, 12), (12, 13), (13, 14), (18, 16),
             (16, 15), (15, 14), (20, 21), (21, 22), (22, 23), (23, 20), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6),
             (6, 7), (4, 30)] + [(30, k) for k in range(31, 36)] + [(7, 24)] + [(24, k) for k in range(25, 30)]
    edges += [(0, 19)]
    left = [17, 8, 10, 12, 13, 20, 2, 3, 4, 30, 31, 32, 33, 34, 35]
    right = [18, 9, 11, 16, 15, 22, 5, 6, 7, 24, 25, 26, 27, 28, 29]
    return _make(
        name="mmg36",
        joints=names,
        source=source,
        center=(1,),
        shoulders=(2, 5),
        edges=edges,
        flip_pairs=list(zip(left, right, strict=True)),
        parts={
            "body": tuple(range(8)),
            "face": tuple(range(8, 24)),
            "left_hand": tuple(range(24, 30)),
            "right_hand": tuple(range(30, 36)),
        },
    )


# MM-Gesture limb.py left/right limb lists, kept to check the derived edge flip against the authors' own.
MMG36_LEFT_LIMBS = [1, 2, 5, 7, 8, 9, 13, 16, 17, 18, 19, 23, 24, 25, 26, 27, 28]
MMG36_RIGHT_LIMBS = [3, 4, 6, 10, 11, 12, 14, 15, 20, 21, 22, 29, 30, 31, 32, 33, 34]
AIM68_FACE = (0, 4, 8, 12, 16, 19, 24, 27, 30, 33, 36, 39, 42, 45, 48, 51, 54, 57, 62)


def _aim68() -> Layout:
    # microgesture reconstruction (docs/formats.md): BODY_25 1-7, 19 face-70 points, both hands in full.
    body = [1, 2, 3, 4, 5, 6, 7]
    source = body + [FACE0 + f for f in AIM68_FACE] + list(range(LHAND0, LHAND0 + 21))
    source += list(range(RHAND0, RHAND0 + 21))
    names = [BODY25_NAMES[i] for i in body] + [f"face_{f}" for f in AIM68_FACE]
    names += [f"l_hand_{i}" for i in range(21)] + [f"r_hand_{i}" for i in range(21)]
    f = {p: 7 + k for k, p in enumerate(AIM68_FACE)}  # face-70 index -> aim68 index
    lh, rh = 26, 47
    edges = [(0, 1), (1, 2), (2, 3), (0, 4), (4, 5), (5, 6), (0, f[8])]  # body, neck to chin
    edges += [(f[0], f[4]), (f[4], f[8]), (f[8], f[12]), (f[12], f[16])]  # jaw
    edges += [(f[19], f[27]), (f[24], f[27]), (f[27], f[30]), (f[30], f[33])]  # brows, nose
    edges += [(f[36], f[39]), (f[42], f[45]), (f[39], f[27]), (f[42], f[27]), (f[19], f[36]), (f[24], f[45])]
    edges += [(f[48], f[51]), (f[51], f[54]), (f[54], f[57]), (f[57], f[48]), (f[51], f[62]), (f[62], f[57])]
    edges += [(f[33], f[51]), (f[0], f[36]), (f[16], f[45])]
    edges += [(lh + a, lh + b) for a, b in HAND21_EDGES] + [(rh + a, rh + b) for a, b in HAND21_EDGES]
    edges += [(6, lh), (3, rh)]  # wrists to hand roots
    mirror70 = dict(FACE70_FLIP)
    mirror70.update({b: a for a, b in FACE70_FLIP})
    flips = [(1, 4), (2, 5), (3, 6)]
    flips += [(f[p], f[mirror70[p]]) for p in AIM68_FACE if p in mirror70 and p < mirror70[p]]
    flips += [(lh + i, rh + i) for i in range(21)]
    return _make(
        name="aim68",
        joints=names,
        source=source,
        center=(0,),
        shoulders=(1, 4),
        edges=edges,
        flip_pairs=flips,
        parts={
            "body": tuple(range(7)),
            "face": tuple(range(7, 26)),
            "left_hand": tuple(range(26, 47)),
            "right_hand": tuple(range(47, 68)),
        },
    )


def _miga22() -> Layout:
    # microgesture reconstruction of the MiGA'23 22-joint set: BODY_25 0-7, eyes and ears, five fingertips per hand.
    body = [0, 1, 2, 3, 4, 5, 6, 7, 15, 16, 17, 18]
    source = body + [LHAND0 + t for t in HAND_TIPS] + [RHAND0 + t for t in HAND_TIPS]
    names = [BODY25_NAMES[i] for i in body] + [f"l_hand_{t}" for t in HAND_TIPS] + [f"r_hand_{t}" for t in HAND_TIPS]
    edges = [(0, 1), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (0, 8), (8, 10), (0, 9), (9, 11)]
    edges += [(7, 12 + k) for k in range(5)] + [(4, 17 + k) for k in range(5)]
    flips = [(2, 5), (3, 6), (4, 7), (8, 9), (10, 11)] + [(12 + k, 17 + k) for k in range(5)]
    return _make(
        name="miga22",
        joints=names,
        source=source,
        center=(1,),
        shoulders=(2, 5),
        edges=edges,
        flip_pairs=flips,
        parts={"body": tuple(range(12)), "left_hand": tuple(range(12, 17)), "right_hand": tuple(range(17, 22))},
    )


def _coco17() -> Layout:
    names = ["nose", "l_eye", "r_eye", "l_ear", "r_ear", "l_shoulder", "r_shoulder", "l_elbow", "r_elbow",
             "l_wrist", "r_wrist", "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle"]  # fmt: skip
    source = [BODY25_NAMES.index(n) for n in names]
    edges = [(15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8), (7, 9),
             (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6)]  # fmt: skip
    flips = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)]
    return _make(
        name="coco17",
        joints=names,
        source=source,
        center=(5, 6),
        shoulders=(6, 5),
        edges=edges,
        flip_pairs=flips,
        parts={"body": tuple(range(17))},
    )


LAYOUTS: dict[str, Layout] = {}


def register_layout(layout: Layout) -> Layout:
    """Add a layout to the registry; a duplicate name is an error."""
    if layout.name in LAYOUTS:
        raise ValueError(f"layout {layout.name!r} is already registered")
    LAYOUTS[layout.name] = layout
    return layout


def get_layout(name: str | Layout) -> Layout:
    if isinstance(name, Layout):
        return name
    try:
        return LAYOUTS[name]
    except KeyError:
        raise KeyError(f"unknown layout {name!r}; known: {', '.join(sorted(LAYOUTS))}") from None


def list_layouts() -> list[str]:
    return sorted(LAYOUTS)


for _builder in (_openpose137, _mmg36, _aim68, _miga22, _coco17):
    register_layout(_builder())


def without_joints(layout: str | Layout, names: list[str]) -> Layout:
    """``layout`` less the joints in ``names`` it has, registered as ``<layout>-minus-<k>`` (once: asking again returns
    it); its edges, flip pairs and parts are those among the kept joints. For ablations of which points a class is
    learnt from. ValueError if it has none of them, or if they take a joint's mirror but not the joint, or the centre
    or a shoulder (the normalisation needs them)."""
    src = get_layout(layout)
    drop = {i for i, j in enumerate(src.joints) if j in names}
    if not drop:
        raise ValueError(f"layout {src.name} has none of {', '.join(names)}")
    if any(src.joint_flip[i] not in drop for i in drop) or drop & {*src.center, *src.shoulders}:
        raise ValueError(f"{src.name} would lose a joint's mirror, its centre or a shoulder")
    keep = [i for i in range(src.num_joints) if i not in drop]
    new = {old: k for k, old in enumerate(keep)}
    name = f"{src.name}-minus-{len(drop)}"
    derived = _make(
        name=name, joints=[src.joints[i] for i in keep],
        source=[src.source[i] for i in keep] if src.source is not None else None,
        center=tuple(new[i] for i in src.center), shoulders=(new[src.shoulders[0]], new[src.shoulders[1]]),
        edges=[(new[a], new[b]) for a, b in src.edges if a in new and b in new],
        flip_pairs=[(new[i], new[j]) for i, j in enumerate(src.joint_flip) if i < j and i in new],
        parts={k: tuple(new[i] for i in v if i in new) for k, v in src.parts.items()})
    if name in LAYOUTS:
        if LAYOUTS[name] != derived:
            raise ValueError(f"layout {name!r} is already registered with other joints")
        return LAYOUTS[name]
    return register_layout(derived)


def selection(src: str | Layout, dst: str | Layout) -> np.ndarray:
    """Indices into ``src``'s joints that give ``dst``'s joints; raises if ``dst`` is not a subset of ``src``."""
    s, d = get_layout(src), get_layout(dst)
    if s.name == d.name:
        return np.arange(s.num_joints)
    if s.source is None or d.source is None:
        raise ValueError(f"cannot convert layout {s.name} to {d.name}: no common source order")
    where = {j: k for k, j in enumerate(s.source)}
    missing = [d.joints[k] for k, j in enumerate(d.source) if j not in where]
    if missing:
        raise ValueError(f"cannot convert layout {s.name} to {d.name}: {s.name} lacks {', '.join(missing[:5])}")
    return np.array([where[j] for j in d.source], dtype=np.int64)


def convert(skeleton: np.ndarray, src: str | Layout, dst: str | Layout) -> np.ndarray:
    """Select ``dst``'s joints from a (..., V_src, C) skeleton stored in layout ``src``."""
    idx = selection(src, dst)
    return np.take(skeleton, idx, axis=-2)
