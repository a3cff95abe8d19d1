"""An int8 copy of the built classifier, to compare with the fp32 one (issue 15, point 4).

Not part of the build: int8 did not keep the labeler's accuracy (docs/labeler-evaluation.md), so
`autotagger models build` still ships fp32 only. Two steps, in two Pythons:

1. the calibration inputs, with the runtime venv (it has the photos' packages and the labeler's
   own preprocessing): the tuning photos only (tests/labeler/evaluation_photos.json, set
   `tuning`), five crops and their mirror images each, 80 inputs; never an evaluation photo.

       PYTHONPATH=. .venv/bin/python scripts/quantize_classifier.py calibration /tmp/calib.npy

2. the quantisation, with any Python that has `onnx` and `onnxruntime` (the runtime venv has no
   `onnx`, the build env no `onnxruntime`): static QDQ, int8 weights per channel in 7 bits
   (reduce_range), uint8 activations from min/max calibration, the stem convolution and the
   final Gemm left in fp32 — the variant that kept most of the fp32 model's top-1 answers on the
   calibration inputs (see the doc). Writes a model directory with both models and a manifest,
   usable as `--model-dir` by bench/bench_labeler.py and bench/bench_accuracy.py.

       python scripts/quantize_classifier.py quantize ~/.cache/autotagger/models /tmp/models-int8 \\
           --calibration /tmp/calib.npy
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

CLASSIFIER_FILE = "efficientnet_lite0.onnx"  # autotagger.models.cache's names, without importing it
DETECTOR_FILE = "centernet.onnx"
MANIFEST_FILE = "manifest.json"


def calibration(output: Path) -> None:
    import numpy as np
    from PIL import Image

    from autotagger.labeler.classifier import RESIZE, SIZE, _normalise
    from autotagger.labeler.images import decode
    from bench.bench_accuracy import load_photos, photo_path

    inputs = []
    for photo in (p for p in load_photos() if p["set"] == "tuning"):
        image = decode(photo_path(photo).read_bytes()).image
        scale = RESIZE / min(image.size)
        image = image.resize((max(SIZE, round(image.width * scale)), max(SIZE, round(image.height * scale))),
                             Image.Resampling.BILINEAR, reducing_gap=3.0)
        right, bottom = image.width - SIZE, image.height - SIZE
        for left, top in ((right // 2, bottom // 2), (0, 0), (right, 0), (0, bottom), (right, bottom)):
            crop = image.crop((left, top, left + SIZE, top + SIZE))
            inputs += [_normalise(crop), _normalise(crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT))]
    np.save(output, np.stack(inputs))
    print(f"wrote {output}: {len(inputs)} calibration inputs from the tuning photos")


def quantize(models: Path, output: Path, calibration_file: Path) -> None:
    import numpy as np
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    data = np.load(calibration_file)
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        prepared = Path(scratch) / "prepared.onnx"
        quant_pre_process(str(models / CLASSIFIER_FILE), str(prepared), skip_symbolic_shape=True)
        model = onnx.load(str(prepared))
        for i, node in enumerate(model.graph.node):  # the converter leaves nodes unnamed
            node.name = node.name or f"{node.op_type}_{i}"
        onnx.save(model, str(prepared))
        nodes = model.graph.node
        kept_fp32 = [next(n.name for n in nodes if n.op_type == "Conv")]
        kept_fp32 += [n.name for n in nodes if n.op_type in ("Gemm", "MatMul")]
        input_name = model.graph.input[0].name

        class Reader(CalibrationDataReader):
            def __init__(self) -> None:
                self.batches = iter([{input_name: data[i:i + 1]} for i in range(len(data))])

            def get_next(self):
                return next(self.batches, None)

        quantize_static(str(prepared), str(output / CLASSIFIER_FILE), Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=True, reduce_range=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
                        nodes_to_exclude=kept_fp32)
    shutil.copy(models / DETECTOR_FILE, output / DETECTOR_FILE)
    manifest = json.loads((models / MANIFEST_FILE).read_text(encoding="utf-8"))
    manifest["label_model_version"] += " [classifier int8]"
    for name in (CLASSIFIER_FILE, DETECTOR_FILE):
        path = output / name
        manifest["files"][name] = {"sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                                   "bytes": path.stat().st_size}
    (output / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {output}: classifier {manifest['files'][CLASSIFIER_FILE]['bytes']} bytes (int8)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True)
    step = steps.add_parser("calibration", help="write the calibration inputs (runtime venv)")
    step.add_argument("output", type=Path)
    step = steps.add_parser("quantize", help="write an int8 model directory (needs onnx and onnxruntime)")
    step.add_argument("models", type=Path, help="a built model directory")
    step.add_argument("output", type=Path)
    step.add_argument("--calibration", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.step == "calibration":
        calibration(args.output)
    else:
        quantize(args.models, args.output, args.calibration)
    return 0


if __name__ == "__main__":
    sys.exit(main())
