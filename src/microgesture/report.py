"""Figures, tables and reports (Markdown + self-contained HTML), and the MiGA challenge submission file.

Figures are drawn on ``matplotlib.figure.Figure`` objects (no pyplot state, no display needed) and saved as PNG.
A report is assembled from explicit blocks::

    rep = Report("iMiGUE synthetic benchmark")
    rep.section("Fusion")
    rep.add_table(ablation_table(metrics))
    rep.add_figure(plot_confusion(cm, classes, out / "confusion.png"), "fused, val")
    md, html = rep.save(out)
"""

from __future__ import annotations

import base64
import csv
import html
import os
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure as _MplFigure
from matplotlib.patches import Patch

from microgesture.atomic import atomic_path, write_text
from microgesture.metrics import expected_calibration_error, reliability_bins, softmax
from microgesture.predictions import Predictions

__all__ = [
    "Text",
    "Table",
    "Figure",
    "Section",
    "Report",
    "write_report",
    "ablation_table",
    "head_classes",
    "plot_class_distribution",
    "plot_confusion",
    "plot_per_class_f1",
    "plot_reliability",
    "plot_pseudo_counts",
    "write_submission",
]


# -- blocks ------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Text:
    """Plain paragraphs (blank-line separated); lines starting with ``- `` form a bullet list."""

    body: str

    def to_markdown(self, out_dir: Path) -> str:
        return self.body.strip()

    def to_html(self, out_dir: Path, embed: bool) -> str:
        parts = []
        for para in self.body.strip().split("\n\n"):
            lines = para.splitlines()
            if lines and all(ln.startswith("- ") for ln in lines):
                parts.append("<ul>" + "".join(f"<li>{html.escape(ln[2:])}</li>" for ln in lines) + "</ul>")
            else:
                parts.append(f"<p>{html.escape(' '.join(lines))}</p>")
        return "\n".join(parts)


@dataclass(frozen=True)
class Table:
    """A table of strings; ``bold`` marks (row, column) cells to emphasise (best results, as in the papers)."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""
    bold: frozenset[tuple[int, int]] = frozenset()

    def _cell(self, i: int, j: int, md: bool) -> str:
        v = self.rows[i][j]
        if (i, j) in self.bold:
            return f"**{v}**" if md else f"<b>{html.escape(v)}</b>"
        return v if md else html.escape(v)

    def to_markdown(self, out_dir: Path | None = None) -> str:
        lines = ["| " + " | ".join(self.header) + " |", "|" + "|".join("---" for _ in self.header) + "|"]
        lines += ["| " + " | ".join(self._cell(i, j, True) for j in range(len(r))) + " |"
                  for i, r in enumerate(self.rows)]
        return (f"*{self.caption}*\n\n" if self.caption else "") + "\n".join(lines)

    def to_html(self, out_dir: Path, embed: bool) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td>{self._cell(i, j, False)}</td>" for j in range(len(r))) + "</tr>"
                       for i, r in enumerate(self.rows))
        cap = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return f"<table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@dataclass(frozen=True)
class Figure:
    """A PNG file, linked relative to the report (Markdown) or embedded as a data URI (HTML, ``embed=True``)."""

    path: Path
    caption: str = ""

    def to_markdown(self, out_dir: Path) -> str:
        rel = os.path.relpath(Path(self.path).resolve(), out_dir.resolve())
        return f"![{self.caption}]({Path(rel).as_posix()})" + (f"\n\n*{self.caption}*" if self.caption else "")

    def to_html(self, out_dir: Path, embed: bool) -> str:
        if embed:
            src = "data:image/png;base64," + base64.b64encode(Path(self.path).read_bytes()).decode("ascii")
        else:
            src = html.escape(Path(os.path.relpath(Path(self.path).resolve(), out_dir.resolve())).as_posix())
        cap = f"<figcaption>{html.escape(self.caption)}</figcaption>" if self.caption else ""
        return f'<figure><img src="{src}" alt="{html.escape(self.caption)}">{cap}</figure>'


Block = Text | Table | Figure


@dataclass
class Section:
    heading: str
    blocks: list[Block] = field(default_factory=list)


_CSS = ("body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}table{border-collapse:collapse;"
        "margin:1em 0}td,th{border:1px solid #bbb;padding:.2em .6em;text-align:right}td:first-child,th:first-child"
        "{text-align:left}img{max-width:100%}caption,figcaption{font-style:italic;color:#555}")


class Report:
    """A report built block by block; :meth:`save` writes ``report.md`` and ``report.html`` to a directory."""

    def __init__(self, title: str):
        self.title = title
        self.sections: list[Section] = [Section("")]

    def section(self, heading: str) -> Report:
        self.sections.append(Section(heading))
        return self

    def add_text(self, body: str) -> Report:
        self.sections[-1].blocks.append(Text(body))
        return self

    def add_table(self, table: Table) -> Report:
        self.sections[-1].blocks.append(table)
        return self

    def add_figure(self, path: str | os.PathLike, caption: str = "") -> Report:
        if not Path(path).is_file():
            raise FileNotFoundError(f"{path}: figure not found")
        self.sections[-1].blocks.append(Figure(Path(path), caption))
        return self

    def save(self, out_dir: str | os.PathLike, *, embed_images: bool = True) -> tuple[Path, Path]:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        md = [f"# {self.title}"]
        body = [f"<h1>{html.escape(self.title)}</h1>"]
        for s in self.sections:
            if s.heading:
                md.append(f"## {s.heading}")
                body.append(f"<h2>{html.escape(s.heading)}</h2>")
            md += [b.to_markdown(out) for b in s.blocks]
            body += [b.to_html(out, embed_images) for b in s.blocks]
        md_path, html_path = out / "report.md", out / "report.html"
        write_text(md_path, "\n\n".join(md) + "\n")
        write_text(html_path, f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(self.title)}"
                   f"</title><style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
        return md_path, html_path


def write_report(out_dir: str | os.PathLike, *, title: str, sections: Sequence[Section],
                 embed_images: bool = True) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` from ready-made sections; returns their paths."""
    rep = Report(title)
    rep.sections += list(sections)
    return rep.save(out_dir, embed_images=embed_images)


