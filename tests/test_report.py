import zipfile

import numpy as np
import pytest

from microgesture.data.classes import IMIGUE_CLASSES, IMIGUE_TRAIN_COUNTS
from microgesture.metrics import classification_report
from microgesture.predictions import Predictions
from microgesture.report import (
    Report,
    Section,
    Text,
    ablation_table,
    head_classes,
    plot_class_distribution,
    plot_confusion,
    plot_per_class_f1,
    plot_pseudo_counts,
    plot_reliability,
    write_report,
    write_submission,
)

PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path) -> bool:
    data = path.read_bytes()
    return len(data) > 1000 and data.startswith(PNG)


def _metrics():
    rep = lambda t, f: {"top1": t, "macro_f1": f}  # noqa: E731
    return {"models": {"joint": {"val": rep(0.60, 0.30), "test": rep(0.61, 0.31)},
                       "limb": {"val": rep(0.58, 0.33)}},
            "fusions": {"temperature": {"val": rep(0.66, 0.32), "test": rep(0.65, 0.35)}}}


def test_figures_are_non_empty_pngs(tmp_path, rng):
    k = 8
    names = IMIGUE_CLASSES[:k]
    labels = rng.integers(0, k, 100)
    logits = rng.normal(size=(100, k)) * 3
    logits[np.arange(100), labels] += 2
    rep = classification_report(logits, labels, names)
    pseudo = {"threshold": 0.65, "selected": 5, "agreement_known": 5,
              "per_class": {n: {"selected": i % 2, "correct": 0} for i, n in enumerate(names)}}
    paths = [
        plot_class_distribution({"train": IMIGUE_TRAIN_COUNTS[:k], "val": np.bincount(labels, minlength=k)}, names,
                                tmp_path / "dist.png"),
        plot_confusion(np.asarray(rep["confusion"]), names, tmp_path / "cm.png", title="val"),
        plot_per_class_f1(rep["per_class"], IMIGUE_TRAIN_COUNTS[:k], tmp_path / "f1.png"),
        plot_reliability(logits, labels, tmp_path / "rel.png", tau=2.5),
        plot_pseudo_counts(pseudo, tmp_path / "sub" / "pseudo.png"),
    ]
    assert all(_is_png(p) for p in paths)
    with pytest.raises(ValueError, match="train counts"):
        plot_per_class_f1(rep["per_class"], IMIGUE_TRAIN_COUNTS, tmp_path / "bad.png")


def test_head_classes_hold_the_requested_share():
    counts = np.asarray(IMIGUE_TRAIN_COUNTS)
    head = head_classes(counts, 0.8)
    assert counts[head].sum() >= 0.8 * counts.sum()
    smallest_head = np.flatnonzero(head)[np.argmin(counts[head])]
    assert counts[head].sum() - counts[smallest_head] < 0.8 * counts.sum()  # minimal
    assert counts[head].min() >= counts[~head].max()
    assert head[31] and not head[18]  # non-MG (3765 clips) is head, "arms behind body" (1 clip) is tail


def test_ablation_table_bolds_the_best_and_marks_missing():
    t = ablation_table(_metrics())
    md = t.to_markdown()
    assert md.splitlines()[0] == "| model | val top-1 % | val macro-F1 % | test top-1 % | test macro-F1 % |"
    assert "| fusion: temperature | **66.00** | 32.00 | **65.00** | **35.00** |" in md
    assert "| limb | 58.00 | **33.00** | - | - |" in md


def test_report_writes_markdown_and_self_contained_html(tmp_path, rng):
    fig = plot_confusion(np.eye(3, dtype=int) * 4, ("a", "b", "c"), tmp_path / "figs" / "cm.png")
    rep = Report("bench <1>").add_text("Intro.\n\n- one\n- two")
    rep.section("Fusion").add_table(ablation_table(_metrics(), caption="val/test")).add_figure(fig, "confusion")
    md, html = rep.save(tmp_path / "out")
    text = md.read_text()
    assert text.startswith("# bench <1>") and "## Fusion" in text and "![confusion](../figs/cm.png)" in text
    page = html.read_text()
    assert "<h1>bench &lt;1&gt;</h1>" in page and "<li>one</li>" in page and "<table>" in page
    assert "data:image/png;base64,iVBORw0KGgo" in page  # the PNG is embedded
    md2, html2 = write_report(tmp_path / "out2", title="t", sections=[Section("s", [Text("x")])], embed_images=False)
    assert md2.stat().st_size > 0 and "<h2>s</h2>" in html2.read_text()
    with pytest.raises(FileNotFoundError):
        rep.add_figure(tmp_path / "missing.png")


def test_submission_format_is_exact(tmp_path):
    logits = np.full((3, 32), -1.0, dtype=np.float32)
    logits[0, 25] = logits[1, 0] = logits[2, 31] = 5.0
    p = Predictions(["0054_0", "0054_1", "0453_12"], logits, [-1, -1, -1], IMIGUE_CLASSES)
    csv_path, zip_path = write_submission(p, tmp_path / "sub" / "prediction.csv")
    assert csv_path.read_bytes() == b"Id,Target\n0054_0,25\n0054_1,0\n0453_12,31\n"
    assert zip_path == tmp_path / "sub" / "prediction.zip"
    with zipfile.ZipFile(zip_path) as z:
        assert z.namelist() == ["prediction.csv"] and z.read("prediction.csv") == csv_path.read_bytes()
