"""The experiment runner: a study end to end on a tiny dataset, stage caching and resume after a stage is deleted."""

import json
import shutil

import pytest

from microgesture.runner import ExperimentConfig, load_experiment, run_experiment

BR = {"input": {"clip_len": 8, "num_test_clips": 1, "layout": "mmg36"},
      "model": {"channels": [8, 16], "temporal_strides": [1, 2]}, "train": {"epochs": 2, "batch_size": 4}}


def _exp(ds, **kw):
    return ExperimentConfig(
        name="t",
        dataset={"path": str(ds)},
        branches={"a": {"branch": "joint-dstcnn", **BR}, "b": {"branch": "joint-stgcn", **BR}},
        fusion={"methods": ["temperature", "mean"], "objective": "top1"},
        **kw,
    )


def test_study_runs_caches_and_resumes(tiny_dataset, tmp_path):
    out = tmp_path / "study"
    s = run_experiment(_exp(tiny_dataset), out=out)
    assert set(s["metrics"]["models"]) == {"a", "b"} and "temperature" in s["metrics"]["fusions"]
    for f in ("report/report.md", "report/report.html", "report/submission.csv", "summary.json",
              "fusion/fused_temperature_test.npz", "branches/a/model.ckpt"):
        assert (out / f).exists(), f
    stamp = {p: (out / p / "stage.json").stat().st_mtime_ns for p in ("branches/a", "branches/b", "fusion")}
    # rerun: nothing retrains
    run_experiment(_exp(tiny_dataset), out=out)
    assert all((out / p / "stage.json").stat().st_mtime_ns == t for p, t in stamp.items())
    # delete one stage: only it (and the fusion, whose input file is rewritten identically) run again
    shutil.rmtree(out / "branches" / "b")
    s2 = run_experiment(_exp(tiny_dataset), out=out)
    assert (out / "branches/a/stage.json").stat().st_mtime_ns == stamp["branches/a"]
    assert (out / "branches/b/stage.json").exists()
    assert s2["metrics"]["models"]["b"] == s["metrics"]["models"]["b"]  # deterministic retrain


def test_changing_one_branch_retrains_only_it(tiny_dataset, tmp_path):
    out = tmp_path / "study"
    run_experiment(_exp(tiny_dataset), out=out)
    t_a = (out / "branches/a/stage.json").stat().st_mtime_ns
    exp = _exp(tiny_dataset)
    exp.branches["b"]["train"] = {"epochs": 1, "batch_size": 4}
    run_experiment(exp, out=out)
    assert (out / "branches/a/stage.json").stat().st_mtime_ns == t_a
    import yaml

    assert yaml.safe_load((out / "branches/b/config.yaml").read_text())["train"]["epochs"] == 1
    assert json.loads((out / "fusion/stage.json").read_text())["key"]


def test_pseudo_label_study_is_marked_transductive(tiny_dataset, tmp_path):
    s = run_experiment(_exp(tiny_dataset, pseudo_label={"enabled": True, "threshold": 0.0, "retrain": ["a"]}),
                       out=tmp_path / "study")
    assert s["transductive"] is True
    assert "a+pl" in s["metrics_final"]["models"] and "b" in s["metrics_final"]["models"]
    assert "Transductive" in (tmp_path / "study/report/report.md").read_text()


def test_retraining_can_continue_from_the_first_run(tiny_dataset, tmp_path):
    """``retrain`` as a mapping: its settings apply to the retraining only, and ``run:a`` there is a's first run."""
    import yaml

    from microgesture.experiment import retrain_specs

    retrain = {"a": {"init_from": "run:a", "train": {"epochs": 1, "batch_size": 4}}}
    out = tmp_path / "study"
    s = run_experiment(_exp(tiny_dataset, pseudo_label={"enabled": True, "threshold": 0.0, "retrain": retrain}),
                       out=out)
    assert set(s["retrain"]) == {"a"} and "a+pl" in s["metrics_final"]["models"]
    first = yaml.safe_load((out / "branches/a/config.yaml").read_text())
    again = yaml.safe_load((out / "retrain/a/config.yaml").read_text())
    assert (first["init_from"], first["train"]["epochs"]) == ("", 2)
    assert again["init_from"] == str(out / "branches/a") and again["train"]["epochs"] == 1
    assert again["dataset"] == str(out / "pseudo/dataset") and again["model"] == first["model"]
    # a name that is no branch, or a mapping that would change the branch itself, fails before anything runs
    for bad, match in (({"c": {}}, "no branch named c"), ({"a": {"branch": "joint-stgcn"}}, "not 'branch'"),
                       ({"a": 3}, "expected a mapping")):
        with pytest.raises(ValueError, match=match):
            retrain_specs(_exp(tiny_dataset, pseudo_label={"enabled": True, "retrain": bad}))


