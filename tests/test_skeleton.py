import numpy as np
import pytest

from microgesture.inputs.skeleton import (
    SkeletonInputConfig,
    SkeletonTransform,
    dense_indices,
    dense_view_indices,
    parents,
    uniform_indices,
    view_indices,
)
from microgesture.layouts import LAYOUTS, get_layout


def _skel(t=40, seed=0):
    rng = np.random.default_rng(seed)
    s = np.zeros((t, 137, 3), np.float32)
    s[..., :2] = rng.uniform(50, 250, size=(t, 137, 2))
    s[..., 2] = rng.uniform(0.3, 1.0, size=(t, 137))
    s[:, 2, :2], s[:, 5, :2], s[:, 1, :2] = (100, 100), (160, 100), (130, 98)
    return s


def test_uniform_indices_cover_clip_in_order():
    rng = np.random.default_rng(0)
    for n in (5, 64, 300):
        idx = uniform_indices(n, 64, rng)
        assert len(idx) == 64 and (np.diff(idx) >= 0).all() and idx.min() >= 0 and idx.max() < n
    idx = uniform_indices(300, 64, None)
    assert idx[0] < 300 / 64 and idx[-1] > 300 - 300 / 64
    views = view_indices(100, 16, 3)
    assert len(views) == 3 and not np.array_equal(views[0], views[2])


def test_dense_indices_are_one_window_at_the_interval():
    """mmaction2's SampleFrames: clip_len frames interval apart; train starts anywhere the window fits (both ends
    reached), test takes the centred window; a clip shorter than the window starts at 0 and loops."""
    starts = set()
    for seed in range(200):
        idx = dense_indices(100, 32, 2, np.random.default_rng(seed))
        assert len(idx) == 32 and (np.diff(idx) == 2).all() and idx.min() >= 0 and idx.max() < 100
        starts.add(int(idx[0]))
    assert min(starts) == 0 and max(starts) == 100 - 64 and len(starts) > 20
    np.testing.assert_array_equal(dense_indices(100, 32, 2, None), 18 + 2 * np.arange(32))
    np.testing.assert_array_equal(dense_indices(40, 32, 2, np.random.default_rng(0)), (2 * np.arange(32)) % 40)
    np.testing.assert_array_equal(dense_indices(40, 32, 2, None), (2 * np.arange(32)) % 40)
    np.testing.assert_array_equal(dense_indices(64, 32, 2, None), 2 * np.arange(32))  # exactly fits: no loop


def test_dense_view_indices_spread_windows_from_first_to_last():
    views = dense_view_indices(100, 32, 2, 4)  # starts round(0, 12, 24, 36)
    assert [int(v[0]) for v in views] == [0, 12, 24, 36]
    assert all((np.diff(v) == 2).all() for v in views) and views[-1][-1] == 99 - 1
    assert [int(v[0]) for v in dense_view_indices(70, 32, 2, 4)] == [0, 2, 4, 6]  # 6 / 3 = 2 apart
    assert [int(v[0]) for v in dense_view_indices(69, 32, 2, 3)] == [0, 2, 5]  # 2.5 rounds half to even
    short = dense_view_indices(20, 8, 4, 3)  # window of 32 frames on 20: every view starts at 0 and loops
    assert all(np.array_equal(v, (4 * np.arange(8)) % 20) for v in short)
    np.testing.assert_array_equal(dense_view_indices(100, 32, 2, 1)[0], dense_indices(100, 32, 2, None))


@pytest.mark.parametrize("layout", ["aim68", "mmg36", "miga22", "coco17"])
def test_output_shapes_and_normalisation(layout):
    cfg = SkeletonInputConfig(layout=layout, clip_len=16, features=("joint", "bone", "motion"), num_test_clips=2)
    t = SkeletonTransform(cfg, source_layout="openpose137")
    x = t.train_sample(_skel(), np.random.default_rng(0))
    v = get_layout(layout).num_joints
    assert x.shape == (7, 16, v) and x.dtype == np.float32 and np.isfinite(x).all()
    views = t.test_views(_skel())
    assert views.shape == (4, 7, 16, v)
    xy, conf = t.normalise(_skel())
    lay = get_layout(layout)
    r, left = lay.shoulders
    # shoulder width is the unit
    np.testing.assert_allclose(np.median(np.linalg.norm(xy[:, r] - xy[:, left], axis=-1)), 1.0, rtol=1e-5)


def test_missing_joints_are_zero_with_zero_confidence():
    s = _skel()
    s[:, 4, 2] = 0.0  # r_wrist never seen
    s[3, 5, :] = np.nan  # NaN joint in one frame
    t = SkeletonTransform(SkeletonInputConfig(layout="aim68", clip_len=8), source_layout="openpose137")
    xy, conf = t.normalise(s)
    wrist = get_layout("aim68").index("r_wrist")
    assert (conf[:, wrist] == 0).all() and (xy[:, wrist] == 0).all()
    assert np.isfinite(xy).all() and conf[3, get_layout("aim68").index("l_shoulder")] == 0


def test_interp_fill_is_linear_between_valid_frames():
    s = _skel(t=5)
    s[:, 4, 0] = [10, 0, 0, 0, 50]
    s[1:4, 4, 2] = 0.0
    t = SkeletonTransform(SkeletonInputConfig(layout="openpose137", clip_len=5, fill="interp"),
                          source_layout="openpose137")
    xy, conf = t.normalise(s)
    x = xy[:, 4, 0]
    np.testing.assert_allclose(np.diff(x), np.diff(x)[0], rtol=1e-4)
    assert (conf[1:4, 4] == 0).all()


def test_flip_twice_is_identity_and_swaps_sides():
    t = SkeletonTransform(SkeletonInputConfig(layout="aim68", clip_len=8), source_layout="openpose137")
    xy, conf = t.normalise(_skel())
    fx, fc = t.flip(*t.flip(xy, conf))
    np.testing.assert_array_equal(fx, xy)
    np.testing.assert_array_equal(fc, conf)
    lay = get_layout("aim68")
    f1, _ = t.flip(xy, conf)
    np.testing.assert_allclose(f1[:, lay.index("l_wrist"), 0], -xy[:, lay.index("r_wrist"), 0])


def test_deterministic_given_rng():
    t = SkeletonTransform(SkeletonInputConfig(layout="aim68", clip_len=16), source_layout="openpose137")
    a = t.train_sample(_skel(), np.random.default_rng([1, 2, 3]))
    b = t.train_sample(_skel(), np.random.default_rng([1, 2, 3]))
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_parents_form_a_tree(name):
    lay = get_layout(name)
    p = parents(lay)
    for j in range(lay.num_joints):  # walking up reaches a root (a joint that is its own parent)
        seen = 0
        while p[j] != j:
            j = p[j]
            seen += 1
            assert seen <= lay.num_joints


def test_config_validation():
    with pytest.raises(ValueError):
        SkeletonInputConfig(fill="cubic")
    with pytest.raises(ValueError):
        SkeletonInputConfig(features=("velocity",))
    with pytest.raises(KeyError):
        SkeletonInputConfig(layout="nope")
