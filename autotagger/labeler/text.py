"""The local TextDetector: Tesseract OCR (Debian's `tesseract-ocr` + `tesseract-ocr-eng`, driven
through PyPI's `pytesseract`), answering exactly like Rekognition's DetectText.

Why Tesseract: it is maintained, packaged by Debian with its English model (nothing downloads at
run time) and `pytesseract` is a thin, well-known wrapper. What it costs: Tesseract is a document
OCR engine; on photos (scene text) it reads a clear sign but misses text a scene-text model would
find, and it reads texture as letters. So the image is binarised locally first (a global Otsu
threshold, Tesseract's own, fails on a light sign against a blue sky) and only words of at least
`MIN_WORD_CONFIDENCE` with a letter or digit in them are kept. Measured (bench/bench_analysers.py):
it reads 10 of 18 signs painted on the repository's photos, 2 of the 6 with light letters on a
dark plate; tests/analysers/ shows what it reads and the stray words it makes.

The answer has DetectText's shape (https://docs.aws.amazon.com/rekognition/latest/APIReference/API_TextDetection.html):
LINE detections first, Ids 0.., in reading order (top to bottom, then left to right), then their
WORDs, each with the `ParentId` of its LINE; `Confidence` 0-100 (a LINE's is the mean of its
words'); `Geometry.BoundingBox` and a four-point `Polygon` (top-left, top-right, bottom-right,
bottom-left: Tesseract's boxes are axis-aligned) as ratios of the upright image's width and
height; at most `DETECT_TEXT_MAX_WORDS` words, the most confident ones, as Rekognition does.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from PIL import Image, ImageFilter

from autotagger.contracts import DETECT_TEXT_MAX_WORDS
from autotagger.errors import InternalServerError
from autotagger.labeler.images import decode

OCR_MAX_SIDE = 1024
"""The longest side Tesseract reads, in pixels. Tesseract's recogniser is trained on lines a few
tens of pixels tall, so a sign that fills a tenth of a photo reads better reduced, and texture
turns into fewer stray "words". Measured on 19 signs drawn on six of the repository's photos plus
three real street signs (opencv-doc's scenetext photos): 1024 px read 11 of the 19 signs with 12
stray lines and 18 words of the street signs; 1600 px read 10 with 39 stray lines and 14 words,
at about 1.8 times the CPU; 800 px read no more than 1024."""
MIN_WORD_CONFIDENCE = 70.0
"""Tesseract's word confidence below which a photo's "words" are mostly texture (leaves, cables,
gravel read as `aS`, `KG`, `4,`); real letters on a sign score 90+."""
_LOCAL_WINDOW = 0.02  # of the longest side: the neighbourhood whose mean a pixel is compared with
_LOCAL_OFFSET = 8  # grey levels darker than the neighbourhood's mean to count as ink
_PAGE_SEGMENTATION = "--psm 11"  # "sparse text": find as much text as possible, in no particular order
_TIMEOUT_S = 60  # a Tesseract run that takes longer is stuck; the call fails with InternalServerError


class TesseractTextDetector:
    """Safe to share between threads: each call runs its own Tesseract process.

    `TextModelVersion` names the engine, its version and its language model, e.g. `tesseract-5.3.0-eng`.
    """

    def __init__(self, language: str = "eng"):
        import pytesseract

        # Tesseract parallelises one page over every core with OpenMP; the pipeline already runs
        # several analyses at once (one per worker), so one thread each avoids oversubscribing the
        # cores (Tesseract's own advice for parallel runs). pytesseract passes os.environ to the
        # process; only OpenMP runtimes read this variable, and none runs in this process.
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        self._tesseract = pytesseract
        self.language = language
        try:
            version = pytesseract.get_tesseract_version()
        except pytesseract.TesseractNotFoundError as exc:
            raise RuntimeError("the local text detector needs Tesseract: apt-get install tesseract-ocr "
                               "tesseract-ocr-eng (make system-packages)") from exc
        self.model_version = f"tesseract-{version}-{language}"

    def detect_text(self, image_bytes: bytes) -> dict[str, Any]:
        # The EXIF orientation is applied (decode does), like the labeler: Rekognition corrects a
        # JPEG's orientation itself and reports boxes on the corrected image
        # (https://docs.aws.amazon.com/rekognition/latest/dg/images-orientation.html), the dashboard
        # draws text boxes over the upright image beside the label boxes, and Tesseract reads only
        # upright lines. The workflow's derivatives are upright already (orientation 1).
        image = decode(image_bytes, at_least=OCR_MAX_SIDE).image
        image.thumbnail((OCR_MAX_SIDE, OCR_MAX_SIDE))
        ink = binarize(image)
        ink.format = "PPM"  # pytesseract saves the image for the process: raw PNM costs no compression
        try:
            data = self._tesseract.image_to_data(ink, lang=self.language, config=_PAGE_SEGMENTATION,
                                                 output_type=self._tesseract.Output.DICT, timeout=_TIMEOUT_S)
        except (self._tesseract.TesseractError, RuntimeError) as exc:
            raise InternalServerError(f"Tesseract failed: {exc}") from exc
        words = words_from_tesseract(data)
        return text_detections(words, ink.width, ink.height, self.model_version)


def binarize(image: Image.Image) -> Image.Image:
    """Black ink on white: a pixel is ink when it is darker than its neighbourhood's mean by a
    margin (a local threshold, so a light sign on a darker scene keeps its letters). Window and
    margin were chosen on the drawn signs of OCR_MAX_SIDE (dark on light and light on dark), at
    1600 px: 2 % of the side and 8 grey levels read the most (10 of 19; 1 % or 4 % of the side, or
    20 levels, read 4 to 7)."""
    grey = image.convert("L")
    radius = max(3, int(max(grey.size) * _LOCAL_WINDOW))
    mean = np.asarray(grey.filter(ImageFilter.BoxBlur(radius)), dtype=np.int16)
    pixels = np.asarray(grey, dtype=np.int16)
    return Image.fromarray(np.where(pixels < mean - _LOCAL_OFFSET, 0, 255).astype(np.uint8), "L")


def words_from_tesseract(data: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Tesseract's word rows (level 5) worth keeping: {"text", "confidence", "box": (left, top,
    width, height) in pixels, "line": (block, paragraph, line)}."""
    words = []
    for i, level in enumerate(data["level"]):
        text = str(data["text"][i]).strip()
        confidence = float(data["conf"][i])
        if int(level) != 5 or not text or confidence < MIN_WORD_CONFIDENCE or not any(c.isalnum() for c in text):
            continue
        words.append({"text": text, "confidence": min(confidence, 100.0),
                      "box": (int(data["left"][i]), int(data["top"][i]), int(data["width"][i]), int(data["height"][i])),
                      "line": (int(data["block_num"][i]), int(data["par_num"][i]), int(data["line_num"][i]))})
    return words


def text_detections(words: list[dict[str, Any]], width: int, height: int, model_version: str) -> dict[str, Any]:
    """DetectText's answer for `words` (as `words_from_tesseract` gives them) on a `width` x `height`
    image: the most confident `DETECT_TEXT_MAX_WORDS` words, grouped into their lines."""
    kept = sorted(words, key=lambda w: -w["confidence"])[:DETECT_TEXT_MAX_WORDS]
    lines: dict[tuple[int, int, int], list[dict[str, Any]]] = {}
    for word in sorted(kept, key=lambda w: (w["line"], w["box"][0])):
        lines.setdefault(word["line"], []).append(word)
    ordered = sorted(lines.values(), key=lambda ws: (min(w["box"][1] for w in ws), min(w["box"][0] for w in ws)))
    detections: list[dict[str, Any]] = []
    for line_id, line_words in enumerate(ordered):
        left = min(w["box"][0] for w in line_words)
        top = min(w["box"][1] for w in line_words)
        right = max(w["box"][0] + w["box"][2] for w in line_words)
        bottom = max(w["box"][1] + w["box"][3] for w in line_words)
        detections.append(_detection(" ".join(w["text"] for w in line_words), "LINE", line_id, None,
                                     float(np.mean([w["confidence"] for w in line_words])),
                                     (left, top, right - left, bottom - top), width, height))
    word_id = len(ordered)
    for line_id, line_words in enumerate(ordered):
        for word in line_words:
            detections.append(_detection(word["text"], "WORD", word_id, line_id, word["confidence"], word["box"],
                                         width, height))
            word_id += 1
    return {"TextDetections": detections, "TextModelVersion": model_version}


def _detection(text: str, kind: str, detection_id: int, parent_id: int | None, confidence: float,
               box: tuple[int, int, int, int], width: int, height: int) -> dict[str, Any]:
    left, top, box_width, box_height = (box[0] / width, box[1] / height, box[2] / width, box[3] / height)
    right, bottom = left + box_width, top + box_height
    detection: dict[str, Any] = {
        "DetectedText": text, "Type": kind, "Id": detection_id, "Confidence": round(confidence, 4),
        "Geometry": {"BoundingBox": {"Width": box_width, "Height": box_height, "Left": left, "Top": top},
                     "Polygon": [{"X": left, "Y": top}, {"X": right, "Y": top}, {"X": right, "Y": bottom},
                                 {"X": left, "Y": bottom}]},
    }
    if parent_id is not None:
        detection["ParentId"] = parent_id
    return detection
