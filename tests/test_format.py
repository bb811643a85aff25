import json

import numpy as np
import pytest

from microgesture.data.format import Clip, Dataset, DatasetError, DatasetHeader, DatasetWriter, rewrite_clips


def _header(**kw):
    return DatasetHeader(name="t", layout="openpose137", classes=("a", "b", "c"), fps=25.0, frame_size=(64, 48), **kw)


def _clip(i, split="train", label=0):
    return Clip(clip_id=f"v{i}_0", video_id=f"v{i}", subject=f"s{i}", split=split, label=label,
                start_frame=0, end_frame=9, num_frames=0)


def _write(root, n=3, **kw):
    rng = np.random.default_rng(0)
    skels = [rng.random((5 + i, 137, 3), dtype=np.float32) for i in range(n)]
    with DatasetWriter(root, _header(), **kw) as w:
        for i, s in enumerate(skels):
            w.add(_clip(i, label=i % 3), s)
    return skels


def test_roundtrip(tmp_path):
    skels = _write(tmp_path / "ds")
    ds = Dataset.open(tmp_path / "ds")
    assert len(ds) == 3 and ds.classes == ("a", "b", "c") and ds.header.frame_size == (64, 48)
    for c, s in zip(ds, skels, strict=True):
        assert c.num_frames == len(s)
        np.testing.assert_array_equal(ds.skeleton(c), s)
    assert ds.skeleton("v1_0", layout="mmg36").shape == (6, 36, 3)
    assert isinstance(ds.skeleton_store, np.memmap)
    assert not list(tmp_path.glob(".ds.tmp-*"))


def test_writer_is_atomic_on_error(tmp_path):
    with pytest.raises(RuntimeError):
        with DatasetWriter(tmp_path / "ds", _header()) as w:
            w.add(_clip(0), np.zeros((3, 137, 3), np.float32))
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_writer_refuses_existing_unless_overwrite(tmp_path):
    _write(tmp_path / "ds")
    with pytest.raises(FileExistsError):
        DatasetWriter(tmp_path / "ds", _header())
    _write(tmp_path / "ds", n=1, overwrite=True)
    assert len(Dataset.open(tmp_path / "ds")) == 1


def test_writer_rejects_wrong_shape(tmp_path):
    with pytest.raises(DatasetError, match="v0_0"):
        with DatasetWriter(tmp_path / "ds", _header()) as w:
            w.add(_clip(0), np.zeros((3, 36, 3), np.float32))


def test_bad_header_and_missing_files(tmp_path):
    _write(tmp_path / "ds")
    hp = tmp_path / "ds" / "dataset.json"
    d = json.loads(hp.read_text())
    hp.write_text(json.dumps({**d, "version": 7}))
    with pytest.raises(DatasetError, match="version 7"):
        Dataset.open(tmp_path / "ds")
    hp.write_text(json.dumps({**d, "layout": "xyz"}))
    with pytest.raises(DatasetError, match="unknown layout"):
        Dataset.open(tmp_path / "ds")
    hp.write_text("{not json")
    with pytest.raises(DatasetError, match="invalid JSON"):
        Dataset.open(tmp_path / "ds")
    with pytest.raises(DatasetError, match="not found"):
        Dataset.open(tmp_path / "nothing")


def test_bad_clip_rows_are_named(tmp_path):
    _write(tmp_path / "ds")
    cp = tmp_path / "ds" / "clips.csv"
    lines = cp.read_text().splitlines()
    lines[2] = lines[2].replace(",train,1,", ",train,x,")
    cp.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=r"clips.csv:3: column 'label'"):
        Dataset.open(tmp_path / "ds")


def test_extra_columns_roundtrip(tmp_path):
    _write(tmp_path / "ds")
    ds = Dataset.open(tmp_path / "ds")
    from dataclasses import replace

    clips = [replace(c, extra={**c.extra, "taylor_path": f"taylor/{c.clip_id}.mp4"}) for c in ds]
    rewrite_clips(ds, clips)
    ds2 = Dataset.open(tmp_path / "ds")
    assert ds2.video_file("v0_0", "taylor_path") == tmp_path / "ds" / "taylor/v0_0.mp4"
    assert ds2.video_file("v0_0") is None


def test_pickle_reopens_the_store_instead_of_copying(tmp_path):
    import pickle

    skels = _write(tmp_path / "ds")
    ds = Dataset.open(tmp_path / "ds")
    blob = pickle.dumps(ds)
    assert len(blob) < 4096  # header and clip table only, not the skeleton frames
    ds2 = pickle.loads(blob)
    np.testing.assert_array_equal(ds2.skeleton("v2_0"), skels[2])
