import numpy as np
import pytest

from microgesture.layouts import (
    LAYOUTS,
    MMG36_LEFT_LIMBS,
    MMG36_RIGHT_LIMBS,
    Layout,
    convert,
    get_layout,
    list_layouts,
    register_layout,
    selection,
)


def test_shipped_layouts():
    assert list_layouts() == ["aim68", "coco17", "miga22", "mmg36", "openpose137"]
    assert {n: LAYOUTS[n].num_joints for n in LAYOUTS} == {
        "openpose137": 137, "mmg36": 36, "aim68": 68, "miga22": 22, "coco17": 17}


def test_mmg36_indices_match_reference():
    ref = [0, 1, 2, 3, 4, 5, 6, 7, 15, 16, 17, 18, 27, 29, 33, 37, 39, 44, 49, 52, 73, 76, 79, 82,
           95, 99, 103, 107, 111, 115, 116, 120, 124, 128, 132, 136]
    assert list(get_layout("mmg36").source) == ref


def test_aim68_indices_match_decision():
    lay = get_layout("aim68")
    face = [0, 4, 8, 12, 16, 19, 24, 27, 30, 33, 36, 39, 42, 45, 48, 51, 54, 57, 62]
    expect = [1, 2, 3, 4, 5, 6, 7] + [25 + f for f in face] + list(range(95, 137))
    assert list(lay.source) == expect
    assert lay.joints[lay.center[0]] == "neck"


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_flip_is_involution_and_edges_in_range(name):
    lay = get_layout(name)
    jf = np.array(lay.joint_flip)
    assert sorted(jf.tolist()) == list(range(lay.num_joints))
    assert (jf[jf] == np.arange(lay.num_joints)).all()
    ef = np.array(lay.edge_flip)
    assert (ef[ef] == np.arange(lay.num_edges)).all()
    for (a, b), k in zip(lay.edges, ef, strict=True):
        assert 0 <= a < lay.num_joints and 0 <= b < lay.num_joints
        assert {jf[a], jf[b]} == set(lay.edges[k])
    # a left joint's mirror has the opposite side in its name
    for i, j in enumerate(jf):
        n = lay.joints[i]
        if n.startswith("l_"):
            assert lay.joints[j].startswith("r_"), (n, lay.joints[j])


def test_mmg36_limb_flip_pairs_equal_reference():
    ef = get_layout("mmg36").edge_flip
    for left, right in zip(MMG36_LEFT_LIMBS, MMG36_RIGHT_LIMBS, strict=True):
        assert ef[left] == right and ef[right] == left
    assert get_layout("mmg36").num_edges == 36


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_graphs_are_connected(name):
    lay = get_layout(name)
    a = lay.adjacency() > 0
    seen = np.zeros(lay.num_joints, bool)
    seen[0] = True
    for _ in range(lay.num_joints):
        seen = seen | a[seen].any(axis=0)
    islands = [lay.joints[i] for i in np.flatnonzero(~seen)]
    # MM-Gesture's own limb list leaves the mouth quadrilateral unattached; we keep the authors' list as is.
    assert islands == (["mouth_48", "mouth_51", "mouth_54", "mouth_57"] if name == "mmg36" else [])


def test_convert_selects_source_joints():
    skel = np.arange(137 * 3, dtype=np.float32).reshape(1, 137, 3)
    for name in ("mmg36", "aim68", "miga22", "coco17"):
        out = convert(skel, "openpose137", name)
        assert out.shape == (1, get_layout(name).num_joints, 3)
        assert (out[0, :, 0] == np.array(get_layout(name).source) * 3).all()
    # subset of a subset
    np.testing.assert_array_equal(convert(convert(skel, "openpose137", "mmg36"), "mmg36", "miga22"),
                                  convert(skel, "openpose137", "miga22"))
    with pytest.raises(ValueError, match="lacks"):
        selection("miga22", "aim68")


def test_registry_rejects_duplicates_and_unknown():
    with pytest.raises(ValueError, match="already registered"):
        register_layout(get_layout("mmg36"))
    with pytest.raises(KeyError, match="unknown layout"):
        get_layout("nope")
    assert isinstance(get_layout(get_layout("aim68")), Layout)


def test_layout_without_joints():
    """layouts.without_joints (bench/ablation_skeleton.py --drop-joints): the derived layout keeps the other joints,
    their edges, flips and parts, converts OpenPose-137 like its source less those columns, and refuses what would
    break it."""
    from microgesture.layouts import without_joints

    src = get_layout("mmg36")
    mouth = ["mouth_48", "mouth_51", "mouth_54", "mouth_57", "face_62"]  # face_62 is aim68's: ignored here
    try:
        lay = without_joints("mmg36", mouth)
        assert lay.name == "mmg36-minus-4" and lay.num_joints == 32
        assert [j for j in src.joints if j not in mouth[:4]] == list(lay.joints)
        assert all(lay.joints[a] not in mouth and lay.joints[b] not in mouth for a, b in lay.edges)
        assert len(lay.edges) == len(src.edges) - 4  # the mouth's ring
        assert all(lay.joint_flip[lay.joint_flip[i]] == i for i in range(lay.num_joints))
        for i, j in enumerate(lay.joints):  # each joint's mirror is the same joint as in the source
            assert lay.joints[lay.joint_flip[i]] == src.joints[src.joint_flip[src.joints.index(j)]]
        assert lay.parts["face"] == tuple(range(8, 20)) and lay.parts["right_hand"] == tuple(range(26, 32))
        x = np.random.default_rng(0).random((4, 137, 3)).astype(np.float32)
        keep = [k for k, j in enumerate(src.joints) if j not in mouth]
        np.testing.assert_array_equal(convert(x, "openpose137", lay), convert(x, "openpose137", src)[:, keep])
        assert without_joints("mmg36", mouth) is lay  # registered once
        with pytest.raises(ValueError, match="has none of"):
            without_joints("mmg36", ["face_62"])
        with pytest.raises(ValueError, match="mirror"):
            without_joints("mmg36", ["r_eye"])
        with pytest.raises(ValueError, match="centre or a shoulder"):
            without_joints("mmg36", ["neck"])
    finally:
        LAYOUTS.pop("mmg36-minus-4", None)
