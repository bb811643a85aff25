"""``input.crop: parts``: body, face and hand crops tiled 2 x 2 (microgesture.inputs.parts), on hand-made skeletons
and on a tiny real video whose face and hands are painted in their own colours."""

import numpy as np
import pytest

from microgesture.data.format import Clip, Dataset, DatasetHeader, DatasetWriter
from microgesture.data.video import write_video
from microgesture.inputs.geometry import Box
from microgesture.inputs.parts import FACE_SIDE, HAND_SIDE, MOUTH_SIDE, part_tracks, tile
from microgesture.inputs.rgb import RGBInputConfig, RGBPipeline
from microgesture.layouts import FACE0, LHAND0, RHAND0

FRAME = (64, 48)
FACE_AT, LEFT_AT, RIGHT_AT = (32.0, 12.0), (46.0, 36.0), (18.0, 36.0)  # centres of the painted parts
COLOURS = {"face": (220, 40, 40), "left": (40, 220, 40), "right": (40, 40, 220)}


def _skeleton(t: int, *, hands: bool = True) -> np.ndarray:
    s = np.zeros((t, 137, 3), np.float32)
    s[:, [2, 5]] = ((22, 20, 0.9), (42, 20, 0.9))  # right, left shoulder: 20 px apart
    s[:, 0] = (*FACE_AT, 0.9)
    s[:, 4] = (*RIGHT_AT, 0.9)  # right wrist
    s[:, 7] = (*LEFT_AT, 0.9)  # left wrist
    rng = np.random.default_rng(0)
    s[:, FACE0:FACE0 + 70, :2] = np.array(FACE_AT) + rng.uniform(-4, 4, (t, 70, 2))
    s[:, FACE0:FACE0 + 70, 2] = 1.0
    if hands:
        for start, at in ((LHAND0, LEFT_AT), (RHAND0, RIGHT_AT)):
            s[:, start:start + 21, :2] = np.array(at) + rng.uniform(-3, 3, (t, 21, 2))
            s[:, start:start + 21, 2] = 1.0
    return s


def test_part_tracks_follow_the_parts_at_a_fixed_side():
    s = _skeleton(6)
    s[:, LHAND0:LHAND0 + 21, 0] += 2.0 * np.arange(6)[:, None]  # the left hand moves right 2 px a frame
    s[3, LHAND0:LHAND0 + 21] = 0  # and is missed in frame 3 (its wrist too)
    s[3, 7] = 0
    body = Box(10, 2, 54, 46)
    tracks = part_tracks(s, body)
    assert [len(t) for t in tracks] == [6, 6, 6, 6] and all(b == body for b in tracks[0])
    face, left = tracks[1], tracks[2]
    assert face[0].width == pytest.approx(FACE_SIDE * 20) and left[0].width == pytest.approx(HAND_SIDE * 20)
    centre = [(b.x0 + b.x1) / 2 for b in left]
    assert np.diff(centre[:3]) == pytest.approx([2.0, 2.0], abs=0.5)  # follows the hand
    assert centre[3] == pytest.approx(centre[2])  # missed: held where last seen
    fx = np.mean(s[0, FACE0:FACE0 + 70, 0])
    assert (face[0].x0 + face[0].x1) / 2 == pytest.approx(fx)


def test_part_tracks_fall_back_to_the_wrist_then_the_body():
    s = _skeleton(4, hands=False)
    tracks = part_tracks(s, Box(10, 2, 54, 46))
    assert (tracks[2][0].x0 + tracks[2][0].x1) / 2 == pytest.approx(LEFT_AT[0])  # the left wrist
    s[:, 7] = 0  # no left wrist either: the body box's centre
    tracks = part_tracks(s, Box(10, 2, 54, 46))
    assert ((tracks[2][0].x0 + tracks[2][0].x1) / 2, (tracks[2][0].y0 + tracks[2][0].y1) / 2) == (32.0, 24.0)


def test_tile_layout_and_flip_swaps_the_hand_panels():
    panels = np.stack([np.full((2, 4, 4, 3), k, np.uint8) for k in range(4)])  # body 0, face 1, left 2, right 3
    m = tile(panels, flip=False)
    assert m.shape == (2, 8, 8, 3)
    assert (m[:, 0, 0] == 0).all() and (m[:, 0, 7] == 1).all() and (m[:, 7, 0] == 2).all() and (m[:, 7, 7] == 3).all()
    f = tile(panels, flip=True)
    assert (f[:, 7, 0] == 3).all() and (f[:, 7, 7] == 2).all() and (f[:, 0, 7] == 1).all()


