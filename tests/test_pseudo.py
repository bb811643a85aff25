import importlib.util
import json
import os

import numpy as np
import pytest

from microgesture.cli import main
from microgesture.data.format import Clip, Dataset, DatasetHeader, DatasetWriter
from microgesture.data.video import write_video
from microgesture.predictions import Predictions, PredictionsError, save_predictions
from microgesture.pseudo import PSEUDO_SUFFIX, TransductiveWarning, pseudo_label, select_pseudo

CLASSES = ("a", "b", "c")
SPLITS = {"train": 6, "val": 3, "test": 8}


@pytest.fixture
def dataset(tmp_path):
    """17 clips over three subject-disjoint splits, each with a 4-frame 16x16 video; test labels known."""
    rng = np.random.default_rng(0)
    header = DatasetHeader(name="tiny", layout="openpose137", classes=CLASSES, fps=25.0, frame_size=(16, 16))
    root = tmp_path / "D"
    with DatasetWriter(root, header) as w:
        for split, n in SPLITS.items():
            for i in range(n):
                cid = f"{split}{i:02d}_0"
                rel = f"videos/{cid}.mp4"
                write_video(w.path_for(rel), rng.integers(0, 255, (4, 16, 16, 3), dtype=np.uint8))
                clip = Clip(clip_id=cid, video_id=f"{split}{i:02d}", subject=f"{split}-s{i % 2}", split=split,
                            label=i % 3, start_frame=0, end_frame=3, num_frames=0, video_path=rel)
                w.add(clip, rng.random((4, 137, 3), dtype=np.float32))
    return root


def _test_predictions(ds_root, seed=1, scale=3.0):
    ds = Dataset.open(ds_root)
    test = ds.split("test")
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(len(test), 3)) * scale
    return Predictions([c.clip_id for c in test], logits, [c.label for c in test], CLASSES,
                       {"branch": "fusion:temperature", "split": "test"}, "fused_test.npz")


def test_pseudo_dataset_keeps_originals_and_adds_confident_copies(dataset, tmp_path):
    preds = _test_predictions(dataset)
    with pytest.warns(TransductiveWarning, match="TRANSDUCTIVE"):
        d2 = pseudo_label(dataset, preds, threshold=0.65, out=tmp_path / "D2")
    src, new = Dataset.open(dataset), Dataset.open(d2)
    ids = [c.clip_id for c in new]
    assert len(ids) == len(set(ids))
    for c in src:  # every original clip keeps its id, split and label: val and test are evaluated as before
        assert new.clip(c.clip_id).split == c.split and new.clip(c.clip_id).label == c.label
        assert new.clip(c.clip_id).pseudo == 0
    probs = preds.probs()
    expected = {cid for cid, p in zip(preds.clip_ids, probs.max(axis=1), strict=True) if p > 0.65}
    rows = [c for c in new if c.pseudo]
    assert 0 < len(rows) < len(preds)  # the fixture's seed gives both kinds
    assert {c.extra["pseudo_of"] for c in rows} == expected
    for c in rows:
        orig = new.clip(c.extra["pseudo_of"])
        i = list(preds.clip_ids).index(orig.clip_id)
        assert c.clip_id == orig.clip_id + PSEUDO_SUFFIX and c.split == "train"
        assert c.label == probs[i].argmax() and float(c.extra["pseudo_conf"]) > 0.65
        np.testing.assert_array_equal(new.skeleton(c), src.skeleton(orig.clip_id))
        assert c.video_path == orig.video_path and new.video_file(c).is_file()
        assert os.path.samefile(new.video_file(c), src.video_file(orig.clip_id))  # hard-linked, not re-encoded
    assert new.header.extra["transductive"] is True
    assert new.header.extra["pseudo_labels"]["count"] == len(rows) == len(new) - len(src)

    report = json.loads((d2 / "pseudo_report.json").read_text())
    truth = {c.clip_id: c.label for c in src}
    agree = np.mean([truth[c.extra["pseudo_of"]] == c.label for c in rows])
    assert report["transductive"] and report["selected"] == len(rows) and report["threshold"] == 0.65
    assert report["agreement"] == pytest.approx(agree) and report["agreement_known"] == len(rows)
    assert sum(r["selected"] for r in report["per_class"].values()) == len(rows)
    assert report["source"] == "fused_test.npz"


@pytest.mark.parametrize("threshold", [0.0, 0.4, 0.65, 0.9])
def test_threshold_is_respected(threshold):
    rng = np.random.default_rng(3)
    p = Predictions([f"t{i}" for i in range(200)], rng.normal(size=(200, 3)) * 2, -np.ones(200), CLASSES)
    mask, label, conf = select_pseudo(p, threshold)
    assert (conf[mask] > threshold).all() and (conf[~mask] <= threshold).all()
    np.testing.assert_array_equal(label, p.logits.argmax(axis=1))