# -- tables ------------------------------------------------------------------------------------------------------------
def ablation_table(metrics: Mapping, *, splits: Sequence[str] = ("val", "test"), caption: str = "") -> Table:
    """Top-1 / macro-F1 (%) of every single model then every fusion, as in the papers' ablation tables.

    Args:
        metrics: the ``metrics.json`` written by :func:`microgesture.fusion.fuse_files`
            (``{"models": {name: {split: report}}, "fusions": {method: {split: report}}}``).
    """
    entries = [(n, r) for n, r in metrics.get("models", {}).items()]
    entries += [(f"fusion: {n}", r) for n, r in metrics.get("fusions", {}).items()]
    splits = [s for s in splits if any(s in r for _, r in entries)]
    header = ("model",) + tuple(f"{s} {m}" for s in splits for m in ("top-1 %", "macro-F1 %"))
    rows, values = [], []
    for name, r in entries:
        vals = [r[s][key] if s in r else np.nan for s in splits for key in ("top1", "macro_f1")]
        values.append(vals)
        rows.append((name, *("-" if np.isnan(v) else f"{100 * v:.2f}" for v in vals)))
    bold = set()
    if values:
        arr = np.array(values, dtype=np.float64)
        for j in range(arr.shape[1]):
            if not np.isnan(arr[:, j]).all():
                best = np.nanmax(arr[:, j])
                bold |= {(i, j + 1) for i in np.flatnonzero(arr[:, j] == best)}
    return Table(header, tuple(rows), caption, frozenset(bold))


def head_classes(train_counts: Sequence[int], share: float = 0.8) -> np.ndarray:
    """(K,) bool: the most frequent classes that together hold ``share`` of the training clips ("head"); the rest
    is the tail. With iMiGUE's counts the head is the handful of classes that dominate (3765:1 imbalance)."""
    c = np.asarray(train_counts, dtype=np.float64)
    order = np.argsort(-c, kind="stable")
    cum = np.cumsum(c[order]) / max(c.sum(), 1.0)
    n_head = int(np.searchsorted(cum, share, side="left")) + 1
    head = np.zeros(len(c), dtype=bool)
    head[order[:n_head]] = True
    return head


# -- figures -----------------------------------------------------------------------------------------------------------
def _save(fig: _MplFigure, path: str | os.PathLike) -> Path:
    path = Path(path)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return path


def _short(names: Sequence[str], n: int = 22) -> list[str]:
    return [s if len(s) <= n else s[: n - 1] + "…" for s in names]


def plot_class_distribution(counts: Mapping[str, Sequence[int]], classes: Sequence[str], path: str | os.PathLike,
                            *, log: bool = True) -> Path:
    """Grouped bars of clips per class for each split (``counts``: split -> (K,) counts); log scale by default."""
    k = len(classes)
    fig = _MplFigure(figsize=(max(6.0, 0.32 * k + 2), 4.0))
    ax = fig.add_subplot()
    width = 0.8 / max(len(counts), 1)
    x = np.arange(k)
    for i, (split, c) in enumerate(counts.items()):
        ax.bar(x + (i - (len(counts) - 1) / 2) * width, np.asarray(c), width, label=f"{split} ({int(np.sum(c))})")
    if log:
        ax.set_yscale("symlog", linthresh=1)
    ax.set_xticks(x, _short(classes), rotation=90, fontsize=7)
    ax.set_ylabel("clips")
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_confusion(cm: np.ndarray, classes: Sequence[str], path: str | os.PathLike, *, title: str = "") -> Path:
    """Row-normalised confusion matrix (rows = true class; a row with no clips stays 0)."""
    cm = np.asarray(cm, dtype=np.float64)
    rows = cm.sum(axis=1, keepdims=True)
    norm = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    k = len(classes)
    size = max(5.0, 0.28 * k + 2)
    fig = _MplFigure(figsize=(size + 1, size))
    ax = fig.add_subplot()
    im = ax.imshow(norm, vmin=0, vmax=1, cmap="Blues")
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax.set_xticks(range(k), _short(classes), rotation=90, fontsize=6)
    ax.set_yticks(range(k), _short(classes), fontsize=6)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if title:
        ax.set_title(title)
    return _save(fig, path)