def test_shipped_configs_load_and_reject_unknown_keys(tmp_path):
    exp = load_experiment("demo")
    assert exp.branches and exp.dataset["synth"]["preset"] == "small"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ndataset: {path: .}\nbranches: {}\nfusoin: {}\n")
    with pytest.raises(ValueError, match="unknown key"):
        load_experiment(bad)
    with pytest.raises(FileNotFoundError, match="shipped"):
        load_experiment("nope")
    bad.write_text("name: x\ndataset: {synth: {preset: small, frame_size: [640, 300]}}\nbranches: {}\n")
    with pytest.raises(ValueError, match=r"bad.yaml: dataset.synth: frame_size 640x300: keep .* 16:9"):
        load_experiment(bad)
    bad.write_text("name: x\ndataset: {synth: {preset: small, frame_size: [640, 360]}}\nbranches: {}\n")
    assert load_experiment(bad).dataset["synth"]["frame_size"] == [640, 360]


@pytest.mark.parametrize("name", ["demo", "aim", "mm_gesture"])
def test_every_shipped_config_resolves(name, tiny_dataset):
    """Every branch of every shipped study resolves to a valid run config (unknown keys would raise)."""
    from microgesture.experiment import branch_cfg as _branch_cfg
    from microgesture.experiment import retrain_specs

    exp = load_experiment(name)
    earlier: dict = {}
    for bname, spec in exp.branches.items():
        cfg = _branch_cfg(exp, bname, spec, tiny_dataset, earlier)
        assert cfg.branch == spec["branch"]
        earlier[bname] = tiny_dataset.parent / bname
    if (exp.pseudo_label or {}).get("enabled"):
        for bname, spec in retrain_specs(exp).items():
            assert _branch_cfg(exp, bname, spec, tiny_dataset, earlier).branch == exp.branches[bname]["branch"]


def test_demo_config_runs_end_to_end_on_tiny(tmp_path):
    """The shipped demo study (joint, joint-heatmap and RGB branches, three fusions, pseudo-labelling, retraining,
    final fusion, report) on the tiny synthetic preset, one short epoch per branch."""
    import yaml

    over = {"dataset": {"synth": {"preset": "tiny", "seed": 0, "video": True}},
            "branch_overrides": {"train": {"epochs": 1, "limit_train_batches": 2, "num_workers": 0}},
            "pseudo_label": {"threshold": 0.0}}  # one epoch is not confident: select every clip, so retraining runs
    s = run_experiment(load_experiment("demo", over), out=tmp_path / "demo")
    assert set(s["metrics"]["models"]) == {"joint", "heatmap", "rgb"}
    assert {"temperature", "mean", "stacking"} <= set(s["metrics"]["fusions"])
    assert s["transductive"] and "rgb+pl" in s["metrics_final"]["models"]
    assert yaml.safe_load((tmp_path / "demo/retrain/rgb/config.yaml").read_text())["init_from"] == str(
        tmp_path / "demo/branches/rgb")  # rgb continues from its first run on the pseudo-labelled set
    for f in ("report/report.html", "report/submission.csv", "report/figures/confusion.png"):
        assert (tmp_path / "demo" / f).stat().st_size > 0, f
    # the video branches skip the train split's predictions (train.predict_train: false), the joint branch keeps them
    assert (tmp_path / "demo/branches/joint/preds_train.npz").exists()
    assert not (tmp_path / "demo/branches/rgb/preds_train.npz").exists()
    assert (tmp_path / "demo/branches/rgb/preds_test.npz").exists()


