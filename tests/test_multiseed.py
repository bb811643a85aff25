"""Tables of a study over several seeds (microgesture.multiseed, used by bench/study_seeds.py --docs)."""

from __future__ import annotations

import numpy as np
import pytest

from microgesture.multiseed import (
    cue_table,
    gains,
    gains_table,
    headroom,
    headroom_table,
    per_seed_table,
    replace_block,
    seed_table,
)
from microgesture.predictions import Predictions, save_predictions


def _split(top1: float, f1: float, per_class: dict[str, float] | None = None) -> dict:
    per = {c: {"precision": v, "recall": v, "f1": v, "support": 3} for c, v in (per_class or {}).items()}
    per["touch ears"] = {"precision": 0.0, "recall": 0.0, "f1": 0.9, "support": 0}  # absent from test: ignored
    return {"n": 10, "top1": top1, "macro_f1": f1, "per_class": per}


def _summary(joint: float, rgb: float, fused: float, joint_pl: float, fused_pl: float) -> dict:
    def m(t: float, lips: float = 0.0) -> dict:
        return {"val": _split(t, t / 2), "test": _split(t, t / 2, {"bite/press lips": lips, "shake shoulders": 0.5})}

    return {
        "metrics": {"names": ["joint", "rgb"], "models": {"joint": m(joint), "rgb": m(rgb, lips=0.6)},
                    "fusions": {"temperature": m(fused, lips=0.4)}},
        "metrics_final": {"names": ["rgb", "joint+pl"], "models": {"rgb": m(rgb), "joint+pl": m(joint_pl)},
                          "fusions": {"temperature": m(fused_pl)}},
    }


SUMMARIES = {0: _summary(0.70, 0.50, 0.73, 0.72, 0.74), 1: _summary(0.60, 0.64, 0.65, 0.60, 0.64)}


def test_seed_table_is_mean_and_population_std_per_row():
    t = seed_table(SUMMARIES)
    rows = {line.split(" | ")[0].lstrip("| "): line for line in t.splitlines()[2:]}
    assert list(rows) == ["joint", "rgb", "fusion:temperature", "joint+pl", "fusion:temperature (+pl)"]
    assert rows["joint"].endswith("| 65.0 +- 5.0 | 32.5 +- 2.5 |")  # (70, 60) -> 65 +- 5; F1 is half of top-1
    assert "57.0 +- 7.0" in rows["rgb"]  # rgb comes from the first metrics only, not again from metrics_final
    assert "| 70.0 / 35.0 | 60.0 / 30.0 |" in per_seed_table(SUMMARIES).splitlines()[2]


def test_gains_compare_fusion_with_the_best_branch_of_each_seed():
    g = gains(SUMMARIES)
    assert g["branches"]["joint"]["std"] == pytest.approx(5.0)
    # seed 0: best branch joint 70 -> fusion +3; seed 1: best branch rgb 64 -> fusion +1
    assert g["fusion_over_best"]["top1"] == pytest.approx([3.0, 1.0])
    assert g["retrain"]["joint"] == pytest.approx([2.0, 0.0])
    assert g["final_fusion_over_first"] == pytest.approx([1.0, -1.0])
    text = gains_table(g)
    assert "top-1 +2.0 (seeds: +3.0, +1.0)" in text and "transductive" in text


def test_cue_table_averages_only_the_classes_present_in_test():
    t = cue_table(SUMMARIES, {"lips": ("bite/press lips",), "ears": ("touch ears",), "mix": ("bite/press lips",
                                                                                              "shake shoulders")})
    rows = {line.split(" | ")[0].lstrip("| "): line for line in t.splitlines()[2:]}
    assert rows["rgb"] == "| rgb | 60.0 +- 0.0 | - | 55.0 +- 0.0 |"  # touch ears has no test support: "-"
    assert rows["fusion:temperature"].startswith("| fusion:temperature | 40.0 +- 0.0 |")


