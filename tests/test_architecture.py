"""docs/architecture.md stays true: every module is described, and the import rules of its layer table hold (checked on
the source, lazy imports inside functions included)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "microgesture"
DOC = ROOT / "docs" / "architecture.md"
FOUNDATIONS = {"atomic", "fingerprint", "layouts", "progress", "metrics"}
TORCH = {"torch", "torchvision", "lightning", "pytorch_lightning"}


def _modules() -> dict[str, set[str]]:
    """Dotted module name under microgesture -> the top-level names it imports (``microgesture.X.Y`` as ``X.Y``)."""
    out = {}
    for p in sorted(PKG.rglob("*.py")):
        name = ".".join(p.relative_to(PKG).with_suffix("").parts)
        found = set()
        for node in ast.walk(ast.parse(p.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            for n in names:
                head, _, rest = n.partition(".")
                found.add(rest if head == "microgesture" else head)
        out[name] = found
    return out


MODULES = _modules()


def test_every_module_is_in_the_package_layout():
    layout = DOC.read_text().split("## Package layout", 1)[1].split("## What may import what", 1)[0]
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", layout))
    missing = [m for m in MODULES if not m.startswith("cli.") and m.split(".")[-1] not in words | {"__init__"}]
    assert not missing, f"modules not described in docs/architecture.md: {missing}"


def _imports(prefixes: tuple[str, ...]) -> dict[str, set[str]]:
    return {m: i for m, i in MODULES.items() if m.split(".")[0] in prefixes or m in prefixes}


# The documented exceptions (docs/architecture.md): imports inside one function, none of which loads torch.
EXCEPTIONS = {
    "data.stats": {"report"},  # plot_stats draws with report.plot_class_distribution
    "data.synth.untrimmed": {"detect", "pose"},  # generate_untrimmed writes events and PoseResult files
    "progress": {"lightning"},  # silence_third_party: only when lightning is already in sys.modules
}


@pytest.mark.parametrize("layer, allowed", [
    (("data",), FOUNDATIONS | {"data"}),
    (tuple(FOUNDATIONS), set()),
])
def test_torch_free_layers_import_only_below_them(layer, allowed):
    for mod, imps in _imports(layer).items():
        imps = {i for i in imps if i.split(".")[0] not in EXCEPTIONS.get(mod, set())}
        assert not imps & TORCH, f"{mod} imports torch"
        ours = {i.split(".")[0] for i in imps if i.split(".")[0] in {m.split(".")[0] for m in MODULES}}
        assert not ours - allowed, f"{mod} imports {sorted(ours - allowed)}"


def test_the_torch_free_layers_load_no_torch():
    """The exceptions above included: importing and using them leaves torch unloaded (in a fresh interpreter)."""
    import subprocess
    import sys

    code = ("import sys; import microgesture.data.synth.untrimmed, microgesture.data.stats; "
            "import microgesture.progress as p; from microgesture.detect import write_events; "
            "from microgesture.pose import PoseResult; "
            "p.silence_third_party(keep=False); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_models_do_not_read_data_or_inputs():
    for mod, imps in _imports(("models", "losses")).items():
        assert not {i.split(".")[0] for i in imps} & {"data", "inputs", "train"}, mod


def test_predictions_and_after_work_on_files_without_torch():
    for mod, imps in _imports(("predictions", "fusion", "pseudo", "report", "study_report")).items():
        assert not imps & TORCH, mod
        assert not {i.split(".")[0] for i in imps} & {"train", "models", "inputs", "branches"}, mod


def test_nothing_imports_the_command_line():
    users = [m for m, imps in MODULES.items() if not m.startswith("cli") and m != "__main__"
             and any(i == "cli" or i.startswith("cli.") for i in imps)]
    assert not users