def plot_per_class_f1(f1: Mapping[str, float] | Mapping[str, Mapping], train_counts: Sequence[int],
                      path: str | os.PathLike, *, share: float = 0.8) -> Path:
    """Per-class F1 bars, head classes (``head_classes``) and tail classes in two colours, ordered by frequency.

    Args:
        f1: class name -> F1, or a classification_report ``per_class`` dict (its ``f1`` entries are used).
        train_counts: (K,) training clips per class, in the same class order as ``f1``.
    """
    names = list(f1)
    vals = np.array([v["f1"] if isinstance(v, Mapping) else v for v in f1.values()], dtype=np.float64)
    counts = np.asarray(train_counts)
    if len(counts) != len(names):
        raise ValueError(f"{len(counts)} train counts for {len(names)} classes")
    head = head_classes(counts, share)
    order = np.argsort(-counts, kind="stable")
    fig = _MplFigure(figsize=(max(6.0, 0.32 * len(names) + 2), 4.0))
    ax = fig.add_subplot()
    colours = np.where(head[order], "tab:blue", "tab:orange")
    ax.bar(np.arange(len(names)), vals[order], color=colours)
    ticks = [f"{n} ({counts[i]})" for n, i in zip(_short([names[i] for i in order]), order, strict=True)]
    ax.set_xticks(np.arange(len(names)), ticks, rotation=90, fontsize=6)
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.legend(handles=[Patch(color="tab:blue", label=f"head ({int(head.sum())} classes, {share:.0%} of train)"),
                       Patch(color="tab:orange", label=f"tail ({int((~head).sum())} classes)")], fontsize=8)
    return _save(fig, path)


def plot_reliability(logits: np.ndarray, labels: np.ndarray, path: str | os.PathLike, *, tau: float,
                     bins: int = 15) -> Path:
    """Reliability diagram of softmax(logits) before (tau = 1) and after temperature scaling by ``tau``."""
    logits, labels = np.asarray(logits), np.asarray(labels)
    keep = labels >= 0
    logits, labels = logits[keep], labels[keep]
    fig = _MplFigure(figsize=(5.0, 4.5))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], "k:", lw=1, label="perfect calibration")
    for t, style in ((1.0, "o-"), (tau, "s-")):
        p = softmax(logits, t)
        rb = reliability_bins(p, labels, bins)
        m = rb["count"] > 0
        ece = expected_calibration_error(p, labels, bins)
        ax.plot(rb["confidence"][m], rb["accuracy"][m], style, label=f"tau {t:.2f}  ECE {100 * ece:.1f}%")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (max probability)")
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=8)
    return _save(fig, path)


def plot_pseudo_counts(report: Mapping, path: str | os.PathLike) -> Path:
    """Pseudo-labels per class from a ``pseudo_report.json``; where labels are known, the correct share is shaded."""
    names = list(report["per_class"])
    sel = np.array([r["selected"] for r in report["per_class"].values()])
    corr = np.array([r["correct"] for r in report["per_class"].values()])
    fig = _MplFigure(figsize=(max(6.0, 0.32 * len(names) + 2), 4.0))
    ax = fig.add_subplot()
    x = np.arange(len(names))
    ax.bar(x, sel, color="tab:gray", label="selected")
    if report.get("agreement_known"):
        ax.bar(x, corr, color="tab:green", label="selected and correct")
    ax.set_xticks(x, _short(names), rotation=90, fontsize=7)
    ax.set_ylabel("clips")
    ax.set_title(f"pseudo-labels with max prob > {report['threshold']} ({report['selected']} clips)", fontsize=9)
    ax.legend(fontsize=8)
    return _save(fig, path)


# -- submission --------------------------------------------------------------------------------------------------------
def write_submission(predictions: Predictions, path: str | os.PathLike) -> tuple[Path, Path]:
    """The MiGA challenge file: CSV ``Id,Target`` with rows like ``0054_0,25`` (0-based argmax class, in the
    predictions' clip order), and ``prediction.zip`` holding it, beside it. Returns (csv path, zip path)."""
    path = Path(path)
    pred = predictions.logits.argmax(axis=1)
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["Id", "Target"])
        w.writerows(zip(predictions.clip_ids.tolist(), pred.tolist(), strict=True))
    zpath = path.with_name("prediction.zip")
    with atomic_path(zpath) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.write(path, arcname=path.name)
    return path, zpath