def test_branches_chain_through_run_references(tiny_dataset, tmp_path):
    """A pre-training branch on a dataset of its own stays out of the fusion; ``run:pre`` hands its run directory to
    the branch that starts from it, and retraining the source retrains the dependent."""
    one = {**BR, "train": {"epochs": 1, "batch_size": 4}}
    branches = {"pre": {"branch": "joint-dstcnn", "dataset": str(tiny_dataset), **one},
                "ft": {"branch": "joint-dstcnn", "init_from": "run:pre", **one},
                "b": {"branch": "joint-stgcn", **one}}
    exp = ExperimentConfig(name="t", dataset={"path": str(tiny_dataset)}, branches=branches,
                           fusion={"methods": ["mean"]})
    out = tmp_path / "study"
    s = run_experiment(exp, out=out)
    assert set(s["metrics"]["models"]) == {"ft", "b"}  # pre trained, not fused
    import yaml

    assert yaml.safe_load((out / "branches/ft/config.yaml").read_text())["init_from"] == str(out / "branches/pre")
    stamp = {n: (out / f"branches/{n}/stage.json").stat().st_mtime_ns for n in branches}
    exp.branches["pre"]["seed"] = 5
    run_experiment(exp, out=out)
    now = {n: (out / f"branches/{n}/stage.json").stat().st_mtime_ns for n in branches}
    assert now["pre"] != stamp["pre"] and now["ft"] != stamp["ft"] and now["b"] == stamp["b"]


def test_bad_run_reference_names_the_branch(tiny_dataset, tmp_path):
    exp = ExperimentConfig(name="t", dataset={"path": str(tiny_dataset)},
                           branches={"ft": {"branch": "joint-dstcnn", "init_from": "run:later", **BR},
                                     "later": {"branch": "joint-dstcnn", **BR}})
    with pytest.raises(ValueError, match=r"branches.ft: 'run:later' names no earlier branch"):
        run_experiment(exp, out=tmp_path / "study")
    exp2 = ExperimentConfig(name="t", dataset={"path": str(tiny_dataset)},
                            branches={"a": {"branch": "joint-dstcnn", **BR}},
                            pseudo_label={"enabled": True, "retrain": ["nope"]})
    with pytest.raises(ValueError, match="pseudo_label.retrain: no branch named nope"):
        run_experiment(exp2, out=tmp_path / "study2")


