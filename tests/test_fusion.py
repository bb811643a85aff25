import json

import numpy as np
import pytest

from microgesture.cli import main
from microgesture.fusion import (
    FusionConfig,
    FusionError,
    fit_temperature,
    fuse,
    resolve_weights,
    search_weights,
)
from microgesture.metrics import classification_report, softmax
from microgesture.predictions import Predictions, PredictionsError, load_predictions, save_predictions

K = 6
CLASSES = tuple(f"c{i}" for i in range(K))


def _pred(rng, labels, signal, name, *, ids=None, classes=CLASSES, split="val"):
    """Random logits; ``signal`` > 0 adds that much to the true class (an informative model)."""
    n = len(labels)
    logits = rng.normal(size=(n, len(classes))) * 2.0
    logits[np.arange(n), labels] += signal
    ids = ids if ids is not None else [f"v{i:03d}_0" for i in range(n)]
    return Predictions(ids, logits, labels, classes, {"branch": name, "split": split}, f"{name}_{split}.npz")


def _cli(argv: list[str]) -> int:
    """Exit code of ``microgesture argv`` (the typer app always exits)."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    return e.value.code


def _top1(p: Predictions) -> float:
    return classification_report(p.logits, p.labels, p.classes)["top1"]


def test_refuses_mismatched_ids_naming_file_and_first_missing_id(rng):
    y = rng.integers(0, K, 20)
    a = _pred(rng, y, 2.0, "a")
    ids = [f"v{i:03d}_0" for i in range(20)]
    ids[7] = "other_0"  # v007_0 is missing from b
    b = _pred(rng, y, 2.0, "b", ids=ids)
    with pytest.raises(PredictionsError, match=r"b_val\.npz.*'v007_0'"):
        fuse([a, b], None, method="mean")


def test_refuses_mismatched_classes_and_branches(rng):
    y = rng.integers(0, K, 10)
    a = _pred(rng, y, 2.0, "a")
    b = _pred(rng, y, 2.0, "b", classes=tuple(reversed(CLASSES)))
    with pytest.raises(PredictionsError, match=r"b_val\.npz: class list"):
        fuse([a, b], None, method="mean")
    ta, tb = _pred(rng, y, 2.0, "a", split="test"), _pred(rng, y, 2.0, "b", split="test")
    with pytest.raises(FusionError, match="not the same model"):
        fuse([a, _pred(rng, y, 1.0, "b")], [tb, ta], method="mean")  # test files given in the other order


def test_temperature_to_infinity_is_uniform_and_tau_one_is_weighted_softmax(rng):
    y = rng.integers(0, K, 30)
    ps = [_pred(rng, y, s, n) for s, n in ((3.0, "a"), (0.5, "b"), (0.0, "c"))]
    w = (0.5, 0.3, 0.2)
    hot = fuse(ps, None, method="temperature", config=FusionConfig(tau=1e9, weights=w)).val
    np.testing.assert_allclose(softmax(hot.logits), np.full((30, K), 1.0 / K), atol=1e-6)
    one = fuse(ps, None, method="temperature", config=FusionConfig(tau=1.0, weights=w)).val
    want = sum(wi * softmax(p.logits) for wi, p in zip(w, ps, strict=True))
    np.testing.assert_allclose(softmax(one.logits), want, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("m", [3, 6])  # 3: simplex grid, 6: coordinate ascent
@pytest.mark.parametrize("objective", ["top1", "macro_f1"])
@pytest.mark.parametrize("tau", [1.0, None])  # shared tau 1 (uniform weights would fail here) and fitted taus
def test_weight_search_never_worse_than_best_single_model(m, objective, tau):
    for seed in range(3):
        rng = np.random.default_rng(seed)
        y = rng.integers(0, K, 80)
        ps = [_pred(rng, y, 2.5 if i == 1 else 0.3, f"m{i}") for i in range(m)]  # only model 1 is informative
        res = fuse(ps, None, method="temperature", config=FusionConfig(objective=objective, step=0.1, tau=tau,
                                                                         tolerance=0))
        key = "top1" if objective == "top1" else "macro_f1"
        singles = [classification_report(p.logits, p.labels, p.classes)[key] for p in ps]
        fused = classification_report(res.val.logits, res.val.labels, res.val.classes)[key]
        assert fused >= max(singles) - 1e-12
        assert res.params["val_objective"] == pytest.approx(fused)
        assert sum(res.params["weights"].values()) == pytest.approx(1.0)


def test_weight_search_ties_go_to_uniform(rng):
    y = rng.integers(0, K, 40)
    p = _pred(rng, y, 1.0, "a")
    probs = [p.probs()] * 4  # identical models: every weight vector scores the same
    w, _, how = search_weights(probs, y, step=0.05)
    np.testing.assert_allclose(w, 0.25)
    assert "grid" in how


@pytest.mark.parametrize("max_grid_models", [4, 1])  # the simplex grid, and coordinate ascent
def test_weight_search_ties_move_weight_off_a_model_that_adds_nothing(rng, max_grid_models):
    """A flat model never changes the argmax, so every weight vector with some weight on the informative model ties
    on top-1; the likelihood tie-break gives the flat one (almost) nothing instead of its uniform share."""
    y = rng.integers(0, K, 60)
    good = _pred(rng, y, 6.0, "good").probs()
    flat = np.full_like(good, 1.0 / K)
    w, score, _ = search_weights([good, flat], y, step=0.1, max_grid_models=max_grid_models)
    assert score == pytest.approx(float((good.argmax(1) == y).mean()))
    assert w[0] >= 0.8, w


@pytest.mark.parametrize("tolerance", ["se", 0.05])
def test_weight_search_within_tolerance_goes_toward_equal_weights(rng, tolerance):
    """Two equally good models whose errors differ: single models and mixes score within a few clips of each other on
    val, so the band ties them and the search returns (near) equal weights; without it, the noisy maximum wins."""
    y = rng.integers(0, K, 160)
    a, b = _pred(rng, y, 1.5, "a").probs(), _pred(rng, y, 1.5, "b").probs()
    w0, s0, _ = search_weights([a, b], y, step=0.05)
    w, s, how = search_weights([a, b], y, step=0.05, tolerance=tolerance, tie_break="equal")
    assert abs(w[0] - 0.5) <= abs(w0[0] - 0.5) and abs(w[0] - 0.5) < 0.2, (w, w0)
    band = np.sqrt(s0 * (1 - s0) / len(y)) if tolerance == "se" else tolerance
    assert s >= s0 - band - 1e-12 and "ties within" in how


def test_band_ties_by_likelihood_keep_a_weak_branch_light(rng):
    """The demo's case: a strong branch and a weak one whose share barely moves val top-1. Inside the band, ties
    toward equal weights hand the weak branch a large share; ties by likelihood keep it small, and the fused val NLL
    is lower (docs/benchmarks.md: over 3 seeds the equal-weights tie cost 2 points of test top-1)."""
    y = rng.integers(0, K, 160)
    strong, weak = _pred(rng, y, 3.0, "strong").probs(), _pred(rng, y, 0.7, "weak").probs()
    we, _, _ = search_weights([strong, weak], y, step=0.05, tolerance="se", tie_break="equal")
    wl, _, how = search_weights([strong, weak], y, step=0.05, tolerance="se")
    assert "to likelihood" in how and wl[1] < we[1], (wl, we)

    def nll(w):
        return -np.log((w[0] * strong + w[1] * weak)[np.arange(len(y)), y]).mean()

    assert nll(wl) <= nll(we)
    with pytest.raises(FusionError, match="tie_break"):
        FusionConfig(tie_break="uniform")


def test_weight_search_tolerance_keeps_a_clearly_better_model(rng):
    """A margin of one standard error cannot hand weight to a model far below it on val."""
    y = rng.integers(0, K, 160)
    good, bad = _pred(rng, y, 3.0, "good").probs(), np.full((160, K), 1.0 / K)
    bad = bad + rng.random(bad.shape) * 0.5  # noise that scores near chance alone
    bad = bad / bad.sum(1, keepdims=True)
    w, s, _ = search_weights([good, bad], y, step=0.05, tolerance="se")
    assert s >= float((good.argmax(1) == y).mean()) - np.sqrt(0.25 / 160) - 1e-12
    with pytest.raises(FusionError, match="tolerance"):
        search_weights([good, bad], y, tolerance=-1)


def test_mean_of_identical_files_equals_the_file(rng):
    y = rng.integers(0, K, 25)
    p = _pred(rng, y, 1.0, "a")
    q = Predictions(p.clip_ids[::-1], p.logits[::-1], p.labels[::-1], p.classes, {"branch": "b"}, "b.npz")
    res = fuse([p, q], None, method="mean")
    np.testing.assert_allclose(res.val.probs(), p.probs(), rtol=1e-5, atol=1e-7)
    assert list(res.val.clip_ids) == list(p.clip_ids)
    assert res.val.meta["branch"] == "fusion:mean" and res.val.meta["inputs"] == ["a_val.npz", "b.npz"]


def test_fit_temperature_recovers_the_generating_temperature():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(4000, 5)) * 3.0
    p = softmax(z / 2.0)  # labels drawn from softmax(z / 2): the NLL-optimal temperature is 2
    y = (p.cumsum(axis=1) > rng.random((4000, 1))).argmax(axis=1)
    assert fit_temperature(z, y) == pytest.approx(2.0, rel=0.15)


def test_stacking_runs_and_reports_cross_validated_val(rng):
    y = rng.integers(0, K, 120)
    val = [_pred(rng, y, 3.0, "a"), _pred(rng, y, 0.5, "b")]
    yt = rng.integers(0, K, 50)
    test = [_pred(rng, yt, 3.0, "a", split="test"), _pred(rng, yt, 0.5, "b", split="test")]
    res = fuse(val, test, method="stacking")
    assert res.test.logits.shape == (50, K) and res.val.logits.shape == (120, K)
    assert res.params["val_top1_cv"] == pytest.approx(_top1(res.val))
    assert res.params["val_top1_cv"] > 1.5 / K  # informative inputs beat chance out of fold
    assert "optimistic" in res.params["val_note"]
    try:
        import lightgbm  # noqa: F401
    except ImportError:
        with pytest.raises(FusionError, match=r"microgesture\[lightgbm\]"):
            fuse(val, test, method="stacking", config=FusionConfig(stacker="lightgbm"))
    else:
        assert fuse(val, test, method="stacking", config=FusionConfig(stacker="lightgbm")).test is not None


def test_mm_gesture_preset_maps_names_to_weights():
    names = ("swin-rgb", "swin-taylor", "swin-depth", "swin-flow", "swin-rgb-ma52", "rgbpose-joint", "rgbpose-limb")
    w, notes = resolve_weights("mm-gesture", names)
    np.testing.assert_allclose(w, np.array([0.2] * 5 + [0.5, 0.5]) / 2.0)
    assert not notes
    with pytest.raises(FusionError, match="swin-rgb-ma52"):  # the error lists the expected names
        resolve_weights("mm-gesture", ("swin-rgb", "posec3d-joint"))


def test_without_val_temperature_uses_aim_tau(rng):
    y = -np.ones(15, dtype=np.int64)
    test = [_pred(rng, y + 1, 1.0, "a", split="test"), _pred(rng, y + 1, 1.0, "b", split="test")]
    res = fuse(None, test, method="temperature")
    assert set(res.params["taus"].values()) == {2.5} and res.val is None
    with pytest.raises(FusionError, match="labelled val"):
        fuse(None, test, method="stacking")


def test_cli_fuse_writes_predictions_metrics_and_choices(tmp_path, rng, capsys):
    y, yt = rng.integers(0, K, 60), rng.integers(0, K, 40)
    paths = {}
    for split, lab in (("val", y), ("test", yt)):
        for name, s in (("joint", 2.0), ("limb", 1.0)):
            paths[split, name] = save_predictions(tmp_path / f"{name}_{split}.npz", _pred(rng, lab, s, name,
                                                                                          split=split))
    out = tmp_path / "fused"
    assert _cli(["fuse", "--val", str(paths["val", "joint"]), str(paths["val", "limb"]),
                 "--test", str(paths["test", "joint"]), str(paths["test", "limb"]),
                 "--method", "temperature,mean,stacking", "--step", "0.1", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["models"]) == {"joint", "limb"} and set(metrics["fusions"]) == {"temperature", "mean",
                                                                                        "stacking"}
    assert set(metrics["fusions"]["temperature"]) == {"val", "test"}
    record = json.loads((out / "fusion.json").read_text())
    assert record["primary"] == "temperature" and set(record["methods"]["temperature"]["taus"]) == {"joint", "limb"}
    fused = load_predictions(out / "fused_temperature_test.npz")
    assert sorted(fused.clip_ids) == sorted(load_predictions(paths["test", "joint"]).clip_ids)
    assert "stacking" in capsys.readouterr().err  # the optimistic-val note is logged, on stderr
    import logging

    # the CLI's log handler lives as long as the command: a later library log line in this process is not printed
    assert not any(getattr(h, "_microgesture", False) for h in logging.getLogger().handlers)

    bad = save_predictions(tmp_path / "short.npz", _pred(rng, y[:-1], 1.0, "limb"))
    assert _cli(["fuse", "--val", str(paths["val", "joint"]), str(bad), "--method", "mean", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "short.npz" in err and "v059_0" in err
