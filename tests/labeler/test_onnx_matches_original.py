"""Each ONNX model answers as its original framework does, on real photos.

The originals run out of process: PyTorch in the build venv, TF.js (WebAssembly backend) under
the sources cache; `autotagger models build --with-reference` installs both. Where they are not
installed, these tests skip and say so.
"""

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from labeler_photos import SAMPLE_PHOTOS
from PIL import Image

import autotagger
from autotagger.labeler.classifier import Classifier, centre_crop
from autotagger.labeler.detector import Detector, preprocess
from autotagger.models import cache
from autotagger.models.build import build_python, detector_source_dir, reference_node_dir

PHOTOS = ["chelsea", "astronaut", "coffee", "motorcycle"]
REFERENCE_DIR = Path(autotagger.__file__).parent / "models" / "reference"
PACKAGE_ROOT = str(Path(autotagger.__file__).parents[1])
HOW = "run `autotagger models build --with-reference` to install it"


def rgb(name: str) -> Image.Image:
    return Image.open(SAMPLE_PHOTOS[name]).convert("RGB")


def test_given_sample_photos_when_classified_then_onnx_logits_match_pytorch(model_manifest, tmp_path):
    python = build_python()
    if not python.exists() or subprocess.run([str(python), "-c", "import torch, efficientnet_lite_pytorch"],
                                             capture_output=True).returncode != 0:
        pytest.skip(f"PyTorch is not installed in the build venv {python.parent.parent}; {HOW}")
    batch = np.stack([centre_crop(rgb(name)) for name in PHOTOS]).astype(np.float32)
    np.save(tmp_path / "input.npy", batch)
    subprocess.run([str(python), "-m", "autotagger.models.reference.torch_lite0", str(tmp_path / "input.npy"),
                    str(tmp_path / "torch.npy")], check=True, timeout=300, cwd=PACKAGE_ROOT,
                   env={"PYTHONPATH": PACKAGE_ROOT, "PATH": "/usr/bin:/bin"})
    expected = np.load(tmp_path / "torch.npy")
    onnx = Classifier(Path(model_manifest["directory"]) / cache.CLASSIFIER_FILE).logits(batch)
    assert np.abs(onnx - expected).max() < 1e-3
    assert (onnx.argmax(axis=1) == expected.argmax(axis=1)).all()


def test_given_sample_photos_when_detected_then_onnx_detections_match_tfjs(model_manifest, tmp_path):
    node = shutil.which("node")
    tfjs = reference_node_dir()
    if node is None:
        pytest.skip("Node.js is not installed; it runs the TF.js reference")
    if not (tfjs / "node_modules" / "@tensorflow" / "tfjs-backend-wasm").is_dir():
        pytest.skip(f"TF.js is not installed in {tfjs}; {HOW}")
    detector = Detector(Path(model_manifest["directory"]) / cache.DETECTOR_FILE)
    batches, files = {}, []
    for name in PHOTOS:
        batches[name] = preprocess(rgb(name))[None].astype(np.float32)
        (tmp_path / f"{name}.in").write_bytes(batches[name].tobytes())
        files += [str(tmp_path / f"{name}.in"), str(tmp_path / f"{name}.out")]
    subprocess.run([node, str(REFERENCE_DIR / "tfjs_centernet.mjs"), str(tfjs), str(detector_source_dir()), *files],
                   check=True, timeout=600, capture_output=True)
    for name, batch in batches.items():
        expected = np.frombuffer((tmp_path / f"{name}.out").read_bytes(), np.float32).reshape(100, 6)
        onnx = detector.raw(batch).reshape(100, 6)
        strong = expected[:, 4] >= 0.1  # the rows the labeler uses
        assert strong.any(), name
        assert np.abs(onnx[strong] - expected[strong]).max() < 0.01, name  # boxes in 512-px units, scores 0-1
        assert (onnx[strong, 5] == expected[strong, 5]).all(), name