def test_synthetic_data_key_follows_the_generator_source(tmp_path, monkeypatch):
    """A changed generator (any file of data/synth/) changes the data stage's key, so the study regenerates instead
    of reusing the old generator's data; an unchanged one reuses it. The generator itself is faked."""
    import microgesture.data.synth as synth
    from microgesture import stage_cache

    src = tmp_path / "synth_src"
    shutil.copytree(stage_cache.SYNTH_DIR, src, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(stage_cache, "SYNTH_DIR", src)
    calls = []

    def fake_generate(root, **kw):
        calls.append(kw)
        (root / "dataset.json").parent.mkdir(parents=True)
        (root / "dataset.json").write_text("{}")
        return root

    monkeypatch.setattr(synth, "generate", fake_generate)
    exp = ExperimentConfig(name="t", dataset={"synth": {"preset": "tiny", "seed": 0}}, branches={})
    settings = {"preset": "tiny", "seed": 0, "video": True}
    key = stage_cache.synth_key(settings)
    assert stage_cache.synth_key(settings) == key and stage_cache.synth_key({**settings, "seed": 1}) != key
    stage_cache.stage_data(exp, tmp_path / "study")
    stage_cache.stage_data(exp, tmp_path / "study")
    assert len(calls) == 1  # cached: same settings, same generator
    f = src / "motion.py"
    f.write_text(f.read_text() + "\n# a changed generator\n")
    assert stage_cache.synth_key(settings) != key
    stage_cache.stage_data(exp, tmp_path / "study")
    assert len(calls) == 2  # regenerated
    (src / "notes.txt").write_text("any file counts")
    assert stage_cache.synth_key(settings) != key
    # a frame size is generated at that size, under its own key; without one the key is the one studies had before
    calls.clear()
    big = ExperimentConfig(name="t", dataset={"synth": {"preset": "tiny", "seed": 0, "frame_size": [320, 180]}},
                           branches={})
    stage_cache.stage_data(big, tmp_path / "study_big")
    assert calls[0]["preset"].frame_size == (320, 180) and calls[0]["preset"].name == "tiny"
    assert stage_cache.synth_key({**settings, "frame_size": [320, 180]}) != stage_cache.synth_key(settings)


def test_study_size_cpu_and_recipe(tiny_dataset, tmp_path):
    """``size: cpu`` puts each branch's CPU-sized variant over the study's settings (the layout stays the study's),
    ``recipe`` takes the study's sizes away (back to the branch's recipe); --set overrides still win; a branch
    without a CPU variant refuses ``cpu`` in one line."""
    from microgesture.experiment import branch_cfg
    from microgesture.sizes import SizeError, cpu_sizes

    aim = load_experiment("aim", {"size": "cpu", "branch_overrides": {"train": {"epochs": 3}},
                                  "dataset": {"path": str(tiny_dataset)}})
    cpu = cpu_sizes()["joint-dstcnn"]
    cfg = branch_cfg(aim, "joint", aim.branches["joint"], tiny_dataset)
    assert cfg.input["clip_len"] == cpu["input"]["clip_len"] != 64 and cfg.input["layout"] == "aim68"
    assert list(cfg.model["channels"]) == cpu["model"]["channels"] and cfg.train.epochs == 3
    assert cfg.loss.name == "focal" and cfg.input["flip_test"] is True  # not a size: the study's
    with pytest.raises(SizeError, match="swin.*no CPU-sized variant|rgb-swin3d-s.*no CPU-sized variant"):
        run_experiment(aim, out=tmp_path / "aim")
    assert not (tmp_path / "aim").exists()  # refused before anything is written
    demo = load_experiment("demo", {"size": "recipe"})
    rec = branch_cfg(demo, "joint", demo.branches["joint"], tiny_dataset)
    plain = branch_cfg(load_experiment("demo"), "joint", demo.branches["joint"], tiny_dataset)
    assert plain.input["clip_len"] == 32 and rec.input.get("clip_len", 32) != 32 and rec.input["layout"] == "aim68"
    with pytest.raises(SizeError, match="size 'gpu'"):
        load_experiment("demo", {"size": "gpu"})


def test_run_and_demo_take_size_and_logger(tiny_dataset, tmp_path, monkeypatch, capsys):
    """`run` and `demo` pass --size and --logger to every branch; bad values stop them in one line (exit 2) before
    anything is written."""
    import microgesture.runner as runner
    from microgesture.cli import main

    def cli(*argv: str) -> tuple[int, str]:
        capsys.readouterr()
        with pytest.raises(SystemExit) as e:
            main(list(argv))
        return e.value.code, capsys.readouterr().err

    seen = {}
    real = runner.run_experiment

    def fake_run(exp, *, out, logger=None):
        seen.update(size=exp.size, logger=logger, name=exp.name)
        return {"name": exp.name, "seconds": 0.0, "metrics": {"models": {}, "fusions": {}}}

    monkeypatch.setattr(runner, "run_experiment", fake_run)
    assert cli("demo", "-o", str(tmp_path / "d"), "--size", "recipe", "--logger", "csv")[0] == 0
    assert seen == {"size": "recipe", "logger": "csv", "name": "demo"}
    monkeypatch.setattr(runner, "run_experiment", real)
    aim = ("run", "aim", "--set", f"dataset.path={tiny_dataset}", "-o", str(tmp_path / "aim"))
    code, err = cli(*aim, "--logger", "nope")
    assert code == 2 and "--logger 'nope'" in err
    code, err = cli(*aim, "--size", "cpu")
    assert code == 2 and "no CPU-sized variant" in err and "rgb-swin3d-s" in err
    code, err = cli("run", "demo", "--size", "gpu", "-o", str(tmp_path / "x"))
    assert code == 2 and "size 'gpu'" in err
    assert not (tmp_path / "aim").exists() and not (tmp_path / "x").exists()


def test_stage_keys_leave_out_fields_added_at_their_neutral_values():
    """A study cached before train.val_views and input.frame_interval existed keeps its stage keys (those fields at
    their defaults train exactly as before); set to anything else, they are part of the key."""
    from microgesture.stages import _keyed_config
    from microgesture.train import resolve_config

    plain = _keyed_config(resolve_config(branch="rgb-r2plus1d", dataset=""))
    assert "val_views" not in plain["train"] and "frame_interval" not in plain["input"]
    assert "test_average" in plain["train"] and "clip_len" in plain["input"]  # only those two are left out
    set_ = _keyed_config(resolve_config(branch="rgb-r2plus1d", dataset="", overrides={
        "train": {"val_views": {"num_test_clips": 1}}, "input": {"frame_interval": 2}}))
    assert set_["train"]["val_views"] == {"num_test_clips": 1} and set_["input"]["frame_interval"] == 2
    assert "frame_interval" not in _keyed_config(resolve_config(branch="joint-dstcnn", dataset=""))["input"]