def test_replace_block_replaces_exactly_one_marked_block():
    doc = "intro\n<!-- study_seeds:begin -->\nold\n<!-- study_seeds:end -->\noutro\n"
    new = replace_block(doc, "study_seeds", "| new |")
    assert new == "intro\n<!-- study_seeds:begin -->\n| new |\n<!-- study_seeds:end -->\noutro\n"
    assert replace_block(new, "study_seeds", "again").count("again") == 1
    with pytest.raises(ValueError, match="study_seeds:begin"):
        replace_block("no markers here", "study_seeds", "x")
    with pytest.raises(ValueError):
        replace_block(doc + doc, "study_seeds", "x")


def _preds(path, ids, right, labels):
    """Predictions on clips ``ids`` (3 classes) that get exactly the clips where ``right`` is True right."""
    labels = np.asarray(labels)
    pred = np.where(right, labels, (labels + 1) % 3)
    save_predictions(path / "preds_test.npz", Predictions(ids, np.eye(3)[pred], labels, ("a", "b", "c")))
    return str(path)


def test_headroom_counts_clips_some_branch_gets_right_against_the_best(tmp_path):
    ids = [f"c{i}" for i in range(10)]
    y = [0, 1, 2, 0, 1, 2, 0, 1, 2, -1]  # the unlabelled last clip is not scored
    runs = {}
    for name, right in (("joint", [1, 1, 1, 1, 1, 1, 0, 0, 0, 1]),  # 6 of 9
                        ("rgb", [1, 1, 0, 0, 0, 0, 1, 0, 0, 0]),  # 3 of 9; adds clip 6
                        ("heatmap", [0, 0, 1, 0, 0, 0, 1, 1, 0, 0])):  # 3 of 9; adds clips 6 and 7
        d = tmp_path / name
        d.mkdir()
        order = list(range(10)) if name == "joint" else list(range(9, -1, -1))  # files in any clip order
        runs[name] = _preds(d, [ids[i] for i in order], np.asarray(right, bool)[order], np.asarray(y)[order])
    h = headroom({0: {"runs": runs}})
    assert h["best"] == ["joint"]
    assert h["all"] == pytest.approx([100 * 2 / 9])  # clips 6 and 7; clip 8 nobody gets
    assert h["pairs"]["rgb"][0] == pytest.approx(100 / 9) and h["pairs"]["heatmap"][0] == pytest.approx(200 / 9)
    # rgb and heatmap agree on the wrong class wherever joint alone is right: no weighting gains on test
    assert h["tuned_on_test"] == pytest.approx([0.0])
    text = headroom_table(h)
    assert "(`joint`): all branches +22.2" in text and "the best branch or `rgb`: +11.1" in text
    assert "fitted on the test labels (a bound, not a result), minus the best branch: +0.0" in text


def test_fusion_tuned_on_test_gains_where_the_best_branch_is_unsure_and_the_other_sure(tmp_path):
    y = np.array([0, 1, 2] * 4)
    ids = [f"c{i}" for i in range(12)]
    joint = 4.0 * np.eye(3)[y]
    joint[[9, 10, 11]] = 0.3 * np.eye(3)[(y[[9, 10, 11]] + 1) % 3]  # wrong, barely
    rgb = 4.0 * np.eye(3)[(y + 2) % 3]  # wrong and sure everywhere ...
    rgb[[9, 10, 11]] = 4.0 * np.eye(3)[y[[9, 10, 11]]]  # ... but where joint is unsure: right
    runs = {}
    for name, logits in (("joint", joint), ("rgb", rgb)):
        (tmp_path / name).mkdir()
        save_predictions(tmp_path / name / "preds_test.npz", Predictions(ids, logits, y, ("a", "b", "c")))
        runs[name] = str(tmp_path / name)
    h = headroom({0: {"runs": runs}})
    assert h["all"] == pytest.approx([25.0])
    assert 0.0 < h["tuned_on_test"][0] <= h["all"][0] + 1e-9