def _painted_dataset(root) -> Dataset:
    t = 8
    header = DatasetHeader(name="parts", layout="openpose137", classes=("a", "b"), fps=25.0, frame_size=FRAME)
    frames = np.full((t, FRAME[1], FRAME[0], 3), 100, np.uint8)
    for name, (x, y) in (("face", FACE_AT), ("left", LEFT_AT), ("right", RIGHT_AT)):
        frames[:, int(y) - 4:int(y) + 4, int(x) - 4:int(x) + 4] = COLOURS[name]
    with DatasetWriter(root, header) as w:
        for i, split in enumerate(("train", "val", "test")):
            cid = f"v{i}_0"
            write_video(w.path_for(f"videos/{cid}.mp4"), frames)
            w.add(Clip(clip_id=cid, video_id=f"v{i}", subject=f"s{i}", split=split, label=i % 2, start_frame=0,
                       end_frame=t - 1, num_frames=t, video_path=f"videos/{cid}.mp4"), _skeleton(t))
    return Dataset.open(root)


def _centre(panel: np.ndarray) -> np.ndarray:
    h = panel.shape[1] // 2
    return panel[:, h - 1:h + 1, h - 1:h + 1].reshape(-1, 3).mean(0)


@pytest.mark.parametrize("flip", [False, True])
def test_each_panel_shows_its_own_part_on_a_real_video(tmp_path, flip):
    ds = _painted_dataset(tmp_path / "d")
    pipe = RGBPipeline(RGBInputConfig(clip_len=4, size=32, crop="parts", num_test_clips=1, flip_test=True),
                       "openpose137")
    x = pipe.test_sample(ds, ds.split("test")[0])["rgb"]
    assert x.shape == (2, 4, 32, 32, 3)
    m = x[int(flip)]
    # the flipped view is the mirrored person, whose left hand is the original right hand: the panels swap with it
    left, right = ("right", "left") if flip else ("left", "right")
    for (r, c), name in (((0, 1), "face"), ((1, 0), left), ((1, 1), right)):
        panel = m[:, r * 16:(r + 1) * 16, c * 16:(c + 1) * 16]
        got = _centre(panel)
        assert np.abs(got - COLOURS[name]).max() < 40, (name, got)  # codec tolerance
    train = pipe.train_sample(ds, ds.split("train")[0], np.random.default_rng(1))["rgb"]
    assert train.shape == (4, 32, 32, 3)


def test_parts_needs_an_even_size():
    with pytest.raises(ValueError, match="even"):
        RGBInputConfig(size=31, crop="parts")


def test_a_mouth_panel_follows_the_lips_closer_than_the_face_panel():
    s = _skeleton(3)
    s[:, FACE0 + 48:FACE0 + 68, :2] = (30.0, 16.0)  # the lips, off the face's centre
    s[1, FACE0 + 48:FACE0 + 68, 0] += 3.0  # move right in frame 1
    tracks = part_tracks(s, Box(10, 2, 54, 46), parts=("mouth", "face", "left_hand", "right_hand"))
    mouth, face = tracks[0], tracks[1]
    assert mouth[0].width == pytest.approx(MOUTH_SIDE * 20) and mouth[0].width < face[0].width
    assert [(b.x0 + b.x1) / 2 for b in mouth] == pytest.approx([30.0, 33.0, 30.0])
    s[:, FACE0 + 48:FACE0 + 68] = 0  # lips never seen: the nose
    assert (part_tracks(s, Box(10, 2, 54, 46), parts=("mouth", "face", "left_hand", "right_hand"))[0][0].x0
            + MOUTH_SIDE * 10) == pytest.approx(FACE_AT[0])


def test_flip_swaps_the_hand_panels_wherever_they_are():
    panels = np.stack([np.full((1, 2, 2, 3), k, np.uint8) for k in range(4)])
    parts = ("left_hand", "mouth", "right_hand", "face")
    f = tile(panels, flip=True, parts=parts)
    assert f[0, 0, 0, 0] == 2 and f[0, 0, 3, 0] == 1 and f[0, 3, 0, 0] == 0 and f[0, 3, 3, 0] == 3
    no_hands = ("body", "face", "mouth", "body")
    with pytest.raises(ValueError, match="distinct"):
        RGBInputConfig(crop="parts", parts=no_hands)
    with pytest.raises(ValueError, match="both hands"):
        RGBInputConfig(crop="parts", parts=("body", "face", "mouth", "left_hand"))
    with pytest.raises(ValueError, match="nose"):
        RGBInputConfig(crop="parts", parts=("body", "face", "nose", "mouth"))
    assert RGBInputConfig(crop="parts", parts=["mouth", "face", "left_hand", "right_hand"]).parts[0] == "mouth"


def test_a_mouth_panel_shows_the_painted_face_at_a_real_video(tmp_path):
    ds = _painted_dataset(tmp_path / "d")
    pipe = RGBPipeline(RGBInputConfig(clip_len=2, size=32, crop="parts", num_test_clips=1, flip_test=False,
                                      parts=("mouth", "face", "left_hand", "right_hand")), "openpose137")
    m = pipe.test_sample(ds, ds.split("test")[0])["rgb"][0]
    assert np.abs(_centre(m[:, :16, :16]) - COLOURS["face"]).max() < 40  # the lips lie on the painted face
