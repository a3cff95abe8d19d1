"""Converts the CenterNet TF.js graph model (npm `@vladmandic/human`) to ONNX with tf2onnx.

Runs in the build environment (tensorflow-cpu + tf2onnx), never in the runtime venv:
`python -m autotagger.models.centernet_onnx MODEL.json OUT.onnx`.

The model.json was written by an old TF.js converter, so before tf2onnx reads it:
- `_FusedConv2D` nodes get the `TArgs` attribute today's TensorFlow requires (one type per arg);
- every attribute missing from a node is filled with its TensorFlow op-def default
  (e.g. `TopKV2.index_type`), because tf2onnx imports nodes one by one into TensorFlow;
- numpy 2 dropped `np.product`, which tf2onnx 1.17 still calls.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

INPUT_NAME = "tower_0/images:0"  # 1 x 512 x 512 x 3, RGB 0-255, no normalisation
OUTPUT_NAME = "tower_0/detections"  # 1 x 100 x [x1, y1, x2, y2, score, class] in input pixels
INPUT_SIZE = 512
OPSET = 17


def patch_graph(model: dict) -> dict:
    from google.protobuf import json_format
    from tensorflow.python.framework import op_def_registry

    for node in model["modelTopology"]["node"]:
        attr = node.setdefault("attr", {})
        if node["op"] == "_FusedConv2D" and "TArgs" not in attr:
            count = int(attr.get("num_args", {}).get("i", "0"))
            attr["TArgs"] = {"list": {"type": [attr["T"]["type"]] * count}}
        op_def = op_def_registry.get(node["op"])
        if op_def is None:
            continue
        for spec in op_def.attr:
            if spec.name not in attr and spec.HasField("default_value"):
                attr[spec.name] = json_format.MessageToDict(spec.default_value)
    return model


def convert(model_json: str | Path, out: str | Path) -> None:
    import numpy as np

    if not hasattr(np, "product"):
        np.product = np.prod  # type: ignore[attr-defined]  # tf2onnx 1.17 calls np.product, gone in numpy 2
    from tf2onnx import convert as tf2onnx_convert

    model_json = Path(model_json)
    model = patch_graph(json.loads(model_json.read_text(encoding="utf-8")))
    with tempfile.TemporaryDirectory() as tmp:
        patched = Path(tmp) / "model.json"
        patched.write_text(json.dumps(model), encoding="utf-8")
        for group in model["weightsManifest"]:
            for shard in group["paths"]:
                shutil.copy(model_json.parent / shard, Path(tmp) / shard)
        argv = sys.argv
        sys.argv = ["tf2onnx", "--tfjs", str(patched), "--output", str(out), "--opset", str(OPSET),
                    "--outputs", OUTPUT_NAME]
        try:
            tf2onnx_convert.main()
        finally:
            sys.argv = argv


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m autotagger.models.centernet_onnx MODEL.json OUT.onnx")
    convert(sys.argv[1], sys.argv[2])
