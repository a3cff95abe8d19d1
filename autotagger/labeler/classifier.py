"""ImageNet-1k probabilities from EfficientNet-Lite0 (ONNX).

Pictures are preprocessed as the model was evaluated (short side 256, centre crop 224,
(rgb - 127) / 128); several pictures go through in one batch. The softmax is taken at
temperature 0.8: ImageNet splits one everyday concept over many near-identical classes (three
kinds of house cat, two of missile), so even a clear photo's best class rarely passes 50%; the
vocabulary sums such classes, and the mild sharpening brings clear photos of things ImageNet has
few classes for (a flower, a rocket) over the default 55% threshold without changing the order.
A second, whole-picture view was tried and dropped: it lowered the right answers on the sample
photos (a launch pad read as a drilling rig).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from autotagger.labeler.onnx_session import session

SIZE = 224
RESIZE = 256


def _normalise(image: Image.Image) -> np.ndarray:
    array = np.asarray(image, dtype=np.float32)
    return ((array - 127.0) / 128.0).transpose(2, 0, 1)


def centre_crop(image: Image.Image) -> np.ndarray:
    """The model's own evaluation preprocessing: short side 256, centre 224, (rgb - 127) / 128, CHW."""
    width, height = image.size
    scale = RESIZE / min(width, height)
    resized = image.resize((max(SIZE, round(width * scale)), max(SIZE, round(height * scale))),
                           Image.Resampling.BILINEAR, reducing_gap=3.0)
    left, top = (resized.width - SIZE) // 2, (resized.height - SIZE) // 2
    return _normalise(resized.crop((left, top, left + SIZE, top + SIZE)))


TEMPERATURE = 0.8


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    logits = logits / temperature
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


class Classifier:
    def __init__(self, model_path: str | Path, threads: int | None = None):
        self.session = session(model_path, threads)
        self.input_name = self.session.get_inputs()[0].name

    def logits(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: batch.astype(np.float32, copy=False)})[0]

    def classify(self, images: list[Image.Image]) -> np.ndarray:
        """N x 1000 probabilities, one row per image."""
        if not images:
            return np.zeros((0, 1000), np.float32)
        return softmax(self.logits(np.stack([centre_crop(image) for image in images])), TEMPERATURE)