def test_per_class_adds_the_most_confident_share_of_every_predicted_class():
    rng = np.random.default_rng(4)
    logits = rng.normal(size=(300, 3)) * 2
    logits[:, 0] += 2.5  # class "a" dominates and is confident: the global threshold keeps almost only "a"
    p = Predictions([f"t{i}" for i in range(300)], logits, -np.ones(300), CLASSES)
    base, label, conf = select_pseudo(p, 0.9)
    mask, label2, _ = select_pseudo(p, 0.9, per_class=0.25)
    np.testing.assert_array_equal(label, label2)
    assert (mask >= base).all()  # the threshold's clips stay
    for c in range(3):
        idx = np.flatnonzero(label == c)
        top = idx[np.argsort(-conf[idx])[: int(np.ceil(0.25 * len(idx)))]]
        assert mask[top].all()  # the top quarter of each class is in
        extra = idx[mask[idx] & ~base[idx]]
        if len(extra):  # and nothing below that quarter comes in but through the threshold
            assert conf[extra].min() >= conf[top].min()
    assert np.mean(label[mask] == 0) < np.mean(label[base] == 0) - 0.05  # less dominated by the majority class
    with pytest.raises(ValueError, match="per_class"):
        select_pseudo(p, 0.5, per_class=1.5)


def test_pseudo_label_records_the_per_class_share(dataset, tmp_path):
    preds = _test_predictions(dataset, scale=0.5)  # nothing is confident
    with pytest.warns(TransductiveWarning):
        d2 = pseudo_label(dataset, preds, threshold=0.9, per_class=0.5, out=tmp_path / "D2")
    new = Dataset.open(d2)
    rows = [c for c in new if c.pseudo]
    assert rows and {c.label for c in rows} == set(preds.logits.argmax(axis=1).tolist())
    assert new.header.extra["pseudo_labels"]["per_class_share"] == 0.5


def test_refuses_predictions_that_do_not_match_the_split(dataset, tmp_path):
    preds = _test_predictions(dataset)
    short = preds.subset(preds.clip_ids[1:])
    with pytest.raises(PredictionsError, match="lacks clip 'test00_0'"):
        pseudo_label(dataset, short, threshold=0.65, out=tmp_path / "x")
    with pytest.raises(PredictionsError, match="'test00_0' is in split 'test', not in val"):
        pseudo_label(dataset, preds, threshold=0.65, out=tmp_path / "x", splits=("val",))
    other = Predictions(preds.clip_ids, preds.logits, preds.labels, ("x", "y", "z"), source="o.npz")
    with pytest.raises(PredictionsError, match="o.npz: class list"):
        pseudo_label(dataset, other, threshold=0.65, out=tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_second_round_replaces_pseudo_rows(dataset, tmp_path):
    with pytest.warns(TransductiveWarning):
        d2 = pseudo_label(dataset, _test_predictions(dataset, seed=1), threshold=0.5, out=tmp_path / "D2")
        d3 = pseudo_label(d2, _test_predictions(dataset, seed=2), threshold=0.5, out=tmp_path / "D3")
    new = Dataset.open(d3)
    assert new.header.extra["pseudo_labels"]["round"] == 2
    assert len(new) - sum(c.pseudo for c in new) == sum(SPLITS.values())
    assert all(not c.clip_id.endswith(PSEUDO_SUFFIX + PSEUDO_SUFFIX) for c in new)


@pytest.mark.skipif(importlib.util.find_spec("microgesture.data.check") is None,
                    reason="microgesture.data.check not available")
def test_pseudo_dataset_passes_the_checker_which_reports_it(dataset, tmp_path):
    from microgesture.data.check import check_dataset, has_errors

    with pytest.warns(TransductiveWarning):
        d2 = pseudo_label(dataset, _test_predictions(dataset), threshold=0.5, out=tmp_path / "D2")
    problems = check_dataset(d2)
    assert not has_errors(problems), [str(p) for p in problems]
    assert any("pseudo" in p.message and p.severity == "warning" for p in problems)


def test_cli_pseudo_label_prints_the_warning(dataset, tmp_path, capsys):
    path = save_predictions(tmp_path / "fused_test.npz", _test_predictions(dataset))
    with pytest.raises(SystemExit) as e:
        main(["pseudo-label", "--predictions", str(path), "--dataset", str(dataset), "--out", str(tmp_path / "D2")])
    assert e.value.code == 0
    assert "TRANSDUCTIVE" in capsys.readouterr().err
    assert Dataset.open(tmp_path / "D2").header.extra["transductive"] is True
