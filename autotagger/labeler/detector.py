"""COCO objects with boxes from CenterNet (ONNX, converted from @vladmandic/human's TF.js model).

The model takes the whole picture squeezed to 512x512 (RGB 0-255) and returns its 100 strongest
centre-heatmap peaks, many of them the same object seen at neighbouring peaks; duplicates of one
class are removed by non-maximum suppression. Boxes come back as ratios of the picture's size,
which is what Rekognition returns, so the squeeze does not matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from autotagger.labeler.onnx_session import session

SIZE = 512
SCORE_FLOOR = 0.1  # heatmap peaks below this are noise on every photo tried
NMS_IOU = 0.5


@dataclass(frozen=True)
class Detection:
    class_index: int  # into COCO's 80 classes, in human's labels.ts order
    score: float  # the heatmap peak, 0-1
    left: float  # box as ratios of the picture, clipped to [0, 1]
    top: float
    width: float
    height: float
    # other classes the model also proposed for (nearly) the same box: its second opinions
    alternatives: frozenset[int] = frozenset()

    @property
    def area(self) -> float:
        return self.width * self.height


def preprocess(image: Image.Image) -> np.ndarray:
    return np.asarray(image.resize((SIZE, SIZE), Image.Resampling.BILINEAR, reducing_gap=3.0), dtype=np.float32)


def _iou(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    x1 = np.maximum(box[0], others[:, 0])
    y1 = np.maximum(box[1], others[:, 1])
    x2 = np.minimum(box[2], others[:, 2])
    y2 = np.minimum(box[3], others[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def postprocess(raw: np.ndarray, score_floor: float = SCORE_FLOOR, iou: float = NMS_IOU) -> list[Detection]:
    """Rows [x1, y1, x2, y2, score, class] in model pixels -> clipped, de-duplicated detections."""
    rows = raw.reshape(-1, 6)
    rows = rows[rows[:, 4] >= score_floor]
    boxes = np.clip(rows[:, :4] / SIZE, 0.0, 1.0)
    keep = (boxes[:, 2] - boxes[:, 0] > 1e-3) & (boxes[:, 3] - boxes[:, 1] > 1e-3)
    rows, boxes = rows[keep], boxes[keep]
    classes = rows[:, 5].astype(int)
    found: list[Detection] = []
    for cls in np.unique(rows[:, 5]).astype(int):
        mask = rows[:, 5] == cls
        cls_boxes, cls_scores = boxes[mask], rows[mask, 4]
        order = np.argsort(-cls_scores, kind="stable")
        cls_boxes, cls_scores = cls_boxes[order], cls_scores[order]
        alive = np.ones(len(order), bool)
        for i in range(len(order)):
            if not alive[i]:
                continue
            b = cls_boxes[i]
            overlapping = _iou(b, boxes) >= iou
            alternatives = frozenset(int(c) for c in classes[overlapping] if c != cls)
            found.append(Detection(int(cls), float(cls_scores[i]), float(b[0]), float(b[1]),
                                   float(b[2] - b[0]), float(b[3] - b[1]), alternatives))
            if i + 1 < len(order):
                alive[i + 1:] &= _iou(b, cls_boxes[i + 1:]) < iou
    found.sort(key=lambda d: -d.score)
    return found


class Detector:
    def __init__(self, model_path: str | Path, threads: int | None = None):
        self.session = session(model_path, threads)
        self.input_name = self.session.get_inputs()[0].name
        self.output_name = "tower_0/detections"

    def raw(self, batch: np.ndarray) -> np.ndarray:
        """The model's own output for a 1 x 512 x 512 x 3 batch (the graph has a fixed batch of 1)."""
        return self.session.run([self.output_name], {self.input_name: batch.astype(np.float32, copy=False)})[0]

    def detect(self, image: Image.Image) -> list[Detection]:
        return postprocess(self.raw(preprocess(image)[None]))
