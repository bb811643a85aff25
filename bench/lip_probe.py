"""How much a layout's mouth points tell about "bite/press lips", before any network: a linear probe per layout.

For every clip, the mouth points of a layout (and the top of the nose as a reference) are normalised as the joint
branch normalises them (neck-centred, shoulder-width units), taken relative to the nose, and summarised over the
clip's frames by their mean, spread and mean frame-to-frame change. A class-balanced logistic regression fitted on
the training clips scores "bite/press lips" against every other class; the ROC AUC, and the F1 at the fitted model's
own threshold, are measured on the test clips, whose subjects it never saw. A higher AUC with aim68's points than
with mmg36's says the data carries the 68 vs 36 keypoint difference; whether a branch learns it is then the branch's
business (bench/ablation_skeleton.py; a branch's per-class F1 is in its run's metrics.json).

    .venv/bin/python bench/lip_probe.py runs/study_seeds/data/dataset
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from microgesture.data.format import load_dataset
from microgesture.inputs.skeleton import SkeletonInputConfig, SkeletonTransform

# (layout, joints): the top of the nose first, then the mouth points the layout has
PROBES = {
    "mmg36 (outer mouth: 48, 51, 54, 57)": ("mmg36", ("nose_bridge", "mouth_48", "mouth_51", "mouth_54", "mouth_57")),
    "aim68 without the inner lip": ("aim68", ("face_27", "face_48", "face_51", "face_54", "face_57")),
    "aim68 (outer mouth + inner lip 62)": ("aim68", ("face_27", "face_48", "face_51", "face_54", "face_57", "face_62")),
}


def clip_features(ds, layout: str, joints: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N, F) per-clip summaries of the joints relative to the first one, labels and split names."""
    tf = SkeletonTransform(SkeletonInputConfig(layout=layout), source_layout=ds.layout)
    idx = [tf.layout.index(j) for j in joints]
    feats, labels, splits = [], [], []
    for clip in ds:
        xy, conf = tf.normalise(ds.skeleton(clip))
        ok = (conf[:, idx] > 0).all(axis=1)
        rel = xy[ok][:, idx] - xy[ok][:, idx[:1]]
        if len(rel) < 2:  # the face was lost on (nearly) every frame: nothing to summarise
            rel = np.zeros((2, len(idx), 2), np.float32)
        step = np.abs(np.diff(rel, axis=0)).mean(0)
        feats.append(np.concatenate([rel.mean(0).ravel(), rel.std(0).ravel(), step.ravel()]))
        labels.append(clip.label)
        splits.append(clip.split)
    return np.asarray(feats), np.asarray(labels), np.asarray(splits)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset", help="a dataset directory with skeletons in OpenPose-137 order")
    ap.add_argument("--target", default="bite/press lips", help="the class scored against all others")
    ap.add_argument("--train", default="train")
    ap.add_argument("--test", default="test")
    args = ap.parse_args()
    ds = load_dataset(args.dataset)
    if args.target not in ds.classes:
        raise SystemExit(f"error: {args.target!r} is not a class of {args.dataset}")
    target = ds.classes.index(args.target)
    print(f"{args.dataset}: linear probe for {args.target!r} against all other classes, fitted on {args.train}, "
          f"ROC AUC on {args.test}")
    for name, (layout, joints) in PROBES.items():
        x, y, split = clip_features(ds, layout, joints)
        tr, te = split == args.train, split == args.test
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, class_weight="balanced"))
        probe.fit(x[tr], y[tr] == target)
        auc = {s: roc_auc_score(y[m] == target, probe.decision_function(x[m]))
               for s, m in (("train", tr), ("test", te))}
        f1 = f1_score(y[te] == target, probe.decision_function(x[te]) > 0)  # the fitted model's own threshold
        print(f"- {name}: test AUC {auc['test']:.3f} (train {auc['train']:.3f}), test F1 {f1:.2f}; "
              f"{int((y[te] == target).sum())} of {int(te.sum())} test clips are the class")


if __name__ == "__main__":
    main()
